/* Running geossl under mpirun from a test: two ranks on loopback, one
 * thread each, as the dist_* tests do (tests/dist_*.c). */
#ifndef GS_TEST_DIST_RUNS_H
#define GS_TEST_DIST_RUNS_H

#include <stdbool.h>
#include <stddef.h>

/* Why these tests cannot run here (no MPI in this build, no mpirun), or NULL. */
const char *dist_unavailable(void);
/* Skips the test (saying why) where MPI is missing; else a fresh temporary
 * folder in dir and generated data in dir/data, its FORMAT:PATH in spec:
 * eurosat-rgb, 360 training images (60 per class, 60/20/20), 5 steps of 64
 * an epoch; seco, 400 locations of 3 dates at 36 px (some held out), 5
 * steps of 64. */
void dist_make_data(const char *format, char *dir, size_t dir_size, char *spec, size_t spec_size);
/* The command line that starts `ranks` copies of geossl with `args`
 * ("pretrain ..."); ranks 0 runs geossl alone, without mpirun. */
void dist_command(char *buf, size_t size, int ranks, const char *args);
/* Runs a shell command, output (stdout and stderr) into out; its exit code. */
int dist_shell(const char *command, char *out, size_t size);
/* The loss column of a run folder's log.csv, step by step; the count. */
int dist_read_losses(const char *run_dir, double *loss, int max);

#endif
