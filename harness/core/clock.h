/* Wall-clock timing and the median the benchmarks and progress lines use. */
#ifndef GS_CLOCK_H
#define GS_CLOCK_H

/* Seconds on a monotonic clock (differences only). */
double gs_now_s(void);
/* Median of n > 0 values; sorts `values` in place. */
double gs_median(double *values, int n);

#endif
