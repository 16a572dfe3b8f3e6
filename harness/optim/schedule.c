#include "schedule.h"

#include <math.h>

#define GS_PI 3.14159265358979323846

double gs_cosine_lr(const gs_cosine_schedule *s, int64_t step) {
    if (step < 0) step = 0;
    if (step < s->warmup_steps) return s->base * (double)(step + 1) / (double)s->warmup_steps;
    int64_t decay_steps = s->total_steps - s->warmup_steps;
    if (step >= s->total_steps || decay_steps <= 0) return s->final;
    double progress = (double)(step - s->warmup_steps) / (double)decay_steps;
    return s->final + (s->base - s->final) * 0.5 * (1.0 + cos(GS_PI * progress));
}

double gs_cosine_momentum(double base, int64_t step, int64_t total_steps) {
    if (total_steps <= 0 || step >= total_steps) return 1.0;
    if (step < 0) step = 0;
    return 1.0 - (1.0 - base) * (cos(GS_PI * (double)step / (double)total_steps) + 1.0) / 2.0;
}
