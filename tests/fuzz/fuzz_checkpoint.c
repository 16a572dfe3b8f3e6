/* libFuzzer target: checkpoints (harness/io/checkpoint.c) as `geossl eval
 * --checkpoint` and `pretrain --resume` read them: the metadata, a load of
 * every group into the tiny model of checkpoint_model.h (the seeds are its
 * checkpoints), and one tensor's shape.
 *
 * Each input is a whole file, digest header included.  Linked with
 * -Wl,--wrap=H5Fopen (h5_guard.h): libhdf5 must never be handed a file whose
 * digest does not verify, so almost every mutation is refused by the digest
 * (the 512-byte header's padding is outside the digest, so a few mutations
 * reach libhdf5 with the seed's HDF5 bytes unchanged).  Checkpoints without
 * a digest are never trusted here ($GEOSSL_TRUST_CHECKPOINTS_WITHOUT_DIGEST
 * is removed): that would hand libhdf5 the fuzzer's bytes.
 *
 * Invariants: a file whose digest does not verify is a format error naming
 * the file, and leaves the caller's tensors and info untouched; one that
 * verifies loads, with finite values and non-negative running variances and
 * second moments; no HDF5 handle stays open after any call. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "checkpoint_model.h"
#include "common.h"
#include "h5_guard.h"
#include "io/file_digest.h"

#define TARGET "fuzz_checkpoint"
#define SENTINEL 12345.0f

static void check_refused(const gs_context *ctx, gs_status s, const char *path, const char *what) {
    if (s == GS_OK) fuzz_fail(TARGET, "%s accepted a file whose digest does not verify", what);
    if (s != GS_ERR_FORMAT) fuzz_fail(TARGET, "%s: status %d, not a format error: %s", what, (int)s, ctx->error);
    if (!strstr(ctx->error, path)) fuzz_fail(TARGET, "%s: the error does not name the file: %s", what, ctx->error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsetenv("GEOSSL_TRUST_CHECKPOINTS_WITHOUT_DIGEST");
    char path[FUZZ_PATH_MAX];
    fuzz_write_file(NULL, ".h5", data, size, path);
    bool verified = gs_file_digest_verify(path).state == GS_DIGEST_VALID;
    gs_context ctx;
    if (gs_context_init(&ctx, &(gs_context_options){.n_threads = 1, .backend = gs_backend_cpu()}) != GS_OK)
        fuzz_fail(TARGET, "no context: %s", ctx.error);

    gs_checkpoint_info info;
    gs_status s = gs_checkpoint_read_info(&ctx, path, &info);
    fuzz_h5_expect_closed(TARGET);
    if (!verified) check_refused(&ctx, s, path, "read_info");
    if (verified && s != GS_OK) fuzz_fail(TARGET, "a verified checkpoint's info does not read: %s", ctx.error);
    if (s == GS_OK) {
        if (!info.architecture || !info.config) fuzz_fail(TARGET, "info without architecture or config");
        gs_checkpoint_info_free(&info);
    }
    gs_clear_error(&ctx);

    fuzz_ckpt_model m;
    fuzz_ckpt_model_init(&ctx, &m, SENTINEL);
    memset(&info, 0xa5, sizeof info);
    s = gs_checkpoint_load(&ctx, path, m.groups, 2, &info,
                           &(gs_checkpoint_load_options){.architecture = FUZZ_CKPT_ARCHITECTURE});
    fuzz_h5_expect_closed(TARGET);
    if (!verified) check_refused(&ctx, s, path, "load");
    if (s != GS_OK) {
        if (!fuzz_ckpt_model_all(&m, SENTINEL)) fuzz_fail(TARGET, "a failed load modified the model");
        if (info.architecture || info.config || info.step) fuzz_fail(TARGET, "a failed load left info set");
        if (verified) fuzz_fail(TARGET, "a verified checkpoint does not load: %s", ctx.error);
    } else {
        const gs_param_list *lists[2] = {&m.model, &m.optimizer};
        for (int l = 0; l < 2; l++)
            for (int i = 0; i < lists[l]->count; i++) {
                const gs_tensor *t = lists[l]->items[i].tensor;
                bool never_negative = strstr(t->name, "running_var") || strstr(t->name, "exp_avg_sq");
                for (int64_t j = 0; j < t->numel; j++)
                    if (!isfinite(t->data[j]) || (never_negative && t->data[j] < 0))
                        fuzz_fail(TARGET, "loaded %s[%lld] = %g", t->name, (long long)j, (double)t->data[j]);
            }
        gs_checkpoint_info_free(&info);
    }
    gs_clear_error(&ctx);
    fuzz_ckpt_model_free(&m);

    int64_t dims[8];
    int rank = gs_checkpoint_tensor_shape(path, "model/conv1.weight", dims, 8);
    fuzz_h5_expect_closed(TARGET);
    if (!verified && rank != 0) fuzz_fail(TARGET, "tensor_shape read a file whose digest does not verify");
    if (verified && (rank != 4 || dims[0] != 2 || dims[1] != 1 || dims[2] != 1 || dims[3] != 2))
        fuzz_fail(TARGET, "tensor_shape of a verified seed: rank %d", rank);

    gs_context_free(&ctx);
    fuzz_remove(path);
    return 0;
}
