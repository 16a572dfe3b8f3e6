/* FALSE's warm-up + cosine-with-restart schedule (warm_restart.h), written
 * from VISSL's cosine_warm_restart_scheduler.py and Classy Vision's
 * composite and linear schedulers as specs/false.md section 5 quotes them. */
#include "warm_restart.h"

#include <math.h>

#define GS_PI 3.14159265358979323846
#define WHERE_EPSILON 1e-6 /* Classy Vision's ParamScheduler.WHERE_EPSILON */

gs_warm_restart_schedule gs_false_lr_schedule(double peak, int64_t total_steps) {
    return (gs_warm_restart_schedule){.warmup_start = peak * (0.6 / 4.8), .peak = peak,
                                      .final = peak * (0.0048 / 4.8), .warmup_fraction = 0.1,
                                      .restart_interval = 0.334, .total_steps = total_steps};
}

/* cosine_warm_restart with wave_type full and is_adaptive, at u in [0, 1]. */
static double cosine_warm_restart(const gs_warm_restart_schedule *s, double u) {
    double L = s->restart_interval, start = 0.0;
    /* The restart points after 0 are np.arange(L, 1, 2L); the one in force
     * is the last point <= u (bisect_right - 1). */
    for (int64_t k = 0;; k++) {
        double point = L + (double)k * 2.0 * L;
        if (!(point < 1.0) || point > u) break;
        start = point;
    }
    double max_lr = s->final + 0.5 * (s->peak - s->final) * (1.0 + cos(GS_PI * (L + start)));
    return s->final + 0.5 * (max_lr - s->final) * (1.0 + cos(GS_PI * u / L));
}

double gs_warm_restart_at(const gs_warm_restart_schedule *s, double where) {
    if (!(where > 0.0)) where = 0.0;
    if (where > 1.0) where = 1.0;
    double w = s->warmup_fraction;
    if (w > 0.0 && where + WHERE_EPSILON <= w) {
        double u = where / w;
        return s->peak * u + s->warmup_start * (1.0 - u);
    }
    double u = w < 1.0 ? (where - w) / (1.0 - w) : 1.0;
    return cosine_warm_restart(s, u < 0.0 ? 0.0 : u);
}

double gs_warm_restart_lr(const gs_warm_restart_schedule *s, int64_t step) {
    if (s->total_steps <= 0) return gs_warm_restart_at(s, 0.0);
    return gs_warm_restart_at(s, (double)step / (double)s->total_steps);
}
