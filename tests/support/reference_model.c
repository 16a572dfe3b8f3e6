#include "reference_model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

bool reference_load_tensor(const fixture *fx, const char *key, gs_tensor *t, char *msg, unsigned long msg_size) {
    const fixture_tensor *ft = fixture_get(fx, key);
    if (!ft) {
        snprintf(msg, msg_size, "fixture lacks %s", key);
        return false;
    }
    if (ft->numel != t->numel || ft->ndim != t->ndim) {
        snprintf(msg, msg_size, "%s: fixture has %lld values in %d dims, model %lld in %d", t->name,
                 (long long)ft->numel, ft->ndim, (long long)t->numel, t->ndim);
        return false;
    }
    for (int d = 0; d < t->ndim; d++)
        if (ft->shape[d] != t->shape[d]) {
            snprintf(msg, msg_size, "%s: dim %d is %lld in the fixture, %lld in the model", t->name, d,
                     (long long)ft->shape[d], (long long)t->shape[d]);
            return false;
        }
    memcpy(t->data, ft->data, (size_t)t->numel * sizeof(float));
    return true;
}

bool reference_load_params(const fixture *fx, const gs_param_list *list, char *msg, unsigned long msg_size) {
    char key[300];
    for (int i = 0; i < list->count; i++) {
        snprintf(key, sizeof key, "param/%s", list->items[i].tensor->name);
        if (!reference_load_tensor(fx, key, list->items[i].tensor, msg, msg_size)) return false;
    }
    int in_fixture = 0;
    for (int i = 0; i < fx->count; i++)
        if (!strncmp(fx->tensors[i].name, "param/", 6)) in_fixture++;
    if (in_fixture != list->count) {
        snprintf(msg, msg_size, "fixture has %d parameters and buffers, the model %d", in_fixture, list->count);
        return false;
    }
    return true;
}

double reference_worst_grad(const fixture *fx, const gs_param_list *list, double tol, char *worst_name,
                            unsigned long name_size) {
    double worst = 0.0;
    char key[300];
    for (int i = 0; i < list->count; i++) {
        if (list->items[i].kind == GS_PARAM_BUFFER) continue;
        gs_tensor *t = list->items[i].tensor;
        snprintf(key, sizeof key, "grad/%s", t->name);
        const fixture_tensor *ft = fixture_get(fx, key);
        double ratio;
        if (!ft || ft->numel != t->numel || !t->grad) {
            ratio = INFINITY;
        } else {
            double scale = 0.0, err = 0.0;
            for (int64_t j = 0; j < t->numel; j++) {
                double ref = fabs((double)ft->data[j]);
                double diff = fabs((double)t->grad[j] - (double)ft->data[j]);
                if (ref > scale) scale = ref;
                if (!(diff <= err)) err = isnan(diff) ? INFINITY : diff;
            }
            ratio = err / (tol * (scale > 0 ? scale : 1e-30));
        }
        if (!(ratio <= worst)) {
            worst = ratio;
            snprintf(worst_name, name_size, "%s", t->name);
        }
    }
    return worst;
}

gs_tensor *reference_tensor(gs_context *ctx, const fixture *fx, const char *name) {
    const fixture_tensor *ft = fixture_get(fx, name);
    if (!ft) return NULL;
    gs_tensor *t = gs_activation(ctx, ft->ndim, ft->shape);
    if (t) memcpy(t->data, ft->data, (size_t)t->numel * sizeof(float));
    return t;
}
