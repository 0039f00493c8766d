/*
 * Synthetic configuration for the benchmark's scaling figures: gazetteers of
 * N entities and tracked-event files of R rules, written in the formats of
 * config/gazetteer.txt (docs/gazetteer.md) and config/events.conf
 * (docs/tracked-events.md) so that the real loaders read them.
 *
 * Entities get realistic-looking names built from Arabic syllables with a
 * parallel Latin transliteration: places are one made-up word ("بازوني",
 * "Bazuni") with "مدينة ..." and "... city" aliases; people a common real
 * first name and a made-up family name with the article ("محمد الباقوشي",
 * alias "الباقوشي"); organisations and facilities a real head word and a
 * made-up word ("حركة ...", "جسر ...", "... Movement", "... Bridge"), some
 * organisations with an all-capital acronym. Every made-up word is distinct,
 * so no two entities share a name. Heads such as محمد, حركة and مطار are
 * common words of real news: the first-word index then has long entries that
 * the tagger must try, as with a real gazetteer.
 *
 * Rules are like the shipped ones: one to three entities (OR) AND a keyword
 * class (or two, OR), sometimes AND NOT one or two other entities, with a
 * scope of sentence, words:12, paragraph or document. The keyword classes
 * are a few lists of real Arabic and English news words (bombing, protest,
 * elections, ...), which do occur in a news corpus.
 *
 * Everything is deterministic: the same arguments give the same files.
 */
#ifndef NEWSWATCH_BENCH_SYNTH_H
#define NEWSWATCH_BENCH_SYNTH_H

#include <stddef.h>
#include <stdint.h>

/*
 * Writes a gazetteer of n entities to path. Returns 0, or -1 with a message
 * in err.
 */
int nw_synth_write_gazetteer(const char *path, size_t n, uint64_t seed, char *err, size_t errlen);

/*
 * Writes a tracked-events file of nrules rules over the entities of the
 * gazetteer nw_synth_write_gazetteer(.., nentities, seed, ..) writes.
 * Returns 0, or -1 with a message in err.
 */
int nw_synth_write_events(const char *path, size_t nentities, size_t nrules, uint64_t seed,
                          char *err, size_t errlen);

/* The id of entity i of a synthetic gazetteer ("loc.bazuni-17"), written to out. */
void nw_synth_entity_id(size_t i, uint64_t seed, char *out, size_t outlen);

#endif
