/* libFuzzer target: the safetensors reader (harness/io/safetensors.c), as
 * `geossl eval --weights FILE` uses it: open and validate the header, look
 * each tensor and metadata key up, read every float tensor.
 *
 * Invariants checked beyond "no crash, no leak, no undefined behaviour": an
 * accepted header describes tensors that lie inside the data, whose byte
 * length is numel x dtype size, whose names are unique; every F32 / F16 /
 * BF16 tensor of an accepted file then reads (the file did not change), and
 * every other dtype is refused as a format error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/context.h"
#include "common.h"
#include "io/safetensors.h"

#define TARGET "fuzz_safetensors"

static void check_tensors(gs_context *ctx, const gs_safetensors *st) {
    for (int i = 0; i < st->count; i++) {
        const gs_st_tensor *t = &st->tensors[i];
        int size = gs_st_dtype_size(t->dtype);
        int64_t numel = 1;
        for (int d = 0; d < t->ndim; d++) numel *= t->shape[d];
        if (size <= 0 || t->ndim < 0 || t->ndim > GS_MAX_DIMS || numel != t->numel || t->begin > t->end ||
            t->end > st->data_size || t->end - t->begin != (uint64_t)t->numel * (uint64_t)size)
            fuzz_fail(TARGET, "tensor '%s' accepted with an inconsistent layout", t->name);
        if (gs_safetensors_find(st, t->name) != t) fuzz_fail(TARGET, "tensor '%s' found twice or not at all", t->name);
        bool is_float = t->dtype == GS_ST_F32 || t->dtype == GS_ST_F16 || t->dtype == GS_ST_BF16;
        float *dst = malloc((size_t)(t->numel > 0 ? t->numel : 1) * sizeof *dst);
        if (!dst) fuzz_fail(TARGET, "out of memory for %lld floats", (long long)t->numel);
        gs_status s = gs_safetensors_read_f32(ctx, st, t, dst);
        free(dst);
        if (is_float && s != GS_OK) fuzz_fail(TARGET, "accepted %s tensor does not read: %s", gs_st_dtype_name(t->dtype), ctx->error);
        if (!is_float && s != GS_ERR_FORMAT) fuzz_fail(TARGET, "%s tensor not refused as floats", gs_st_dtype_name(t->dtype));
        gs_clear_error(ctx);
    }
    for (int i = 0; i < st->meta_count; i++)
        if (!st->meta[i].key || !st->meta[i].value || !gs_safetensors_meta(st, st->meta[i].key))
            fuzz_fail(TARGET, "metadata entry %d has no key or value", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[FUZZ_PATH_MAX];
    fuzz_write_file(NULL, ".safetensors", data, size, path);
    gs_context ctx;
    if (gs_context_init(&ctx, &(gs_context_options){.n_threads = 1, .backend = gs_backend_cpu()}) != GS_OK)
        fuzz_fail(TARGET, "no context: %s", ctx.error);
    gs_safetensors st;
    if (gs_safetensors_open(&ctx, path, &st) == GS_OK) {
        check_tensors(&ctx, &st);
        gs_safetensors_close(&st);
    } else if (ctx.status != GS_ERR_FORMAT) {
        fuzz_fail(TARGET, "a malformed file is not a format error (status %d): %s", (int)ctx.status, ctx.error);
    }
    gs_context_free(&ctx);
    fuzz_remove(path);
    return 0;
}
