/* Checkpoints that were damaged or made hostile (issue 15), and saving on
 * a full disk: refused before libhdf5 reads them, naming the file; the
 * previous checkpoint survives a failed save. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <errno.h>
#include <float.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint_fixture.h"
#include "io/checkpoint.h"
#include "io/file_digest.h"
#include "test_paths.h"

/* ---- damaged and hostile files (issue 15) ------------------------------- */

static unsigned char *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_gt(n, 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)n);
    cr_assert(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void write_all(const char *path, const unsigned char *buf, size_t size) {
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot write %s", path);
    cr_assert_eq(fwrite(buf, 1, size, f), size);
    cr_assert_eq(fclose(f), 0);
}

/* Byte offset of the one place the file stores `value` (little-endian float). */
static size_t find_float(const char *path, float value) {
    size_t size, at = 0, hits = 0;
    unsigned char *buf = read_all(path, &size);
    for (size_t i = 0; i + sizeof value <= size; i++)
        if (!memcmp(buf + i, &value, sizeof value)) {
            at = i;
            hits++;
        }
    free(buf);
    cr_assert_eq(hits, 1, "%g is stored %zu times in %s", (double)value, hits, path);
    return at;
}

static void flip_bit(const char *path, size_t offset, int bit) {
    size_t size;
    unsigned char *buf = read_all(path, &size);
    cr_assert_lt(offset, size);
    buf[offset] ^= (unsigned char)(1u << bit);
    write_all(path, buf, size);
    free(buf);
}

/* A checkpoint as geossl wrote them before digests: the HDF5 data alone,
 * superblock at byte 0 (libhdf5 finds it there as well as at 512). */
static void strip_digest_header(const char *path) {
    size_t size;
    unsigned char *buf = read_all(path, &size);
    cr_assert_gt(size, (size_t)GS_DIGEST_BLOCK);
    write_all(path, buf + GS_DIGEST_BLOCK, size - GS_DIGEST_BLOCK);
    free(buf);
}

static void expect_stderr_empty(void) {
    fflush(stderr);
    cr_expect_stderr_eq_str("");
}

/* One flipped bit anywhere in the data (here the exponent of a weight,
 * which made it 1e38) is refused before libhdf5 reads the file, naming
 * the file and saying how to recover; metadata and shapes are refused too. */
Test(checkpoint_hostile, a_flipped_bit_is_refused_naming_the_file, .init = cr_redirect_stderr) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    checkpoint_fixture a, g;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    a.model.items[2].tensor->data[0] = 0.3125f;
    checkpoint_fixture_save(&a, path, 1);
    flip_bit(path, find_float(path, 0.3125f) + 3, 6);
    checkpoint_expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    cr_expect(strstr(g.ctx.error, "corrupt or was modified"), "%s", g.ctx.error);
    cr_expect(strstr(g.ctx.error, "earlier checkpoint") && strstr(g.ctx.error, "rerun"), "%s", g.ctx.error);
    gs_clear_error(&g.ctx);
    gs_checkpoint_info info;
    cr_expect_eq(gs_checkpoint_read_info(&g.ctx, path, &info), GS_ERR_FORMAT);
    int64_t dims[4];
    cr_expect_eq(gs_checkpoint_tensor_shape(path, "model/conv1.weight", dims, 4), 0);
    /* The header itself is covered: a bit of the stored digest. */
    checkpoint_fixture_save(&a, path, 1);
    flip_bit(path, 40, 0);
    checkpoint_fixture_free(&g);
    checkpoint_expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    cr_expect(strstr(g.ctx.error, "corrupt or was modified"), "%s", g.ctx.error);
    checkpoint_fixture_free(&a);
    checkpoint_fixture_free(&g);
    expect_stderr_empty();
    checkpoint_remove_temp(path);
}

/* The defect seen: one flipped bit put a negative value into a batchnorm
 * running variance and the checkpoint loaded.  The digest refuses the
 * flip; a file whose digest is right but whose variance (or AdamW second
 * moment) is negative is refused by the range check, naming the tensor. */
Test(checkpoint_hostile, negative_running_variance_is_refused, .init = cr_redirect_stderr) {
    const char *names[2] = {"bn1.running_var", "fc.weight.exp_avg_sq"};
    for (int n = 0; n < 2; n++) {
        char path[600];
        checkpoint_temp_file(path, sizeof path, "bn.h5");
        gs_context ctx, ctx2;
        gs_context_options co = {.n_threads = 1, .seed = 1};
        cr_assert_eq(gs_context_init(&ctx, &co), GS_OK);
        cr_assert_eq(gs_context_init(&ctx2, &co), GS_OK);
        gs_param_list list = {0}, loaded = {0};
        gs_tensor *t = gs_param_add(&ctx, &list, names[n], GS_PARAM_BUFFER, GS_DIMS(6));
        gs_tensor *u = gs_param_add(&ctx2, &loaded, names[n], GS_PARAM_BUFFER, GS_DIMS(6));
        cr_assert(t && u);
        gs_tensor_fill(t, 0.5f);
        t->data[0] = 0.0f; /* zero is a variance */
        t->data[3] = 0.3125f;
        gs_checkpoint_group group = {"model", &list}, into = {"model", &loaded};
        gs_checkpoint_meta meta = {.rng = ctx.rng, .architecture = ARCH};
        cr_assert_eq(gs_checkpoint_save(&ctx, path, &group, 1, &meta), GS_OK, "%s", ctx.error);
        cr_assert_eq(gs_checkpoint_load(&ctx2, path, &into, 1, NULL, NULL), GS_OK, "%s", ctx2.error);

        flip_bit(path, find_float(path, 0.3125f) + 3, 7); /* the sign bit */
        gs_tensor_fill(u, 7.0f);
        cr_expect_eq(gs_checkpoint_load(&ctx2, path, &into, 1, NULL, NULL), GS_ERR_FORMAT, "%s", names[n]);
        cr_expect(strstr(ctx2.error, path) && strstr(ctx2.error, "corrupt or was modified"), "%s", ctx2.error);
        gs_clear_error(&ctx2);

        checkpoint_reseal(path);
        cr_expect_eq(gs_checkpoint_load(&ctx2, path, &into, 1, NULL, NULL), GS_ERR_FORMAT, "%s", names[n]);
        cr_expect(strstr(ctx2.error, path) && strstr(ctx2.error, names[n]) && strstr(ctx2.error, "-0.3125"), "%s",
                  ctx2.error);
        cr_expect(checkpoint_list_all_equal(&loaded, 7.0f), "a refused load modified the model");
        gs_param_list_free(&list);
        gs_param_list_free(&loaded);
        gs_context_free(&ctx);
        gs_context_free(&ctx2);
        checkpoint_remove_temp(path);
    }
    expect_stderr_empty();
}

#define TRUST_ENV "GEOSSL_TRUST_CHECKPOINTS_WITHOUT_DIGEST"

/* A checkpoint written before digests is refused with a message that says
 * how to go on; with the variable set it loads, with a warning. */
Test(checkpoint_hostile, checkpoint_without_digest_is_refused_unless_trusted, .init = cr_redirect_stderr) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "old.h5");
    checkpoint_fixture a, g;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    checkpoint_fixture_save(&a, path, 4);
    strip_digest_header(path);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(file, 0, "the stripped file is not the HDF5 file an older geossl wrote");
    H5Fclose(file);

    unsetenv(TRUST_ENV);
    checkpoint_expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    cr_expect(strstr(g.ctx.error, "carries no digest") && strstr(g.ctx.error, TRUST_ENV "=1") &&
                  strstr(g.ctx.error, "rerun"),
              "%s", g.ctx.error);
    checkpoint_fixture_free(&g);

    setenv(TRUST_ENV, "1", 1);
    checkpoint_fixture_build(&g, 2, 5);
    gs_checkpoint_info info;
    gs_status st = gs_checkpoint_load(&g.ctx, path, g.groups, 2, &info, NULL);
    unsetenv(TRUST_ENV);
    cr_assert_eq(st, GS_OK, "%s", g.ctx.error);
    cr_expect_eq(info.step, 4);
    cr_expect(checkpoint_lists_same_bits(&a.model, &g.model) && checkpoint_lists_same_bits(&a.optim, &g.optim));
    gs_checkpoint_info_free(&info);
    checkpoint_fixture_free(&a);
    checkpoint_fixture_free(&g);
    fflush(stderr);
    char said[1024] = "";
    FILE *err = cr_get_redirected_stderr();
    size_t n = fread(said, 1, sizeof said - 1, err);
    said[n] = '\0';
    cr_expect(strstr(said, "carries no digest") && strstr(said, path), "no warning: '%s'", said);
    checkpoint_remove_temp(path);
}

/* What ../shared/repro holds: mutated checkpoints from before digests that
 * overflowed a heap buffer inside libhdf5 (H5Aexists) and made the reader
 * allocate 2.8 GB.  Refused, naming the file, before libhdf5 reads them. */
static void expect_repro_refused(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/../repro/%s", test_shared_data_dir(), name);
    if (access(path, R_OK) != 0) cr_skip_test("reproducer %s is absent", path);
    checkpoint_fixture g;
    checkpoint_expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    cr_expect(strstr(g.ctx.error, "carries no digest"), "%s", g.ctx.error);
    gs_clear_error(&g.ctx);
    gs_checkpoint_info info;
    cr_expect_eq(gs_checkpoint_read_info(&g.ctx, path, &info), GS_ERR_FORMAT);
    int64_t dims[4];
    cr_expect_eq(gs_checkpoint_tensor_shape(path, "heads/aspp.conv1x1.conv.weight", dims, 4), 0);
    checkpoint_fixture_free(&g);
    expect_stderr_empty();
}

Test(checkpoint_hostile, repro_hdf5_overflow_is_refused, .init = cr_redirect_stderr) {
    expect_repro_refused("checkpoint-hdf5-overflow.h5");
}

Test(checkpoint_hostile, repro_huge_string_is_refused, .init = cr_redirect_stderr) {
    expect_repro_refused("checkpoint-huge-string.h5");
}

/* The same kind of file made here, so the check runs without ../shared:
 * a checkpoint whose object headers were overwritten, once as an old file
 * (no digest) and once with its digest; neither reaches libhdf5. */
Test(checkpoint_hostile, mutated_checkpoints_are_refused_before_libhdf5, .init = cr_redirect_stderr) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "mutated.h5");
    for (int sealed = 0; sealed < 2; sealed++) {
        checkpoint_fixture a, g;
        checkpoint_fixture_build(&a, 1, 5);
        checkpoint_fixture_fill_values(&a);
        checkpoint_fixture_save(&a, path, 1);
        size_t size, base = sealed ? GS_DIGEST_BLOCK : 0;
        if (!sealed) strip_digest_header(path);
        unsigned char *buf = read_all(path, &size);
        /* Past the superblock: the root group's header, its attributes
         * (the format version H5Aexists read out of bounds) and the first
         * objects' headers. */
        for (size_t i = base + 96; i < base + 2048 && i < size; i += 37) buf[i] ^= 0xa5;
        write_all(path, buf, size);
        free(buf);
        checkpoint_expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
        cr_expect(strstr(g.ctx.error, sealed ? "corrupt or was modified" : "carries no digest"), "%s", g.ctx.error);
        gs_clear_error(&g.ctx);
        gs_checkpoint_info info;
        cr_expect_eq(gs_checkpoint_read_info(&g.ctx, path, &info), GS_ERR_FORMAT);
        checkpoint_fixture_free(&a);
        checkpoint_fixture_free(&g);
    }
    expect_stderr_empty();
    checkpoint_remove_temp(path);
}

/* A string whose declared size is larger than any configuration (and than
 * the file) is refused without allocating it, even in a file whose digest
 * is right (a digest is no signature: whoever writes a file can seal it). */
Test(checkpoint_hostile, a_huge_declared_string_is_not_allocated, .init = cr_redirect_stderr) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "huge.h5");
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    cr_assert_geq(H5Pset_userblock(fcpl, GS_DIGEST_BLOCK), 0);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    H5Pclose(fcpl);
    cr_assert_geq(file, 0);
    int version = GS_CHECKPOINT_FORMAT_VERSION;
    int64_t step = 1;
    uint64_t rng[4] = {1, 2, 3, 4};
    hsize_t four = 4;
    hid_t scalar = H5Screate(H5S_SCALAR), vec = H5Screate_simple(1, &four, NULL);
    hid_t a1 = H5Acreate2(file, "geossl_checkpoint_format", H5T_STD_I32LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
    hid_t a2 = H5Acreate2(file, "step", H5T_STD_I64LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
    hid_t a3 = H5Acreate2(file, "rng_state", H5T_STD_U64LE, vec, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(H5Awrite(a1, H5T_NATIVE_INT, &version), 0);
    cr_assert_geq(H5Awrite(a2, H5T_NATIVE_INT64, &step), 0);
    cr_assert_geq(H5Awrite(a3, H5T_NATIVE_UINT64, rng), 0);
    hid_t arch = H5Tcopy(H5T_C_S1);
    H5Tset_size(arch, strlen(ARCH) + 1);
    hid_t a4 = H5Acreate2(file, "architecture", arch, scalar, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(H5Awrite(a4, arch, ARCH), 0);
    /* 64 MiB declared, nothing stored (allocated late, never written). */
    hid_t huge = H5Tcopy(H5T_C_S1);
    cr_assert_geq(H5Tset_size(huge, (size_t)64 << 20), 0);
    hid_t config = H5Dcreate2(file, "config", huge, scalar, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(config, 0);
    H5Dclose(config);
    H5Tclose(huge);
    H5Tclose(arch);
    H5Aclose(a1);
    H5Aclose(a2);
    H5Aclose(a3);
    H5Aclose(a4);
    H5Sclose(scalar);
    H5Sclose(vec);
    cr_assert_geq(H5Fclose(file), 0);
    checkpoint_reseal(path);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_lt(st.st_size, 1 << 20, "the file stores the string after all");

    gs_context ctx;
    gs_context_options co = {.n_threads = 1};
    cr_assert_eq(gs_context_init(&ctx, &co), GS_OK);
    gs_checkpoint_info info;
    cr_expect_eq(gs_checkpoint_read_info(&ctx, path, &info), GS_ERR_FORMAT, "a 64 MiB string was read");
    cr_expect(strstr(ctx.error, path) && strstr(ctx.error, "config"), "%s", ctx.error);
    gs_context_free(&ctx);
    expect_stderr_empty();
    checkpoint_remove_temp(path);
}

/* A save that runs out of room (here a file size limit, as a full disk
 * would) fails cleanly: an error naming the file and the reason, no
 * temporary file, the previous checkpoint intact, and libhdf5 left in a
 * state it can shut down from (it crashed at exit after a failed close).
 * In a child, so the limit and libhdf5's shutdown stay out of this process. */
Test(checkpoint_hostile, save_on_a_full_disk_keeps_the_previous_checkpoint) {
    char path[600], tmp[620];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    checkpoint_fixture a, b;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    checkpoint_fixture_save(&a, path, 1);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    checkpoint_fixture_fill_constant(&a, 0.25f);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of the signal */
        struct rlimit limit = {(rlim_t)st.st_size, (rlim_t)st.st_size};
        if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(20);
        gs_checkpoint_meta meta = {.step = 2, .rng = a.ctx.rng, .architecture = ARCH, .config = CONFIG};
        gs_status status = gs_checkpoint_save(&a.ctx, path, a.groups, 2, &meta);
        int code = status != GS_ERR_IO                        ? 21
                   : !strstr(a.ctx.error, path)                ? 22
                   : !strstr(a.ctx.error, strerror(EFBIG))     ? 23
                                                               : 0;
        if (code) fprintf(stderr, "child: %s\n", a.ctx.error);
        H5close(); /* what the exit handler does; it crashed on a half-closed file */
        _exit(code);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "the child died of signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    cr_expect_eq(WEXITSTATUS(status), 0, "child exit %d (see its stderr)", WEXITSTATUS(status));
    cr_expect_eq(access(tmp, F_OK), -1, "%s left behind", tmp);
    checkpoint_fixture_build(&b, 2, 5);
    gs_checkpoint_info info;
    cr_assert_eq(gs_checkpoint_load(&b.ctx, path, b.groups, 2, &info, NULL), GS_OK, "%s", b.ctx.error);
    cr_expect_eq(info.step, 1);
    gs_checkpoint_info_free(&info);
    checkpoint_fixture_free(&a);
    checkpoint_fixture_free(&b);
    checkpoint_remove_temp(path);
}
