/* Stable, non-cryptographic hashes used for document ids. */
#ifndef NEWSWATCH_HASH_H
#define NEWSWATCH_HASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit FNV-1a of buf[0..len). Stable across platforms and releases. */
uint64_t nw_hash_fnv1a64(const void *buf, size_t len);

#endif
