/* No valgrind headers at build time: counting is unavailable and says so
 * (bench kernels --count refuses before any work). */
#include "../instruction_count.h"

bool gs_instruction_count_available(void) { return false; }

bool gs_instruction_count_running(void) { return false; }

void gs_instruction_count_start(void) {}

void gs_instruction_count_stop(const char *label) { (void)label; }
