/* GLCNet: Global style and Local matching Contrastive Network (Li et al.,
 * IEEE TGRS 60, 2022, arXiv 2106.10605), implemented from
 * ../shared/specs/glcnet.md, which reads the authors' released code
 * (GeoX-Lab/G-RSIM, T-SS-GLCNet/ @ 518efd3).
 *
 * Self-supervised pretraining for semantic segmentation.  One network (no
 * momentum encoder, no queue) sees two views of each image, each in its own
 * forward pass (its own batchnorm batch, as the released model's forward
 * runs the backbone once per view):
 *   ResNet at output stride 16 (m->encoder: what evaluation loads)
 *   -> DeepLabv3+ head (harness/nn/deeplab.c; ASPP "aspp.*" and decoder
 *      "decoder.*", both in m->heads) whose classifier gives 64 channels,
 *      bilinearly upsampled to the view's size.
 *   Global branch: the ASPP output F (after its dropout) -> style vector
 *      [mean_c(F); var_c(F)] (unbiased variance over the H x W positions,
 *      torch.var) -> global_proj = Linear(2C, 256) -> ReLU -> Linear(256, 64).
 *   Local branch: J = 4 pairs of matched P x P regions per image (the same
 *      source point in both views, from the views' geometry; see
 *      gs_glcnet_match_regions) on the 64-channel full-resolution map, each
 *      mean-pooled -> local_proj = Linear(64, 64) -> ReLU -> Linear(64, 64);
 *      rows sample-major, so a region's negatives are the other regions of
 *      its own image and of the other images.
 *   Loss: NT-Xent with T = 0.5 whose denominator leaves the positive out
 *      (spec section 3), L = 0.5 L_global + 0.5 L_local.
 * Optimiser: torch.optim.Adam, lr 1e-3 at batch 256 (scaled by batch / 256
 * as for every geossl method; the released code runs 1e-3 at batch 256 per
 * process), betas (0.9, 0.99), L2 weight decay 1e-5 added to the gradient of
 * every parameter (torch's Adam, coupled), cosine to ~0 with no warm-up.
 * geossl's adam kind is AdamW, so before each update this method sets beta2
 * and adds wd * p to every gradient itself, with the optimizer's decoupled
 * decay set to 0 (adam=decoupled keeps AdamW's decay of weights instead).
 *
 * Views (spec section 2; geossl's augmentation module, datasets/augment.h):
 *   view 1: random resized crop, scale 0.4-1, ratio 3/4-4/3, nothing else;
 *   view 2: its own crop with the same parameters, then flips, quarter
 *     turns, colour jitter, band-to-gray, blur (below).
 *
 * Choices where the spec lists an ambiguity or a defect (its section 9),
 * and where geossl's parts differ from the released ones:
 *  1. Debug overrides in main_ss.py (4 epochs, batch 16, 138 tiles): ignored;
 *     the README / argparse values are the recipe (epochs and batch are the
 *     command line's).
 *  2. Patch size 48 at 224 px (argparse), not the model's 16; P scales with
 *     the view: round(48 size / 224) (27 at 128, 14 at 64).  patch_size=N
 *     sets it, patches=J the number of pairs (4).
 *  3. Batchnorm momentum 0.9 (torch's convention: new = 0.1 old + 0.9
 *     batch) everywhere: backbone, ASPP, decoder, as released
 *     (bn_momentum=X; 0.1 is torch's default).  It only moves the running
 *     statistics evaluation starts from.
 *  4. The style vector is taken after the ASPP's dropout 0.5 in training, as
 *     released (aspp_dropout=X; 0 turns it off, the reference test does).
 *  5. The positive is left out of the denominator, as in the spec's version
 *     of contrast_loss.py; denominator=all gives SimCLR's NT-Xent (the
 *     earlier release).  The released 1e-8 added to the denominator is left
 *     out (the sum of 2R - 2 exponentials >= e^-2 each dwarfs it).
 *  6.-8. Evaluation-side items (model selection on the test scenes, the
 *     tile-averaged mIoU, bilinear label warping): the protocol's business.
 *  9. Index maps: not used.  Regions are matched from the views' crop boxes,
 *     flips and turns (gs_augment_to_source), not by searching an int64
 *     index image; a region's centre is a window centre (a pixel corner for
 *     even P), so a flip or turn maps a window onto exactly the same source
 *     pixels (the released first-occurrence search with its P/2 offset
 *     shifts a flipped window by one pixel).
 *  10. Asymmetric views kept: only view 2 is augmented beyond the crop.
 *  11. One process: no world-size scaling.
 *  Not in the spec's list:
 *  - Flips: the released 5-way draw (left-right, up-down, both, none twice)
 *    becomes independent left-right and up-down flips with p 0.4 each (the
 *    same marginals; both flips 0.16 instead of 0.2).  Quarter turns: k
 *    uniform in 1..3 with p 0.6, which is the released "p 0.8, k uniform in
 *    0..3" exactly.
 *  - Colour: geossl normalizes each band by the data's statistics, and its
 *    colour jitter is torchvision's on RGB.  3 bands: ColorJitter(brightness
 *    0.1, saturation 0.05, hue 1/6) with p 0.4 (the released HSV shifts:
 *    hue +-30 of OpenCV's 180, saturation +-5 and value +-15 of 255, with p
 *    0.8 x 0.5).  Other band counts (Potsdam RGBIR): the released per-band
 *    brightness (blend towards 0 or 255 by up to 10%) and contrast (x U(0.9,
 *    1.1)) with p 0.8 become geossl's per-band jitter, brightness +-0.3
 *    standard deviations (both released factors shift a band by up to ~10%
 *    of 255, 0.3-0.7 std on Potsdam) and contrast 0.1 (around the mean); the
 *    HSV shift of bands 0-2 is not applied to 4-band data (geossl's colour
 *    jitter needs exactly 3 bands) and neither is the 0.1% pixel noise.
 *  - Band-to-gray (p 0.1: one band, drawn uniformly, copied into every
 *    band) is applied by this method to view 2 during pretraining, after the
 *    loader's blur; copying commutes with the per-band blur, and the copied
 *    values are normalized ones (gray_p=X).
 *  - Blur: p 0.5, sigma uniform in [0.8, 1.4] px at 224 px (OpenCV's sigma
 *    for the released kernels 3, 5, 7), scaled with the view size.
 *  - Crops: torchvision's RandomResizedCrop (log-uniform ratio, 10 tries,
 *    centre-crop fallback) instead of the released 5 tries with a buggy
 *    fallback; no 256 px pre-crop (the loader gives whole images).
 *  - Schedule: cosine from the peak to 4e-5 of it (4e-8 at 1e-3) over all
 *    steps, per step rather than per epoch, no warm-up (ops->lr_at).
 *  - Head widths: the ASPP and decoder convolutions have 256 channels at
 *    the standard ResNet width 64 and scale with --width (64 at width 16),
 *    the low-level projection 48 / 256 of that (head_channels=N sets them);
 *    the 64-channel decoder output and the heads' 64-d outputs stay
 *    (--head-dim sets both heads' outputs, --head-hidden the global head's
 *    256).  Initialisation is geossl's (kaiming fan_out convolutions, torch
 *    defaults for the linear layers).
 *  - The encoder: the pretraining loop builds m->encoder at the command
 *    line's output stride (32 by default); init switches it to stride 16
 *    in place (same parameters, dilated layer4; output_stride=8 also
 *    dilates layer3), so its architecture string says os=16.  Dilation as
 *    the authors' DeepLab ResNet has it (spec section 1: layer4's first
 *    block dilated 2 as well; "dilation=deeplab" in the architecture
 *    string, which evaluation's DeepLabv3+ encoder follows);
 *    dilation=torchvision keeps that block at the previous rate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "glcnet.h"
#include "dist/data_parallel.h"
#include "method.h"
#include "simclr.h"
#include "nn/deeplab.h"
#include "nn/mlp_head.h"
#include "ops/ops.h"

#define MASKED (-1e9f)
#define LOCAL_CHANNELS 64  /* the decoder's output: num_classes = 64 in the released pretraining */
#define MAX_REDRAWS 64

extern const gs_method_ops gs_method_glcnet;

typedef struct glcnet {
    gs_deeplab net;
    gs_mlp_head global_proj, local_proj;
    int patch, patches;
    float lambda, gray_p, beta2;
    bool positive_in_denominator, coupled_decay;
    float l2; /* the weight decay taken over from the optimizer (< 0: not yet) */
    gs_box *boxes;      /* 2 x capacity: view 1's, then view 2's */
    int64_t capacity;
    int64_t forced;     /* pairs set by gs_glcnet_set_regions for the next loss */
    gs_glcnet_stats stats;
} glcnet;

static const gs_method_option_info GLCNET_OPTIONS[] = {
    {"patch_size", "side of the matched regions in pixels; 0: 48 x view size / 224 [0]"},
    {"patches", "matched region pairs per image [4]"},
    {"lambda", "weight of the global loss, 1 - lambda the local one's, in [0, 1] [0.5]"},
    {"aspp_dropout", "dropout after the ASPP projection in training, in [0, 1) [0.5]"},
    {"head_channels", "channels of the ASPP and the decoder convolutions; 0: 256 x width / 64 [0]"},
    {"output_stride", "16 or 8: the encoder's output stride [16]"},
    {"dilation", "deeplab (the authors' ResNet: a dilated stage's first block at the stage's rate) or torchvision "
                 "(its replace_stride_with_dilation: that block at the previous rate) [deeplab]"},
    {"bn_momentum", "batchnorm momentum (torch's convention) of the whole network, in [0, 1] [0.9]"},
    {"gray_p", "probability that view 2 gets one band copied into all, in [0, 1] [0.1]"},
    {"denominator", "negatives (the released loss: the positive left out) or all (SimCLR's NT-Xent) [negatives]"},
    {"adam", "l2 (torch's Adam: decay added to every gradient) or decoupled (AdamW's, weights only) [l2]"},
    {"beta2", "Adam's beta2, in [0, 1) [0.99]"},
    {NULL, NULL},
};

int gs_glcnet_patch_size(int image_size) {
    int p = (int)lround(48.0 * image_size / 224.0);
    return p < 1 ? 1 : p;
}

/* ---- region matching ---- */

/* source = A view + b on continuous coordinates (x right, y down). */
typedef struct affine {
    double a[2][2], b[2];
} affine;

static affine view_to_source(const gs_augment_record *rec, int h, int w) {
    float x0, y0, x1, y1, x2, y2;
    gs_augment_to_source(rec, h, w, 0.0f, 0.0f, &x0, &y0);
    gs_augment_to_source(rec, h, w, (float)w, 0.0f, &x1, &y1);
    gs_augment_to_source(rec, h, w, 0.0f, (float)h, &x2, &y2);
    affine t;
    t.a[0][0] = ((double)x1 - x0) / w, t.a[1][0] = ((double)y1 - y0) / w;
    t.a[0][1] = ((double)x2 - x0) / h, t.a[1][1] = ((double)y2 - y0) / h;
    t.b[0] = x0, t.b[1] = y0;
    return t;
}

static affine invert(affine t) {
    double det = t.a[0][0] * t.a[1][1] - t.a[0][1] * t.a[1][0];
    affine r;
    r.a[0][0] = t.a[1][1] / det, r.a[0][1] = -t.a[0][1] / det;
    r.a[1][0] = -t.a[1][0] / det, r.a[1][1] = t.a[0][0] / det;
    r.b[0] = -(r.a[0][0] * t.b[0] + r.a[0][1] * t.b[1]);
    r.b[1] = -(r.a[1][0] * t.b[0] + r.a[1][1] * t.b[1]);
    return r;
}

/* outer(inner(p)) */
static affine compose(affine outer, affine inner) {
    affine r;
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) r.a[i][j] = outer.a[i][0] * inner.a[0][j] + outer.a[i][1] * inner.a[1][j];
        r.b[i] = outer.a[i][0] * inner.b[0] + outer.a[i][1] * inner.b[1] + outer.b[i];
    }
    return r;
}

static void apply(affine t, double x, double y, double *ox, double *oy) {
    *ox = t.a[0][0] * x + t.a[0][1] * y + t.b[0];
    *oy = t.a[1][0] * x + t.a[1][1] * y + t.b[1];
}

static int clampi(long v, long lo, long hi) { return (int)(v < lo ? lo : v > hi ? hi : v); }

/* One axis of the view-1 window range: centres in [lo, hi] (the preimage of
 * view 2's interior) within [half, size - half].  Writes the range of the
 * window's first pixel; false when it is empty (then first = last = the
 * window nearest to the preimage). */
static bool axis_range(double lo, double hi, int size, int patch, int *first, int *last) {
    const double half = patch / 2.0, eps = 1e-6;
    double c_lo = lo > half ? lo : half, c_hi = hi < size - half ? hi : size - half;
    long a = (long)ceil(c_lo - half - eps), b = (long)floor(c_hi - half + eps);
    if (a < 0) a = 0;
    if (b > size - patch) b = size - patch;
    if (a <= b) {
        *first = (int)a, *last = (int)b;
        return true;
    }
    /* No window: the one whose centre is nearest to [lo, hi]. */
    double target = hi < half ? half : lo > size - half ? size - half : (lo + hi) / 2.0;
    *first = *last = clampi(lround(target - half), 0, size - patch);
    return false;
}

int gs_glcnet_match_regions(const gs_augment_record *rec1, int h1, int w1, const gs_augment_record *rec2, int h2,
                            int w2, int patch, int count, int32_t sample, gs_rng *rng, gs_box *boxes1,
                            gs_box *boxes2) {
    if (patch < 1 || patch > h1 || patch > w1 || patch > h2 || patch > w2) return -1;
    affine to_src1 = view_to_source(rec1, h1, w1), to_src2 = view_to_source(rec2, h2, w2);
    affine one_to_two = compose(invert(to_src2), to_src1), two_to_one = compose(invert(to_src1), to_src2);
    /* View 2's interior (where a window's centre may be) mapped into view 1:
     * flips, turns and crops keep it an axis-aligned rectangle. */
    const double half = patch / 2.0;
    double xs[4], ys[4];
    apply(two_to_one, half, half, &xs[0], &ys[0]);
    apply(two_to_one, w2 - half, half, &xs[1], &ys[1]);
    apply(two_to_one, half, h2 - half, &xs[2], &ys[2]);
    apply(two_to_one, w2 - half, h2 - half, &xs[3], &ys[3]);
    double x_lo = xs[0], x_hi = xs[0], y_lo = ys[0], y_hi = ys[0];
    for (int k = 1; k < 4; k++) {
        x_lo = fmin(x_lo, xs[k]), x_hi = fmax(x_hi, xs[k]);
        y_lo = fmin(y_lo, ys[k]), y_hi = fmax(y_hi, ys[k]);
    }
    int l0, l1, t0, t1;
    bool ok_x = axis_range(x_lo, x_hi, w1, patch, &l0, &l1);
    bool ok_y = axis_range(y_lo, y_hi, h1, patch, &t0, &t1);
    bool exact = ok_x && ok_y;
    for (int j = 0; j < count; j++) {
        int left = l0, top = t0;
        for (int attempt = 0; attempt < MAX_REDRAWS; attempt++) {
            left = l0 + (int)gs_rng_below(rng, (uint64_t)(l1 - l0 + 1));
            top = t0 + (int)gs_rng_below(rng, (uint64_t)(t1 - t0 + 1));
            bool taken = false;
            for (int k = 0; k < j && !taken; k++)
                taken = 2 * abs(left - boxes1[k].left) < patch && 2 * abs(top - boxes1[k].top) < patch;
            if (!taken) break;
        }
        double cx, cy;
        apply(one_to_two, left + half, top + half, &cx, &cy);
        boxes1[j] = (gs_box){.sample = sample, .top = top, .left = left, .height = patch, .width = patch};
        boxes2[j] = (gs_box){.sample = sample, .top = clampi(lround(cy - half), 0, h2 - patch),
                             .left = clampi(lround(cx - half), 0, w2 - patch), .height = patch, .width = patch};
    }
    return exact ? count : 0;
}

/* ---- loss ---- */

static inline int64_t partner(int64_t i, int64_t n) { return i < n ? i + n : i - n; }

gs_tensor *gs_glcnet_nt_xent(gs_context *ctx, gs_tensor *z, float temperature, bool positive_in_denominator) {
    if (positive_in_denominator) return gs_nt_xent(ctx, z, temperature);
    if (!z || gs_failed(ctx)) return NULL;
    if (z->ndim != 2 || z->shape[0] < 4 || z->shape[0] % 2) {
        char shape[96];
        gs_fail(ctx, GS_ERR_SHAPE, "GLCNet NT-Xent: expects (2R, D) embeddings with R >= 2, got %s",
                gs_shape_str(z, shape, sizeof shape));
        return NULL;
    }
    const int64_t r = z->shape[0], n = r / 2;
    gs_tensor *zn = gs_l2_normalize(ctx, z, 1e-12f);
    gs_tensor *logits = gs_scale(ctx, gs_matmul(ctx, zn, zn, false, true), 1.0f / temperature);
    gs_tensor *mask = gs_tensor_zeros(ctx, &ctx->activations, GS_DIMS(r, r));
    gs_tensor *sign = gs_tensor_zeros(ctx, &ctx->activations, GS_DIMS(r, r));
    int32_t *labels = malloc((size_t)r * sizeof *labels);
    if (!mask || !sign || !labels) {
        free(labels);
        if (!gs_failed(ctx)) gs_fail(ctx, GS_ERR_MEMORY, "out of memory for the GLCNet loss");
        return NULL;
    }
    /* Row i: ce(masked)_i at a negative j is log(sum_neg e^l) - l_ij; adding
     * l_ij - l_ip gives -log(e^l_ip / sum_neg e^l). */
    for (int64_t i = 0; i < r; i++) {
        int64_t p = partner(i, n), j = 0;
        while (j == i || j == p) j++;
        mask->data[i * r + i] = MASKED;
        mask->data[i * r + p] = MASKED;
        labels[i] = (int32_t)j;
        sign->data[i * r + j] = 1.0f;
        sign->data[i * r + p] = -1.0f;
    }
    gs_tensor *ce = gs_cross_entropy(ctx, gs_add(ctx, logits, mask), labels, GS_NO_IGNORE_INDEX);
    free(labels);
    gs_tensor *shift = gs_scale(ctx, gs_sum(ctx, gs_mul(ctx, logits, sign)), 1.0f / (float)r);
    return gs_add(ctx, ce, shift);
}

int gs_glcnet_band_to_gray(float *x, int64_t n, int bands, int64_t plane, float p, gs_rng *rng) {
    int changed = 0;
    for (int64_t i = 0; i < n; i++) {
        /* Both draws always, so the stream does not depend on the outcome. */
        bool gray = gs_rng_uniform(rng) < p;
        int source = (int)gs_rng_below(rng, (uint64_t)bands);
        if (!gray) continue;
        float *img = x + i * bands * plane;
        for (int b = 0; b < bands; b++)
            if (b != source) memcpy(img + b * plane, img + source * plane, (size_t)plane * sizeof *img);
        changed++;
    }
    return changed;
}

static gs_status reserve_boxes(gs_context *ctx, glcnet *g, int64_t n) {
    if (n <= g->capacity) return GS_OK;
    gs_box *b = realloc(g->boxes, (size_t)(2 * n) * sizeof *b);
    if (!b) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for %lld GLCNet regions", (long long)n);
    g->boxes = b;
    g->capacity = n;
    return GS_OK;
}

gs_status gs_glcnet_set_regions(gs_context *ctx, struct gs_method *m, const gs_box *boxes1, const gs_box *boxes2,
                                int64_t n) {
    if (!m || m->ops != &gs_method_glcnet) return gs_fail(ctx, GS_ERR_ARGUMENT, "not a GLCNet method");
    glcnet *g = m->impl;
    if (reserve_boxes(ctx, g, n) != GS_OK) return ctx->status;
    memcpy(g->boxes, boxes1, (size_t)n * sizeof *boxes1);
    memcpy(g->boxes + g->capacity, boxes2, (size_t)n * sizeof *boxes2);
    g->forced = n;
    return GS_OK;
}

gs_glcnet_stats gs_glcnet_last_stats(const struct gs_method *m) {
    const glcnet *g = m && m->ops == &gs_method_glcnet ? m->impl : NULL;
    return g ? g->stats : (gs_glcnet_stats){0};
}

/* Image i's own generator for this step: seeded by one draw of the run's
 * (the same on every rank), a salt per use, and the image's place in the
 * global batch, so an image gets the same draws whichever rank holds it. */
static gs_rng image_rng(const gs_context *ctx, uint64_t step_seed, uint64_t salt, int64_t n, int64_t i) {
    int rank, ranks;
    gs_data_parallel_rank(ctx, &rank, &ranks);
    gs_rng own;
    gs_rng_seed(&own, step_seed ^ (salt * (uint64_t)((int64_t)rank * n + i + 1)));
    return own;
}

/* The regions of this step: set by a test, or matched from the views'
 * geometry (the batch's records in pretraining; identical views otherwise). */
static gs_status find_regions(gs_context *ctx, gs_method *m, glcnet *g, int64_t n, int h1, int w1, int h2, int w2) {
    const int64_t pairs = n * g->patches;
    if (g->forced) {
        int64_t forced = g->forced;
        g->forced = 0;
        if (forced != pairs)
            return gs_fail(ctx, GS_ERR_ARGUMENT, "GLCNet: %lld regions were set for %lld images x %d patches",
                           (long long)forced, (long long)n, g->patches);
        return GS_OK;
    }
    if (reserve_boxes(ctx, g, pairs) != GS_OK) return ctx->status;
    /* Each image's regions from its own generator (image_rng): the run's
     * generator moves by one draw per step, whatever the matching consumed. */
    uint64_t step_seed = gs_rng_next_u64(&ctx->rng);
    const gs_batch *b = m->batch;
    if (b && (b->n != n || b->n_views < 2 || !b->views[0].records || !b->views[1].records))
        return gs_fail(ctx, GS_ERR_INTERNAL, "GLCNet: the batch does not describe its two views");
    for (int64_t i = 0; i < n; i++) {
        gs_augment_record same1 = {.box = {0, 0, w1, h1}}, same2 = {.box = {0, 0, w2, h2}};
        const gs_augment_record *r1 = b ? &b->views[0].records[i] : &same1;
        const gs_augment_record *r2 = b ? &b->views[1].records[i] : &same2;
        gs_box *b1 = g->boxes + i * g->patches, *b2 = g->boxes + g->capacity + i * g->patches;
        gs_rng own = image_rng(ctx, step_seed, 0x9E3779B97F4A7C15ULL, n, i);
        int exact = gs_glcnet_match_regions(r1, h1, w1, r2, h2, w2, g->patch, g->patches, (int32_t)i, &own, b1, b2);
        if (exact < 0)
            return gs_fail(ctx, GS_ERR_ARGUMENT, "GLCNet: %d px regions do not fit %dx%d and %dx%d views (patch_size)",
                           g->patch, w1, h1, w2, h2);
        g->stats.unmatched += g->patches - exact;
    }
    return GS_OK;
}

/* One view through the shared network: the global and the local embeddings. */
static void forward_view(gs_context *ctx, gs_method *m, glcnet *g, gs_tensor *x, const gs_box *boxes, int64_t pairs,
                         gs_tensor **global, gs_tensor **local) {
    *global = *local = NULL;
    gs_tensor *stages[5] = {0};
    if (!gs_resnet_forward_stages(ctx, &m->encoder.resnet, x, true, stages)) return;
    gs_deeplab_outputs out;
    if (!gs_deeplab_forward(ctx, &g->net, stages[1], stages[4], x->shape[2], x->shape[3], true, &out)) return;
    if (out.aspp->shape[2] * out.aspp->shape[3] < 2) {
        gs_fail(ctx, GS_ERR_SHAPE, "GLCNet: the ASPP map of a %lldx%lld view is 1x1, its variance undefined: use "
                "larger views or output_stride=8", (long long)x->shape[3], (long long)x->shape[2]);
        return;
    }
    *global = gs_mlp_head_forward(ctx, &g->global_proj, gs_channel_mean_var(ctx, out.aspp, true), true);
    *local = gs_mlp_head_forward(ctx, &g->local_proj, gs_box_mean_pool(ctx, out.output, boxes, pairs), true);
}

static gs_tensor *glcnet_loss(gs_context *ctx, gs_method *m, gs_tensor *const *views, int n_views, int64_t step) {
    (void)step;
    glcnet *g = m->impl;
    g->stats = (gs_glcnet_stats){0};
    if (n_views != 2 || !views[0] || !views[1] || views[0]->ndim != 4 || views[1]->ndim != 4 ||
        views[0]->shape[0] != views[1]->shape[0]) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "GLCNet takes two views of (N, C, H, W) images");
        return NULL;
    }
    gs_tensor *x1 = views[0], *x2 = views[1];
    const int64_t n = x1->shape[0], pairs = n * g->patches;
    if (find_regions(ctx, m, g, n, (int)x1->shape[2], (int)x1->shape[3], (int)x2->shape[2], (int)x2->shape[3]) !=
        GS_OK)
        return NULL;
    g->stats.regions = (int)pairs;
    if (m->batch && g->gray_p > 0) {
        /* View 2's band-to-gray, on a copy (the loader owns its buffer). */
        gs_tensor *gray = gs_activation_like(ctx, x2);
        if (!gray) return NULL;
        memcpy(gray->data, x2->data, (size_t)x2->numel * sizeof *gray->data);
        /* Per image, from its own generator, as the regions. */
        uint64_t step_seed = gs_rng_next_u64(&ctx->rng);
        int64_t plane = x2->shape[2] * x2->shape[3], image = x2->shape[1] * plane;
        for (int64_t i = 0; i < n; i++) {
            gs_rng own = image_rng(ctx, step_seed, 0xD1B54A32D192ED03ULL, n, i);
            g->stats.grayed += gs_glcnet_band_to_gray(gray->data + i * image, 1, (int)x2->shape[1], plane, g->gray_p, &own);
        }
        x2 = gray;
    }
    gs_tensor *global[2], *local[2];
    forward_view(ctx, m, g, x1, g->boxes, pairs, &global[0], &local[0]);
    forward_view(ctx, m, g, x2, g->boxes + g->capacity, pairs, &global[1], &local[1]);
    /* Across ranks both contrasts run over the global batch: every rank's
     * embeddings, view 1's then view 2's (data_parallel.h). */
    gs_tensor *zg = gs_gather_rows(ctx, gs_concat(ctx, global, 2, 0), 2);
    gs_tensor *zl = gs_gather_rows(ctx, gs_concat(ctx, local, 2, 0), 2);
    if (!zg || !zl) return NULL;
    m->embedding_std = gs_embedding_std(zg);
    const float temperature = m->config.temperature;
    gs_tensor *lg = gs_glcnet_nt_xent(ctx, zg, temperature, g->positive_in_denominator);
    gs_tensor *ll = gs_glcnet_nt_xent(ctx, zl, temperature, g->positive_in_denominator);
    if (!lg || !ll) return NULL;
    g->stats.global_loss = lg->data[0];
    g->stats.local_loss = ll->data[0];
    return gs_add(ctx, gs_scale(ctx, lg, g->lambda), gs_scale(ctx, ll, 1.0f - g->lambda));
}

/* torch.optim.Adam(betas=(0.9, beta2), weight_decay=wd): AdamW with its
 * decoupled decay off and wd * p added to every gradient. */
static gs_status glcnet_before_update(gs_context *ctx, gs_method *m, gs_optimizer *opt, int64_t step) {
    (void)ctx;
    (void)step;
    glcnet *g = m->impl;
    if (opt->config.kind != GS_OPTIM_ADAMW) return GS_OK;
    opt->config.beta2 = g->beta2;
    if (!g->coupled_decay) return GS_OK;
    if (g->l2 < 0) g->l2 = opt->config.weight_decay;
    opt->config.weight_decay = 0.0f;
    if (g->l2 == 0.0f) return GS_OK;
    for (int i = 0; i < m->trainable.count; i++) {
        const gs_param *p = &m->trainable.items[i];
        gs_tensor *t = p->tensor;
        if (p->kind == GS_PARAM_BUFFER || !t->grad || !t->requires_grad) continue;
        for (int64_t j = 0; j < t->numel; j++) t->grad[j] += g->l2 * t->data[j];
    }
    return GS_OK;
}

/* ---- views, init ---- */

static gs_status glcnet_views(const gs_method_config *cfg, gs_augment_config *views, int *n_views, gs_error *err) {
    (void)err;
    *n_views = 2;
    gs_augment_config v = gs_augment_identity();
    v.out_height = v.out_width = cfg->image_size;
    v.crop = true;
    v.crop_scale[0] = 0.4f, v.crop_scale[1] = 1.0f;
    v.crop_ratio[0] = 3.0f / 4.0f, v.crop_ratio[1] = 4.0f / 3.0f;
    views[0] = v; /* view 1: the crop only */
    v.hflip_p = v.vflip_p = 0.4f;
    v.rot90_p = 0.6f;
    if (cfg->bands == 3) {
        v.color_jitter_p = 0.4f;
        v.brightness = 0.1f;
        v.saturation = 0.05f;
        v.hue = 1.0f / 6.0f;
    } else {
        v.band_jitter_p = 0.8f;
        v.band_brightness = 0.3f;
        v.band_contrast = 0.1f;
    }
    v.blur_p = 0.5f;
    v.blur_sigma[0] = 0.8f * (float)cfg->image_size / 224.0f;
    v.blur_sigma[1] = 1.4f * (float)cfg->image_size / 224.0f;
    views[1] = v;
    return GS_OK;
}

static void set_bn_momentum(gs_batchnorm_layer *bn, float momentum) {
    if (bn->weight) bn->momentum = momentum;
}

static void copy_geometry(gs_conv_layer *dst, const gs_conv_layer *src) {
    dst->stride = src->stride;
    dst->padding = src->padding;
    dst->dilation = src->dilation;
}

/* The encoder at another output stride, in place: the same parameters,
 * strides and dilations taken from a network built at that stride in a
 * scratch context. */
static gs_status restride(gs_context *ctx, gs_resnet *net, int output_stride, bool deeplab_dilation) {
    int current = net->config.output_stride ? net->config.output_stride : 32;
    if (current == output_stride && net->config.deeplab_dilation == deeplab_dilation) return GS_OK;
    gs_context scratch;
    gs_context_options co = {.n_threads = 1, .seed = 1};
    if (gs_context_init(&scratch, &co) != GS_OK) {
        gs_status s = gs_fail(ctx, scratch.status, "GLCNet: %s", scratch.error);
        gs_context_free(&scratch);
        return s;
    }
    gs_resnet_config rc = net->config;
    rc.output_stride = output_stride;
    rc.deeplab_dilation = deeplab_dilation;
    gs_resnet other;
    if (gs_resnet_init(&scratch, &other, &rc) == GS_OK) {
        copy_geometry(&net->conv1, &other.conv1);
        for (int i = 0; i < net->n_blocks; i++) {
            gs_resnet_block *b = &net->blocks[i];
            const gs_resnet_block *o = &other.blocks[i];
            copy_geometry(&b->conv1, &o->conv1);
            copy_geometry(&b->conv2, &o->conv2);
            copy_geometry(&b->conv3, &o->conv3);
            copy_geometry(&b->downsample_conv, &o->downsample_conv);
        }
        memcpy(net->stage_stride, other.stage_stride, sizeof net->stage_stride);
        memcpy(net->arch, other.arch, sizeof net->arch);
        net->config.output_stride = output_stride;
        net->config.deeplab_dilation = deeplab_dilation;
    } else {
        gs_fail(ctx, scratch.status, "GLCNet: %s", scratch.error);
    }
    gs_resnet_free(&other);
    gs_context_free(&scratch);
    return ctx->status;
}

static gs_status glcnet_init(gs_context *ctx, gs_method *m) {
    glcnet *g = calloc(1, sizeof *g);
    if (!g) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for GLCNet");
    m->impl = g;
    if (m->encoder.kind != GS_BACKBONE_RESNET)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "GLCNet trains a DeepLabv3+ network: it needs a ResNet backbone, not %s",
                       m->encoder.arch);
    if (m->config.temperature <= 0) m->config.temperature = 0.5f;
    const gs_method_config *cfg = &m->config;
    int patch = 0, head = 0, stride = 0, dilation = 0, denominator = 0, adam = 0;
    float dropout = 0.5f, momentum = 0.9f;
    g->patches = 4;
    g->lambda = 0.5f;
    g->gray_p = 0.1f;
    g->beta2 = 0.99f;
    g->l2 = -1.0f;
    if (gs_method_option_int(ctx, cfg, "patch_size", 0, 4096, &patch) != GS_OK ||
        gs_method_option_int(ctx, cfg, "patches", 1, 256, &g->patches) != GS_OK ||
        gs_method_option_float(ctx, cfg, "lambda", 0.0, 1.0, &g->lambda) != GS_OK ||
        gs_method_option_float(ctx, cfg, "aspp_dropout", 0.0, 0.999, &dropout) != GS_OK ||
        gs_method_option_int(ctx, cfg, "head_channels", 0, 4096, &head) != GS_OK ||
        gs_method_option_choice(ctx, cfg, "output_stride", "16|8", &stride) != GS_OK ||
        gs_method_option_choice(ctx, cfg, "dilation", "deeplab|torchvision", &dilation) != GS_OK ||
        gs_method_option_float(ctx, cfg, "bn_momentum", 0.0, 1.0, &momentum) != GS_OK ||
        gs_method_option_float(ctx, cfg, "gray_p", 0.0, 1.0, &g->gray_p) != GS_OK ||
        gs_method_option_choice(ctx, cfg, "denominator", "negatives|all", &denominator) != GS_OK ||
        gs_method_option_choice(ctx, cfg, "adam", "l2|decoupled", &adam) != GS_OK ||
        gs_method_option_float(ctx, cfg, "beta2", 0.0, 0.999999, &g->beta2) != GS_OK)
        return ctx->status;
    g->positive_in_denominator = denominator == 1;
    g->coupled_decay = adam == 0;
    g->patch = patch > 0 ? patch : gs_glcnet_patch_size(cfg->image_size);
    if (cfg->image_size > 0 && g->patch > cfg->image_size)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "GLCNet: patch_size=%d is larger than the %d px views", g->patch,
                       cfg->image_size);

    gs_resnet *net = &m->encoder.resnet;
    if (restride(ctx, net, stride == 0 ? 16 : 8, dilation == 0) != GS_OK) return ctx->status;
    set_bn_momentum(&net->bn1, momentum);
    for (int i = 0; i < net->n_blocks; i++) {
        set_bn_momentum(&net->blocks[i].bn1, momentum);
        set_bn_momentum(&net->blocks[i].bn2, momentum);
        set_bn_momentum(&net->blocks[i].bn3, momentum);
        set_bn_momentum(&net->blocks[i].downsample_bn, momentum);
    }
    if (head <= 0) head = 256 * net->config.width / 64 > 0 ? 256 * net->config.width / 64 : 1;
    int low = (head * 48 + 128) / 256;
    gs_deeplab_config dc = gs_deeplab_default_config(net->stage_channels[3], net->stage_channels[0],
                                                     net->config.output_stride, LOCAL_CHANNELS);
    dc.aspp_channels = dc.decoder_channels = head;
    dc.low_level_channels = low > 0 ? low : 1;
    dc.aspp_dropout = dropout;
    dc.bn_momentum = momentum;
    /* The ASPP first: "aspp.*" belong to the encoder fine-tuning loads. */
    if (gs_deeplab_init(ctx, &m->heads, &m->heads, &g->net, &dc) != GS_OK) return ctx->status;
    int64_t hidden = cfg->proj_hidden > 0 ? cfg->proj_hidden : 256;
    int64_t out = cfg->proj_dim > 0 ? cfg->proj_dim : 64;
    gs_mlp_head_init(ctx, &m->heads, "global_proj", &g->global_proj, 2 * (int64_t)head, hidden, out, false);
    gs_mlp_head_init(ctx, &m->heads, "local_proj", &g->local_proj, LOCAL_CHANNELS, LOCAL_CHANNELS, out, false);
    return ctx->status;
}

static void glcnet_free(gs_method *m) {
    glcnet *g = m->impl;
    if (!g) return;
    free(g->boxes);
    free(g);
    m->impl = NULL;
}

/* CosineAnnealingLR(T_max = all of training, eta_min = 4e-8 at lr 1e-3),
 * per step, no warm-up. */
static double glcnet_lr_at(double peak, int64_t step, int64_t total_steps) {
    const double floor_lr = peak * 4e-5;
    double t = total_steps > 0 ? (double)step / (double)total_steps : 0.0;
    if (t > 1.0) t = 1.0;
    return floor_lr + (peak - floor_lr) * 0.5 * (1.0 + cos(3.14159265358979323846 * t));
}

const gs_method_ops gs_method_glcnet = {
    .name = "glcnet",
    .settings = GS_METHOD_USES_TEMPERATURE,
    .data_parallel = true,
    .summary = "GLCNet: global style and local matching contrast on a DeepLabv3+ network (Li et al. 2022)",
    .optimizer = GS_OPTIM_ADAMW, /* as torch's Adam: see glcnet_before_update */
    .lr = 1e-3f,                 /* x batch / 256 */
    .weight_decay = 1e-5f,
    .views = glcnet_views,
    .init = glcnet_init,
    .loss = glcnet_loss,
    .before_update = glcnet_before_update,
    .free = glcnet_free,
    .options = GLCNET_OPTIONS,
    .lr_at = glcnet_lr_at,
    .schedule = "cosine from the peak to 4e-5 of it over all steps, no warm-up (GLCNet's CosineAnnealingLR)",
};
