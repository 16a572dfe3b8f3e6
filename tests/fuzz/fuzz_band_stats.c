/* libFuzzer target: band statistics files (datasets/stats.c, the
 * <cache>/<format>-<key>.stats text that `eval` and `pretrain` reload).
 *
 * Invariants: a malformed file is a format error (the caller then says to
 * delete it); accepted statistics have 1..GS_MAX_BANDS bands, a positive
 * value count and finite means and non-negative finite standard deviations
 * (the loader divides by them), and all of them still so in the float32
 * copies the loader normalizes with (gs_stats_to_float). */
#include <math.h>

#include "common.h"
#include "stats.h"

#define TARGET "fuzz_band_stats"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[FUZZ_PATH_MAX];
    fuzz_write_file(NULL, ".stats", data, size, path);
    gs_band_stats stats;
    gs_source_fingerprint fp;
    gs_error err = {0};
    gs_status s = gs_stats_load(path, &stats, &fp, &err);
    if (s == GS_OK) {
        if (stats.bands < 1 || stats.bands > GS_MAX_BANDS || stats.values <= 0)
            fuzz_fail(TARGET, "accepted %d bands and %lld values", stats.bands, (long long)stats.values);
        for (int b = 0; b < stats.bands; b++)
            if (!isfinite(stats.mean[b]) || !isfinite(stats.std[b]) || stats.std[b] < 0)
                fuzz_fail(TARGET, "band %d accepted with mean %g std %g", b, stats.mean[b], stats.std[b]);
        float mean[GS_MAX_BANDS], std[GS_MAX_BANDS];
        gs_stats_to_float(&stats, mean, std);
        for (int b = 0; b < stats.bands; b++)
            if (!isfinite(mean[b]) || !(std[b] > 0) || !isfinite(1.0f / std[b]))
                fuzz_fail(TARGET, "band %d: the loader would compute (x - %g) / %g", b, (double)mean[b], (double)std[b]);
    } else if (s != GS_ERR_FORMAT) {
        fuzz_fail(TARGET, "a malformed file is status %d, not a format error: %s", (int)s, err.message);
    }
    fuzz_remove(path);
    return 0;
}
