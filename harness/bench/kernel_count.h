/* `geossl bench kernels --count`: the instructions each kernel executes,
 * counted by valgrind's callgrind in a child process of this same program,
 * with the libraries' CPU paths pinned (OPENBLAS_CORETYPE=Nehalem,
 * ONEDNN_MAX_CPU_ISA=SSE41, one thread) so that another CPU runs the same
 * library code.  geossl's own code is compiled for the build machine
 * (-march=native), so a baseline holds for builds on the same CPU type.
 * What counts cannot see: memory stalls, cache misses and threading
 * (README, "Kernel regressions"). */
#ifndef GS_BENCH_KERNEL_COUNT_H
#define GS_BENCH_KERNEL_COUNT_H

#include <stdio.h>

#include "../core/error.h"

/* Runs `program` (this geossl's path) as `valgrind --tool=callgrind ...
 * program bench kernels --count [--only ONLY] [--backend NAME]` and writes
 * "op,shape,pass,instructions" rows to out.  Errors name what is missing
 * (valgrind, a build with its headers) or the child's log. */
gs_status gs_kernel_count(const char *program, const char *only, const char *backend, FILE *out, gs_error *err);

#endif
