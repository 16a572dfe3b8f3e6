/* libFuzzer target: kernel timings (`geossl bench kernels` CSVs read by the
 * report's kernel regressions, reports/kernel_regression.c), loaded and
 * compared.  The input is one file, or two separated by a line "--" (the
 * baseline, then the new run); one file is compared with itself.
 *
 * Invariants: a malformed file is a format error; accepted timings have
 * ms > 0; the comparison lists every op of both runs once, counts slower and
 * faster ops consistently, and a run compared with itself changes nothing. */
#include <math.h>
#include <string.h>

#include "common.h"
#include "kernel_regression.h"

#define TARGET "fuzz_kernel_timings"

static const uint8_t *find_separator(const uint8_t *data, size_t size) {
    static const char SEP[] = "\n--\n";
    for (size_t i = 0; i + sizeof SEP - 1 <= size; i++)
        if (!memcmp(data + i, SEP, sizeof SEP - 1)) return data + i;
    return NULL;
}

static gs_status load(const char *dir, const char *name, const uint8_t *data, size_t size, gs_kernel_timings *out) {
    char path[FUZZ_PATH_MAX];
    fuzz_write_file(dir, name, data, size, path);
    gs_error err = {0};
    gs_status s = gs_kernel_timings_load(path, out, &err);
    if (s != GS_OK && s != GS_ERR_FORMAT)
        fuzz_fail(TARGET, "a malformed file is status %d, not a format error: %s", (int)s, err.message);
    for (size_t i = 0; s == GS_OK && i < out->n; i++)
        if (!(out->items[i].ms > 0)) fuzz_fail(TARGET, "timing %zu accepted with ms %g", i, out->items[i].ms);
    return s;
}

static void compare(const gs_kernel_timings *base, const gs_kernel_timings *now, bool same_run) {
    gs_kernel_comparison cmp;
    gs_error err = {0};
    if (gs_kernel_compare(base, now, 0.10, &cmp, &err) != GS_OK) return;
    size_t slower = 0, faster = 0, only_new = 0;
    for (size_t i = 0; i < cmp.n; i++) {
        const gs_kernel_delta *d = &cmp.items[i];
        if (!d->op || !d->shape || !d->pass) fuzz_fail(TARGET, "delta %zu has no name", i);
        slower += d->change == GS_KERNEL_SLOWER;
        faster += d->change == GS_KERNEL_FASTER;
        only_new += d->change == GS_KERNEL_ONLY_NEW;
        if (same_run && d->change != GS_KERNEL_SAME)
            fuzz_fail(TARGET, "%s %s %s changed (%d) against itself", d->op, d->shape, d->pass, (int)d->change);
    }
    if (slower != cmp.n_slower || faster != cmp.n_faster)
        fuzz_fail(TARGET, "counts %zu slower, %zu faster; listed %zu, %zu", cmp.n_slower, cmp.n_faster, slower, faster);
    if (cmp.n < now->n || cmp.n < base->n || cmp.n > base->n + now->n || only_new > now->n)
        fuzz_fail(TARGET, "%zu deltas for %zu + %zu timings", cmp.n, base->n, now->n);
    gs_kernel_comparison_free(&cmp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char dir[FUZZ_PATH_MAX];
    fuzz_make_dir(dir);
    const uint8_t *sep = find_separator(data, size);
    size_t first = sep ? (size_t)(sep - data) + 1 : size;
    gs_kernel_timings base, now;
    gs_status bs = load(dir, "baseline.csv", data, first, &base);
    gs_status ns = sep ? load(dir, "new.csv", sep + 4, size - first - 3, &now) : bs;
    if (bs == GS_OK && ns == GS_OK) {
        compare(&base, sep ? &now : &base, !sep);
        compare(sep ? &now : &base, &base, false);
    }
    if (bs == GS_OK) gs_kernel_timings_free(&base);
    if (sep && ns == GS_OK) gs_kernel_timings_free(&now);
    fuzz_remove(dir);
    return 0;
}
