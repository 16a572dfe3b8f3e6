/* The types band statistics travel in, apart from the code that computes
 * (stats.c) and stores them (stats.c's text file, the HDF5 cache), so the
 * loader, the cache and the format interface can name them without
 * including each other.  Includes run one way: band_stats.h needs only
 * dataset.h, and loader, cache, cache_h5 and stats include it. */
#ifndef GS_DATASETS_BAND_STATS_H
#define GS_DATASETS_BAND_STATS_H

#include <stdint.h>

#include "dataset.h"

/* What the source files looked like when statistics or a cache were made:
 * the number of files, their total size and the newest modification time
 * (ns) of the files the samples index (stats.h says how it is computed). */
typedef struct gs_source_fingerprint {
    int64_t files, bytes, newest_mtime_ns;
} gs_source_fingerprint;

/* Per-band mean and standard deviation over the training samples. */
typedef struct gs_band_stats {
    int bands;
    int64_t samples;       /* the samples they cover */
    uint64_t samples_hash; /* of those samples' stems, in order: which samples */
    int64_t values;        /* per band: samples * dates * height * width */
    double mean[GS_MAX_BANDS];
    double std[GS_MAX_BANDS]; /* population (divides by values) */
} gs_band_stats;

/* Float copies for the loader; a std that is zero or below float's normal
 * range becomes 1 (constant bands are centred, not divided by zero). */
void gs_stats_to_float(const gs_band_stats *s, float *mean, float *std);

/* NaN or infinity in the input (a float GeoTIFF's nodata, a broken
 * export) turns the band statistics into NaN (printed as "nan", std 0) and
 * makes training diverge without a word, so it is refused where samples are
 * read: GS_OK when every value of sample `index` (pixels: dates x bands x
 * height x width, as read() returns them) is finite; otherwise GS_ERR_FORMAT
 * (a bad file, which --skip-bad may skip) naming the sample's file, each
 * band holding such values, how many and where the first one is. */
gs_status gs_sample_check_finite(const gs_dataset *ds, int64_t index, const float *pixels, gs_error *err);

#endif
