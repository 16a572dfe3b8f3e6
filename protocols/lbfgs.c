#include "lbfgs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LBFGS_ARMIJO 1e-4       /* sufficient decrease: f(x + t d) <= f + c t g.d */
#define LBFGS_BACKTRACKS 40     /* halvings before the line search gives up */
/* A pair whose curvature s.y is this small relative to y.y would make the
 * inverse-Hessian estimate blow up; it is skipped. */
#define LBFGS_CURVATURE_FLOOR 1e-12

static double dot(int64_t n, const double *a, const double *b) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += a[i] * b[i];
    return sum;
}

static double max_abs(int64_t n, const double *a) {
    double m = 0.0;
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

typedef struct history {
    int capacity, count, newest; /* pairs live in a ring; newest is the last written slot */
    double *s, *y;               /* capacity x n */
    double *rho, *alpha;         /* capacity */
} history;

/* d = -H g by the two-loop recursion over the stored pairs, newest first,
 * with H0 = (s.y / y.y) I from the newest pair. */
static void direction(int64_t n, const history *h, const double *g, double *d) {
    for (int64_t i = 0; i < n; i++) d[i] = -g[i];
    int slot = h->newest;
    for (int j = 0; j < h->count; j++) {
        const double *s = h->s + (int64_t)slot * n, *y = h->y + (int64_t)slot * n;
        h->alpha[slot] = h->rho[slot] * dot(n, s, d);
        for (int64_t i = 0; i < n; i++) d[i] -= h->alpha[slot] * y[i];
        slot = (slot + h->capacity - 1) % h->capacity;
    }
    if (h->count > 0) {
        const double *y = h->y + (int64_t)h->newest * n;
        const double gamma = 1.0 / (h->rho[h->newest] * dot(n, y, y));
        for (int64_t i = 0; i < n; i++) d[i] *= gamma;
    }
    slot = (h->newest + h->capacity - h->count + 1) % h->capacity;
    for (int j = 0; j < h->count; j++) {
        const double *s = h->s + (int64_t)slot * n, *y = h->y + (int64_t)slot * n;
        const double beta = h->rho[slot] * dot(n, y, d);
        for (int64_t i = 0; i < n; i++) d[i] += (h->alpha[slot] - beta) * s[i];
        slot = (slot + 1) % h->capacity;
    }
}

static void remember(int64_t n, history *h, const double *x_old, const double *x_new, const double *g_old,
                     const double *g_new) {
    const int slot = (h->newest + 1) % h->capacity;
    double *s = h->s + (int64_t)slot * n, *y = h->y + (int64_t)slot * n;
    for (int64_t i = 0; i < n; i++) {
        s[i] = x_new[i] - x_old[i];
        y[i] = g_new[i] - g_old[i];
    }
    const double sy = dot(n, s, y), yy = dot(n, y, y);
    if (!(sy > LBFGS_CURVATURE_FLOOR * yy) || yy == 0.0) return;
    h->rho[slot] = 1.0 / sy;
    h->newest = slot;
    if (h->count < h->capacity) h->count++;
}

gs_status gs_lbfgs_minimize(int64_t n, double *x, gs_lbfgs_objective objective, void *user,
                            const gs_lbfgs_options *options, gs_lbfgs_report *report) {
    const gs_lbfgs_options defaults = {0};
    if (!options) options = &defaults;
    const int max_iterations = options->max_iterations > 0 ? options->max_iterations : 500;
    const double tolerance = options->gradient_tolerance > 0 ? options->gradient_tolerance : 1e-6;
    history h = {.capacity = options->history > 0 ? options->history : 10, .count = 0, .newest = 0};
    memset(report, 0, sizeof *report);

    h.s = malloc((size_t)(h.capacity * n) * sizeof(double));
    h.y = malloc((size_t)(h.capacity * n) * sizeof(double));
    h.rho = malloc((size_t)h.capacity * sizeof(double));
    h.alpha = malloc((size_t)h.capacity * sizeof(double));
    double *g = malloc((size_t)n * sizeof(double)), *d = malloc((size_t)n * sizeof(double));
    double *x_new = malloc((size_t)n * sizeof(double)), *g_new = malloc((size_t)n * sizeof(double));
    gs_status status = GS_ERR_MEMORY;
    if (!h.s || !h.y || !h.rho || !h.alpha || !g || !d || !x_new || !g_new) goto done;

    double f = 0.0;
    status = objective(user, x, &f, g);
    report->evaluations = 1;
    while (status == GS_OK) {
        report->gradient_max = max_abs(n, g);
        if (report->gradient_max <= tolerance) {
            report->converged = true;
            break;
        }
        if (report->iterations >= max_iterations) break;
        direction(n, &h, g, d);
        double slope = dot(n, g, d);
        if (!(slope < 0.0)) {
            /* Rounding made the estimate indefinite: restart from steepest descent. */
            h.count = 0;
            for (int64_t i = 0; i < n; i++) d[i] = -g[i];
            slope = -dot(n, g, g);
        }
        /* Without curvature pairs the scale of -g is unknown; a unit-length
         * first step is the usual guess. */
        double step = h.count ? 1.0 : fmin(1.0, 1.0 / sqrt(-slope));
        bool accepted = false;
        for (int b = 0; b < LBFGS_BACKTRACKS && status == GS_OK; b++, step *= 0.5) {
            for (int64_t i = 0; i < n; i++) x_new[i] = x[i] + step * d[i];
            double f_new = 0.0;
            status = objective(user, x_new, &f_new, g_new);
            report->evaluations++;
            /* Strictly lower as well: once f is flat to rounding, Armijo's
             * bound rounds to f itself and would accept steps that gain
             * nothing; those end the run as stalled instead. */
            if (status == GS_OK && f_new <= f + LBFGS_ARMIJO * step * slope && f_new < f) {
                remember(n, &h, x, x_new, g, g_new);
                memcpy(x, x_new, (size_t)n * sizeof *x);
                memcpy(g, g_new, (size_t)n * sizeof *g);
                f = f_new;
                accepted = true;
                break;
            }
        }
        if (status != GS_OK) break;
        if (!accepted) {
            report->stalled = true;
            break;
        }
        report->iterations++;
    }
    report->f = f;

done:
    free(h.s);
    free(h.y);
    free(h.rho);
    free(h.alpha);
    free(g);
    free(d);
    free(x_new);
    free(g_new);
    return status;
}
