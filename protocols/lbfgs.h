/* Limited-memory BFGS (Nocedal & Wright, "Numerical Optimization", 2nd ed.,
 * algorithm 7.4 and 7.5) with a backtracking Armijo line search, for the
 * smooth convex objectives of the linear probe.
 *
 * Deterministic by construction: a fixed iteration budget, fixed constants,
 * no randomness; the same objective values give the same iterates. */
#ifndef GS_PROTOCOLS_LBFGS_H
#define GS_PROTOCOLS_LBFGS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

/* Writes f(x) and its gradient; any status other than GS_OK stops the
 * minimization and is returned as is (the objective records its message). */
typedef gs_status (*gs_lbfgs_objective)(void *user, const double *x, double *f, double *gradient);

typedef struct gs_lbfgs_options {
    int max_iterations;         /* <= 0: 500 */
    int history;                /* correction pairs kept; <= 0: 10 */
    double gradient_tolerance;  /* stop when max |gradient_i| <= this; <= 0: 1e-6 */
} gs_lbfgs_options;

typedef struct gs_lbfgs_report {
    int iterations;
    int evaluations;
    double f;
    double gradient_max; /* max |gradient_i| at the returned x */
    bool converged;      /* the gradient tolerance was reached */
    bool stalled;        /* the line search found no strict decrease: f is flat to rounding */
} gs_lbfgs_report;

/* Minimizes from the x given (warm starts welcome) and leaves the best point
 * in x.  GS_ERR_MEMORY when the history cannot be allocated. */
gs_status gs_lbfgs_minimize(int64_t n, double *x, gs_lbfgs_objective objective, void *user,
                            const gs_lbfgs_options *options, gs_lbfgs_report *report);

#endif
