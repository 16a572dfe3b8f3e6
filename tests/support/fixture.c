#include "fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_exact(FILE *f, void *buf, size_t n) { return fread(buf, 1, n, f) == n; }

fixture *fixture_load(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fixture %s: cannot open (regenerate with tools/reference/)\n", path);
        return NULL;
    }
    char magic[4];
    uint32_t version = 0, count = 0;
    fixture *fx = calloc(1, sizeof *fx);
    if (!read_exact(f, magic, 4) || memcmp(magic, "GSFX", 4) || !read_exact(f, &version, 4) || version != 1 ||
        !read_exact(f, &count, 4) || count > 100000)
        goto bad;
    fx->tensors = calloc(count, sizeof *fx->tensors);
    for (uint32_t i = 0; i < count; i++) {
        fixture_tensor *t = &fx->tensors[i];
        uint32_t len = 0, ndim = 0;
        if (!read_exact(f, &len, 4) || len > 4096) goto bad;
        t->name = calloc(len + 1, 1);
        fx->count++;
        if (!read_exact(f, t->name, len) || !read_exact(f, &ndim, 4) || ndim > 8) goto bad;
        t->ndim = (int)ndim;
        if (ndim && !read_exact(f, t->shape, 8 * ndim)) goto bad;
        t->numel = 1;
        for (uint32_t d = 0; d < ndim; d++) t->numel *= t->shape[d];
        if (t->numel < 0 || t->numel > ((int64_t)1 << 30)) goto bad;
        t->data = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
        if (!read_exact(f, t->data, (size_t)t->numel * sizeof(float))) goto bad;
    }
    fclose(f);
    return fx;
bad:
    fprintf(stderr, "fixture %s: malformed or truncated\n", path);
    fclose(f);
    fixture_free(fx);
    return NULL;
}

void fixture_free(fixture *fx) {
    if (!fx) return;
    for (int i = 0; i < fx->count; i++) {
        free(fx->tensors[i].name);
        free(fx->tensors[i].data);
    }
    free(fx->tensors);
    free(fx);
}

const fixture_tensor *fixture_get(const fixture *fx, const char *name) {
    for (int i = 0; i < fx->count; i++)
        if (!strcmp(fx->tensors[i].name, name)) return &fx->tensors[i];
    return NULL;
}

double fixture_max_rel_error(const float *a, const float *b, int64_t n, double floor, int64_t *worst) {
    double max_err = 0.0;
    if (worst) *worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double scale = fabs((double)b[i]) > floor ? fabs((double)b[i]) : floor;
        double err = fabs((double)a[i] - (double)b[i]) / scale;
        if (!(err <= max_err)) { /* also catches NaN */
            max_err = isnan(err) ? INFINITY : err;
            if (worst) *worst = i;
        }
    }
    return max_err;
}

double fixture_output_floor(const fixture_tensor *t) {
    double max_abs = 0.0;
    for (int64_t i = 0; i < t->numel; i++)
        if (fabs((double)t->data[i]) > max_abs) max_abs = fabs((double)t->data[i]);
    return max_abs > 0 ? 0.1 * max_abs : 1e-30;
}
