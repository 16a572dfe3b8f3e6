/* How many processes the launcher started: read from its environment,
 * before (and without) joining the job, in either build. */
#include "dist.h"

#include <stdlib.h>

int gs_dist_launched_size(void) {
    /* Open MPI's mpirun, then the PMI / PMIx process managers (srun, hydra). */
    const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char *v = getenv(names[i]);
        if (v && atoi(v) > 0) return atoi(v);
    }
    return 1;
}
