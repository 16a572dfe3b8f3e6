/* Reader of .gsfx reference fixtures written by tools/reference/gsfx.py:
 * named float32 tensors. */
#ifndef GS_TEST_FIXTURE_H
#define GS_TEST_FIXTURE_H

#include <stdint.h>

typedef struct fixture_tensor {
    char *name;
    int ndim;
    int64_t shape[8];
    int64_t numel;
    float *data;
} fixture_tensor;

typedef struct fixture {
    fixture_tensor *tensors;
    int count;
} fixture;

/* NULL when the file is missing or malformed (a message goes to stderr). */
fixture *fixture_load(const char *path);
void fixture_free(fixture *fx);
/* NULL when absent. */
const fixture_tensor *fixture_get(const fixture *fx, const char *name);

/* Largest |a - b| / max(|b|, floor) over n values, and the worst index. */
double fixture_max_rel_error(const float *a, const float *b, int64_t n, double floor, int64_t *worst);

/* The denominator floor for comparing outputs: a tenth of the tensor's
 * largest magnitude, so logits near zero are judged against the tensor's
 * scale rather than their own (float32 rounding is absolute there). */
double fixture_output_floor(const fixture_tensor *t);

#endif
