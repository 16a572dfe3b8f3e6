/* The collectives on MPI.  Every collective is started non-blocking and
 * waited for with a deadline, so a rank that died or hangs turns into an
 * error naming what waited, never a silent hang; the caller then ends the
 * job (gs_dist_abort). */
#include "dist.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TAG_CHECK_IN 7101
#define TAG_VERDICT 7102
#define TAG_PING 7103 /* "are you there?", asked by a rank whose wait ran out */
#define TAG_PONG 7104

struct gs_dist_pending {
    MPI_Request request;
    gs_dist_pending *next;
};

typedef struct mpi_job {
    MPI_Comm comm;
    bool started_mpi; /* this process called MPI_Init (and so MPI_Finalize) */
    gs_dist_pending *pending;
    /* The check-in's message buffers live with the job, not on a stack
     * frame: after a timeout a late message may still land in them. */
    long long check_step, check_verdict;
    long long *check_steps; /* rank 0: one per other rank */
} mpi_job;

bool gs_dist_available(void) { return true; }

const char *gs_dist_library(void) {
#if defined(OMPI_MAJOR_VERSION)
#define GS_STR2(x) #x
#define GS_STR(x) GS_STR2(x)
    return "MPI (Open MPI " GS_STR(OMPI_MAJOR_VERSION) "." GS_STR(OMPI_MINOR_VERSION) "." GS_STR(OMPI_RELEASE_VERSION) ")";
#else
    return "MPI";
#endif
}

static mpi_job *job(gs_dist *d) { return d ? d->impl : NULL; }

/* A rank that waits answers other ranks' pings, so that a rank whose own
 * wait ran out can tell the ranks that are waiting too from the one that
 * died or hangs. */
static void answer_pings(MPI_Comm comm) {
    for (;;) {
        int flag = 0;
        MPI_Status status;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_PING, comm, &flag, &status);
        if (!flag) return;
        char byte;
        MPI_Recv(&byte, 1, MPI_CHAR, status.MPI_SOURCE, TAG_PING, comm, MPI_STATUS_IGNORE);
        MPI_Send(&byte, 1, MPI_CHAR, status.MPI_SOURCE, TAG_PONG, comm);
    }
}

/* Waits for n requests until the deadline: spins briefly (a sum of a few
 * values answers within microseconds), then sleeps between tests so a
 * waiting rank leaves the cores to the ranks still computing. */
static bool wait_until(MPI_Comm comm, MPI_Request *requests, int n, double timeout_s) {
    double start = MPI_Wtime();
    for (long spins = 0;; spins++) {
        int done = 0;
        MPI_Testall(n, requests, &done, MPI_STATUSES_IGNORE);
        if (done) return true;
        if (MPI_Wtime() - start > timeout_s) return false;
        if (spins > 200) {
            answer_pings(comm);
            nanosleep(&(struct timespec){.tv_nsec = 50000}, NULL);
        }
    }
}

/* Pings every other rank and names those that do not answer within `window`
 * seconds into `names`; false when every rank answered. */
static bool silent_ranks(gs_dist *d, double window, char *names, size_t size) {
    mpi_job *j = d->impl;
    int others = d->size - 1;
    MPI_Request *r = calloc((size_t)(2 * others), sizeof *r);
    char *bytes = calloc((size_t)(2 * others), 1);
    names[0] = '\0';
    if (!r || !bytes) {
        free(r), free(bytes);
        return false;
    }
    for (int k = 0, peer = 0; peer < d->size; peer++) {
        if (peer == d->rank) continue;
        MPI_Isend(&bytes[k], 1, MPI_CHAR, peer, TAG_PING, j->comm, &r[k]);
        MPI_Irecv(&bytes[others + k], 1, MPI_CHAR, peer, TAG_PONG, j->comm, &r[others + k]);
        k++;
    }
    wait_until(j->comm, r + others, others, window);
    size_t used = 0;
    for (int k = 0, peer = 0; peer < d->size; peer++) {
        if (peer == d->rank) continue;
        int done = 0;
        MPI_Test(&r[others + k], &done, MPI_STATUS_IGNORE);
        if (!done && used + 16 < size) used += (size_t)snprintf(names + used, size - used, "%s%d", used ? ", " : "", peer);
        k++;
    }
    free(r), free(bytes);
    return used > 0;
}

static gs_status timed_out(gs_dist *d, const char *what, gs_error *err) {
    char names[256];
    double window = d->timeout_s < 10 ? d->timeout_s : 10;
    if (silent_ranks(d, window, names, sizeof names))
        return gs_error_set(err, GS_ERR_IO, "rank %d: %s waited %.0f s, and rank %s does not answer: it died or hangs "
                            "(--dist-timeout sets the wait)", d->rank, what, d->timeout_s, names);
    return gs_error_set(err, GS_ERR_IO, "rank %d: %s waited %.0f s although every rank answers: the ranks are not "
                        "running the same step (--dist-timeout sets the wait)", d->rank, what, d->timeout_s);
}

gs_status gs_dist_init(gs_dist *d, double timeout_s, gs_error *err) {
    memset(d, 0, sizeof *d);
    d->size = 1;
    d->timeout_s = timeout_s;
    if (gs_dist_launched_size() <= 1) return GS_OK; /* a job of one: no MPI at all */
    mpi_job *j = calloc(1, sizeof *j);
    if (!j) return gs_error_set(err, GS_ERR_MEMORY, "out of memory joining the job");
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
        int provided = 0;
        /* Only the main thread calls MPI (OpenMP threads compute between calls). */
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
            free(j);
            return gs_error_set(err, GS_ERR_IO, "MPI_Init failed: is this process started by mpirun?");
        }
        j->started_mpi = true;
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &j->comm);
    MPI_Comm_rank(j->comm, &d->rank);
    MPI_Comm_size(j->comm, &d->size);
    d->impl = j;
    return GS_OK;
}

void gs_dist_finish(gs_dist *d) {
    mpi_job *j = job(d);
    if (!j) return;
    gs_error ignored = {0};
    gs_dist_finish_all(d, &ignored);
    MPI_Comm_free(&j->comm);
    if (j->started_mpi) MPI_Finalize();
    free(j->check_steps);
    free(j);
    d->impl = NULL;
}

void gs_dist_abort(gs_dist *d, int exit_code) {
    mpi_job *j = job(d);
    if (j) MPI_Abort(j->comm, exit_code);
    exit(exit_code);
}

static gs_status sum(gs_dist *d, void *buf, int64_t n, MPI_Datatype type, const char *what, gs_error *err) {
    mpi_job *j = job(d);
    if (!j || n == 0) return GS_OK;
    if (n > 0x7fffffff) return gs_error_set(err, GS_ERR_ARGUMENT, "%s of %lld values: too many for one call", what, (long long)n);
    MPI_Request r;
    MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, type, MPI_SUM, j->comm, &r);
    return wait_until(j->comm, &r, 1, d->timeout_s) ? GS_OK : timed_out(d, what, err);
}

gs_status gs_dist_sum_f32(gs_dist *d, float *buf, int64_t n, gs_error *err) {
    return sum(d, buf, n, MPI_FLOAT, "a sum", err);
}

gs_status gs_dist_sum_f64(gs_dist *d, double *buf, int64_t n, gs_error *err) {
    return sum(d, buf, n, MPI_DOUBLE, "a sum", err);
}

gs_status gs_dist_gather_f32(gs_dist *d, const float *mine, int64_t n, float *all, gs_error *err) {
    mpi_job *j = job(d);
    if (!j) {
        if (all != mine) memmove(all, mine, (size_t)n * sizeof *all);
        return GS_OK;
    }
    MPI_Request r;
    MPI_Iallgather(mine, (int)n, MPI_FLOAT, all, (int)n, MPI_FLOAT, j->comm, &r);
    return wait_until(j->comm, &r, 1, d->timeout_s) ? GS_OK : timed_out(d, "a gather", err);
}

gs_status gs_dist_broadcast_bytes(gs_dist *d, void *buf, int64_t n, int root, gs_error *err) {
    mpi_job *j = job(d);
    if (!j || n == 0) return GS_OK;
    MPI_Request r;
    MPI_Ibcast(buf, (int)n, MPI_BYTE, root, j->comm, &r);
    return wait_until(j->comm, &r, 1, d->timeout_s) ? GS_OK : timed_out(d, "a broadcast", err);
}

gs_status gs_dist_broadcast_f32(gs_dist *d, float *buf, int64_t n, int root, gs_error *err) {
    return gs_dist_broadcast_bytes(d, buf, n * (int64_t)sizeof *buf, root, err);
}

/* Rank 0 hears from every other rank by name (one message each, so it knows
 * who is missing), then tells each the verdict: 0 to go on, else the rank
 * that failed + 1. */
gs_status gs_dist_check_in(gs_dist *d, int64_t step, gs_error *err) {
    mpi_job *j = job(d);
    if (!j) return GS_OK;
    long long mine = (long long)step;
    j->check_step = mine;
    if (d->rank != 0) {
        j->check_verdict = -1;
        MPI_Request r[2];
        MPI_Isend(&j->check_step, 1, MPI_LONG_LONG, 0, TAG_CHECK_IN, j->comm, &r[0]);
        MPI_Irecv(&j->check_verdict, 1, MPI_LONG_LONG, 0, TAG_VERDICT, j->comm, &r[1]);
        if (!wait_until(j->comm, r, 2, d->timeout_s))
            return gs_error_set(err, GS_ERR_IO, "rank %d: rank 0 did not answer within %.0f s at step %lld: it died "
                                "or hangs (--dist-timeout sets the wait)", d->rank, d->timeout_s, mine);
        if (j->check_verdict != 0)
            return gs_error_set(err, GS_ERR_IO, "rank %d: stopping at step %lld: rank %lld did not reach it", d->rank,
                                mine, j->check_verdict - 1);
        return GS_OK;
    }
    int others = d->size - 1;
    if (!j->check_steps) j->check_steps = calloc((size_t)others, sizeof *j->check_steps);
    long long *steps = j->check_steps;
    MPI_Request *r = calloc((size_t)others, sizeof *r);
    if (!steps || !r) {
        free(r);
        return gs_error_set(err, GS_ERR_MEMORY, "out of memory checking the ranks in");
    }
    for (int i = 0; i < others; i++) MPI_Irecv(&steps[i], 1, MPI_LONG_LONG, i + 1, TAG_CHECK_IN, j->comm, &r[i]);
    wait_until(j->comm, r, others, d->timeout_s);
    char missing[256] = "";
    size_t used = 0;
    long long failed = 0;
    for (int i = 0; i < others; i++) {
        int done = 0;
        MPI_Test(&r[i], &done, MPI_STATUS_IGNORE);
        if (done && steps[i] == mine) continue;
        if (!failed) failed = i + 2; /* rank i + 1, sent as rank + 1 */
        if (used < sizeof missing - 32)
            used += (size_t)snprintf(missing + used, sizeof missing - used, "%s%d%s", used ? ", " : "", i + 1,
                                     done ? " (at another step)" : "");
    }
    for (int i = 0; i < others; i++) MPI_Send(&failed, 1, MPI_LONG_LONG, i + 1, TAG_VERDICT, j->comm);
    free(r); /* a receive still open writes into check_steps, which the job keeps */
    if (failed)
        return gs_error_set(err, GS_ERR_IO, "rank 0: rank %s did not report in within %.0f s at step %lld: it died "
                            "or hangs (--dist-timeout sets the wait)", missing, d->timeout_s, mine);
    return GS_OK;
}

gs_status gs_dist_sum_f32_start(gs_dist *d, float *buf, int64_t n, gs_dist_pending **out, gs_error *err) {
    *out = NULL;
    mpi_job *j = job(d);
    if (!j || n == 0) return GS_OK;
    gs_dist_pending *p = calloc(1, sizeof *p);
    if (!p) return gs_error_set(err, GS_ERR_MEMORY, "out of memory starting a sum");
    MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, j->comm, &p->request);
    p->next = j->pending;
    j->pending = p;
    *out = p;
    return GS_OK;
}

void gs_dist_progress(gs_dist *d) {
    mpi_job *j = job(d);
    if (!j || !j->pending) return;
    int flag = 0;
    /* One test drives the progress engine for every outstanding request. */
    MPI_Test(&j->pending->request, &flag, MPI_STATUS_IGNORE);
}

gs_status gs_dist_finish_all(gs_dist *d, gs_error *err) {
    mpi_job *j = job(d);
    if (!j) return GS_OK;
    gs_status status = GS_OK;
    double start = MPI_Wtime();
    while (j->pending) {
        gs_dist_pending *p = j->pending;
        double left = d->timeout_s - (MPI_Wtime() - start);
        if (status == GS_OK && !wait_until(j->comm, &p->request, 1, left > 0 ? left : 0))
            status = timed_out(d, "the gradient sum", err);
        j->pending = p->next;
        free(p);
    }
    return status;
}
