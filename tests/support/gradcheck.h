/* A generic finite-difference gradient checker (the Caffe habit).
 *
 * The scalar checked is L = sum(R * y) with R a fixed random tensor: a plain
 * sum would make the gradients of softmax, layernorm and batchnorm vanish and
 * test nothing.  Every element of every input that requires a gradient is
 * perturbed by +-eps; L is accumulated in double; the analytic gradient comes
 * from one backward pass seeded with R.  An element passes when
 *   |analytic - numeric| <= rtol * max(|analytic|, |numeric|) + atol.
 * An element that fails is re-estimated with eps/2: when the two numeric
 * estimates disagree, the element sits on a kink (relu, max) and is skipped;
 * at most max_skip_fraction of the elements may be skipped. */
#ifndef GS_TEST_GRADCHECK_H
#define GS_TEST_GRADCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/context.h"
#include "core/tensor.h"

/* Builds the op's output from the inputs (may call several ops). */
typedef gs_tensor *(*gradcheck_fn)(gs_context *ctx, gs_tensor *const *inputs, void *user);

typedef struct gradcheck_options {
    float eps;                /* default 1e-2 */
    double rtol;              /* default 1e-2 */
    double atol;              /* default 1e-4 */
    double max_skip_fraction; /* default 0.05 */
} gradcheck_options;

typedef struct gradcheck_report {
    long long checked;
    long long skipped;
    long long failed;
    char message[640];        /* the first failure, or the error */
} gradcheck_report;

/* An input tensor (parameter arena) filled with normal(0, scale) values. */
gs_tensor *gradcheck_input(gs_context *ctx, int ndim, const int64_t *shape, float scale, bool requires_grad);

/* opt may be NULL for the defaults.  Returns true when every checked element
 * passed and the skip budget held; `report` says what happened either way. */
bool gradcheck_run(gs_context *ctx, gradcheck_fn fn, gs_tensor *const *inputs, int n_inputs, void *user,
                   const gradcheck_options *opt, gradcheck_report *report);

/* Backward must ADD into existing gradients (a tensor used twice,
 * multi-crop): with every input gradient pre-filled with 1, the result must
 * be 1 + the gradient of a clean run.  Returns false and says why in msg. */
bool gradcheck_accumulates(gs_context *ctx, gradcheck_fn fn, gs_tensor *const *inputs, int n_inputs, void *user,
                           char *msg, size_t msg_size);

/* A context for tests: fixed seed, 2 threads, errors logged. */
void gradcheck_context(gs_context *ctx, unsigned long long seed);

#endif
