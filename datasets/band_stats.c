#include "band_stats.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void gs_stats_to_float(const gs_band_stats *s, float *mean, float *std) {
    for (int b = 0; b < s->bands; b++) {
        mean[b] = (float)s->mean[b];
        /* A std that is 0 in float (1e-300 in double) or subnormal, whose
         * inverse overflows, is a constant band as much as 0 is. */
        float sd = (float)s->std[b];
        std[b] = isfinite(sd) && sd >= FLT_MIN ? sd : 1.0f;
    }
}

gs_status gs_sample_check_finite(const gs_dataset *ds, int64_t index, const float *pixels, gs_error *err) {
    int dates = ds->dates > 0 ? ds->dates : 1;
    int64_t plane = ds->height * ds->width;
    char bands[320] = "";
    size_t used = 0;
    int64_t first_row = -1, first_col = -1;
    int first_date = 0;
    for (int b = 0; b < ds->bands; b++) {
        int64_t count = 0;
        for (int d = 0; d < dates; d++) {
            const float *x = pixels + ((int64_t)d * ds->bands + b) * plane;
            for (int64_t i = 0; i < plane; i++) {
                if (isfinite(x[i])) continue;
                if (count++ == 0 && first_row < 0) {
                    first_row = i / ds->width;
                    first_col = i % ds->width;
                    first_date = d;
                }
            }
        }
        if (count == 0 || used + 1 >= sizeof bands) continue;
        const char *name = ds->band_info[b].name;
        int n = snprintf(bands + used, sizeof bands - used, "%sband %d%s%s (%lld value%s)", used ? ", " : "", b + 1,
                         name[0] ? " " : "", name, (long long)count, count == 1 ? "" : "s");
        used = n < 0 ? sizeof bands : used + (size_t)n;
    }
    if (first_row < 0) return GS_OK;
    const gs_sample *s = &ds->samples[index];
    char where[96];
    if (dates > 1)
        snprintf(where, sizeof where, "date %d, row %lld, column %lld", first_date + 1, (long long)first_row,
                 (long long)first_col);
    else
        snprintf(where, sizeof where, "row %lld, column %lld", (long long)first_row, (long long)first_col);
    char patch[64] = "";
    if (s->x || s->y) snprintf(patch, sizeof patch, " of the patch at x %lld, y %lld", (long long)s->x, (long long)s->y);
    return gs_error_set(err, GS_ERR_FORMAT,
                        "%s holds non-finite values (NaN or infinity) in %s, the first at %s%s: statistics and "
                        "training need finite input; fill or mask them in the file",
                        s->path, bands, where, patch);
}
