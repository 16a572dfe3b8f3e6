#include "kernel_regression.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *const COLUMNS[] = {"op", "shape", "pass", "ms", "gflops", "gbs"};
static const char *const COUNT_COLUMNS[] = {"op", "shape", "pass", "instructions"};

gs_status gs_kernel_timings_load(const char *path, gs_kernel_timings *out, gs_error *err) {
    *out = (gs_kernel_timings){0};
    gs_status s = gs_csv_read_file(path, &out->table, err);
    /* Which kind: the header's fourth column says (bench kernels --count writes "instructions"). */
    out->counted = s == GS_OK && out->table.n_rows > 0 && out->table.rows[0].n_fields == 4 &&
                   !strcmp(out->table.rows[0].fields[3], "instructions");
    if (s == GS_OK)
        s = out->counted ? gs_csv_expect_header(&out->table, path, COUNT_COLUMNS, 4, err)
                         : gs_csv_expect_header(&out->table, path, COLUMNS, 6, err);
    size_t n = s == GS_OK ? out->table.n_rows - 1 : 0;
    if (n) {
        out->items = calloc(n, sizeof *out->items);
        if (!out->items) s = gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory", path);
    }
    for (size_t i = 0; s == GS_OK && i < n; i++) {
        const gs_csv_row *row = &out->table.rows[i + 1];
        gs_kernel_timing *t = &out->items[i];
        t->op = row->fields[0];
        t->shape = row->fields[1];
        t->pass = row->fields[2];
        if (out->counted) {
            t->gflops = t->gbs = NAN;
            if (!gs_csv_parse_double(row->fields[3], &t->ms) || !(t->ms > 0))
                s = gs_error_set(err, GS_ERR_FORMAT, "%s:%zu: instructions must be a positive number", path,
                                 row->line);
        } else if (!gs_csv_parse_double(row->fields[3], &t->ms) || !(t->ms > 0) ||
                   !gs_csv_parse_double(row->fields[4], &t->gflops) || !gs_csv_parse_double(row->fields[5], &t->gbs))
            s = gs_error_set(err, GS_ERR_FORMAT, "%s:%zu: ms, gflops and gbs must be numbers (ms > 0)", path,
                             row->line);
    }
    if (s == GS_OK)
        out->n = n;
    else
        gs_kernel_timings_free(out);
    return s;
}

void gs_kernel_timings_free(gs_kernel_timings *t) {
    free(t->items);
    gs_csv_table_free(&t->table);
    *t = (gs_kernel_timings){0};
}

void gs_kernel_comparison_free(gs_kernel_comparison *c) {
    free(c->items);
    *c = (gs_kernel_comparison){0};
}

static bool same_kernel(const gs_kernel_timing *a, const gs_kernel_timing *b) {
    return !strcmp(a->op, b->op) && !strcmp(a->shape, b->shape) && !strcmp(a->pass, b->pass);
}

gs_status gs_kernel_compare(const gs_kernel_timings *baseline, const gs_kernel_timings *current, double threshold,
                            gs_kernel_comparison *out, gs_error *err) {
    *out = (gs_kernel_comparison){0};
    if (!(threshold >= 0 && threshold < 10))
        return gs_error_set(err, GS_ERR_ARGUMENT, "kernel regression: threshold %g is not a fraction like 0.10",
                            threshold);
    if (baseline->counted != current->counted)
        return gs_error_set(err, GS_ERR_MISMATCH,
                            "kernel regression: the baseline holds %s, the new run %s: compare two of one kind",
                            baseline->counted ? "instruction counts" : "times",
                            current->counted ? "instruction counts" : "times");
    size_t cap = baseline->n + current->n;
    out->items = cap ? calloc(cap, sizeof *out->items) : NULL;
    bool *matched = calloc(baseline->n ? baseline->n : 1, sizeof *matched);
    out->counted = current->counted;
    if ((cap && !out->items) || !matched) {
        free(matched);
        gs_kernel_comparison_free(out);
        return gs_error_set(err, GS_ERR_MEMORY, "kernel regression: out of memory");
    }
    for (size_t i = 0; i < current->n; i++) {
        const gs_kernel_timing *now = &current->items[i];
        gs_kernel_delta *d = &out->items[out->n++];
        *d = (gs_kernel_delta){.op = now->op, .shape = now->shape, .pass = now->pass, .baseline_ms = NAN,
                               .new_ms = now->ms, .ratio = NAN, .change = GS_KERNEL_ONLY_NEW};
        for (size_t k = 0; k < baseline->n; k++) {
            if (matched[k] || !same_kernel(&baseline->items[k], now)) continue;
            matched[k] = true;
            d->baseline_ms = baseline->items[k].ms;
            d->ratio = now->ms / d->baseline_ms;
            d->change = d->ratio > 1 + threshold   ? GS_KERNEL_SLOWER
                        : d->ratio < 1 - threshold ? GS_KERNEL_FASTER
                                                   : GS_KERNEL_SAME;
            out->n_slower += d->change == GS_KERNEL_SLOWER;
            out->n_faster += d->change == GS_KERNEL_FASTER;
            break;
        }
    }
    for (size_t k = 0; k < baseline->n; k++) {
        if (matched[k]) continue;
        const gs_kernel_timing *old = &baseline->items[k];
        out->items[out->n++] = (gs_kernel_delta){.op = old->op, .shape = old->shape, .pass = old->pass,
                                                 .baseline_ms = old->ms, .new_ms = NAN, .ratio = NAN,
                                                 .change = GS_KERNEL_ONLY_BASELINE};
    }
    free(matched);
    return GS_OK;
}
