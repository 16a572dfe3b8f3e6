#include "band_stats.h"

void gs_stats_to_float(const gs_band_stats *s, float *mean, float *std) {
    for (int b = 0; b < s->bands; b++) {
        mean[b] = (float)s->mean[b];
        std[b] = s->std[b] > 0 ? (float)s->std[b] : 1.0f;
    }
}
