/* Counting through callgrind's client requests (valgrind/callgrind.h): they
 * are a few no-op instructions when the process is not under valgrind. */
#include "../instruction_count.h"

#include <valgrind/callgrind.h>

bool gs_instruction_count_available(void) { return true; }

bool gs_instruction_count_running(void) { return RUNNING_ON_VALGRIND != 0; }

/* Instrumentation is on only around a counted stretch (the child runs with
 * --instr-atstart=no): the warm-up, oneDNN's primitive creation and the
 * set-up run at plain valgrind speed, several times faster. */
void gs_instruction_count_start(void) {
    CALLGRIND_START_INSTRUMENTATION;
    CALLGRIND_ZERO_STATS;
    CALLGRIND_TOGGLE_COLLECT;
}

void gs_instruction_count_stop(const char *label) {
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT(label);
    CALLGRIND_STOP_INSTRUMENTATION;
}
