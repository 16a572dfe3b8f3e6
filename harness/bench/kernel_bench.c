#include "kernel_bench.h"
#include "../core/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../ops/ops.h"
#include "instruction_count.h"

#define MAX_INPUTS 3

typedef struct op_case {
    const char *name;
    const char *shape;
    int n_inputs;
    int ndim[MAX_INPUTS];
    int64_t dims[MAX_INPUTS][4];
    bool differentiable[MAX_INPUTS];
    int arg[4];      /* op-specific: stride, padding, heads, ... */
    double gflop;    /* forward work; backward is counted as twice that */
    gs_tensor *(*apply)(gs_context *ctx, gs_tensor **in, const int *arg);
} op_case;

static gs_tensor *conv(gs_context *ctx, gs_tensor **in, const int *arg) {
    return gs_conv2d(ctx, in[0], in[1], NULL, arg[0], arg[1]);
}
static gs_tensor *bn(gs_context *ctx, gs_tensor **in, const int *arg) {
    (void)arg;
    return gs_batchnorm(ctx, in[0], in[1], in[2], NULL, NULL, true, 0.1f, 1e-5f);
}
static gs_tensor *relu(gs_context *ctx, gs_tensor **in, const int *arg) {
    (void)arg;
    return gs_relu(ctx, in[0]);
}
static gs_tensor *gelu(gs_context *ctx, gs_tensor **in, const int *arg) {
    (void)arg;
    return gs_gelu(ctx, in[0]);
}
static gs_tensor *maxpool(gs_context *ctx, gs_tensor **in, const int *arg) {
    (void)arg;
    return gs_maxpool2d(ctx, in[0], 3, 2, 1);
}
static gs_tensor *avgpool(gs_context *ctx, gs_tensor **in, const int *arg) {
    (void)arg;
    return gs_global_avgpool(ctx, in[0]);
}
static gs_tensor *add(gs_context *ctx, gs_tensor **in, const int *arg) {
    (void)arg;
    return gs_add(ctx, in[0], in[1]);
}
static gs_tensor *linear(gs_context *ctx, gs_tensor **in, const int *arg) {
    (void)arg;
    return gs_linear(ctx, in[0], in[1], in[2]);
}
static gs_tensor *layernorm(gs_context *ctx, gs_tensor **in, const int *arg) {
    (void)arg;
    return gs_layernorm(ctx, in[0], in[1], in[2], 1e-6f);
}
static gs_tensor *softmax(gs_context *ctx, gs_tensor **in, const int *arg) {
    (void)arg;
    return gs_softmax(ctx, in[0]);
}
static gs_tensor *bmm(gs_context *ctx, gs_tensor **in, const int *arg) {
    return gs_matmul(ctx, in[0], in[1], false, arg[0] != 0);
}
static gs_tensor *attention(gs_context *ctx, gs_tensor **in, const int *arg) {
    return gs_attention(ctx, in[0], in[1], in[2], arg[0]);
}
static gs_tensor *attention_qkv(gs_context *ctx, gs_tensor **in, const int *arg) {
    return gs_attention_qkv(ctx, in[0], arg[0]);
}
static gs_tensor *upsample(gs_context *ctx, gs_tensor **in, const int *arg) {
    return gs_upsample_bilinear(ctx, in[0], arg[0], arg[0], false);
}
static gs_tensor *l2norm(gs_context *ctx, gs_tensor **in, const int *arg) {
    (void)arg;
    return gs_l2_normalize(ctx, in[0], 1e-12f);
}
static gs_tensor *permute(gs_context *ctx, gs_tensor **in, const int *arg) {
    (void)arg;
    return gs_permute(ctx, in[0], (const int[]){0, 2, 1, 3});
}

#define D4(a, b, c, d) {a, b, c, d}
static const op_case CASES[] = {
    /* ResNet-18, 64 px, batch 64 */
    {"conv7x7s2_stem", "64x3x64x64->64", 2, {4, 4}, {D4(64, 3, 64, 64), D4(64, 3, 7, 7)}, {true, true}, {2, 3},
     2.0 * 64 * 64 * 32 * 32 * 3 * 49 / 1e9, conv},
    {"conv3x3_layer1", "64x64x16x16->64", 2, {4, 4}, {D4(64, 64, 16, 16), D4(64, 64, 3, 3)}, {true, true}, {1, 1},
     2.0 * 64 * 64 * 16 * 16 * 64 * 9 / 1e9, conv},
    {"conv3x3s2_layer2", "64x64x16x16->128", 2, {4, 4}, {D4(64, 64, 16, 16), D4(128, 64, 3, 3)}, {true, true},
     {2, 1}, 2.0 * 64 * 128 * 8 * 8 * 64 * 9 / 1e9, conv},
    {"conv1x1s2_down", "64x64x16x16->128", 2, {4, 4}, {D4(64, 64, 16, 16), D4(128, 64, 1, 1)}, {true, true},
     {2, 0}, 2.0 * 64 * 128 * 8 * 8 * 64 / 1e9, conv},
    {"conv3x3_layer2", "64x128x8x8->128", 2, {4, 4}, {D4(64, 128, 8, 8), D4(128, 128, 3, 3)}, {true, true}, {1, 1},
     2.0 * 64 * 128 * 8 * 8 * 128 * 9 / 1e9, conv},
    {"conv3x3_layer3", "64x256x4x4->256", 2, {4, 4}, {D4(64, 256, 4, 4), D4(256, 256, 3, 3)}, {true, true}, {1, 1},
     2.0 * 64 * 256 * 4 * 4 * 256 * 9 / 1e9, conv},
    {"conv3x3_layer4", "64x512x2x2->512", 2, {4, 4}, {D4(64, 512, 2, 2), D4(512, 512, 3, 3)}, {true, true}, {1, 1},
     2.0 * 64 * 512 * 2 * 2 * 512 * 9 / 1e9, conv},
    {"batchnorm2d", "64x64x32x32", 3, {4, 1, 1}, {D4(64, 64, 32, 32), D4(64, 0, 0, 0), D4(64, 0, 0, 0)},
     {true, true, true}, {0}, 0, bn},
    {"relu", "64x64x32x32", 1, {4}, {D4(64, 64, 32, 32)}, {true}, {0}, 0, relu},
    {"maxpool3x3s2", "64x64x32x32", 1, {4}, {D4(64, 64, 32, 32)}, {true}, {0}, 0, maxpool},
    {"add", "64x64x16x16", 2, {4, 4}, {D4(64, 64, 16, 16), D4(64, 64, 16, 16)}, {true, true}, {0}, 0, add},
    {"global_avgpool", "64x512x2x2", 1, {4}, {D4(64, 512, 2, 2)}, {true}, {0}, 0, avgpool},
    {"linear_fc", "64x512->128", 3, {2, 2, 1}, {D4(64, 512, 0, 0), D4(128, 512, 0, 0), D4(128, 0, 0, 0)},
     {true, true, true}, {0}, 2.0 * 64 * 512 * 128 / 1e9, linear},
    {"upsample2x", "64x64x16x16->32", 1, {4}, {D4(64, 64, 16, 16)}, {true}, {32}, 0, upsample},
    {"l2_normalize", "256x128", 1, {2}, {D4(256, 128, 0, 0)}, {true}, {0}, 0, l2norm},
    /* ViT-Tiny, patch 8, 64 px, batch 64: 65 tokens of 192 */
    {"conv8x8s8_patch", "64x3x64x64->192", 2, {4, 4}, {D4(64, 3, 64, 64), D4(192, 3, 8, 8)}, {true, true}, {8, 0},
     2.0 * 64 * 192 * 64 * 3 * 64 / 1e9, conv},
    {"layernorm", "64x65x192", 3, {3, 1, 1}, {D4(64, 65, 192, 0), D4(192, 0, 0, 0), D4(192, 0, 0, 0)},
     {true, true, true}, {0}, 0, layernorm},
    {"linear_qkv", "4160x192->576", 3, {3, 2, 1}, {D4(64, 65, 192, 0), D4(576, 192, 0, 0), D4(576, 0, 0, 0)},
     {true, true, true}, {0}, 2.0 * 4160 * 192 * 576 / 1e9, linear},
    {"linear_fc1", "4160x192->768", 3, {3, 2, 1}, {D4(64, 65, 192, 0), D4(768, 192, 0, 0), D4(768, 0, 0, 0)},
     {true, true, true}, {0}, 2.0 * 4160 * 192 * 768 / 1e9, linear},
    {"linear_fc2", "4160x768->192", 3, {3, 2, 1}, {D4(64, 65, 768, 0), D4(192, 768, 0, 0), D4(192, 0, 0, 0)},
     {true, true, true}, {0}, 2.0 * 4160 * 768 * 192 / 1e9, linear},
    {"gelu", "64x65x768", 1, {3}, {D4(64, 65, 768, 0)}, {true}, {0}, 0, gelu},
    {"bmm_scores", "192x65x64 x 192x65x64^T", 2, {3, 3}, {D4(192, 65, 64, 0), D4(192, 65, 64, 0)}, {true, true},
     {1}, 2.0 * 192 * 65 * 65 * 64 / 1e9, bmm},
    {"softmax", "192x65x65", 1, {3}, {D4(192, 65, 65, 0)}, {true}, {0}, 0, softmax},
    {"permute_heads", "64x65x3x64", 1, {4}, {D4(64, 65, 3, 64)}, {true}, {0}, 0, permute},
    {"attention", "64x65x192 h3", 3, {3, 3, 3}, {D4(64, 65, 192, 0), D4(64, 65, 192, 0), D4(64, 65, 192, 0)},
     {true, true, true}, {3}, 4.0 * 192 * 65 * 65 * 64 / 1e9, attention},
    {"attention_qkv", "64x65x576 h3", 1, {3}, {D4(64, 65, 576, 0)}, {true}, {3}, 4.0 * 192 * 65 * 65 * 64 / 1e9,
     attention_qkv},
};

/* The case's inputs, fresh in the parameter arena, normal-filled; their
 * size in bytes, or a negative value when one could not be made. */
static double make_inputs(gs_context *ctx, const op_case *c, gs_tensor **in) {
    gs_arena_reset(&ctx->params);
    double bytes = 0;
    for (int i = 0; i < c->n_inputs; i++) {
        in[i] = gs_tensor_new(ctx, &ctx->params, c->ndim[i], c->dims[i]);
        if (!in[i]) return -1.0;
        gs_tensor_fill_normal(ctx, in[i], 1.0f);
        in[i]->requires_grad = c->differentiable[i];
        bytes += 4.0 * (double)in[i]->numel;
    }
    return bytes;
}

/* The output gradient backward starts from: a fixed pattern, the same in
 * every pass and run. */
static float *backward_seed(gs_context *ctx, const gs_tensor *y) {
    float *seed = malloc((size_t)y->numel * sizeof *seed);
    if (!seed) {
        gs_fail(ctx, GS_ERR_MEMORY, "bench kernels: out of memory for a gradient of %lld values", (long long)y->numel);
        return NULL;
    }
    for (int64_t j = 0; j < y->numel; j++) seed[j] = (float)((j % 7) - 3) * 0.1f;
    return seed;
}

static gs_status bench_case(gs_context *ctx, const op_case *c, int repeats, gs_kernel_timing_fn each, void *user) {
    gs_tensor *in[MAX_INPUTS];
    double bytes = make_inputs(ctx, c, in);
    if (bytes < 0) return ctx->status;
    double *fwd = calloc((size_t)repeats, sizeof *fwd), *bwd = calloc((size_t)repeats, sizeof *bwd);
    float *seed = NULL;
    double out_bytes = 0;
    for (int r = -1; r < repeats && !gs_failed(ctx); r++) { /* r = -1: warm-up */
        gs_step_begin(ctx);
        for (int i = 0; i < c->n_inputs; i++) in[i]->grad = NULL;
        double t0 = gs_now_s();
        gs_tensor *y = c->apply(ctx, in, c->arg);
        double t1 = gs_now_s();
        if (!y) break;
        if (!seed) {
            if (!(seed = backward_seed(ctx, y))) break;
            out_bytes = 4.0 * (double)y->numel;
        }
        double t2 = gs_now_s();
        gs_backward_from(ctx, y, seed);
        double t3 = gs_now_s();
        if (r >= 0) {
            fwd[r] = t1 - t0;
            bwd[r] = t3 - t2;
        }
    }
    if (!gs_failed(ctx)) {
        double f = gs_median(fwd, repeats), b = gs_median(bwd, repeats);
        each(&(gs_kernel_timing){.op = c->name, .shape = c->shape, .pass = "forward", .ms = 1e3 * f,
                                 .gflops = c->gflop / f, .gbs = (bytes + out_bytes) / f / 1e9},
             user);
        each(&(gs_kernel_timing){.op = c->name, .shape = c->shape, .pass = "backward", .ms = 1e3 * b,
                                 .gflops = 2.0 * c->gflop / b, .gbs = (2.0 * bytes + out_bytes) / b / 1e9},
             user);
    }
    free(seed);
    free(fwd);
    free(bwd);
    return ctx->status;
}

/* Under callgrind: one warm-up pass (first-call allocations and oneDNN's
 * primitive creation are not the kernel), then the forward and the
 * backward each counted as one stretch labelled "op|shape|pass". */
static gs_status count_case(gs_context *ctx, const op_case *c) {
    gs_tensor *in[MAX_INPUTS];
    if (make_inputs(ctx, c, in) < 0) return ctx->status;
    float *seed = NULL;
    char label[160];
    for (int pass = 0; pass < 2 && !gs_failed(ctx); pass++) {
        gs_step_begin(ctx);
        for (int i = 0; i < c->n_inputs; i++) in[i]->grad = NULL;
        bool counted = pass == 1;
        if (counted) gs_instruction_count_start();
        gs_tensor *y = c->apply(ctx, in, c->arg);
        if (counted) {
            snprintf(label, sizeof label, "%s|%s|forward", c->name, c->shape);
            gs_instruction_count_stop(label);
        }
        if (!y || (!seed && !(seed = backward_seed(ctx, y)))) break;
        if (counted) gs_instruction_count_start();
        gs_backward_from(ctx, y, seed);
        if (counted) {
            snprintf(label, sizeof label, "%s|%s|backward", c->name, c->shape);
            gs_instruction_count_stop(label);
        }
    }
    free(seed);
    return ctx->status;
}

gs_status gs_kernel_count_run(gs_context *ctx, const char *only) {
    if (!gs_instruction_count_running())
        return gs_fail(ctx, GS_ERR_ARGUMENT, "bench kernels: counting runs under valgrind's callgrind");
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        if (only && !strstr(CASES[i].name, only)) continue;
        if (count_case(ctx, &CASES[i]) != GS_OK) return ctx->status;
    }
    return GS_OK;
}

gs_status gs_kernel_bench_each(gs_context *ctx, int repeats, const char *only, gs_kernel_timing_fn each, void *user) {
    if (repeats < 1) return gs_fail(ctx, GS_ERR_ARGUMENT, "bench kernels: repeats must be positive");
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        if (only && !strstr(CASES[i].name, only)) continue;
        if (bench_case(ctx, &CASES[i], repeats, each, user) != GS_OK) return ctx->status;
    }
    return GS_OK;
}

static void write_csv_row(const gs_kernel_timing *t, void *user) {
    FILE *out = user;
    fprintf(out, "%s,%s,%s,%.4f,%.2f,%.2f\n", t->op, t->shape, t->pass, t->ms, t->gflops, t->gbs);
    fflush(out);
}

gs_status gs_kernel_bench(gs_context *ctx, FILE *out, int repeats, const char *only) {
    if (repeats < 1) return gs_fail(ctx, GS_ERR_ARGUMENT, "bench kernels: repeats must be positive");
    fprintf(out, "op,shape,pass,ms,gflops,gbs\n");
    return gs_kernel_bench_each(ctx, repeats, only, write_csv_row, out);
}
