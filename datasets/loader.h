/* The threaded loader: worker threads decode samples (ds->format->read),
 * normalize and augment them into views and assemble batches, a bounded
 * number of batches ahead of the consumer.
 *
 * Determinism: the order of an epoch is a shuffle seeded by (seed, epoch),
 * and each sample's augmentations draw from an RNG seeded by (seed, epoch,
 * sample index), so the same seed gives the same batches whatever the number
 * of workers, and a run resumed at (epoch, batch) sees the batches the
 * uninterrupted run would have.
 *
 * No context: the loader runs on its own threads.  Errors are gs_error
 * records; a sample's error is reported by the gs_loader_next call that
 * would have returned its batch (batches before it come out normally), and
 * every later call returns it again. */
#ifndef GS_DATASETS_LOADER_H
#define GS_DATASETS_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "augment.h"
#include "band_stats.h"
#include "dataset.h"
#include "core/tensor.h"

#define GS_LOADER_MAX_VIEWS 12

typedef struct gs_loader_config {
    const gs_dataset *dataset; /* must outlive the loader */
    const int64_t *indices;    /* the samples to use (a split, a label subset); NULL: all */
    int64_t n_indices;
    int batch_size;
    int workers;  /* decoding threads, >= 1 */
    int prefetch; /* batches assembled ahead of the consumer; 0: 2 (work is per sample, so
                   * more workers do not need more batches in flight) */
    bool shuffle;
    uint64_t seed;
    bool drop_last;  /* drop the last, smaller batch of an epoch */
    int epochs;      /* the run's epochs, counted from 0 (a resumed run passes the same
                     * number): after epoch `epochs` - 1, no batch; 0: unlimited */
    int start_epoch; /* resume: the position of the first batch to produce */
    int64_t start_batch;
    /* Views per sample (SSL: 2 or more, e.g. DINO's 2 global + N local);
     * 0 means one view with no augmentation at the source size. */
    int n_views;
    gs_augment_config views[GS_LOADER_MAX_VIEWS];
    const gs_band_stats *normalize; /* NULL: pixels as stored */
    bool skip_bad; /* a sample whose read fails is left out (counted) instead of an error */
    /* Data-parallel training: this loader yields shard `shard` of `shards`
     * equal parts of every batch of batch_size (the global batch), in the
     * global order, so the ranks together see what one process would.
     * 0 (or 1) shards: the whole batch.  Needs drop_last. */
    int shard, shards;
} gs_loader_config;

typedef struct gs_batch_view {
    int height, width;
    float *pixels;             /* (n, dates, bands, height, width); dates = 1 gives (n, C, H, W) */
    int32_t *masks;            /* segmentation: (n, height, width); else NULL */
    gs_augment_record *records; /* n: crop box, flips, turns */
} gs_batch_view;

typedef struct gs_batch {
    int n;                  /* samples in this batch (fewer than batch_size when skipped or last) */
    int epoch;
    int64_t batch;          /* index within the epoch */
    int dates, bands;
    int n_views;
    gs_batch_view views[GS_LOADER_MAX_VIEWS];
    const int64_t *indices; /* n dataset sample indices */
    const int32_t *labels;  /* n class indices (GS_IGNORE_LABEL when none) */
    const float *targets;   /* multi-label: n x n_classes of 0/1; else NULL */
    /* n x dates x 3: year, month (1-12), day of each image of each sample,
     * in the order of the dates in the pixels; NULL where the format does
     * not know dates (gs_dataset_sample_dates). */
    const int32_t *acquired;
    int n_classes;
    int skipped; /* bad samples left out of this batch (skip_bad) */
} gs_batch;

typedef struct gs_loader gs_loader;

/* Checks the config (view configs against the dataset) and starts the
 * workers.  *out is NULL on error. */
gs_status gs_loader_create(const gs_loader_config *cfg, gs_loader **out, gs_error *err);
/* The next batch, valid until the next call or gs_loader_destroy; *batch is
 * NULL (and GS_OK) after `epochs` epochs. */
gs_status gs_loader_next(gs_loader *l, const gs_batch **batch, gs_error *err);
/* The position of the batch the next gs_loader_next returns: store it with a
 * checkpoint and pass it back as start_epoch / start_batch to resume.  Call
 * from the thread that calls gs_loader_next. */
void gs_loader_position(const gs_loader *l, int *epoch, int64_t *batch);
int64_t gs_loader_batches_per_epoch(const gs_loader *l);
/* Bad samples skipped in the batches returned so far. */
int64_t gs_loader_skipped(const gs_loader *l);
void gs_loader_destroy(gs_loader *l);

/* View v of a batch as an (n, bands, height, width) tensor over the loader's
 * buffer (no copy), (n, dates, bands, height, width) for multi-date data;
 * valid until the next gs_loader_next. */
gs_tensor *gs_batch_view_tensor(gs_context *ctx, const gs_batch *b, int v);

#endif
