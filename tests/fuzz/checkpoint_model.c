#include "checkpoint_model.h"

#include "common.h"

static void add(gs_context *ctx, gs_param_list *list, const char *name, gs_param_kind kind, int ndim,
                const int64_t *shape, float fill) {
    gs_tensor *t = gs_param_add(ctx, list, name, kind, ndim, shape);
    if (!t) fuzz_fail("checkpoint_model", "cannot add %s: %s", name, ctx->error);
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = fill;
}

void fuzz_ckpt_model_init(gs_context *ctx, fuzz_ckpt_model *m, float fill) {
    *m = (fuzz_ckpt_model){0};
    static const int64_t conv[4] = {2, 1, 1, 2}, bn[1] = {2};
    add(ctx, &m->model, "conv1.weight", GS_PARAM_WEIGHT, 4, conv, fill);
    add(ctx, &m->model, "bn1.running_var", GS_PARAM_BUFFER, 1, bn, fill);
    add(ctx, &m->optimizer, "conv1.weight.exp_avg_sq", GS_PARAM_BUFFER, 4, conv, fill);
    m->groups[0] = (gs_checkpoint_group){"model", &m->model};
    m->groups[1] = (gs_checkpoint_group){"optimizer", &m->optimizer};
}

void fuzz_ckpt_model_free(fuzz_ckpt_model *m) {
    gs_param_list_free(&m->model);
    gs_param_list_free(&m->optimizer);
}

bool fuzz_ckpt_model_all(const fuzz_ckpt_model *m, float fill) {
    const gs_param_list *lists[2] = {&m->model, &m->optimizer};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < lists[l]->count; i++) {
            const gs_tensor *t = lists[l]->items[i].tensor;
            for (int64_t j = 0; j < t->numel; j++)
                if (t->data[j] != fill) return false;
        }
    return true;
}
