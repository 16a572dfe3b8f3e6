/* Instruction counts of a stretch of code, from valgrind's callgrind: the
 * same for the same binary and input whatever else the machine is doing,
 * so a kernel regression of a few percent shows where timings (10-25% noise
 * on a shared machine) hide it.  The process must run under
 * `valgrind --tool=callgrind --collect-atstart=no`; each counted stretch is
 * then one dump of callgrind's output, labelled.  Built without valgrind's
 * headers, counting is unavailable (gs_instruction_count_available). */
#ifndef GS_BENCH_INSTRUCTION_COUNT_H
#define GS_BENCH_INSTRUCTION_COUNT_H

#include <stdbool.h>

/* Whether this build can count (valgrind's client requests compiled in). */
bool gs_instruction_count_available(void);

/* Whether the process runs under valgrind now. */
bool gs_instruction_count_running(void);

/* Counting on, then off with the stretch's total dumped under `label`
 * (callgrind's "desc: Trigger: Client Request: LABEL"). */
void gs_instruction_count_start(void);
void gs_instruction_count_stop(const char *label);

#endif
