/* The HDF5 cache: a dataset packed into one chunked file, so epochs after
 * the first read no small files (`geossl data cache SPEC`).
 *
 * Layout (h5py reads it as f["pixels"][i], ...):
 *   attributes  geossl_cache_format (1), source_format, source_root, the
 *               open options, task, n_classes, bands, dates, height, width,
 *               source_samples, skipped, and source_fingerprint (files,
 *               bytes, newest mtime in ns; see stats.h)
 *   pixels      (N, dates, bands, H, W): uint8, uint16 or float32, one chunk
 *               per sample
 *   masks       (N, H, W) int8/int16/int32 class ids (segmentation only)
 *   label int32, labels uint64 (multi-label bits), split int32, x, y int64,
 *   group int32, source_index int64, stem and path (relative to the root)
 *   fixed-length strings: one entry per sample
 *   class_names, band_name, band_wavelength_nm, band_resolution_m
 *   stats_mean, stats_std (float64 per band) with the selection attributes.
 *
 * Written atomically (a temporary file in the same folder, fsync, rename),
 * with a SHA-256 digest of its bytes in its HDF5 user block
 * (io/file_digest.h), checked before libhdf5 reads the file.
 * Opened, the cache is a gs_dataset like the source (same format name,
 * root, classes, bands, samples) whose read() takes pixels from the file.
 *
 * Threads: the handle owns a mutex that serializes its HDF5 calls (reads
 * are raw chunk reads under the lock; the conversion to float happens
 * outside it).  With a non-thread-safe libhdf5 build, other HDF5 use in the
 * process (a checkpoint save) must not overlap the loader's reads; this
 * libhdf5 build's thread safety is reported by gs_cache_hdf5_threadsafe. */
#ifndef GS_DATASETS_CACHE_H
#define GS_DATASETS_CACHE_H

#include <stdbool.h>
#include <stdio.h>

#include "band_stats.h"
#include "cache_dtype.h"
#include "dataset.h"

#define GS_CACHE_FORMAT_VERSION 1

typedef struct gs_cache_options {
    gs_cache_dtype dtype;
    int workers;   /* decoding threads while packing; 0: 1 */
    bool skip_bad; /* leave unreadable samples out (counted) instead of failing */
    FILE *progress; /* NULL: quiet */
} gs_cache_options;

typedef struct gs_cache_report {
    int64_t samples, skipped;
    gs_cache_dtype dtype;
    bool built; /* false: an up-to-date cache was reused */
    double seconds;
} gs_cache_report;

/* Packs src into path (replacing it atomically).  opt and report may be NULL. */
gs_status gs_cache_build(const gs_dataset *src, const char *path, const gs_cache_options *opt, gs_cache_report *report,
                         gs_error *err);
/* Opens a cache as a dataset.  A truncated, corrupt, modified or foreign
 * file, or one without a digest (built before digests), is GS_ERR_FORMAT
 * naming it. */
gs_status gs_cache_open(const char *path, gs_dataset *out, gs_error *err);
/* Opens path when it holds src as src is now (format, root, options,
 * sample count and source fingerprint), else builds it first.  A cache
 * whose digest does not match, or one without a digest at the path
 * gs_cache_path gives for src, is rebuilt (said on opt->progress); any
 * other file at path that is not a readable geossl cache is an error,
 * never overwritten. */
gs_status gs_cache_use(const gs_dataset *src, const char *path, const gs_cache_options *opt, gs_dataset *out,
                       gs_cache_report *report, gs_error *err);

/* <dir>/<format>-<gs_dataset_key>.h5 */
void gs_cache_path(const gs_dataset *src, const char *dir, char *buf, size_t size);

/* On a dataset from gs_cache_open (its format's stored_stats and
 * stored_fingerprint give the same to stats.c): */
bool gs_cache_is(const gs_dataset *ds);
bool gs_cache_stats(const gs_dataset *ds, gs_band_stats *out);
bool gs_cache_source_fingerprint(const gs_dataset *ds, gs_source_fingerprint *out);
const char *gs_cache_file(const gs_dataset *ds);
gs_cache_dtype gs_cache_pixel_type(const gs_dataset *ds);

/* What the handle's mutex costs: reads, time spent waiting for the lock and
 * holding it (seconds, summed over threads). */
typedef struct gs_cache_lock_stats {
    int64_t reads;
    double wait_s, held_s;
} gs_cache_lock_stats;
bool gs_cache_lock_stats_get(const gs_dataset *ds, gs_cache_lock_stats *out);
bool gs_cache_hdf5_threadsafe(void);

const char *gs_cache_dtype_name(gs_cache_dtype t);

#endif
