/* Per-band normalization statistics: mean and standard deviation over every
 * pixel of a dataset's training samples, accumulated in double, computed
 * once and stored (in the HDF5 cache, or a small text file in a cache
 * folder) and reloaded while the source and the selection are unchanged.
 * The loader applies (x - mean) / std.
 *
 * The source fingerprint (also the cache's) is the number of files, their
 * total size and the newest modification time (ns) of the files the samples
 * index: each sample's path, and every file below it when the path is a
 * folder (BigEarthNet patches, seasonal locations).  It misses files the
 * samples do not name (Potsdam label tiles, split lists) and an edit that
 * keeps both size and mtime.  The types are in band_stats.h. */
#ifndef GS_DATASETS_STATS_H
#define GS_DATASETS_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "band_stats.h"
#include "dataset.h"

/* The fingerprint of ds's source files; a dataset whose format stores its
 * source's (the HDF5 cache: stored_fingerprint) gives that one. */
gs_status gs_source_fingerprint_compute(const gs_dataset *ds, gs_source_fingerprint *out, gs_error *err);
/* A hash of the format, root and options: names the dataset's cache files. */
uint64_t gs_dataset_key(const gs_dataset *ds);
/* A hash of what an evaluation on ds measures, wherever the folder lies:
 * every sample's name, label(s), split and patch offset, in order, the
 * bands read, and the source files' count and total size (two generations
 * of synthetic data share names and labels, not bytes).  Results record it
 * (settings data=N:HASH), so measurements on different data never pass for
 * one another. */
uint64_t gs_dataset_content_key(const gs_dataset *ds);

/* Streaming accumulation, one sample at a time (Chan et al.'s pairwise
 * update of per-sample two-pass moments: no catastrophic cancellation on
 * large uint16 values). */
typedef struct gs_stats_accumulator {
    int bands;
    int64_t samples, values;
    uint64_t hash;
    double mean[GS_MAX_BANDS], m2[GS_MAX_BANDS];
} gs_stats_accumulator;
void gs_stats_begin(gs_stats_accumulator *acc, int bands);
/* pixels: dates * bands * plane values of one sample. */
void gs_stats_add(gs_stats_accumulator *acc, const float *pixels, int dates, int64_t plane, const char *stem);
void gs_stats_end(const gs_stats_accumulator *acc, gs_band_stats *out);

/* The samples statistics are computed over: those in the training split, or
 * every sample when none is assigned a split.  *indices is malloc'd. */
gs_status gs_stats_training_indices(const gs_dataset *ds, int64_t **indices, int64_t *n, gs_error *err);
uint64_t gs_stats_selection_hash(const gs_dataset *ds, const int64_t *indices, int64_t n);

/* Decodes the given samples with `workers` threads (the loader, in index
 * order, so the result does not depend on the thread count).  progress may
 * be NULL. */
gs_status gs_stats_compute(const gs_dataset *ds, const int64_t *indices, int64_t n, int workers, FILE *progress,
                           gs_band_stats *out, gs_error *err);

/* The text file: "geossl band statistics 1", then key-value lines and one
 * "band <i> <name> <mean> <std>" line per band (%.17g: exact round trip).
 * Written atomically (temporary file + rename). */
gs_status gs_stats_save(const char *path, const gs_dataset *ds, const gs_source_fingerprint *fp,
                        const gs_band_stats *stats, gs_error *err);
gs_status gs_stats_load(const char *path, gs_band_stats *out, gs_source_fingerprint *fp, gs_error *err);

/* The training statistics of ds: stored in a cache-backed dataset, else
 * <cache_dir>/<format>-<key>.stats when it matches the bands, the selection
 * and the source fingerprint, else computed and saved there (a file that
 * cannot be saved, e.g. on a full disk, is said on progress, else stderr,
 * and the computed values are returned).  A malformed stats file is an
 * error naming it (delete it to recompute). */
gs_status gs_stats_get(const gs_dataset *ds, const char *cache_dir, int workers, FILE *progress, gs_band_stats *out,
                       gs_error *err);
/* gs_stats_get with the statistics stored in `dir`, or in the default
 * cache directory (cache_dir.h) when dir is NULL (created when missing). */
gs_status gs_stats_get_in(const gs_dataset *ds, const char *dir, int workers, FILE *progress, gs_band_stats *out,
                          gs_error *err);

#endif
