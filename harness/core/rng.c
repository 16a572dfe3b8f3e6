#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void gs_rng_seed(gs_rng *rng, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

/* xoshiro256** by Blackman and Vigna (public-domain algorithm description). */
uint64_t gs_rng_next_u64(gs_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float gs_rng_uniform(gs_rng *rng) {
    return (float)(gs_rng_next_u64(rng) >> 40) * (1.0f / 16777216.0f);
}

float gs_rng_normal(gs_rng *rng) {
    /* Avoid log(0): u1 in (0, 1]. */
    double u1 = ((double)(gs_rng_next_u64(rng) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(gs_rng_next_u64(rng) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

uint64_t gs_rng_below(gs_rng *rng, uint64_t n) {
    /* Rejection sampling keeps the result unbiased. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = gs_rng_next_u64(rng);
    } while (x >= limit);
    return x % n;
}

gs_rng gs_rng_split(gs_rng *rng) {
    gs_rng child;
    gs_rng_seed(&child, gs_rng_next_u64(rng));
    return child;
}
