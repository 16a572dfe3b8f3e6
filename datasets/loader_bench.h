/* `geossl bench loader SPEC`: runs the loader on a dataset the way
 * pretraining does (shuffled, several views with a named augmentation,
 * normalized) and reports decoded samples per second.  Timing starts after
 * the first batch (thread start-up and the first decodes are excluded).
 * On a cache-backed dataset it also reports what the cache lock cost. */
#ifndef GS_DATASETS_LOADER_BENCH_H
#define GS_DATASETS_LOADER_BENCH_H

#include <stdio.h>

#include "cache.h"
#include "dataset.h"

typedef struct gs_loader_bench_options {
    int batches;         /* timed batches; 0: 50 */
    int batch_size;      /* 0: 256 */
    int workers;         /* 0: 2 */
    int prefetch;        /* 0: the loader's default */
    int views;           /* 0: 2 */
    int size;            /* view height and width; 0: the dataset's */
    const char *augment; /* a gs_augment_preset name; NULL: "simclr" */
    bool skip_bad;
    uint64_t seed;
} gs_loader_bench_options;

typedef struct gs_loader_bench_result {
    int64_t batches, images, skipped;
    double seconds, images_per_s;
    bool cache; /* the dataset was cache-backed: lock holds its lock figures */
    gs_cache_lock_stats lock;
} gs_loader_bench_result;

/* progress may be NULL.  opt may be NULL (all defaults). */
gs_status gs_loader_bench(const gs_dataset *ds, const gs_loader_bench_options *opt, FILE *progress,
                          gs_loader_bench_result *out, gs_error *err);

#endif
