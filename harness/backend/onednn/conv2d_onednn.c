/* conv2d through oneDNN.  Inputs arrive in NCHW / OIHW; each call lets
 * oneDNN choose its preferred layouts (format "any"), reorders into them in
 * kernel scratch memory, runs the convolution, and reorders the result back.
 * Gradients are produced in scratch and added into the caller's buffers by a
 * reorder with a "sum" post-op, keeping the backend contract that backward
 * kernels accumulate.  oneDNN's own primitive cache makes re-creating the
 * same primitives on every step cheap.  Dilation goes through oneDNN's
 * dilated descriptors, which count the gaps between taps (torch's dilation
 * minus one). */
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdlib.h>
#include <string.h>

#include "onednn_kernels.h"

typedef struct onednn_state {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
} onednn_state;

#define CHECK(call)                                                                             \
    do {                                                                                        \
        dnnl_status_t st_ = (call);                                                             \
        if (st_ != dnnl_success) {                                                              \
            gs_fail(ctx, GS_ERR_INTERNAL, "oneDNN: %s failed with status %d", #call, (int)st_); \
            goto done;                                                                          \
        }                                                                                       \
    } while (0)

gs_status gs_onednn_init(gs_context *ctx) {
    onednn_state *s = calloc(1, sizeof *s);
    if (!s) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for the oneDNN backend");
    if (dnnl_engine_create(&s->engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&s->stream, s->engine, dnnl_stream_default_flags) != dnnl_success) {
        free(s);
        return gs_fail(ctx, GS_ERR_INTERNAL, "oneDNN: cannot create a CPU engine");
    }
    ctx->backend_state = s;
    return GS_OK;
}

void gs_onednn_free(gs_context *ctx) {
    onednn_state *s = ctx->backend_state;
    if (!s) return;
    dnnl_stream_destroy(s->stream);
    dnnl_engine_destroy(s->engine);
    free(s);
    ctx->backend_state = NULL;
}

static void plain_md(dnnl_memory_desc_t *md, int64_t a, int64_t b, int64_t c, int64_t d, dnnl_format_tag_t tag) {
    dnnl_dims_t dims = {a, b, c, d};
    dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, tag);
}

/* Copies (or, with accumulate, adds) `from` into `to` across layouts. */
static gs_status reorder(gs_context *ctx, const dnnl_memory_desc_t *from_md, const void *from,
                         const dnnl_memory_desc_t *to_md, void *to, bool accumulate) {
    onednn_state *s = ctx->backend_state;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t m_from = NULL, m_to = NULL;
    CHECK(dnnl_primitive_attr_create(&attr));
    if (accumulate) {
        CHECK(dnnl_post_ops_create(&ops));
        CHECK(dnnl_post_ops_append_sum(ops, 1.0f));
        CHECK(dnnl_primitive_attr_set_post_ops(attr, ops));
    }
    CHECK(dnnl_reorder_primitive_desc_create(&pd, from_md, s->engine, to_md, s->engine, attr));
    CHECK(dnnl_primitive_create(&prim, pd));
    CHECK(dnnl_memory_create(&m_from, from_md, s->engine, (void *)from));
    CHECK(dnnl_memory_create(&m_to, to_md, s->engine, to));
    dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, m_from}, {DNNL_ARG_TO, m_to}};
    CHECK(dnnl_primitive_execute(prim, s->stream, 2, args));
    CHECK(dnnl_stream_wait(s->stream));
done:
    dnnl_memory_destroy(m_from);
    dnnl_memory_destroy(m_to);
    dnnl_primitive_destroy(prim);
    dnnl_primitive_desc_destroy(pd);
    dnnl_post_ops_destroy(ops);
    dnnl_primitive_attr_destroy(attr);
    return ctx->status;
}

/* Carves aligned pieces out of one scratch allocation. */
typedef struct scratch_plan {
    size_t offset[4];
    size_t total;
} scratch_plan;

static size_t plan_add(scratch_plan *p, int i, size_t bytes) {
    p->offset[i] = p->total;
    p->total += (bytes + 63) / 64 * 64;
    return p->offset[i];
}

/* A memory handle over `ptr` in layout md. */
static dnnl_memory_t wrap(gs_context *ctx, const dnnl_memory_desc_t *md, const void *ptr) {
    onednn_state *s = ctx->backend_state;
    dnnl_memory_t m = NULL;
    if (dnnl_memory_create(&m, md, s->engine, (void *)ptr) != dnnl_success)
        gs_fail(ctx, GS_ERR_INTERNAL, "oneDNN: cannot wrap a buffer");
    return m;
}

typedef struct conv_descs {
    dnnl_memory_desc_t src, wei, dst, bias, any_src, any_wei, any_dst;
    dnnl_dims_t strides, dilates, pad;
} conv_descs;

static void describe(const gs_conv2d_shape *sh, conv_descs *d) {
    plain_md(&d->src, sh->n, sh->c_in, sh->h_in, sh->w_in, dnnl_nchw);
    plain_md(&d->wei, sh->c_out, sh->c_in, sh->k_h, sh->k_w, dnnl_oihw);
    plain_md(&d->dst, sh->n, sh->c_out, sh->h_out, sh->w_out, dnnl_nchw);
    plain_md(&d->any_src, sh->n, sh->c_in, sh->h_in, sh->w_in, dnnl_format_tag_any);
    plain_md(&d->any_wei, sh->c_out, sh->c_in, sh->k_h, sh->k_w, dnnl_format_tag_any);
    plain_md(&d->any_dst, sh->n, sh->c_out, sh->h_out, sh->w_out, dnnl_format_tag_any);
    dnnl_dims_t bias_dims = {sh->c_out};
    dnnl_memory_desc_init_by_tag(&d->bias, 1, bias_dims, dnnl_f32, dnnl_x);
    d->strides[0] = d->strides[1] = sh->stride;
    d->dilates[0] = d->dilates[1] = sh->dilation - 1;
    d->pad[0] = d->pad[1] = sh->padding;
}

/* The bottom/right padding oneDNN needs so that its output size equals
 * floor((H + 2p - span) / s) + 1 with span = d (K - 1) + 1 (torch drops the
 * remainder). */
static void right_padding(const gs_conv2d_shape *sh, dnnl_dims_t pad_r) {
    const int64_t span_h = (sh->k_h - 1) * sh->dilation + 1, span_w = (sh->k_w - 1) * sh->dilation + 1;
    pad_r[0] = (sh->h_out - 1) * sh->stride + span_h - sh->h_in - sh->padding;
    pad_r[1] = (sh->w_out - 1) * sh->stride + span_w - sh->w_in - sh->padding;
}

static dnnl_status_t forward_pd(gs_context *ctx, const gs_conv2d_shape *sh, conv_descs *d, bool bias,
                                dnnl_primitive_desc_t *pd) {
    onednn_state *s = ctx->backend_state;
    dnnl_convolution_desc_t cd;
    dnnl_dims_t pad_r;
    right_padding(sh, pad_r);
    dnnl_status_t st = dnnl_dilated_convolution_forward_desc_init(
        &cd, dnnl_forward_training, dnnl_convolution_direct, &d->any_src, &d->any_wei, bias ? &d->bias : NULL,
        &d->any_dst, d->strides, d->dilates, d->pad, pad_r);
    if (st != dnnl_success) return st;
    return dnnl_primitive_desc_create(pd, &cd, NULL, s->engine, NULL);
}

/* Brings a plain buffer into `want` layout: returns the pointer to use
 * (the buffer itself when layouts agree, else a reordered copy in `spare`). */
static const void *as_layout(gs_context *ctx, const dnnl_memory_desc_t *plain, const void *ptr,
                             const dnnl_memory_desc_t *want, void *spare) {
    if (dnnl_memory_desc_equal(plain, want)) return ptr;
    reorder(ctx, plain, ptr, want, spare, false);
    return spare;
}

static void conv_forward(gs_context *ctx, const gs_conv2d_shape *sh, const float *x, const float *w,
                         const float *bias, float *y) {
    onednn_state *s = ctx->backend_state;
    conv_descs d;
    describe(sh, &d);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t m[4] = {NULL};
    omp_set_num_threads(ctx->n_threads);
    CHECK(forward_pd(ctx, sh, &d, bias != NULL, &pd));
    const dnnl_memory_desc_t *src_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *wei_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    scratch_plan plan = {0};
    plan_add(&plan, 0, dnnl_memory_desc_get_size(src_md));
    plan_add(&plan, 1, dnnl_memory_desc_get_size(wei_md));
    plan_add(&plan, 2, dnnl_memory_desc_get_size(dst_md));
    unsigned char *scratch = gs_scratch(ctx, plan.total);
    if (!scratch) goto done;
    const void *src = as_layout(ctx, &d.src, x, src_md, scratch + plan.offset[0]);
    const void *wei = as_layout(ctx, &d.wei, w, wei_md, scratch + plan.offset[1]);
    bool direct_dst = dnnl_memory_desc_equal(&d.dst, dst_md);
    void *dst = direct_dst ? (void *)y : scratch + plan.offset[2];
    CHECK(dnnl_primitive_create(&prim, pd));
    m[0] = wrap(ctx, src_md, src);
    m[1] = wrap(ctx, wei_md, wei);
    m[2] = wrap(ctx, dst_md, dst);
    if (bias) m[3] = wrap(ctx, &d.bias, bias);
    if (gs_failed(ctx)) goto done;
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, m[0]}, {DNNL_ARG_WEIGHTS, m[1]}, {DNNL_ARG_DST, m[2]},
                              {DNNL_ARG_BIAS, m[3]}};
    CHECK(dnnl_primitive_execute(prim, s->stream, bias ? 4 : 3, args));
    CHECK(dnnl_stream_wait(s->stream));
    if (!direct_dst) reorder(ctx, dst_md, dst, &d.dst, y, false);
done:
    for (int i = 0; i < 4; i++) dnnl_memory_destroy(m[i]);
    dnnl_primitive_destroy(prim);
    dnnl_primitive_desc_destroy(pd);
}

static void backward_data(gs_context *ctx, const gs_conv2d_shape *sh, conv_descs *d, dnnl_primitive_desc_t fwd,
                          const float *w, const float *dy, float *dx) {
    onednn_state *s = ctx->backend_state;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t m[3] = {NULL};
    dnnl_convolution_desc_t cd;
    dnnl_dims_t pad_r;
    right_padding(sh, pad_r);
    CHECK(dnnl_dilated_convolution_backward_data_desc_init(&cd, dnnl_convolution_direct, &d->any_src, &d->any_wei,
                                                           &d->any_dst, d->strides, d->dilates, d->pad, pad_r));
    CHECK(dnnl_primitive_desc_create(&pd, &cd, NULL, s->engine, fwd));
    const dnnl_memory_desc_t *dsrc_md = dnnl_primitive_desc_query_md(pd, dnnl_query_diff_src_md, 0);
    const dnnl_memory_desc_t *wei_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *ddst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_diff_dst_md, 0);
    scratch_plan plan = {0};
    plan_add(&plan, 0, dnnl_memory_desc_get_size(dsrc_md));
    plan_add(&plan, 1, dnnl_memory_desc_get_size(wei_md));
    plan_add(&plan, 2, dnnl_memory_desc_get_size(ddst_md));
    unsigned char *scratch = gs_scratch(ctx, plan.total);
    if (!scratch) goto done;
    const void *wei = as_layout(ctx, &d->wei, w, wei_md, scratch + plan.offset[1]);
    const void *ddst = as_layout(ctx, &d->dst, dy, ddst_md, scratch + plan.offset[2]);
    void *dsrc = scratch + plan.offset[0];
    CHECK(dnnl_primitive_create(&prim, pd));
    m[0] = wrap(ctx, ddst_md, ddst);
    m[1] = wrap(ctx, wei_md, wei);
    m[2] = wrap(ctx, dsrc_md, dsrc);
    if (gs_failed(ctx)) goto done;
    dnnl_exec_arg_t args[] = {{DNNL_ARG_DIFF_DST, m[0]}, {DNNL_ARG_WEIGHTS, m[1]}, {DNNL_ARG_DIFF_SRC, m[2]}};
    CHECK(dnnl_primitive_execute(prim, s->stream, 3, args));
    CHECK(dnnl_stream_wait(s->stream));
    reorder(ctx, dsrc_md, dsrc, &d->src, dx, true);
done:
    for (int i = 0; i < 3; i++) dnnl_memory_destroy(m[i]);
    dnnl_primitive_destroy(prim);
    dnnl_primitive_desc_destroy(pd);
}

static void backward_weights(gs_context *ctx, const gs_conv2d_shape *sh, conv_descs *d, dnnl_primitive_desc_t fwd,
                             const float *x, const float *dy, float *dw, float *db) {
    onednn_state *s = ctx->backend_state;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t m[4] = {NULL};
    dnnl_convolution_desc_t cd;
    dnnl_dims_t pad_r;
    right_padding(sh, pad_r);
    CHECK(dnnl_dilated_convolution_backward_weights_desc_init(&cd, dnnl_convolution_direct, &d->any_src,
                                                              &d->any_wei, db ? &d->bias : NULL, &d->any_dst,
                                                              d->strides, d->dilates, d->pad, pad_r));
    CHECK(dnnl_primitive_desc_create(&pd, &cd, NULL, s->engine, fwd));
    const dnnl_memory_desc_t *src_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *dwei_md = dnnl_primitive_desc_query_md(pd, dnnl_query_diff_weights_md, 0);
    const dnnl_memory_desc_t *ddst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_diff_dst_md, 0);
    scratch_plan plan = {0};
    plan_add(&plan, 0, dnnl_memory_desc_get_size(src_md));
    plan_add(&plan, 1, dnnl_memory_desc_get_size(dwei_md));
    plan_add(&plan, 2, dnnl_memory_desc_get_size(ddst_md));
    plan_add(&plan, 3, (size_t)sh->c_out * sizeof(float));
    unsigned char *scratch = gs_scratch(ctx, plan.total);
    if (!scratch) goto done;
    const void *src = as_layout(ctx, &d->src, x, src_md, scratch + plan.offset[0]);
    const void *ddst = as_layout(ctx, &d->dst, dy, ddst_md, scratch + plan.offset[2]);
    void *dwei = scratch + plan.offset[1];
    float *dbias = (float *)(scratch + plan.offset[3]);
    CHECK(dnnl_primitive_create(&prim, pd));
    m[0] = wrap(ctx, src_md, src);
    m[1] = wrap(ctx, ddst_md, ddst);
    m[2] = wrap(ctx, dwei_md, dwei);
    if (db) m[3] = wrap(ctx, &d->bias, dbias);
    if (gs_failed(ctx)) goto done;
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, m[0]}, {DNNL_ARG_DIFF_DST, m[1]}, {DNNL_ARG_DIFF_WEIGHTS, m[2]},
                              {DNNL_ARG_DIFF_BIAS, m[3]}};
    CHECK(dnnl_primitive_execute(prim, s->stream, db ? 4 : 3, args));
    CHECK(dnnl_stream_wait(s->stream));
    if (dw) reorder(ctx, dwei_md, dwei, &d->wei, dw, true);
    if (db)
        for (int64_t o = 0; o < sh->c_out; o++) db[o] += dbias[o];
done:
    for (int i = 0; i < 4; i++) dnnl_memory_destroy(m[i]);
    dnnl_primitive_destroy(prim);
    dnnl_primitive_desc_destroy(pd);
}

static void conv_backward(gs_context *ctx, const gs_conv2d_shape *sh, const float *x, const float *w,
                          const float *dy, float *dx, float *dw, float *db) {
    conv_descs d;
    describe(sh, &d);
    dnnl_primitive_desc_t fwd = NULL;
    omp_set_num_threads(ctx->n_threads);
    CHECK(forward_pd(ctx, sh, &d, db != NULL, &fwd));
    if (dx) backward_data(ctx, sh, &d, fwd, w, dy, dx);
    if ((dw || db) && !gs_failed(ctx)) backward_weights(ctx, sh, &d, fwd, x, dy, dw, db);
done:
    dnnl_primitive_desc_destroy(fwd);
}

const gs_conv2d_kernels gs_onednn_conv2d_kernels = {
    .forward = conv_forward,
    .backward = conv_backward,
};
