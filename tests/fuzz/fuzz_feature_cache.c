/* libFuzzer target: the feature cache of the frozen-encoder protocols
 * (protocols/feature_set.c), as `geossl eval --protocol knn|linear` reloads
 * it.  The seeds were saved under the key FEATURE_KEY.
 *
 * Each input is a whole file, digest header included.  Linked with
 * -Wl,--wrap=H5Fopen (h5_guard.h): libhdf5 must never be handed a file
 * whose digest does not verify.
 *
 * Invariants: a file whose digest does not verify is a format error naming
 * the file (eval then recomputes the features); one that verifies loads
 * under its key and is a mismatch under another; no HDF5 handle stays open. */
#include <string.h>

#include "common.h"
#include "feature_set.h"
#include "h5_guard.h"
#include "io/file_digest.h"

#define TARGET "fuzz_feature_cache"
#define FEATURE_KEY "fuzz-key"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[FUZZ_PATH_MAX];
    fuzz_write_file(NULL, ".h5", data, size, path);
    bool verified = gs_file_digest_verify(path).state == GS_DIGEST_VALID;
    const char *keys[2] = {FEATURE_KEY, "another run"};
    for (int k = 0; k < 2; k++) {
        gs_feature_set fs;
        gs_error err = {0};
        gs_status s = gs_feature_set_load(path, keys[k], &fs, &err);
        fuzz_h5_expect_closed(TARGET);
        if (!verified) {
            if (s == GS_OK) fuzz_fail(TARGET, "loaded a feature cache whose digest does not verify");
            if (s != GS_ERR_FORMAT || !strstr(err.message, path))
                fuzz_fail(TARGET, "status %d, not a format error naming the file: %s", (int)s, err.message);
        } else if (s != (k == 0 ? GS_OK : GS_ERR_MISMATCH)) {
            fuzz_fail(TARGET, "a verified cache under key '%s' gives status %d: %s", keys[k], (int)s, err.message);
        }
        if (s == GS_OK) {
            if (fs.n < 0 || fs.dim < 0 || fs.n_classes < 0 || !fs.features || !fs.labels)
                fuzz_fail(TARGET, "loaded n %lld dim %lld", (long long)fs.n, (long long)fs.dim);
            for (int64_t i = 0; i < fs.n; i++)
                if (fs.labels[i] < 0 || (fs.n_classes > 0 && fs.labels[i] >= fs.n_classes && !fs.targets))
                    fuzz_fail(TARGET, "row %lld has label %d of %d classes", (long long)i, fs.labels[i], fs.n_classes);
            gs_feature_set_free(&fs);
        }
    }
    fuzz_remove(path);
    return 0;
}
