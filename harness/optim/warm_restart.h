/* FALSE's released learning-rate schedule (specs/false.md section 5): the
 * VISSL / Classy Vision "composite" of a linear warm-up and a
 * "cosine_warm_restart" (full wave, adaptive), as a pure function of the
 * step like schedule.h, so resuming at step k needs nothing but k.
 *
 * With where = step / total_steps (VISSL's task.where at that update):
 *   where + 1e-6 <= warmup_fraction (the composite's WHERE_EPSILON):
 *       u = where / warmup_fraction
 *       lr = warmup_start * (1 - u) + peak * u
 *   otherwise, u = (where - warmup_fraction) / (1 - warmup_fraction):
 *       restart points R = {0} + {L, 3L, 5L, ... < 1}    (L = restart_interval)
 *       r = the last point <= u
 *       max_r = final + 0.5 (peak - final) (1 + cos(pi (L + R_r)))
 *       lr = final + 0.5 (max_r - final) (1 + cos(pi u / L))
 * The released numbers (peak 4.8 at batch 256, warm-up from 0.6, final
 * 0.0048, warm-up 10%, L = 0.334) give 3.597 right after the warm-up (the
 * adaptive peak of the first wave, not 4.8), 0.0048 at u = L, a second rise
 * to 1.195 at u = 2L and 0.0049 at the end. */
#ifndef GS_OPTIM_WARM_RESTART_H
#define GS_OPTIM_WARM_RESTART_H

#include <stdint.h>

typedef struct gs_warm_restart_schedule {
    double warmup_start;     /* lr at step 0 */
    double peak;             /* end of the warm-up, and the cosine's start_value */
    double final;            /* the cosine's end_value */
    double warmup_fraction;  /* share of training spent warming up, in [0, 1) */
    double restart_interval; /* L, in (0, 1] */
    int64_t total_steps;
} gs_warm_restart_schedule;

/* The released recipe scaled to `peak`: warm-up from peak / 8, final
 * peak / 1000, 10% warm-up, L = 0.334 (0.6, 4.8, 0.0048 at peak 4.8). */
gs_warm_restart_schedule gs_false_lr_schedule(double peak, int64_t total_steps);
/* The value at training fraction `where` (clamped to [0, 1]). */
double gs_warm_restart_at(const gs_warm_restart_schedule *s, double where);
/* The value at 0-based optimizer step `step` (where = step / total_steps). */
double gs_warm_restart_lr(const gs_warm_restart_schedule *s, int64_t step);

#endif
