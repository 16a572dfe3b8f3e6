#include "kernel_count.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "instruction_count.h"

/* The callgrind dump `path`: its label and its total, or false. */
static bool read_dump(const char *path, char *label, size_t size, long long *total) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char line[1024];
    bool have_label = false, have_total = false;
    static const char TRIGGER[] = "desc: Trigger: Client Request: ";
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, TRIGGER, sizeof TRIGGER - 1)) {
            size_t n = strlen(line + sizeof TRIGGER - 1);
            if (n >= size) n = size - 1;
            memcpy(label, line + sizeof TRIGGER - 1, n);
            label[n] = '\0';
            have_label = true;
        } else if (!strncmp(line, "summary: ", 9) || !strncmp(line, "totals: ", 8)) {
            *total = atoll(strchr(line, ' ') + 1);
            have_total = true;
        }
    }
    fclose(f);
    return have_label && have_total;
}

/* Whether valgrind's log holds `text`. */
static bool log_mentions(const char *path, const char *text) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

/* The temporary folder and what valgrind wrote into it. */
static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        remove(path);
    }
    if (d) closedir(d);
    rmdir(dir);
}

gs_status gs_kernel_count(const char *program, const char *only, const char *backend, FILE *out, gs_error *err) {
    if (!gs_instruction_count_available())
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "this geossl was built without valgrind's headers: apt-get install valgrind, then "
                            "rebuild (cmake finds valgrind/callgrind.h)");
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/geossl-count-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return gs_error_set(err, GS_ERR_IO, "cannot make a folder %s for callgrind's output", dir);
    char out_file[4200], log_file[4200], out_arg[4300];
    snprintf(out_file, sizeof out_file, "%s/cg.out", dir);
    snprintf(log_file, sizeof log_file, "%s/valgrind.log", dir);
    snprintf(out_arg, sizeof out_arg, "--callgrind-out-file=%s", out_file);
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        remove_dir(dir);
        return gs_error_set(err, GS_ERR_IO, "cannot start valgrind: %s", strerror(errno));
    }
    if (child == 0) {
        /* Pinned CPU paths: OpenBLAS's and oneDNN's SSE4.1 kernels exist on
         * every x86-64 CPU of the last decade, and valgrind runs them about 30
         * times faster than AVX2/FMA ones (it emulates FMA through helpers). */
        setenv("OPENBLAS_CORETYPE", "Nehalem", 1);
        setenv("ONEDNN_MAX_CPU_ISA", "SSE41", 1);
        setenv("OMP_NUM_THREADS", "1", 1);
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        FILE *log = freopen(log_file, "w", stderr);
        (void)log;
        char *argv[20];
        int n = 0;
        argv[n++] = "valgrind";
        argv[n++] = "--tool=callgrind";
        argv[n++] = "--collect-atstart=no";
        argv[n++] = "--instr-atstart=no";
        argv[n++] = "--smc-check=all-non-file"; /* oneDNN writes its kernels at run time */
        argv[n++] = out_arg;
        argv[n++] = (char *)program;
        argv[n++] = "bench";
        argv[n++] = "kernels";
        argv[n++] = "--count";
        argv[n++] = "--threads";
        argv[n++] = "1";
        argv[n++] = "--quiet";
        if (only) {
            argv[n++] = "--only";
            argv[n++] = (char *)only;
        }
        if (backend) {
            argv[n++] = "--backend";
            argv[n++] = (char *)backend;
        }
        argv[n] = NULL;
        if (!freopen("/dev/null", "w", stdout)) _exit(126);
        execvp("valgrind", argv);
        fprintf(stderr, "cannot run valgrind: %s\n", strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (log_mentions(log_file, "unhandled instruction")) {
            gs_error_set(err, GS_ERR_ARGUMENT,
                         "valgrind cannot run an instruction of this build (AVX-512 from -march=native on this "
                         "CPU?): build with cmake -DGEOSSL_MARCH=x86-64-v3 to count; valgrind's log: %s",
                         log_file);
            return err->status;
        }
        gs_error_set(err, GS_ERR_IO,
                     code == 127 ? "valgrind is not on PATH (apt-get install valgrind)"
                                 : "the counting run under valgrind failed (exit %d); its log: %s",
                     code, log_file);
        if (code == 127) remove_dir(dir);
        return err->status;
    }
    fprintf(out, "op,shape,pass,instructions\n");
    int rows = 0;
    for (int n = 1;; n++) { /* callgrind numbers its dumps 1, 2, ... without gaps */
        char path[4300], label[512];
        long long total = 0;
        snprintf(path, sizeof path, "%s.%d", out_file, n);
        if (access(path, F_OK)) break;
        if (!read_dump(path, label, sizeof label, &total)) continue;
        for (char *bar = strchr(label, '|'); bar; bar = strchr(bar, '|')) *bar = ',';
        fprintf(out, "%s,%lld\n", label, total);
        rows++;
    }
    remove_dir(dir);
    if (rows == 0)
        return gs_error_set(err, GS_ERR_FORMAT, "callgrind wrote no counted kernel%s%s", only ? " for --only " : "",
                            only ? only : "");
    return GS_OK;
}
