/* A rank that dies or hangs stops the job within --dist-timeout with a
 * message, never a silent hang, and the last checkpoint stays loadable: one
 * process resumes it.  mpirun on loopback, 1 thread per rank. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dist_runs.h"
#include "test_paths.h"

typedef struct job {
    char dir[256], spec[320], run[320], output[320];
    pid_t mpirun;
} job;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void pause_ms(long ms) { nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000}, NULL); }

static void make_data(job *j) {
    dist_make_data("eurosat-rgb", j->dir, sizeof j->dir, j->spec, sizeof j->spec);
    snprintf(j->run, sizeof j->run, "%s/run", j->dir);
    snprintf(j->output, sizeof j->output, "%s/output.txt", j->dir);
}

/* 40 epochs of 5 steps: long enough to be stopped in the middle. */
static void pretrain_args(const job *j, char *args, size_t size, const char *extra) {
    snprintf(args, size,
             "pretrain --method simclr --data %s --batch 64 --width 8 --stem small --size 32 --epochs 40 --threads 1 "
             "--workers 1 --seed 3 -q --out %s --dist-timeout 5 %s",
             j->spec, j->run, extra);
}

/* Starts 2 ranks in the background, output into j->output. */
static void start(job *j) {
    char args[2048], command[4096];
    pretrain_args(j, args, sizeof args, "");
    dist_command(command, sizeof command, 2, args);
    char line[8192];
    /* exec env: mpirun takes this pid, so its children are the ranks. */
    snprintf(line, sizeof line, "exec env %s >'%s' 2>&1", command, j->output);
    j->mpirun = fork();
    cr_assert(j->mpirun >= 0);
    if (j->mpirun == 0) {
        execl("/bin/sh", "sh", "-c", line, (char *)NULL);
        _exit(127);
    }
}

/* The process of `rank` among mpirun's children (their environment says
 * which rank each is), or -1. */
static pid_t rank_pid(pid_t mpirun, int rank) {
    char want[64];
    snprintf(want, sizeof want, "OMPI_COMM_WORLD_RANK=%d", rank);
    DIR *proc = opendir("/proc");
    struct dirent *e;
    pid_t found = -1;
    while (proc && found < 0 && (e = readdir(proc))) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0) continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        int ppid = -1;
        if (f) {
            if (fgets(buf, sizeof buf, f)) {
                const char *close = strrchr(buf, ')');
                if (close) sscanf(close + 2, "%*c %d", &ppid);
            }
            fclose(f);
        }
        if (ppid != (int)mpirun) continue;
        snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
        f = fopen(path, "r");
        if (!f) continue;
        static char env[1 << 16];
        size_t n = fread(env, 1, sizeof env - 1, f);
        fclose(f);
        env[n] = '\0';
        for (size_t at = 0; at < n; at += strlen(env + at) + 1)
            if (!strcmp(env + at, want)) found = pid;
    }
    if (proc) closedir(proc);
    return found;
}

static void read_output(const job *j, char *out, size_t size) {
    FILE *f = fopen(j->output, "r");
    size_t n = f ? fread(out, 1, size - 1, f) : 0;
    out[n] = '\0';
    if (f) fclose(f);
}

/* Waits until the first epoch's checkpoint is there and both ranks run. */
static pid_t await_rank(job *j, int rank) {
    char checkpoint[400];
    snprintf(checkpoint, sizeof checkpoint, "%s/checkpoint.h5", j->run);
    double start = now_s();
    pid_t pid = -1;
    int status;
    while (now_s() - start < 120 && (access(checkpoint, F_OK) || (pid = rank_pid(j->mpirun, rank)) < 0)) {
        if (waitpid(j->mpirun, &status, WNOHANG) == j->mpirun) {
            char out[16384];
            read_output(j, out, sizeof out);
            cr_assert_fail("the job ended before it could be stopped:\n%s", out);
        }
        pause_ms(50);
    }
    cr_assert_gt(pid, 0, "no checkpoint, or no rank %d, within 120 s", rank);
    return pid;
}

/* mpirun's exit code, or -1 when it is still running after `limit` s. */
static int await_exit(job *j, double limit, double *took) {
    double start = now_s();
    int status = 0;
    while (now_s() - start < limit) {
        if (waitpid(j->mpirun, &status, WNOHANG) == j->mpirun) {
            *took = now_s() - start;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        pause_ms(50);
    }
    kill(j->mpirun, SIGKILL);
    waitpid(j->mpirun, &status, 0);
    return -1;
}


/* One process continues the run from its last checkpoint: the log then
 * holds every step from 1 on, once each. */
static void resume_alone(const job *j) {
    char args[2048], command[4096], out[16384];
    pretrain_args(j, args, sizeof args, "--resume --epochs 12");
    dist_command(command, sizeof command, 0, args);
    cr_assert_eq(dist_shell(command, out, sizeof out), 0, "%s\n%s", command, out);
    double loss[128];
    int steps = dist_read_losses(j->run, loss, 128);
    cr_expect_eq(steps, 12 * 5, "the resumed log has %d steps, not 60", steps);
}

Test(dist_failure, a_killed_rank_stops_the_job_and_one_process_resumes, .timeout = 300) {
    job j;
    make_data(&j);
    start(&j);
    pid_t victim = await_rank(&j, 1);
    cr_assert_eq(kill(victim, SIGKILL), 0);
    double took = 0;
    int rc = await_exit(&j, 60, &took);
    char out[16384];
    read_output(&j, out, sizeof out);
    cr_expect(rc != 0 && rc != -1, "mpirun after a killed rank: exit %d\n%s", rc, out);
    cr_log_info("killed rank 1: the job ended in %.1f s, exit %d", took, rc);
    resume_alone(&j);
    test_remove_tree(j.dir);
}

Test(dist_failure, a_hung_rank_is_named_within_the_timeout, .timeout = 300) {
    job j;
    make_data(&j);
    start(&j);
    pid_t victim = await_rank(&j, 1);
    cr_assert_eq(kill(victim, SIGSTOP), 0); /* alive but silent: what a deadlock looks like */
    double took = 0;
    int rc = await_exit(&j, 60, &took);
    kill(victim, SIGKILL); /* MPI_Abort has killed it; should it not have, it goes now */
    char out[16384];
    read_output(&j, out, sizeof out);
    cr_expect(rc != 0 && rc != -1, "mpirun after a stopped rank: exit %d\n%s", rc, out);
    cr_expect(strstr(out, "rank 1 does not answer") || strstr(out, "rank 1 did not report in"),
              "the message names the silent rank:\n%s", out);
    cr_log_info("stopped rank 1: the job ended in %.1f s (--dist-timeout 5), exit %d", took, rc);
    resume_alone(&j);
    test_remove_tree(j.dir);
}
