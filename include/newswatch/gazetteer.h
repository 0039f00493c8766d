/*
 * The gazetteer: named entities with one canonical id across languages and
 * spellings, loaded from a file (config/gazetteer.txt, docs/gazetteer.md):
 *
 *     # id | TYPE | English name | Arabic name | aliases separated by ';' [| parent id]
 *     loc.baghdad | LOC | Baghdad | بغداد | Bagdad; بغداد العاصمة | loc.baghdad-governorate
 *     loc.karrada | LOC | Karrada | الكرادة | Karada; Al-Karrada | loc.baghdad
 *
 * The optional sixth field is the id of the entity this one lies within (a
 * district in its city, a city in its governorate); it may name an entity
 * further down the file. The parents form a hierarchy: an unknown parent, an
 * entity that is its own parent and a cycle are errors.
 *
 * Every name and alias is normalised (nw_normalize) and indexed
 * (nw_phrases), so بغداد, Baghdad, بغـــداد and ببغداد find the same entity.
 * An all-capital Latin alias of up to four letters (BIAP, INA) matches only
 * when written in capitals.
 *
 * Ownership: an nw_gazetteer owns its entities and index; entity pointers
 * stay valid until nw_gazetteer_free. It is read-only after loading, so one
 * gazetteer may serve several threads.
 */
#ifndef NEWSWATCH_GAZETTEER_H
#define NEWSWATCH_GAZETTEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newswatch/error.h"
#include "newswatch/phrases.h"
#include "newswatch/normalize.h"

typedef enum nw_entity_type {
    NW_ENTITY_PERSON,
    NW_ENTITY_ORG,
    NW_ENTITY_LOC,
    NW_ENTITY_FACILITY,
    NW_ENTITY_TYPE_COUNT
} nw_entity_type;

typedef struct nw_entity {
    const char *id; /* "loc.baghdad" */
    nw_entity_type type;
    const char *name;               /* canonical English name */
    const char *name_ar;            /* canonical Arabic name */
    const struct nw_entity *parent; /* the entity this one lies within, or NULL */
} nw_entity;

typedef struct nw_gazetteer nw_gazetteer;

/* "PERSON", "ORG", "LOC", "FACILITY". */
const char *nw_entity_type_name(nw_entity_type type);

/*
 * True when e is ancestor or lies within it through its parents (Karrada
 * within Baghdad within Baghdad Governorate); false when either is NULL.
 */
bool nw_entity_within(const nw_entity *e, const nw_entity *ancestor);

/*
 * Parses a gazetteer from text[0..len) named `file` (for messages); errors
 * are NW_ECONFIG "file:line: problem". n is a normaliser the caller owns.
 */
nw_err nw_gazetteer_new(nw_normalizer *n, const char *file, const char *text, size_t len,
                        nw_gazetteer **out, char *errbuf, size_t errlen);
/* Reads and parses the file at path. */
nw_err nw_gazetteer_new_from_file(nw_normalizer *n, const char *path, nw_gazetteer **out,
                                  char *errbuf, size_t errlen);
/* Frees the gazetteer; NULL is a no-op. */
void nw_gazetteer_free(nw_gazetteer *g);

size_t nw_gazetteer_count(const nw_gazetteer *g);
/* The i-th entity in file order. */
const nw_entity *nw_gazetteer_at(const nw_gazetteer *g, size_t i);
/* The entity with this id, or NULL. */
const nw_entity *nw_gazetteer_find(const nw_gazetteer *g, const char *id);

/* The phrase index: values are entity indexes times two, plus one for a
 * capitals-only alias. */
const nw_phrases *nw_gazetteer_phrases(const nw_gazetteer *g);

#endif
