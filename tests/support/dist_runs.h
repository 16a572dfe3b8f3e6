/* Running geossl under mpirun from a test: two ranks on loopback, one
 * thread each, as the dist_* tests do (tests/dist_*.c). */
#ifndef GS_TEST_DIST_RUNS_H
#define GS_TEST_DIST_RUNS_H

#include <stdbool.h>
#include <stddef.h>

/* Why these tests cannot run here (no MPI in this build, no mpirun), or NULL. */
const char *dist_unavailable(void);
/* The command line that starts `ranks` copies of geossl with `args`
 * ("pretrain ..."); ranks 0 runs geossl alone, without mpirun. */
void dist_command(char *buf, size_t size, int ranks, const char *args);
/* Runs a shell command, output (stdout and stderr) into out; its exit code. */
int dist_shell(const char *command, char *out, size_t size);
/* The loss column of a run folder's log.csv, step by step; the count. */
int dist_read_losses(const char *run_dir, double *loss, int max);

#endif
