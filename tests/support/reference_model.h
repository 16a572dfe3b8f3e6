/* Helpers for tests that compare a C model with a PyTorch fixture. */
#ifndef GS_TEST_REFERENCE_MODEL_H
#define GS_TEST_REFERENCE_MODEL_H

#include <stdbool.h>

#include "fixture.h"
#include "nn/params.h"

/* Copies the fixture entry `key` into t.  Returns false (and writes why into
 * msg) when it is missing or shaped differently. */
bool reference_load_tensor(const fixture *fx, const char *key, gs_tensor *t, char *msg, unsigned long msg_size);

/* Copies "param/<name>" of the fixture into every tensor of the list.
 * Returns false (and writes why into msg) when one is missing or misshapen,
 * or when the fixture holds parameters the list lacks. */
bool reference_load_params(const fixture *fx, const gs_param_list *list, char *msg, unsigned long msg_size);

/* Checks every trainable parameter's gradient against "grad/<name>":
 * max |ours - torch| <= tol * max |torch| per tensor.  Returns the worst
 * ratio error / (tol * scale) (<= 1 passes) and names the worst tensor. */
double reference_worst_grad(const fixture *fx, const gs_param_list *list, double tol, char *worst_name,
                            unsigned long name_size);

/* Builds a tensor in the activation arena from a fixture entry. */
gs_tensor *reference_tensor(gs_context *ctx, const fixture *fx, const char *name);

#endif
