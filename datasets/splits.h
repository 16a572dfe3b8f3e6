/* Train/val/test splits and label-fraction subsets of an opened dataset.
 *
 * - gs_split_apply_files: the benchmarks' published split lists.
 * - gs_split_stratified: a stratified random split when there are none.
 * - gs_split_every_nth: the evaluation protocol's fixed split (every n-th
 *   image of each class, in file-name order, is test).
 * - gs_split_label_subset: the 1% / 10% labelled subsets of semi-supervised
 *   evaluation.
 *
 * Strata: the class label for classification; for multi-label datasets the
 * rarest label a sample carries (rarest among the samples being split), so
 * rare labels are spread over every split; samples with no label, and
 * segmentation or unlabeled datasets, form a single stratum.  Patches cut
 * from one tile (same sample.group) are not kept together, so overlapping
 * patches can land in different splits: use the dataset's official split
 * (Potsdam's tile split) or split files for tiled data.
 *
 * Randomness never depends on the order the samples were indexed in: each
 * sample's place in its stratum is a hash of (seed, stem), so the same seed
 * gives the same split on any machine and file system.
 *
 * Warnings (unmatched names, conflicts) go to stderr and count in
 * ds->n_warnings, like the formats' warnings. */
#ifndef GS_DATASETS_SPLITS_H
#define GS_DATASETS_SPLITS_H

#include <stdint.h>

#include "dataset.h"

/* What applying split files found. */
typedef struct gs_split_file_report {
    int64_t listed[3];          /* names read from the train, val, test files */
    int64_t assigned[3];        /* samples that got each split */
    int64_t unmatched;          /* listed names that match no sample */
    char first_unmatched[512];  /* "FILE:LINE: NAME" of the first */
    int64_t conflicts;          /* samples in several split files: the earlier (train, val, test) wins */
    char first_conflict[512];
} gs_split_file_report;

/* Sets every sample's split from the published lists: one file name per
 * line (blank lines and '#' comments skipped; of a CSV line only the first
 * column, as in BigEarthNet's split CSVs; any folder part is dropped).  A name
 * matches a sample by stem, so EuroSAT's lists, which name .tif files, also
 * split the RGB release's .jpg files.  Samples not listed get GS_SPLIT_NONE.
 * Any of the three paths may be NULL, not all.  A missing or empty file, or
 * lists of which no name matches any sample, are errors; unmatched names and
 * conflicts are warnings with a count and the first example. */
gs_status gs_split_apply_files(gs_dataset *ds, const char *train_path, const char *val_path, const char *test_path,
                               gs_error *err);
/* The same, also filling report (may be NULL). */
gs_status gs_split_apply_files_report(gs_dataset *ds, const char *train_path, const char *val_path,
                                      const char *test_path, gs_split_file_report *report, gs_error *err);

/* The published lists of the dataset's format (format->split_lists) from
 * `dir`, or from the data folder when dir is NULL.  *found says whether any
 * list was there; when found, every sample's split comes from the lists and
 * ds->split_source says "official" (the data folder) or "file:DIR".  With
 * dir given, finding no list is an error naming the files looked for. */
gs_status gs_split_apply_standard(gs_dataset *ds, const char *dir, bool *found, gs_error *err);

/* Stratified random split: fractions[train, val, test], each in [0, 1],
 * summing to at most 1 (+1e-6); what is left over stays GS_SPLIT_NONE.  In
 * each stratum the counts are the fractions of its size rounded by largest
 * remainder (ties to the earlier split), so they sum to round(total * n). */
gs_status gs_split_stratified(gs_dataset *ds, const double fractions[3], uint64_t seed, gs_error *err);

/* The kNN / linear-probe protocol split: in each stratum, samples sorted by
 * stem in file-name order (gs_split_name_compare), the n-th, 2n-th, ... (1-based)
 * are GS_SPLIT_TEST and the rest GS_SPLIT_TRAIN.  With n = 5 on EuroSAT that
 * is Forest_5, Forest_10, ...: 20% test.  n >= 2. */
gs_status gs_split_every_nth(gs_dataset *ds, int n, gs_error *err);

/* A stratified subset of the samples in `split` holding `fraction` (0, 1] of
 * them, for the 1% / 10% label-fraction protocols.  In each stratum of size m
 * (a class, see above): the round(fraction * m) samples that come first in
 * the stratum's seeded order, and always at least its first one, so every
 * class keeps a labelled sample; for multi-label datasets also, for every
 * label, the first sample in seeded order that carries it.  Totals can thus
 * exceed fraction * n by up to one sample per class (and per label).
 * Reproducible by seed, and nested: the seeded order does not depend on the
 * fraction and each subset is a prefix per stratum plus the same extra
 * samples, so for one seed the 1% subset lies inside the 10% subset.
 * *indices is malloc'd (caller frees), ascending; *count its length. */
gs_status gs_split_label_subset(const gs_dataset *ds, gs_split split, double fraction, uint64_t seed,
                                int64_t **indices, int64_t *count, gs_error *err);

/* File-name order used throughout: digit runs compare as numbers
 * ("Forest_2" < "Forest_10"), everything else byte by byte.  strcmp-like. */
int gs_split_name_compare(const char *a, const char *b);

/* "train", "val", "test" or "none". */
const char *gs_split_name(int split);

#endif
