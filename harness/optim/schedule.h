/* Schedules of the learning rate and of the EMA momentum, as pure functions
 * of the step (0-based optimizer steps), so resuming at step k needs nothing
 * but k. */
#ifndef GS_OPTIM_SCHEDULE_H
#define GS_OPTIM_SCHEDULE_H

#include <stdint.h>

typedef struct gs_cosine_schedule {
    double base;          /* peak value, reached at the end of warm-up */
    double final;         /* value the cosine decays to, reached at total_steps */
    int64_t warmup_steps; /* 0: none */
    int64_t total_steps;  /* warm-up included */
} gs_cosine_schedule;

/* Linear warm-up then cosine decay (the SimCLR / BYOL / DINO recipe):
 *   step < W:      base * (step + 1) / W   (base/W at step 0, base at W - 1:
 *                                           no step is wasted at lr 0)
 *   W <= step < T: final + (base - final) * 0.5 * (1 + cos(pi * (step - W) / (T - W)))
 *   step >= T:     final
 * As in DINO's cosine_scheduler, the decay reaches `final` at step T, one
 * past the last training step.  Negative steps count as 0. */
double gs_cosine_lr(const gs_cosine_schedule *s, int64_t step);

/* BYOL's target momentum (Grill et al. 2020, section 3.2):
 *   tau(k) = 1 - (1 - base) * (cos(pi * k / K) + 1) / 2
 * base at k = 0, rising to 1 at k = K (clamped outside [0, K]). */
double gs_cosine_momentum(double base, int64_t step, int64_t total_steps);

#endif
