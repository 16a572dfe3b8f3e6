#include "dist_runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

#include "dist/dist.h"
#include "synthetic.h"
#include "test_paths.h"

const char *dist_unavailable(void) {
    if (!gs_dist_available()) return "this geossl is built without MPI (apt-get install libopenmpi-dev, rebuild)";
    if (system("command -v mpirun >/dev/null 2>&1") != 0) return "mpirun is not installed (apt-get install openmpi-bin)";
    return NULL;
}

void dist_make_data(const char *format, char *dir, size_t dir_size, char *spec, size_t spec_size) {
    const char *why = dist_unavailable();
    if (why) cr_skip_test("%s", why);
    cr_assert(test_temp_dir(dir, dir_size)[0]);
    char data[1024];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(spec, spec_size, "%s:%s", format, data);
    gs_synth_options so = !strcmp(format, "seco") ? (gs_synth_options){.seed = 2, .count = 400, .size = 36, .dates = 3}
                                                  : (gs_synth_options){.seed = 2, .count = 60};
    gs_error err = {0};
    cr_assert_eq(gs_synth_write(format, data, &so, &err), GS_OK, "%s", err.message);
}

void dist_command(char *buf, size_t size, int ranks, const char *args) {
    /* CI runs as root, which Open MPI refuses unless told; vader is shared
     * memory, self the loopback to a rank's own messages, and vader's
     * single-copy (cross-memory attach) is off because containers often
     * forbid the ptrace it needs.  In the sanitizer
     * build the ranks run without LeakSanitizer: Open MPI's plugins leak at
     * exit and are unloaded by then, so their leaks cannot be named to be
     * suppressed (memory errors are still caught; the one-process runs
     * beside them keep leak checking). */
    if (ranks > 0)
        snprintf(buf, size,
                 "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 "
                 "ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:detect_leaks=0\" "
                 "mpirun --oversubscribe -np %d --mca btl self,vader --mca btl_vader_single_copy_mechanism none "
                 "'%s' %s",
                 ranks, GEOSSL_BINARY, args);
    else
        snprintf(buf, size, "'%s' %s", GEOSSL_BINARY, args);
}

int dist_shell(const char *command, char *out, size_t size) {
    /* The command has quotes of its own: it runs from a script file. */
    char full[256];
    char script[] = "/tmp/geossl-dist-XXXXXX";
    int fd = mkstemp(script);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "w");
    fprintf(f, "%s\n", command);
    fclose(f);
    snprintf(full, sizeof full, "timeout 300 sh '%s' 2>&1", script);
    FILE *p = popen(full, "r");
    if (!p) {
        remove(script);
        return -1;
    }
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    remove(script);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int dist_read_losses(const char *run_dir, double *loss, int max) {
    char path[1024], line[512];
    snprintf(path, sizeof path, "%s/log.csv", run_dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0;
    if (fgets(line, sizeof line, f))
        while (n < max && fgets(line, sizeof line, f)) {
            long long step, epoch;
            if (sscanf(line, "%lld,%lld,%lf", &step, &epoch, &loss[n]) == 3) n++;
        }
    fclose(f);
    return n;
}
