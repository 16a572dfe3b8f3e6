/* Branch-free elementary functions that GCC vectorizes inside plain loops
 * (libm's versions are calls, and glibc only offers vector variants under
 * -ffast-math, which this project does not use: it would drop NaN checks). */
#ifndef GS_CPU_VEC_MATH_H
#define GS_CPU_VEC_MATH_H

#include <stdint.h>
#include <string.h>

/* e^x for float: x = n ln2 + f with |f| <= ln2/2, e^f by a degree-6
 * polynomial (Taylor, relative error ~2e-7 on that interval), 2^n built in
 * the exponent bits.  Inputs are clamped to [-87.3, 88.7], where float's
 * e^x is finite and normal; NaN stays NaN through the arithmetic. */
static inline float gs_vexpf(float x) {
    x = x < -87.3f ? -87.3f : x > 88.7f ? 88.7f : x;
    /* Round to nearest by the 1.5 * 2^23 trick: a call to roundf would stop
     * the loop from vectorizing. */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float f = x - n * 0.693145751953125f; /* ln2 split in two for exactness */
    f = f - n * 1.42860682030941723212e-6f;
    float p = 1.0f + f * (1.0f + f * (0.5f + f * (0.166666672f + f * (0.0416666679f + f * (0.00833333377f + f * 0.00138888892f)))));
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* erf by Abramowitz & Stegun 7.1.26: |error| < 1.5e-7. */
static inline float gs_verff(float x) {
    float a = __builtin_fabsf(x);
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    float r = 1.0f - poly * gs_vexpf(-a * a);
    return __builtin_copysignf(r, x);
}

#endif
