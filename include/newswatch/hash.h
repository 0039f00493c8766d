/*
 * Non-cryptographic hashes: nw_hash_fnv1a64 for what is stored or shown
 * (document ids), nw_hash_table64 for in-memory hash tables only.
 */
#ifndef NEWSWATCH_HASH_H
#define NEWSWATCH_HASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit FNV-1a of buf[0..len). Stable across platforms and releases. */
uint64_t nw_hash_fnv1a64(const void *buf, size_t len);

/*
 * A fast 64-bit hash of buf[0..len) for in-memory tables (phrase indexes,
 * name lookups): eight bytes per multiply where FNV-1a needs one multiply per
 * byte, and every output bit mixed, so `h & mask` picks a slot. It may change
 * between releases: never store it.
 */
uint64_t nw_hash_table64(const void *buf, size_t len);

/* splitmix64's finaliser: a bijection that spreads every input bit over the output. */
uint64_t nw_hash_mix64(uint64_t z);

#endif
