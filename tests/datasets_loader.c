/* The threaded loader on a tiny in-test format whose read() computes pixels
 * from the sample index (value = index * 1000 + band * 100 + y * 10 + x), so
 * every batch says which samples it holds: each sample exactly once per
 * epoch, the same batches for 1 and 3 workers, a different order each
 * epoch, resuming at a position, bad samples named or skipped, masks,
 * multi-label targets and multi-date samples. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "loader_bench.h"

enum { N_SAMPLES = 50, H = 8, W = 8 };

typedef struct mem_state {
    int64_t bad_index; /* read() fails on this sample; -1: none */
} mem_state;

static gs_status mem_open(gs_dataset *ds, gs_error *err) {
    static const char *const classes[] = {"a", "b", "c", "d"};
    if (gs_dataset_set_classes(ds, classes, 4, err) != GS_OK) return GS_ERR_MEMORY;
    ds->bands = 3;
    ds->height = H;
    ds->width = W;
    for (int i = 0; i < N_SAMPLES; i++) {
        char path[300], stem[32];
        snprintf(stem, sizeof stem, "s_%03d", i);
        snprintf(path, sizeof path, "%s/%s.raw", ds->root, stem);
        gs_sample *s = gs_dataset_add_sample(ds, path, stem, err);
        if (!s) return GS_ERR_MEMORY;
        s->label = i % 4;
        s->labels = (uint64_t)(i % 8); /* bits 0..2 */
    }
    return GS_OK;
}

static gs_status mem_read(const gs_dataset *ds, int64_t index, gs_sample_data *out, gs_error *err) {
    const mem_state *st = ds->state;
    if (index == st->bad_index)
        return gs_error_set(err, GS_ERR_FORMAT, "%s: truncated data (decoder warning)", ds->samples[index].path);
    for (int d = 0; d < ds->dates; d++)
        for (int b = 0; b < ds->bands; b++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    out->pixels[((d * ds->bands + b) * H + y) * W + x] =
                        (float)(index * 1000 + d * 500 + b * 100 + y * 10 + x);
    if (out->mask)
        for (int p = 0; p < H * W; p++) out->mask[p] = p; /* = y * 8 + x */
    return GS_OK;
}

static const gs_dataset_format mem_format = {.name = "mem", .summary = "in-test samples", .open = mem_open,
                                             .read = mem_read};

static void open_mem(gs_dataset *ds, mem_state *st, gs_task task, int dates) {
    memset(ds, 0, sizeof *ds);
    ds->format = &mem_format;
    ds->root = strdup("/nonexistent/mem");
    ds->dates = dates;
    ds->state = st;
    gs_error err = {0};
    cr_assert_eq(mem_open(ds, &err), GS_OK, "%s", err.message);
    ds->task = task;
}

static gs_loader_config base_config(const gs_dataset *ds) {
    gs_loader_config c = {.dataset = ds, .batch_size = 8, .workers = 2, .shuffle = true, .seed = 42};
    return c;
}

/* Runs a loader and returns every batch of `epochs` epochs flattened:
 * per batch its indices, then view pixels and records, as bytes. */
typedef struct run {
    int64_t order[8 * N_SAMPLES];
    int64_t n_order;
    unsigned char *bytes;
    size_t size, capacity;
    int batches;
} run;

static void append(run *r, const void *p, size_t n) {
    if (r->size + n > r->capacity) {
        r->capacity = (r->size + n) * 2;
        r->bytes = realloc(r->bytes, r->capacity);
        cr_assert(r->bytes);
    }
    memcpy(r->bytes + r->size, p, n);
    r->size += n;
}

static void collect(const gs_loader_config *cfg, int max_batches, run *r) {
    memset(r, 0, sizeof *r);
    gs_loader *l;
    gs_error err = {0};
    cr_assert_eq(gs_loader_create(cfg, &l, &err), GS_OK, "%s", err.message);
    const gs_batch *b;
    while (r->batches < max_batches && gs_loader_next(l, &b, &err) == GS_OK && b) {
        for (int i = 0; i < b->n; i++) r->order[r->n_order++] = b->indices[i];
        append(r, &b->epoch, sizeof b->epoch);
        append(r, &b->batch, sizeof b->batch);
        append(r, b->indices, sizeof(int64_t) * (size_t)b->n);
        append(r, b->labels, sizeof(int32_t) * (size_t)b->n);
        for (int v = 0; v < b->n_views; v++) {
            size_t floats = (size_t)b->n * (size_t)(b->dates * b->bands * b->views[v].height * b->views[v].width);
            append(r, b->views[v].pixels, floats * sizeof(float));
            append(r, b->views[v].records, (size_t)b->n * sizeof(gs_augment_record));
        }
        r->batches++;
    }
    cr_assert_eq(err.status, GS_OK, "%s", err.message);
    gs_loader_destroy(l);
}

Test(datasets_loader, every_sample_once_per_epoch_with_its_pixels_and_label) {
    mem_state st = {-1};
    gs_dataset ds;
    open_mem(&ds, &st, GS_TASK_CLASSIFICATION, 1);
    gs_loader_config cfg = base_config(&ds);
    cfg.epochs = 2;
    gs_loader *l;
    gs_error err = {0};
    cr_assert_eq(gs_loader_create(&cfg, &l, &err), GS_OK, "%s", err.message);
    cr_expect_eq(gs_loader_batches_per_epoch(l), 7);
    int seen[2][N_SAMPLES] = {{0}}, batches = 0;
    const gs_batch *b;
    while (gs_loader_next(l, &b, &err) == GS_OK && b) {
        cr_assert_eq(b->batch, batches % 7);
        cr_assert_eq(b->n, b->batch == 6 ? 2 : 8, "batch %lld has %d samples", (long long)b->batch, b->n);
        cr_assert_eq(b->n_views, 1);
        cr_assert(b->views[0].height == H && b->views[0].width == W);
        for (int i = 0; i < b->n; i++) {
            int64_t idx = b->indices[i];
            seen[b->epoch][idx]++;
            const float *px = b->views[0].pixels + (size_t)i * 3 * H * W;
            cr_assert_eq(px[0], (float)(idx * 1000), "item %d is not sample %lld", i, (long long)idx);
            cr_assert_eq(px[2 * H * W + 3 * W + 5], (float)(idx * 1000 + 235), "band 2 (3,5)");
            cr_assert_eq(b->labels[i], idx % 4);
            cr_assert_eq(b->views[0].records[i].box.width, W, "no augmentation: the whole image");
        }
        batches++;
    }
    cr_assert_eq(err.status, GS_OK, "%s", err.message);
    cr_expect_eq(batches, 14);
    for (int e = 0; e < 2; e++)
        for (int i = 0; i < N_SAMPLES; i++) cr_expect_eq(seen[e][i], 1, "epoch %d: sample %d seen %d times", e, i, seen[e][i]);
    cr_expect_eq(gs_loader_next(l, &b, &err), GS_OK);
    cr_expect_null(b, "no batch after the last epoch");
    gs_loader_destroy(l);

    cfg.drop_last = true;
    cfg.epochs = 1;
    run r;
    collect(&cfg, 100, &r);
    cr_expect_eq(r.batches, 6);
    cr_expect_eq(r.n_order, 48);
    free(r.bytes);
    gs_dataset_close(&ds);
}

Test(datasets_loader, a_subset_of_indices) {
    mem_state st = {-1};
    gs_dataset ds;
    open_mem(&ds, &st, GS_TASK_CLASSIFICATION, 1);
    int64_t subset[5] = {3, 17, 20, 41, 49};
    gs_loader_config cfg = base_config(&ds);
    cfg.indices = subset;
    cfg.n_indices = 5;
    cfg.batch_size = 2;
    cfg.epochs = 1;
    run r;
    collect(&cfg, 100, &r);
    cr_assert_eq(r.n_order, 5);
    int64_t sorted[5];
    memcpy(sorted, r.order, sizeof sorted);
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            if (sorted[j] < sorted[i]) {
                int64_t t = sorted[i];
                sorted[i] = sorted[j], sorted[j] = t;
            }
    cr_expect_arr_eq(sorted, subset, sizeof subset);
    free(r.bytes);
    gs_dataset_close(&ds);
}

static void ssl_views(gs_loader_config *cfg, int bands) {
    gs_error err = {0};
    cfg->n_views = 3;
    cr_assert_eq(gs_augment_preset("dino-global-1", bands, 6, &cfg->views[0], &err), GS_OK);
    cr_assert_eq(gs_augment_preset("dino-global-2", bands, 6, &cfg->views[1], &err), GS_OK);
    cr_assert_eq(gs_augment_preset("dino-local", bands, 4, &cfg->views[2], &err), GS_OK);
    for (int v = 0; v < 3; v++) cfg->views[v].rgb_max = 60000;
    cfg->views[1].solarize_p = 0.2f;
}

Test(datasets_loader, same_batches_for_one_and_three_workers) {
    mem_state st = {-1};
    gs_dataset ds;
    open_mem(&ds, &st, GS_TASK_CLASSIFICATION, 1);
    gs_band_stats stats = {.bands = 3, .mean = {20000, 21000, 22000}, .std = {9000, 9000, 9000}};
    gs_loader_config cfg = base_config(&ds);
    cfg.normalize = &stats;
    cfg.epochs = 2;
    ssl_views(&cfg, 3);
    run one, three;
    cfg.workers = 1;
    collect(&cfg, 100, &one);
    cfg.workers = 3;
    cfg.prefetch = 4;
    collect(&cfg, 100, &three);
    cr_assert_eq(one.batches, 14);
    cr_assert_eq(one.size, three.size);
    cr_expect_eq(memcmp(one.bytes, three.bytes, one.size), 0, "1 and 3 workers gave different batches");
    /* The views of one sample differ from each other. */
    const gs_batch *b;
    gs_loader *l;
    gs_error err = {0};
    cr_assert_eq(gs_loader_create(&cfg, &l, &err), GS_OK);
    cr_assert_eq(gs_loader_next(l, &b, &err), GS_OK);
    cr_expect_neq(memcmp(b->views[0].pixels, b->views[1].pixels, sizeof(float) * 3 * 36), 0);
    cr_expect_eq(b->views[2].height, 4);
    gs_loader_destroy(l);
    free(one.bytes);
    free(three.bytes);
    gs_dataset_close(&ds);
}

Test(datasets_loader, order_changes_between_epochs_and_with_the_seed) {
    mem_state st = {-1};
    gs_dataset ds;
    open_mem(&ds, &st, GS_TASK_CLASSIFICATION, 1);
    gs_loader_config cfg = base_config(&ds);
    cfg.epochs = 2;
    run a, b, c;
    collect(&cfg, 100, &a);
    collect(&cfg, 100, &b);
    cfg.seed = 43;
    collect(&cfg, 100, &c);
    cr_expect_neq(memcmp(a.order, a.order + N_SAMPLES, sizeof(int64_t) * N_SAMPLES), 0, "epochs 0 and 1 in the same order");
    cr_expect_eq(memcmp(a.order, b.order, sizeof(int64_t) * 2 * N_SAMPLES), 0, "same seed, different order");
    cr_expect_neq(memcmp(a.order, c.order, sizeof(int64_t) * N_SAMPLES), 0, "another seed, same order");
    cfg.shuffle = false;
    cfg.seed = 42;
    free(c.bytes); /* collect() starts a fresh run */
    collect(&cfg, 100, &c);
    for (int i = 0; i < N_SAMPLES; i++) cr_expect_eq(c.order[i], i, "unshuffled order");
    free(a.bytes);
    free(b.bytes);
    free(c.bytes);
    gs_dataset_close(&ds);
}

Test(datasets_loader, resume_from_a_position_gives_the_same_batches) {
    mem_state st = {-1};
    gs_dataset ds;
    open_mem(&ds, &st, GS_TASK_CLASSIFICATION, 1);
    gs_loader_config cfg = base_config(&ds);
    cfg.epochs = 3;
    ssl_views(&cfg, 3);
    run full, resumed;
    collect(&cfg, 100, &full);
    cr_assert_eq(full.batches, 21);
    /* Stop after 10 batches: the position is epoch 1, batch 3. */
    gs_loader *l;
    gs_error err = {0};
    cr_assert_eq(gs_loader_create(&cfg, &l, &err), GS_OK);
    const gs_batch *b;
    for (int i = 0; i < 10; i++) cr_assert_eq(gs_loader_next(l, &b, &err), GS_OK);
    int epoch;
    int64_t batch;
    gs_loader_position(l, &epoch, &batch);
    cr_expect(epoch == 1 && batch == 3, "position %d/%lld", epoch, (long long)batch);
    gs_loader_destroy(l);
    cfg.start_epoch = epoch;
    cfg.start_batch = batch;
    cfg.workers = 3;
    collect(&cfg, 100, &resumed);
    cr_assert_eq(resumed.batches, 11);
    size_t tail = resumed.size;
    cr_expect_eq(memcmp(full.bytes + full.size - tail, resumed.bytes, tail), 0, "resumed batches differ");
    cr_expect_eq(memcmp(full.order + N_SAMPLES + 3 * 8, resumed.order, sizeof(int64_t) * (size_t)resumed.n_order), 0);
    free(full.bytes);
    free(resumed.bytes);
    gs_dataset_close(&ds);
}

Test(datasets_loader, a_bad_sample_is_named_or_skipped) {
    mem_state st = {13};
    gs_dataset ds;
    open_mem(&ds, &st, GS_TASK_CLASSIFICATION, 1);
    gs_loader_config cfg = base_config(&ds);
    cfg.shuffle = false;
    cfg.epochs = 1;
    cfg.workers = 3;
    gs_loader *l;
    gs_error err = {0};
    cr_assert_eq(gs_loader_create(&cfg, &l, &err), GS_OK);
    const gs_batch *b;
    /* Batch 0 (samples 0-7) is fine; batch 1 holds sample 13. */
    cr_assert_eq(gs_loader_next(l, &b, &err), GS_OK, "%s", err.message);
    cr_assert_not_null(b);
    cr_expect_eq(gs_loader_next(l, &b, &err), GS_ERR_FORMAT);
    cr_expect_null(b);
    cr_expect(strstr(err.message, "/nonexistent/mem/s_013.raw") != NULL, "%s", err.message);
    gs_error again = {0};
    cr_expect_eq(gs_loader_next(l, &b, &again), GS_ERR_FORMAT, "the error sticks");
    gs_loader_destroy(l);

    cfg.skip_bad = true;
    cr_assert_eq(gs_loader_create(&cfg, &l, &err), GS_OK);
    int total = 0;
    memset(&err, 0, sizeof err);
    while (gs_loader_next(l, &b, &err) == GS_OK && b) {
        if (b->batch == 1) {
            cr_expect_eq(b->n, 7);
            cr_expect_eq(b->skipped, 1);
            const int64_t want[7] = {8, 9, 10, 11, 12, 14, 15};
            cr_expect_arr_eq(b->indices, want, sizeof want);
            cr_expect_eq(b->views[0].pixels[5 * 3 * H * W], 14000.0f, "item 5 holds sample 14's pixels");
            cr_expect_eq(b->labels[5], 14 % 4);
        }
        total += b->n;
    }
    cr_expect_eq(err.status, GS_OK, "%s", err.message);
    cr_expect_eq(total, N_SAMPLES - 1);
    cr_expect_eq(gs_loader_skipped(l), 1);
    gs_loader_destroy(l);
    gs_dataset_close(&ds);
}

Test(datasets_loader, masks_follow_views_and_multilabel_targets) {
    mem_state st = {-1};
    gs_dataset ds;
    open_mem(&ds, &st, GS_TASK_SEGMENTATION, 1);
    gs_loader_config cfg = base_config(&ds);
    cfg.epochs = 1;
    cfg.n_views = 1;
    cfg.views[0] = gs_augment_identity();
    cfg.views[0].hflip_p = 0.5f;
    cfg.views[0].rot90_p = 0.5f;
    cfg.views[0].vflip_p = 0.5f;
    gs_loader *l;
    gs_error err = {0};
    cr_assert_eq(gs_loader_create(&cfg, &l, &err), GS_OK, "%s", err.message);
    const gs_batch *b;
    int changed = 0;
    while (gs_loader_next(l, &b, &err) == GS_OK && b) {
        cr_assert_not_null(b->views[0].masks);
        for (int i = 0; i < b->n; i++) {
            const float *px = b->views[0].pixels + (size_t)i * 3 * H * W;
            const int32_t *m = b->views[0].masks + (size_t)i * H * W;
            for (int p = 0; p < H * W; p++) {
                int yx = (int)px[p] - (int)(b->indices[i] * 1000);
                cr_assert_eq(m[p], (yx / 10) * W + yx % 10, "mask and pixel went different ways");
                changed += m[p] != p;
            }
        }
    }
    cr_expect_gt(changed, 0);
    gs_loader_destroy(l);
    gs_dataset_close(&ds);

    open_mem(&ds, &st, GS_TASK_MULTILABEL, 1);
    ds.n_classes = 3;
    cfg = base_config(&ds);
    cfg.epochs = 1;
    cr_assert_eq(gs_loader_create(&cfg, &l, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_loader_next(l, &b, &err), GS_OK);
    cr_assert_not_null(b->targets);
    cr_expect_eq(b->n_classes, 3);
    for (int i = 0; i < b->n; i++)
        for (int c = 0; c < 3; c++)
            cr_expect_eq(b->targets[i * 3 + c], (float)((b->indices[i] % 8) >> c & 1), "sample %lld class %d",
                         (long long)b->indices[i], c);
    gs_loader_destroy(l);
    ds.n_classes = 4;
    gs_dataset_close(&ds);
}

Test(datasets_loader, multi_date_samples_are_n_t_c_h_w) {
    mem_state st = {-1};
    gs_dataset ds;
    open_mem(&ds, &st, GS_TASK_UNLABELED, 4);
    gs_loader_config cfg = base_config(&ds);
    cfg.epochs = 1;
    cfg.n_views = 2;
    gs_error err = {0};
    cr_assert_eq(gs_augment_preset("simclr", 3, 4, &cfg.views[0], &err), GS_OK);
    cfg.views[0].color_jitter_p = cfg.views[0].grayscale_p = 0; /* geometry only: values stay traceable */
    cfg.views[0].blur_p = 0;
    cfg.views[1] = gs_augment_identity();
    gs_loader *l;
    cr_assert_eq(gs_loader_create(&cfg, &l, &err), GS_OK, "%s", err.message);
    const gs_batch *b;
    cr_assert_eq(gs_loader_next(l, &b, &err), GS_OK);
    cr_expect_eq(b->dates, 4);
    for (int i = 0; i < b->n; i++) {
        const float *id = b->views[1].pixels + (size_t)i * 4 * 3 * H * W;
        for (int d = 0; d < 4; d++)
            for (int c = 0; c < 3; c++)
                cr_assert_eq(id[(d * 3 + c) * H * W + 9], (float)(b->indices[i] * 1000 + d * 500 + c * 100 + 11));
        /* The cropped view: each date is the first date plus 500 * d. */
        const float *v = b->views[0].pixels + (size_t)i * 4 * 3 * 16;
        for (int d = 1; d < 4; d++)
            for (int k = 0; k < 3 * 16; k++) cr_assert_float_eq(v[d * 48 + k], v[k] + 500 * d, 0.05);
    }
    gs_loader_destroy(l);
    gs_dataset_close(&ds);
}

Test(datasets_loader, config_errors) {
    mem_state st = {-1};
    gs_dataset ds;
    open_mem(&ds, &st, GS_TASK_CLASSIFICATION, 1);
    gs_loader *l;
    gs_error err = {0};
    gs_loader_config cfg = base_config(&ds);
    cfg.batch_size = 64;
    cfg.drop_last = true;
    cr_expect_eq(gs_loader_create(&cfg, &l, &err), GS_ERR_ARGUMENT);
    cr_expect_null(l);
    cfg = base_config(&ds);
    cfg.start_batch = 7;
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_loader_create(&cfg, &l, &err), GS_ERR_ARGUMENT, "batch 7 of a 7-batch epoch");
    int64_t bad = N_SAMPLES;
    cfg = base_config(&ds);
    cfg.indices = &bad;
    cfg.n_indices = 1;
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_loader_create(&cfg, &l, &err), GS_ERR_ARGUMENT);
    gs_band_stats four = {.bands = 4};
    cfg = base_config(&ds);
    cfg.normalize = &four;
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_loader_create(&cfg, &l, &err), GS_ERR_MISMATCH);
    gs_dataset_close(&ds);
}

Test(datasets_loader, bench_runs) {
    mem_state st = {-1};
    gs_dataset ds;
    open_mem(&ds, &st, GS_TASK_CLASSIFICATION, 1);
    gs_loader_bench_options opt = {.batches = 5, .batch_size = 10, .workers = 2};
    gs_loader_bench_result res;
    gs_error err = {0};
    cr_assert_eq(gs_loader_bench(&ds, &opt, NULL, &res, &err), GS_OK, "%s", err.message);
    cr_expect_eq(res.batches, 5);
    cr_expect_eq(res.images, 5 * 10);
    cr_expect_gt(res.images_per_s, 0);
    cr_expect(!res.cache);
    gs_dataset_close(&ds);
}
