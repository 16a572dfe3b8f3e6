/* SeCo (Mañas, Lacoste, Giró-i-Nieto, Vázquez, Rodríguez, "Seasonal
 * Contrast: Unsupervised Pre-Training from Uncurated Remote Sensing Data",
 * ICCV 2021, arXiv:2103.16607): MoCo v2 on several dates of one place.
 * Implemented from ../shared/specs/seco.md, which reads the authors' code
 * (ServiceNow/seasonal-contrast @ 8285173, models/moco2_module.py,
 * datasets/seco_dataset.py) and pl_bolts 0.3.0.
 *
 * Per location three dates t0, t1, t2 are drawn and four views made (§2.2):
 *   q  = date t0, random resized crop only           (query encoder)
 *   k0 = date t1, crop + artificial augmentation     (key encoder)
 *   k1 = date t2, crop only                          (key encoder)
 *   k2 = date t0, crop + artificial augmentation     (key encoder)
 * The artificial augmentation is MoCo v2's: colour jitter 0.4/0.4/0.4/0.1 at
 * 0.8, grayscale 0.2, blur sigma 0.1-2 px (at 224 px) at 0.5, horizontal flip
 * 0.5; every crop has scale 0.2-1.
 * Three projection heads h_i = Linear(D, D) - ReLU - Linear(D, 128) on the
 * query encoder, EMA copies (m = 0.999) on the key encoder, one queue of
 * 16,384 keys per head (§1, §4).  Every key view goes through every key
 * head; sub-space i's positive is k_i through h_i, its negatives the queue
 * Q_i, and for i = 1, 2 also the 2N in-batch keys of the other two views
 * through h_i (§3).  Loss = L0 + L1 + L2 (a sum), each InfoNCE at tau = 0.07.
 * Sub-space 0 is meant to be invariant to everything, 1 to the season, 2 to
 * the artificial augmentations.  SGD 0.03 x batch / 256, momentum 0.9, weight
 * decay 1e-4 on every parameter (§5).  Only the query encoder (m->encoder)
 * is exported; the heads are dropped for evaluation, as the authors do.
 *
 * How the views reach the method: the loader makes 4 views of each location
 * (crop-only, augmented, crop-only, augmented), each view holding every date
 * under one draw of the recipe, (N, dates, C, H, W); the loss then takes date
 * t0 of view 0, t1 of view 1, t2 of view 2 and t0 of view 3.  Each of the
 * four images is thus an independent draw of its recipe on its own date, as
 * in the authors' dataset.  The dates not taken are augmented and dropped:
 * the loader's work grows with the dates per location, the network's does
 * not.  Single-date data (4-D views) reads as one date: SeCo is then MoCo v2
 * with three heads.
 *
 * Choices where the spec lists ambiguities (§9) or geossl differs:
 * - Date sampling (§9.1): the authors' np.random.choice(paths, 3) draws with
 *   replacement, so a "seasonal" positive is the query's own acquisition a
 *   fifth of the time at 5 dates; the paper means different dates.  Default
 *   date_sampling=distinct: t0, t1, t2 are drawn without replacement when a
 *   location has 3 or more dates; with 2 dates t1 = t2 = the other one.
 *   date_sampling=replacement is the authors' code.  The draws come from the
 *   context RNG, which checkpoints save and restore.
 * - Bands (§2.2, §9.9): RGB (B4, B3, B2) as the paper.  Data of 3 bands is
 *   taken as RGB as it is (EuroSAT RGB, or data whose bands were selected
 *   upstream).  From data of 12 or more bands (seco, ssl4eo-s12, eurosat-ms,
 *   bigearthnet: Sentinel-2 in wavelength order, B1 first) the method takes
 *   bands 3, 2, 1 (rgb_bands=I:J:K to change; needed for 4 to 11 bands) and
 *   the encoder has 3 inputs.  The loader then augments every band with
 *   per-band brightness/contrast jitter in place of the RGB colour jitter and
 *   grayscale, which need 3-band data.  bands=all trains on every band of the
 *   data (no published SeCo does).
 * - Normalization (§9.2): the dataset's per-band mean/std (geossl's loader),
 *   not the authors' fixed uint8 quantile stretch then ImageNet mean/std.
 * - Order of augment and crop: the authors jitter and blur the full image,
 *   then crop; geossl's loader crops, then jitters and blurs, with the blur
 *   sigma scaled to the view (augment.h).
 * - Learning rate (§5): the released step schedule, lr x 0.1 from epoch 120
 *   and x 0.01 from epoch 160 of 200, no warm-up, applied here at 60% and
 *   80% of the run's steps (seco_lr_at) so that shorter runs keep its shape.
 * - Weight decay on every parameter, biases and batchnorm included, as the
 *   authors' SGD does (added to those gradients before geossl's SGD, which
 *   decays weights only); decay=weights keeps geossl's convention.
 * - No shuffling batchnorm (the authors' single-GPU command has none, §9.6);
 *   the key encoder normalizes each key view with that view's own batch.
 * - Queue: 16,384 keys per head, capped as MoCo v2's at half an epoch of
 *   locations (a whole number of batches) on small data; a queue that is not
 *   a multiple of the batch wraps around.
 * Collapse monitor: the smallest of the three heads' embedding std. */
#include "seco.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/data_parallel.h"
#include "nn/mlp_head.h"
#include "ops/ops.h"

#define SECO_PAPER_QUEUE 16384
#define SECO_SPACES 3 /* embedding sub-spaces = heads = queues = key views */

enum { SAMPLE_DISTINCT, SAMPLE_REPLACEMENT };

typedef struct seco {
    gs_mlp_head heads[SECO_SPACES];     /* query heads h_i */
    gs_mlp_head key_heads[SECO_SPACES]; /* their EMA copies */
    gs_method_target key;               /* key encoder + key heads */
    gs_tensor *queue[SECO_SPACES];      /* (K, D) L2-normalized keys, oldest overwritten first */
    gs_tensor *queue_ptr;               /* (3): the next row of each queue, kept as floats (exact below 2^24) */
    const gs_tensor *positives[SECO_SPACES]; /* this step's z_k,i^i, enqueued by after_step */
    int date_sampling;
    bool decay_all;
    bool select_bands;  /* the data has more bands than the encoder takes */
    int data_bands;     /* bands of the data the views come from */
    int band_index[3];  /* which data bands make B4, B3, B2 */
    int32_t *dates;     /* (t0, t1, t2) per location of the last step */
    int64_t n_dates, dates_capacity;
    bool forced;        /* dates set by gs_seco_set_dates for the next step */
} seco;

static const gs_method_option_info SECO_OPTIONS[] = {
    {"date_sampling", "distinct|replacement: the three dates of a location drawn without replacement when it has "
                      "3 or more (the paper) or with replacement (the authors' code) [distinct]"},
    {"bands", "rgb|all: train on B4, B3, B2 as every published SeCo, or on every band of the data (no published "
              "SeCo does) [rgb]"},
    {"rgb_bands", "I:J:K: 0-based data bands taken as B4, B3, B2 under bands=rgb [3:2:1 on 12+ band "
                  "Sentinel-2 data; 3-band data is taken as it is]"},
    {"decay", "all|weights: weight decay on every parameter as the authors' SGD, or on conv/linear weights only "
              "as geossl's other methods [all]"},
    {NULL, NULL},
};

/* Four views: crop only (q, k1) and crop + MoCo v2's augmentation (k0, k2),
 * crop scale 0.2-1 as torchvision's RandomResizedCrop(224, scale=(0.2, 1)). */
static gs_status seco_views(const gs_method_config *cfg, gs_augment_config *views, int *n_views, gs_error *err) {
    gs_augment_config augmented;
    if (gs_augment_preset("simclr", cfg->bands, cfg->image_size, &augmented, err) != GS_OK) return err->status;
    augmented.crop_scale[0] = 0.2f;
    augmented.crop_scale[1] = 1.0f;
    gs_augment_config plain = augmented;
    plain.hflip_p = plain.vflip_p = plain.rot90_p = 0.0f;
    plain.color_jitter_p = plain.grayscale_p = plain.band_jitter_p = 0.0f;
    plain.blur_p = plain.solarize_p = 0.0f;
    *n_views = 4;
    views[0] = plain;     /* q:  t0 */
    views[1] = augmented; /* k0: t1 */
    views[2] = plain;     /* k1: t2 */
    views[3] = augmented; /* k2: t0 */
    return GS_OK;
}

/* As MoCo v2's cap (gs_method_queue_default), per head. */
static int64_t default_queue_size(const gs_method_config *c) { return gs_method_queue_default(c, SECO_PAPER_QUEUE); }

/* "I:J:K" into three band indices below `bands`. */
static gs_status parse_rgb_bands(gs_context *ctx, const char *text, int bands, int out[3]) {
    int got[3];
    char tail;
    if (sscanf(text, "%d:%d:%d%c", &got[0], &got[1], &got[2], &tail) != 3)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "seco option rgb_bands=%s: expected I:J:K (0-based bands of B4, B3, B2)",
                       text);
    for (int i = 0; i < 3; i++) {
        if (got[i] < 0 || got[i] >= bands)
            return gs_fail(ctx, GS_ERR_ARGUMENT, "seco option rgb_bands=%s: band %d is not among the data's %d", text,
                           got[i], bands);
        out[i] = got[i];
    }
    return GS_OK;
}

/* Under bands=rgb, data of more than 3 bands: the encoder is rebuilt for the
 * 3 bands it will see, and the loss picks them out of every view. */
static gs_status choose_bands(gs_context *ctx, gs_method *m, seco *s) {
    int use_all = 0;
    if (gs_method_option_choice(ctx, &m->config, "bands", "rgb|all", &use_all) != GS_OK) return ctx->status;
    char text[64];
    const char *given = gs_method_option(&m->config, "rgb_bands", text, sizeof text);
    s->data_bands = m->config.bands;
    if (use_all || m->config.bands == 3) return GS_OK; /* rgb_bands is then unused */
    if (given) {
        if (parse_rgb_bands(ctx, given, m->config.bands, s->band_index) != GS_OK) return ctx->status;
    } else if (m->config.bands >= 12) {
        s->band_index[0] = 3, s->band_index[1] = 2, s->band_index[2] = 1; /* B4, B3, B2 after B1 */
    } else {
        return gs_fail(ctx, GS_ERR_ARGUMENT,
                       "seco trains on RGB (B4, B3, B2) and cannot tell which of these %d bands they are: give "
                       "rgb_bands=I:J:K (0-based), or bands=all to train on every band",
                       m->config.bands);
    }
    s->select_bands = true;
    m->input_bands = s->band_index;
    m->n_input_bands = 3;
    gs_backbone_free(&m->encoder);
    m->config.bands = 3;
    gs_backbone_config bc = m->config.backbone;
    bc.num_classes = 0;
    bc.bands = 3;
    bc.img_size = m->config.image_size;
    return gs_backbone_init(ctx, &m->encoder, &bc);
}

static gs_status seco_init(gs_context *ctx, gs_method *m) {
    seco *s = calloc(1, sizeof *s);
    if (!s) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for SeCo");
    m->impl = s;
    int decay = 0;
    if (gs_method_option_choice(ctx, &m->config, "date_sampling", "distinct|replacement", &s->date_sampling) != GS_OK ||
        gs_method_option_choice(ctx, &m->config, "decay", "all|weights", &decay) != GS_OK)
        return ctx->status;
    s->decay_all = decay == 0;
    if (choose_bands(ctx, m, s) != GS_OK) return ctx->status;
    if (m->config.momentum <= 0) m->config.momentum = 0.999f;
    if (m->config.temperature <= 0) m->config.temperature = 0.07f;
    int64_t features = m->encoder.feature_dim;
    int64_t hidden = m->config.proj_hidden > 0 ? m->config.proj_hidden : features;
    int64_t out = m->config.proj_dim > 0 ? m->config.proj_dim : 128;
    int64_t queue = m->config.queue_size > 0 ? m->config.queue_size : default_queue_size(&m->config);
    m->config.queue_size = (int)queue;

    gs_param_list key_heads = {0};
    char name[32];
    for (int i = 0; i < SECO_SPACES; i++) {
        snprintf(name, sizeof name, "heads.%d", i);
        gs_mlp_head_init(ctx, &m->heads, name, &s->heads[i], features, hidden, out, false);
        gs_mlp_head_init(ctx, &key_heads, name, &s->key_heads[i], features, hidden, out, false);
    }
    if (!gs_failed(ctx)) gs_method_target_init(ctx, m, &key_heads, &s->key);
    gs_param_list_free(&key_heads);
    if (gs_failed(ctx)) return ctx->status;

    /* Each queue starts as random unit vectors, as in the authors' code. */
    for (int i = 0; i < SECO_SPACES; i++) {
        snprintf(name, sizeof name, "queue.%d", i);
        s->queue[i] = gs_param_add(ctx, &m->state, name, GS_PARAM_BUFFER, GS_DIMS(queue, out));
        if (!s->queue[i]) return ctx->status;
        for (int64_t r = 0; r < queue; r++) {
            float *row = s->queue[i]->data + r * out;
            double norm = 0.0;
            for (int64_t j = 0; j < out; j++) {
                row[j] = gs_rng_normal(&ctx->rng);
                norm += (double)row[j] * row[j];
            }
            for (int64_t j = 0; j < out; j++) row[j] = (float)(row[j] / sqrt(norm > 1e-24 ? norm : 1e-24));
        }
    }
    s->queue_ptr = gs_param_add(ctx, &m->state, "queue_ptr", GS_PARAM_BUFFER, GS_DIMS(SECO_SPACES));
    if (!s->queue_ptr) return ctx->status;
    gs_tensor_fill(s->queue_ptr, 0.0f);
    return GS_OK;
}

static gs_status reserve_dates(gs_context *ctx, seco *s, int64_t n) {
    if (n <= s->dates_capacity) return GS_OK;
    int32_t *grown = realloc(s->dates, (size_t)n * SECO_SPACES * sizeof *grown);
    if (!grown) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for SeCo's dates");
    s->dates = grown;
    s->dates_capacity = n;
    return GS_OK;
}

/* (t0, t1, t2) for each of n locations of `dates` dates. */
static void draw_dates(gs_rng *rng, int sampling, int64_t n, int dates, int32_t *out) {
    for (int64_t i = 0; i < n; i++) {
        int32_t *t = out + i * SECO_SPACES;
        if (sampling == SAMPLE_REPLACEMENT || dates == 1) {
            for (int j = 0; j < SECO_SPACES; j++) t[j] = (int32_t)gs_rng_below(rng, (uint64_t)dates);
        } else if (dates == 2) {
            t[0] = (int32_t)gs_rng_below(rng, 2);
            t[1] = t[2] = 1 - t[0];
        } else {
            t[0] = (int32_t)gs_rng_below(rng, (uint64_t)dates);
            t[1] = (int32_t)gs_rng_below(rng, (uint64_t)dates - 1);
            if (t[1] >= t[0]) t[1]++;
            int32_t lo = t[0] < t[1] ? t[0] : t[1], hi = t[0] < t[1] ? t[1] : t[0];
            t[2] = (int32_t)gs_rng_below(rng, (uint64_t)dates - 2);
            if (t[2] >= lo) t[2]++;
            if (t[2] >= hi) t[2]++;
        }
    }
}

/* One image per location: date column `which` of the draws, out of a view
 * of (N, dates, C, H, W) or (N, C, H, W), with the selected bands. */
static gs_tensor *pick(gs_context *ctx, const seco *s, const gs_tensor *view, int which, int64_t n, int dates,
                       int64_t bands, int64_t plane) {
    int out_bands = s->select_bands ? 3 : (int)bands;
    gs_tensor *x = gs_activation(ctx, GS_DIMS(n, out_bands, view->shape[view->ndim - 2], view->shape[view->ndim - 1]));
    if (!x) return NULL;
    for (int64_t i = 0; i < n; i++) {
        int32_t t = s->dates[i * SECO_SPACES + which];
        const float *src = view->data + ((i * dates + t) * bands) * plane;
        for (int b = 0; b < out_bands; b++)
            memcpy(x->data + (i * out_bands + b) * plane, src + (s->select_bands ? s->band_index[b] : b) * plane,
                   (size_t)plane * sizeof(float));
    }
    return x;
}

/* Which view and which date column make q, k0, k1, k2. */
static const int DATE_OF_VIEW[4] = {0 /* q: t0 */, 1 /* k0: t1 */, 2 /* k1: t2 */, 0 /* k2: t0 */};

static gs_tensor *seco_loss(gs_context *ctx, gs_method *m, gs_tensor *const *views, int n_views, int64_t step) {
    (void)step;
    seco *s = m->impl;
    if (n_views != 4) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "SeCo takes 4 views (q, k0, k1, k2), not %d", n_views);
        return NULL;
    }
    const gs_tensor *v0 = views[0];
    if (v0->ndim != 4 && v0->ndim != 5) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "SeCo: views of %d dimensions (expected (N, dates, C, H, W))", v0->ndim);
        return NULL;
    }
    int64_t n = v0->shape[0];
    int dates = v0->ndim == 5 ? (int)v0->shape[1] : 1;
    int64_t bands = v0->shape[v0->ndim - 3], plane = v0->shape[v0->ndim - 2] * v0->shape[v0->ndim - 1];
    for (int v = 1; v < 4; v++)
        if (!gs_tensor_same_shape(views[v], v0)) {
            gs_fail(ctx, GS_ERR_MISMATCH, "SeCo: view %d is shaped unlike view 0", v);
            return NULL;
        }
    int64_t expected = s->select_bands ? s->data_bands : m->config.bands;
    if (bands != expected) {
        gs_fail(ctx, GS_ERR_MISMATCH, "SeCo: views of %lld bands, the method was built for %lld", (long long)bands,
                (long long)expected);
        return NULL;
    }
    /* Across ranks the dates of the whole global batch are drawn on every
     * rank, which keeps its own shard's: one process's draws. */
    int rank, ranks;
    gs_data_parallel_rank(ctx, &rank, &ranks);
    if (reserve_dates(ctx, s, s->forced ? n : n * ranks) != GS_OK) return NULL;
    if (s->forced) {
        if (s->n_dates != n) {
            gs_fail(ctx, GS_ERR_MISMATCH, "SeCo: %lld dates set for a batch of %lld", (long long)s->n_dates,
                    (long long)n);
            return NULL;
        }
        for (int64_t i = 0; i < n * SECO_SPACES; i++)
            if (s->dates[i] < 0 || s->dates[i] >= dates) {
                gs_fail(ctx, GS_ERR_ARGUMENT, "SeCo: date %d set for views of %d dates", (int)s->dates[i], dates);
                return NULL;
            }
        s->forced = false;
    } else {
        draw_dates(&ctx->rng, s->date_sampling, n * ranks, dates, s->dates);
        memmove(s->dates, s->dates + (int64_t)rank * n * SECO_SPACES, (size_t)(n * SECO_SPACES) * sizeof *s->dates);
        s->n_dates = n;
    }
    gs_tensor *x[4];
    for (int v = 0; v < 4; v++)
        if (!(x[v] = pick(ctx, s, views[v], DATE_OF_VIEW[v], n, dates, bands, plane))) return NULL;

    /* Queries: one encoder pass, three heads. */
    gs_tensor *features = gs_backbone_forward(ctx, &m->encoder, x[0], true);
    gs_tensor *raw[SECO_SPACES], *q[SECO_SPACES];
    for (int i = 0; i < SECO_SPACES; i++) {
        raw[i] = gs_mlp_head_forward(ctx, &s->heads[i], features, true);
        q[i] = gs_l2_normalize(ctx, raw[i], 1e-12f);
    }
    /* Keys: the key encoder once per key view (each with its own batch
     * statistics), every key head on each. */
    gs_tensor *k[SECO_SPACES][SECO_SPACES];     /* [head i][view j]: this rank's keys */
    gs_tensor *k_all[SECO_SPACES][SECO_SPACES]; /* every rank's, in the global batch's order */
    bool previous = gs_set_grad_enabled(ctx, false);
    /* Across ranks without --sync-bn, each key view goes through the key
     * encoder shuffled over the ranks (MoCo's shuffling BN, which SeCo keeps). */
    bool shuffle = gs_data_parallel_shuffles_bn(ctx);
    for (int j = 0; j < SECO_SPACES; j++) {
        int64_t *order = NULL;
        gs_tensor *input = shuffle ? gs_shuffle_rows(ctx, x[1 + j], 0x5EC0ULL ^ ((uint64_t)step << 2) ^ (uint64_t)j, &order)
                                   : x[1 + j];
        gs_tensor *f = gs_backbone_forward(ctx, &s->key.encoder, input, true);
        for (int i = 0; i < SECO_SPACES; i++) {
            gs_tensor *key = gs_l2_normalize(ctx, gs_mlp_head_forward(ctx, &s->key_heads[i], f, true), 1e-12f);
            if (shuffle) {
                k[i][j] = gs_unshuffle_rows(ctx, key, order, &k_all[i][j]);
            } else {
                k[i][j] = key;
                k_all[i][j] = gs_gather_rows(ctx, key, 1);
            }
        }
    }
    gs_set_grad_enabled(ctx, previous);
    if (gs_failed(ctx)) return NULL;

    float std = INFINITY;
    for (int i = 0; i < SECO_SPACES; i++) {
        float e = gs_embedding_std(raw[i]);
        if (e < std) std = e;
    }
    m->embedding_std = std;

    int32_t *labels = calloc((size_t)n, sizeof *labels);
    if (!labels) {
        gs_fail(ctx, GS_ERR_MEMORY, "out of memory for SeCo labels");
        return NULL;
    }
    gs_tensor *loss = NULL;
    for (int i = 0; i < SECO_SPACES; i++) {
        /* Logit 0: the positive k_i; then the queue; then, for i > 0, the
         * other two key views of the whole batch. */
        gs_tensor *parts[3];
        int n_parts = 0;
        parts[n_parts++] = gs_reshape(ctx, gs_sum_last(ctx, gs_mul(ctx, q[i], k[i][i])), GS_DIMS(n, 1));
        parts[n_parts++] = gs_matmul(ctx, q[i], s->queue[i], false, true);
        if (i > 0) {
            gs_tensor *others[2];
            int n_others = 0;
            for (int j = 0; j < SECO_SPACES; j++)
                if (j != i) others[n_others++] = k_all[i][j]; /* the whole global batch's */
            parts[n_parts++] = gs_matmul(ctx, q[i], gs_concat(ctx, others, n_others, 0), false, true);
        }
        gs_tensor *logits = gs_scale(ctx, gs_concat(ctx, parts, n_parts, 1), 1.0f / m->config.temperature);
        gs_tensor *term = gs_cross_entropy(ctx, logits, labels, GS_NO_IGNORE_INDEX);
        loss = loss ? gs_add(ctx, loss, term) : term;
        s->positives[i] = k_all[i][i]; /* every rank enqueues every rank's keys: one queue */
    }
    free(labels);
    return loss;
}

/* The authors' SGD decays every parameter; geossl's decays weights only, so
 * the rest get wd * p added to their gradients here, which is the same
 * update (torch: d = g + wd * p, then momentum). */
static gs_status seco_before_update(gs_context *ctx, gs_method *m, gs_optimizer *opt, int64_t step) {
    (void)ctx;
    (void)step;
    seco *s = m->impl;
    float wd = opt->config.weight_decay;
    if (!s->decay_all || opt->config.kind != GS_OPTIM_SGD || wd == 0.0f) return GS_OK;
    for (int i = 0; i < m->trainable.count; i++) {
        const gs_param *p = &m->trainable.items[i];
        gs_tensor *t = p->tensor;
        if (p->kind != GS_PARAM_NO_DECAY || !t->grad || !t->requires_grad) continue;
        for (int64_t j = 0; j < t->numel; j++) t->grad[j] += wd * t->data[j];
    }
    return GS_OK;
}

static gs_status seco_after_step(gs_context *ctx, gs_method *m, int64_t step) {
    (void)step;
    seco *s = m->impl;
    /* The key network follows the query network before this step's keys
     * join the queues (the authors update it first thing in the next
     * forward: the same values). */
    if (gs_method_target_update(ctx, &s->key, m->config.momentum) != GS_OK) return ctx->status;
    for (int i = 0; i < SECO_SPACES; i++) {
        const gs_tensor *k = s->positives[i];
        if (!k) return gs_fail(ctx, GS_ERR_INTERNAL, "SeCo: after_step without this step's keys");
        gs_tensor *queue = s->queue[i];
        int64_t rows = queue->shape[0], d = queue->shape[1];
        int64_t ptr = (int64_t)s->queue_ptr->data[i];
        for (int64_t r = 0; r < k->shape[0]; r++)
            memcpy(queue->data + ((ptr + r) % rows) * d, k->data + r * d, (size_t)d * sizeof(float));
        s->queue_ptr->data[i] = (float)((ptr + k->shape[0]) % rows);
        s->positives[i] = NULL;
    }
    return GS_OK;
}

static void seco_free(gs_method *m) {
    seco *s = m->impl;
    if (!s) return;
    gs_method_target_free(&s->key);
    free(s->dates);
    free(s);
    m->impl = NULL;
}

gs_status gs_seco_set_dates(gs_context *ctx, gs_method *m, const int32_t *dates, int64_t n) {
    seco *s = m->impl;
    if (reserve_dates(ctx, s, n) != GS_OK) return ctx->status;
    memcpy(s->dates, dates, (size_t)n * SECO_SPACES * sizeof *dates);
    s->n_dates = n;
    s->forced = true;
    return GS_OK;
}

const int32_t *gs_seco_dates(const gs_method *m, int64_t *n) {
    const seco *s = m->impl;
    *n = s ? s->n_dates : 0;
    return s ? s->dates : NULL;
}

/* pl_bolts' MocoLRScheduler(schedule=[120, 160]) over the released 200
 * epochs, as fractions of the run. */
static double seco_lr_at(double peak, int64_t step, int64_t total_steps) {
    if (total_steps <= 0) return peak;
    double done = (double)step / (double)total_steps;
    return done >= 0.8 ? peak * 0.01 : done >= 0.6 ? peak * 0.1 : peak;
}

const gs_method_ops gs_method_seco = {
    .name = "seco",
    .settings = GS_METHOD_USES_TEMPERATURE | GS_METHOD_USES_QUEUE | GS_METHOD_USES_EMA | GS_METHOD_USES_HEAD,
    .data_parallel = true,
    .summary = "SeCo: seasonal contrast, MoCo v2 with 3 heads and queues over dates of one place (Mañas et al. 2021)",
    .optimizer = GS_OPTIM_SGD,
    .lr = 0.03f, /* x batch / 256 */
    .weight_decay = 1e-4f,
    .multi_date = true,
    .views = seco_views,
    .init = seco_init,
    .loss = seco_loss,
    .before_update = seco_before_update,
    .after_step = seco_after_step,
    .free = seco_free,
    .options = SECO_OPTIONS,
    .lr_at = seco_lr_at,
    .schedule = "the released step schedule: x 0.1 from 60% and x 0.01 from 80% of the steps (epochs 120 and 160 "
                "of 200), no warm-up",
};
