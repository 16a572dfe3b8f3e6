/* A small, fast, explicitly seeded random generator (xoshiro128+ style state
 * advanced with splitmix64 seeding).  Its whole state is four words, so it can
 * be stored in checkpoints and restored to continue bit-identically. */
#ifndef GS_RNG_H
#define GS_RNG_H

#include <stdint.h>

typedef struct gs_rng {
    uint64_t s[4];
} gs_rng;

void gs_rng_seed(gs_rng *rng, uint64_t seed);
uint64_t gs_rng_next_u64(gs_rng *rng);
/* Uniform in [0, 1) with 24 bits of mantissa. */
float gs_rng_uniform(gs_rng *rng);
/* Standard normal (Box-Muller; one value per call, deterministic). */
float gs_rng_normal(gs_rng *rng);
/* Uniform integer in [0, n). n must be > 0. */
uint64_t gs_rng_below(gs_rng *rng, uint64_t n);
/* An independent generator derived from this one (for workers or layers). */
gs_rng gs_rng_split(gs_rng *rng);

#endif
