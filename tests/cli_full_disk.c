/* A full disk while geossl writes its HDF5 files (issue 15): the dataset
 * cache, a checkpoint, the feature cache.  Each write fails with a clean
 * error naming the file, leaves no file under its final name and no
 * temporary one, and leaves libhdf5 able to shut down: after a failed
 * H5Fclose, libhdf5 1.10 crashed in its exit handler (H5F__close_cb from
 * H5_term_library).  eval goes on without a feature cache it cannot write
 * and saves its rows.
 *
 * No mount is needed.  This test program replaces pwrite() and fallocate()
 * (the program's own definitions take precedence over libc's for libhdf5
 * too): for files whose path holds FULL_DIR, a write or an allocation that
 * would reach past $GS_TEST_DISK_BYTES fails with ENOSPC, as on a disk
 * with that much room; with $GS_TEST_DISK_NO_FALLOCATE set, fallocate is
 * unsupported (as on some network filesystems), so libhdf5's own writes
 * are the ones that fail.  A child process runs each write and shuts
 * libhdf5 down (H5close, what the exit handler does), so a crash there is
 * seen as the child's death.  One more test runs the geossl program under
 * a real file size limit (RLIMIT_FSIZE). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache.h"
#include "cli_capture.h"
#include "commands.h"
#include "feature_set.h"
#include "io/checkpoint.h"
#include "results_store.h"
#include "synthetic.h"
#include "test_paths.h"

#define FULL_DIR "/full-disk/"

/* ---- the simulated disk ------------------------------------------------ */

/* Whether fd is a file on the simulated disk, and the room it has. */
static bool on_full_disk(int fd, long long *room) {
    const char *bytes = getenv("GS_TEST_DISK_BYTES");
    if (!bytes) return false;
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0) return false;
    target[n] = '\0';
    *room = atoll(bytes);
    return strstr(target, FULL_DIR) != NULL;
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    long long room;
    if (on_full_disk(fd, &room) && offset + (long long)count > room) {
        errno = ENOSPC;
        return -1;
    }
    return syscall(SYS_pwrite64, fd, buf, count, offset);
}

int fallocate(int fd, int mode, off_t offset, off_t len) {
    long long room;
    if (on_full_disk(fd, &room)) {
        if (getenv("GS_TEST_DISK_NO_FALLOCATE")) {
            errno = EOPNOTSUPP;
            return -1;
        }
        if (offset + (long long)len > room) {
            errno = ENOSPC;
            return -1;
        }
    }
    return (int)syscall(SYS_fallocate, fd, mode, offset, len);
}

/* ---- helpers ------------------------------------------------------------ */

typedef struct place {
    char dir[256], data[320], spec[400], full[320];
} place;

static void make_place(place *p, int count) {
    cr_assert(test_temp_dir(p->dir, sizeof p->dir)[0]);
    snprintf(p->data, sizeof p->data, "%s/eurosat", p->dir);
    snprintf(p->spec, sizeof p->spec, "eurosat-rgb:%s", p->data);
    snprintf(p->full, sizeof p->full, "%s" FULL_DIR, p->dir);
    cr_assert_eq(mkdir(p->full, 0755), 0);
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("eurosat-rgb", p->data, &(gs_synth_options){.seed = 1, .count = count}, &err), GS_OK,
                 "%s", err.message);
}

static int entries(const char *dir) {
    DIR *d = opendir(dir);
    cr_assert(d, "cannot list %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static long long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

typedef enum what { CACHE, CHECKPOINT, FEATURES } what;

/* The child's part: one write into path on a disk with `room` bytes, then
 * libhdf5 shut down.  Exit 0: written; WRITE_REFUSED: refused cleanly (GS_ERR_IO
 * naming the file and the reason); 30 and up: anything else (1 is what
 * the sanitizers exit with). */
#define WRITE_REFUSED 10
static int write_one(what w, const place *p, const char *path, long long room) {
    char bytes[32];
    snprintf(bytes, sizeof bytes, "%lld", room);
    setenv("GS_TEST_DISK_BYTES", bytes, 1);
    gs_error err = {0};
    gs_status st = GS_OK;
    const char *message = err.message;
    gs_context ctx;
    gs_param_list list = {0};
    gs_feature_set fs = {0};
    if (w == CACHE) {
        gs_dataset src;
        if (gs_dataset_open(p->spec, NULL, &src, &err) != GS_OK) return 30;
        st = gs_cache_build(&src, path, NULL, NULL, &err);
        gs_dataset_close(&src);
    } else if (w == CHECKPOINT) {
        gs_context_options co = {.n_threads = 1, .seed = 3};
        if (gs_context_init(&ctx, &co) != GS_OK) return 30;
        gs_tensor *t = gs_param_add(&ctx, &list, "conv1.weight", GS_PARAM_WEIGHT, GS_DIMS(64, 3, 7, 7));
        gs_tensor *v = gs_param_add(&ctx, &list, "bn1.running_var", GS_PARAM_BUFFER, GS_DIMS(64));
        if (!t || !v) return 30;
        gs_tensor_fill_normal(&ctx, t, 0.1f);
        gs_tensor_fill(v, 1.0f);
        gs_checkpoint_group g = {"model", &list};
        gs_checkpoint_meta meta = {.step = 7, .rng = ctx.rng, .architecture = "test", .config = "a = 1\n"};
        st = gs_checkpoint_save(&ctx, path, &g, 1, &meta);
        message = ctx.error;
    } else {
        fs.n = 300;
        fs.dim = 64;
        fs.n_classes = 10;
        fs.features = calloc((size_t)(fs.n * fs.dim), sizeof(float));
        fs.labels = calloc((size_t)fs.n, sizeof(int32_t));
        if (!fs.features || !fs.labels) return 30;
        st = gs_feature_set_save(path, "encoder|eurosat-rgb|300", &fs, &err);
    }
    int code = st == GS_OK ? 0 : st != GS_ERR_IO ? 32 : !strstr(message, path) ? 33
             : !strstr(message, strerror(ENOSPC)) && !strstr(message, "HDF5") ? 34 : WRITE_REFUSED;
    if (code >= 30) fprintf(stderr, "child (room %lld): status %d: %s\n", room, (int)st, message);
    if (w == CHECKPOINT) {
        gs_param_list_free(&list);
        gs_context_free(&ctx);
    }
    if (w == FEATURES) gs_feature_set_free(&fs);
    unsetenv("GS_TEST_DISK_BYTES");
    H5close(); /* what the exit handler does; it crashed on a half-closed file */
    return code;
}

/* Runs write_one in a child for each room size, checking it survived and
 * left either the whole file or nothing; the last room is enough. */
static void sweep(what w, bool fallocate_works) {
    place p;
    make_place(&p, 2);
    char path[400];
    snprintf(path, sizeof path, "%s%s", p.full, w == CACHE ? "c.h5" : w == CHECKPOINT ? "ckpt.h5" : "features.h5");
    long long rooms[] = {0, 256, 600, 4096, 20000, 60000, 120000, 200000, 240000, 1LL << 30};
    char log[400];
    snprintf(log, sizeof log, "%s/child-stderr.txt", p.dir);
    for (size_t k = 0; k < sizeof rooms / sizeof *rooms; k++) {
        fflush(NULL);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0 || dup2(fd, 2) < 0) _exit(40);
            if (fallocate_works) unsetenv("GS_TEST_DISK_NO_FALLOCATE");
            else setenv("GS_TEST_DISK_NO_FALLOCATE", "1", 1);
            _exit(write_one(w, &p, path, rooms[k]));
        }
        int status = 0;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        char said[4096] = "";
        FILE *f = fopen(log, "r");
        if (f) {
            said[fread(said, 1, sizeof said - 1, f)] = '\0';
            fclose(f);
        }
        cr_assert(WIFEXITED(status), "room %lld: the child died of signal %d: %s", rooms[k],
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0, said);
        int code = WEXITSTATUS(status);
        cr_expect(code == 0 || code == WRITE_REFUSED, "room %lld: child exit %d: %s", rooms[k], code, said);
        cr_expect(!strstr(said, "Sanitizer"), "room %lld: %s", rooms[k], said);
        /* libhdf5 reports memory it lost when it shuts down; with fallocate
         * geossl never lets one of its writes fail. */
        if (fallocate_works) cr_expect(!strstr(said, "HDF5"), "room %lld: %s", rooms[k], said);
        if (k + 1 == sizeof rooms / sizeof *rooms) cr_expect_eq(code, 0, "a large enough disk failed: %s", said);
        if (rooms[k] < 4096) cr_expect_eq(code, WRITE_REFUSED, "room %lld was enough", rooms[k]);
        cr_expect_eq(entries(p.full), code == 0 ? 1 : 0, "room %lld: %d files in %s", rooms[k], entries(p.full),
                     p.full);
        if (code == 0 && k + 1 < sizeof rooms / sizeof *rooms) cr_assert_eq(unlink(path), 0);
    }
    /* What was written with room is whole. */
    gs_error err = {0};
    if (w == CACHE) {
        gs_dataset c;
        cr_expect_eq(gs_cache_open(path, &c, &err), GS_OK, "%s", err.message);
        if (err.status == GS_OK) gs_dataset_close(&c);
    } else if (w == CHECKPOINT) {
        gs_context ctx;
        gs_context_options co = {.n_threads = 1};
        cr_assert_eq(gs_context_init(&ctx, &co), GS_OK);
        gs_checkpoint_info info;
        cr_expect_eq(gs_checkpoint_read_info(&ctx, path, &info), GS_OK, "%s", ctx.error);
        cr_expect_eq(info.step, 7);
        gs_checkpoint_info_free(&info);
        gs_context_free(&ctx);
    } else {
        gs_feature_set fs;
        cr_expect_eq(gs_feature_set_load(path, "encoder|eurosat-rgb|300", &fs, &err), GS_OK, "%s", err.message);
        cr_expect_eq(fs.n, 300);
        gs_feature_set_free(&fs);
    }
    test_remove_tree(p.dir);
}

/* A disk that can allocate ahead: geossl reserves the space before libhdf5
 * writes, so the failure is geossl's own, before libhdf5 sees one. */
Test(cli_full_disk, cache_build) { sweep(CACHE, true); }
Test(cli_full_disk, checkpoint_save) { sweep(CHECKPOINT, true); }
Test(cli_full_disk, feature_cache_save) { sweep(FEATURES, true); }

/* A disk that cannot: libhdf5's own writes fail, and the file it was
 * writing must still close once and go away. */
Test(cli_full_disk, cache_build_without_fallocate) { sweep(CACHE, false); }
Test(cli_full_disk, checkpoint_save_without_fallocate) { sweep(CHECKPOINT, false); }
Test(cli_full_disk, feature_cache_save_without_fallocate) { sweep(FEATURES, false); }

/* eval with its cache folder on a full disk: the band statistics and the
 * feature cache cannot be stored; it says so once each and saves its rows. */
Test(cli_full_disk, eval_saves_its_rows_when_its_caches_cannot_be_written) {
    place p;
    make_place(&p, 5);
    char results[400];
    snprintf(results, sizeof results, "%s/results.csv", p.dir);
    setenv("GEOSSL_CACHE_DIR", p.full, 1);
    for (int no_fallocate = 0; no_fallocate < 2; no_fallocate++) {
        setenv("GS_TEST_DISK_BYTES", "3000", 1);
        if (no_fallocate) setenv("GS_TEST_DISK_NO_FALLOCATE", "1", 1);
        captured c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--protocol", "knn", "--data", p.spec,
                                                 "--width", "8", "--threads", "1", "--workers", "1", "--seed",
                                                 no_fallocate ? "1" : "0", "--results", results, NULL});
        unsetenv("GS_TEST_DISK_BYTES");
        unsetenv("GS_TEST_DISK_NO_FALLOCATE");
        cr_assert_eq(c.rc, 0, "eval failed: %s", c.err);
        const char *said = strstr(c.err, "evaluating without the feature cache");
        cr_expect(said && !strstr(said + 1, "evaluating without the feature cache"), "said not exactly once: %s",
                  c.err);
        cr_expect(strstr(c.err, p.full), "the file is not named: %s", c.err);
        cr_expect_eq(entries(p.full), 1, "%d files in %s (the band statistics only)", entries(p.full), p.full);
    }
    unsetenv("GEOSSL_CACHE_DIR");
    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(results, &r, &err), GS_OK, "%s", err.message);
    cr_expect_gt(r.n_rows, 2, "%d rows saved", (int)r.n_rows);
    gs_results_free(&r);
    test_remove_tree(p.dir);
}

/* eval with a cache folder that cannot even be made (under a file): no
 * band statistics or features are stored, and the rows are saved. */
Test(cli_full_disk, eval_saves_its_rows_without_a_cache_folder) {
    place p;
    make_place(&p, 5);
    char results[400], blocker[400], cache[420];
    snprintf(results, sizeof results, "%s/results.csv", p.dir);
    snprintf(blocker, sizeof blocker, "%s/a-file", p.dir);
    snprintf(cache, sizeof cache, "%s/cache", blocker);
    FILE *f = fopen(blocker, "w");
    cr_assert(f);
    fclose(f);
    setenv("GEOSSL_CACHE_DIR", cache, 1);
    captured c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--protocol", "knn", "--data", p.spec, "--width",
                                             "8", "--threads", "1", "--workers", "1", "--results", results, NULL});
    unsetenv("GEOSSL_CACHE_DIR");
    cr_assert_eq(c.rc, 0, "eval failed: %s", c.err);
    cr_expect(strstr(c.err, "band statistics") && strstr(c.err, "going on without storing them"), "%s", c.err);
    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(results, &r, &err), GS_OK, "%s", err.message);
    cr_expect_gt(r.n_rows, 2, "%d rows saved", (int)r.n_rows);
    gs_results_free(&r);
    test_remove_tree(p.dir);
}

/* The program itself under a real file size limit (as `ulimit -f`): a
 * clean error naming the cache, exit status 1, no crash at exit, nothing
 * left in the folder. */
Test(cli_full_disk, data_cache_under_a_file_size_limit) {
    place p;
    make_place(&p, 2);
    char out[400], log[400];
    snprintf(out, sizeof out, "%sc.h5", p.full);
    snprintf(log, sizeof log, "%s/stderr.txt", p.dir);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 2) < 0) _exit(40);
        signal(SIGXFSZ, SIG_IGN); /* inherited by the program: EFBIG instead of the signal */
        struct rlimit limit = {100000, 100000};
        if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(41);
        execl(GEOSSL_BINARY, GEOSSL_BINARY, "data", "cache", p.spec, "--out", out, (char *)NULL);
        _exit(42);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    char said[8192] = "";
    FILE *f = fopen(log, "r");
    if (f) {
        said[fread(said, 1, sizeof said - 1, f)] = '\0';
        fclose(f);
    }
    cr_assert(WIFEXITED(status), "geossl died of signal %d: %s", WIFSIGNALED(status) ? WTERMSIG(status) : 0, said);
    cr_expect_eq(WEXITSTATUS(status), 1, "%s", said);
    cr_expect(strstr(said, out) && strstr(said, strerror(EFBIG)), "%s", said);
    cr_expect(!strstr(said, "Sanitizer") && !strstr(said, "HDF5"), "%s", said);
    cr_expect_eq(entries(p.full), 0, "files left in %s", p.full);
    cr_expect_eq(file_size(out), -1);
    test_remove_tree(p.dir);
}
