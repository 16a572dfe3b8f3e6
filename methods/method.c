#include "method.h"

#include <math.h>
#include <string.h>

gs_status gs_method_init(gs_context *ctx, gs_method *m, const gs_method_ops *ops, const gs_method_config *cfg) {
    memset(m, 0, sizeof *m);
    m->ops = ops;
    m->config = *cfg;
    gs_backbone_config bc = cfg->backbone;
    bc.num_classes = 0;
    bc.bands = cfg->bands;
    bc.img_size = cfg->image_size;
    if (gs_backbone_init(ctx, &m->encoder, &bc) != GS_OK) return ctx->status;
    if (ops->init(ctx, m) != GS_OK) return ctx->status;
    for (int i = 0; i < m->encoder.params->count; i++) gs_param_add_existing(ctx, &m->trainable, m->encoder.params->items[i]);
    for (int i = 0; i < m->heads.count; i++) gs_param_add_existing(ctx, &m->trainable, m->heads.items[i]);
    return ctx->status;
}

void gs_method_free(gs_method *m) {
    if (m->ops && m->ops->free) m->ops->free(m);
    gs_param_list_free(&m->trainable);
    gs_param_list_free(&m->heads);
    gs_param_list_free(&m->state);
    gs_backbone_free(&m->encoder);
}

float gs_embedding_std(const gs_tensor *z) {
    if (!z || z->ndim != 2 || z->shape[0] < 2) return 0.0f;
    int64_t n = z->shape[0], d = z->shape[1];
    double total = 0.0;
    for (int64_t j = 0; j < d; j++) {
        double sum = 0.0, sq = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const float *row = z->data + i * d;
            double norm = 0.0;
            for (int64_t k = 0; k < d; k++) norm += (double)row[k] * row[k];
            double v = row[j] / (sqrt(norm) > 1e-12 ? sqrt(norm) : 1e-12);
            sum += v;
            sq += v * v;
        }
        double mean = sum / (double)n, var = sq / (double)n - mean * mean;
        total += var > 0 ? sqrt(var) : 0.0;
    }
    return (float)(total / (double)d);
}
