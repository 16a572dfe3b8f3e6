/* FALSE's released learning-rate schedule (harness/optim/warm_restart.c)
 * against values computed from the formula of specs/false.md section 5 in
 * Python (math.cos, double precision):
 *   w = step / 1000; w + 1e-6 <= 0.1: 0.6 + (4.8 - 0.6) w / 0.1
 *   else u = (w - 0.1) / 0.9, max = 3.5968486086 (u < 0.334) or 1.1949130118,
 *        lr = 0.0048 + 0.5 (max - 0.0048) (1 + cos(pi u / 0.334))
 * with max_r = 0.0048 + 0.5 (4.8 - 0.0048) (1 + cos(pi (0.334 + R_r))),
 * R = {0, 0.334}. */
#include <criterion/criterion.h>
#include <math.h>

#include "optim/warm_restart.h"

Test(optim_warm_restart, released_schedule_matches_the_formula) {
    gs_warm_restart_schedule s = gs_false_lr_schedule(4.8, 1000);
    static const struct {
        int64_t step;
        double lr;
    } WANT[] = {
        {0, 0.600000000000},   {1, 0.642000000000},   {50, 2.700000000000},  {99, 4.758000000000},
        {100, 3.596848608562}, {101, 3.596750524136}, {250, 1.806455409586}, {400, 0.004835310599},
        {401, 0.004805199593}, {500, 0.298030067101}, {701, 1.194911711858}, {702, 1.194892213477},
        {850, 0.609184592595}, {999, 0.005054762250}, {1000, 0.004905288808},
    };
    for (size_t i = 0; i < sizeof WANT / sizeof *WANT; i++) {
        double got = gs_warm_restart_lr(&s, WANT[i].step);
        cr_expect(fabs(got - WANT[i].lr) <= 1e-9 * fabs(WANT[i].lr) + 1e-12, "step %lld: %.12f, expected %.12f",
                  (long long)WANT[i].step, got, WANT[i].lr);
    }
}

/* The spec's own figures: 3.5968 and 1.1949 as the two waves' peaks, 3.597
 * right after the warm-up (u = 0), 0.0048 at u = 0.334, 1.195 at u = 0.668,
 * about 0.0049 at u = 1. */
Test(optim_warm_restart, the_spec_figures) {
    gs_warm_restart_schedule s = gs_false_lr_schedule(4.8, 1000);
    cr_expect_float_eq(s.warmup_start, 0.6, 1e-12);
    cr_expect_float_eq(s.final, 0.0048, 1e-12);
    const double u[] = {0.0, 0.334, 0.668, 1.0}, want[] = {3.5968, 0.0048, 1.1949, 0.0049};
    for (int i = 0; i < 4; i++) {
        double got = gs_warm_restart_at(&s, 0.1 + 0.9 * u[i]);
        cr_expect(fabs(got - want[i]) < 1e-4, "u = %g: %.6f, the spec %.4f", u[i], got, want[i]);
    }
    /* Out-of-range steps clamp; a scaled peak scales every value. */
    cr_expect_float_eq(gs_warm_restart_lr(&s, -5), 0.6, 1e-12);
    gs_warm_restart_schedule half = gs_false_lr_schedule(2.4, 1000);
    for (int64_t step = 0; step < 1000; step += 37)
        cr_expect_float_eq(gs_warm_restart_lr(&half, step), 0.5 * gs_warm_restart_lr(&s, step), 1e-12, "step %lld",
                           (long long)step);
}
