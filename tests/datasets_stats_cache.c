/* Band statistics against hand values, their stored file, and the HDF5
 * cache: bit-exact round trip of pixels, masks and metadata, reuse while the
 * source is unchanged, rebuild when it changes, errors for truncated and
 * foreign caches.  The samples are small uint16 GeoTIFFs written here, read
 * by an in-test format ("tiny") so these tests do not depend on the real
 * formats. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "image_io.h"
#include "io/file_digest.h"
#include "loader.h"
#include "stats.h"
#include "test_paths.h"

enum { N = 12, BANDS = 2, H = 3, W = 4, TRAIN = 8 };

/* Sample i: band 0 is i everywhere, band 1 is 60000 + pixel index (0..11):
 * over the 8 training samples, band 0 has mean 3.5 and variance
 * (8^2 - 1) / 12; band 1 has mean 60005.5 and variance (12^2 - 1) / 12, a
 * large offset that a naive sum of squares in float would lose. */
static float value(int i, int b, int p, int version) { return b == 0 ? (float)(i + version * 3) : (float)(60000 + p); }

static void write_sample(const char *root, int i, int version) {
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_raster_alloc(&r, BANDS, H, W, &err), GS_OK);
    for (int b = 0; b < BANDS; b++)
        for (int p = 0; p < H * W; p++) r.data[b * H * W + p] = value(i, b, p, version);
    char path[512];
    snprintf(path, sizeof path, "%s/t_%02d.tif", root, i);
    cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_U16, 0, &err), GS_OK, "%s", err.message);
    gs_raster_free(&r);
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }
static int is_tif(const struct dirent *e) { return strstr(e->d_name, ".tif") != NULL; }

static gs_status tiny_open(gs_dataset *ds, gs_error *err) {
    static const char *const classes[] = {"water", "field", "town"};
    if (gs_dataset_set_classes(ds, classes, 3, err) != GS_OK) return GS_ERR_MEMORY;
    ds->bands = BANDS;
    snprintf(ds->band_info[0].name, sizeof ds->band_info[0].name, "B04");
    ds->band_info[0].wavelength_nm = 664.6f;
    ds->band_info[0].resolution_m = 10;
    snprintf(ds->band_info[1].name, sizeof ds->band_info[1].name, "B08");
    ds->band_info[1].wavelength_nm = 832.8f;
    ds->height = H;
    ds->width = W;
    struct dirent **list;
    int n = scandir(ds->root, &list, is_tif, by_name);
    if (n < 0) return gs_error_set(err, GS_ERR_IO, "cannot list %s", ds->root);
    for (int k = 0; k < n; k++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", ds->root, list[k]->d_name);
        int i = atoi(list[k]->d_name + 2);
        gs_sample *s = gs_dataset_add_sample(ds, path, NULL, err);
        if (s) {
            s->label = i % 3;
            s->labels = (uint64_t)i * 37 | (1ULL << 63);
            s->split = i < TRAIN ? GS_SPLIT_TRAIN : GS_SPLIT_TEST;
            s->x = i * 100;
            s->y = -i;
            s->group = i / 4;
        }
        free(list[k]);
    }
    free(list);
    ds->task = ds->options.patch_size == 1 ? GS_TASK_SEGMENTATION : GS_TASK_CLASSIFICATION;
    return GS_OK;
}

/* Segmentation variant (options.patch_size = 1): the mask is a function of
 * the sample and pixel, with an unlabeled pixel (-1). */
static gs_status tiny_read(const gs_dataset *ds, int64_t index, gs_sample_data *out, gs_error *err) {
    gs_raster r;
    if (gs_tiff_read(ds->samples[index].path, &r, err) != GS_OK) return err->status;
    if (r.bands != BANDS || r.height != H || r.width != W) {
        gs_raster_free(&r);
        return gs_error_set(err, GS_ERR_FORMAT, "%s: wrong shape", ds->samples[index].path);
    }
    memcpy(out->pixels, r.data, sizeof(float) * BANDS * H * W);
    gs_raster_free(&r);
    if (out->mask)
        for (int p = 0; p < H * W; p++) out->mask[p] = p == 0 ? GS_IGNORE_LABEL : (int32_t)((index + p) % 3);
    return GS_OK;
}

static const gs_dataset_format tiny_format = {.name = "tiny", .summary = "in-test uint16 GeoTIFFs", .open = tiny_open,
                                              .read = tiny_read};

static void open_tiny(gs_dataset *ds, const char *root, bool segmentation) {
    memset(ds, 0, sizeof *ds);
    ds->format = &tiny_format;
    ds->root = strdup(root);
    ds->dates = 1;
    ds->options.patch_size = segmentation ? 1 : 0;
    gs_error err = {0};
    cr_assert_eq(tiny_open(ds, &err), GS_OK, "%s", err.message);
}

static void make_source(char *dir, size_t size) {
    test_temp_dir(dir, size);
    cr_assert(dir[0], "no temporary folder");
    for (int i = 0; i < N; i++) write_sample(dir, i, 0);
}

static void expect_hand_stats(const gs_band_stats *s) {
    cr_expect_eq(s->bands, 2);
    cr_expect_eq(s->samples, TRAIN);
    cr_expect_eq(s->values, TRAIN * H * W);
    cr_expect_float_eq(s->mean[0], 3.5, 1e-12);
    cr_expect_float_eq(s->std[0], sqrt(63.0 / 12), 1e-12, "%.17g", s->std[0]);
    cr_expect_float_eq(s->mean[1], 60005.5, 1e-9);
    cr_expect_float_eq(s->std[1], sqrt(143.0 / 12), 1e-9, "%.17g", s->std[1]);
}

Test(datasets_stats_cache, stats_match_hand_values_for_any_worker_count) {
    char dir[256];
    make_source(dir, sizeof dir);
    gs_dataset ds;
    open_tiny(&ds, dir, false);
    int64_t *idx, n;
    gs_error err = {0};
    cr_assert_eq(gs_stats_training_indices(&ds, &idx, &n, &err), GS_OK);
    cr_assert_eq(n, TRAIN, "only the training split");
    gs_band_stats one, two;
    cr_assert_eq(gs_stats_compute(&ds, idx, n, 1, NULL, &one, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_stats_compute(&ds, idx, n, 2, NULL, &two, &err), GS_OK, "%s", err.message);
    expect_hand_stats(&one);
    cr_expect_eq(memcmp(&one, &two, sizeof one), 0, "1 and 2 workers differ");
    cr_expect_eq(one.samples_hash, gs_stats_selection_hash(&ds, idx, n));
    /* A constant band normalizes by 1, not by 0. */
    gs_band_stats flat = {.bands = 1, .mean = {7}, .std = {0}};
    float m, s;
    gs_stats_to_float(&flat, &m, &s);
    cr_expect(m == 7 && s == 1);
    free(idx);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

Test(datasets_stats_cache, stats_file_is_reused_until_the_source_changes) {
    char dir[256], cache_dir[300], path[600];
    make_source(dir, sizeof dir);
    snprintf(cache_dir, sizeof cache_dir, "%s/cache/stats", dir);
    gs_dataset ds;
    open_tiny(&ds, dir, false);
    gs_band_stats s;
    gs_error err = {0};
    cr_assert_eq(gs_stats_get(&ds, cache_dir, 2, NULL, &s, &err), GS_OK, "%s", err.message);
    expect_hand_stats(&s);
    snprintf(path, sizeof path, "%s/tiny-%016llx.stats", cache_dir, (unsigned long long)gs_dataset_key(&ds));
    gs_band_stats loaded;
    gs_source_fingerprint fp;
    cr_assert_eq(gs_stats_load(path, &loaded, &fp, &err), GS_OK, "%s", err.message);
    cr_expect_eq(memcmp(&loaded, &s, sizeof s), 0, "the text file round trip is exact");
    cr_expect_eq(fp.files, N);
    /* Tamper with the stored mean: a reload returns it, proving the file is
     * used instead of recomputing. */
    loaded.mean[0] = 99;
    cr_assert_eq(gs_stats_save(path, &ds, &fp, &loaded, &err), GS_OK);
    cr_assert_eq(gs_stats_get(&ds, cache_dir, 2, NULL, &s, &err), GS_OK);
    cr_expect_eq(s.mean[0], 99.0);
    /* Another training selection is another set of statistics. */
    ds.samples[0].split = GS_SPLIT_VAL;
    cr_assert_eq(gs_stats_get(&ds, cache_dir, 2, NULL, &s, &err), GS_OK);
    cr_expect_eq(s.samples, TRAIN - 1);
    cr_expect_float_eq(s.mean[0], 4.0, 1e-12);
    ds.samples[0].split = GS_SPLIT_TRAIN;
    /* A changed source file (other values, later mtime) recomputes. */
    cr_assert_eq(gs_stats_save(path, &ds, &fp, &loaded, &err), GS_OK);
    write_sample(dir, 3, 1);
    struct timespec later[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT}, {.tv_sec = fp.newest_mtime_ns / 1000000000 + 10}};
    char sample[600];
    snprintf(sample, sizeof sample, "%s/t_03.tif", dir);
    cr_assert_eq(utimensat(AT_FDCWD, sample, later, 0), 0);
    cr_assert_eq(gs_stats_get(&ds, cache_dir, 2, NULL, &s, &err), GS_OK);
    cr_expect_float_eq(s.mean[0], 3.5 + 3.0 / 8, 1e-12, "sample 3's band 0 is now 6: %g", s.mean[0]);
    /* A malformed file is an error naming it. */
    FILE *f = fopen(path, "w");
    fputs("geossl band statistics 1\nbands 2\nband 0 B04 oops\n", f);
    fclose(f);
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_stats_get(&ds, cache_dir, 2, NULL, &s, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, path) != NULL, "%s", err.message);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

static void expect_same_dataset(const gs_dataset *src, const gs_dataset *c) {
    cr_assert_eq(c->n_samples, src->n_samples);
    cr_expect_str_eq(c->format->name, "tiny");
    cr_expect_str_eq(c->root, src->root);
    cr_expect_eq(c->task, src->task);
    cr_expect_eq(c->bands, BANDS);
    cr_expect(c->height == H && c->width == W && c->dates == 1);
    cr_assert_eq(c->n_classes, 3);
    for (int k = 0; k < 3; k++) cr_expect_str_eq(c->class_names[k], src->class_names[k]);
    cr_expect_str_eq(c->band_info[1].name, "B08");
    cr_expect_eq(c->band_info[0].wavelength_nm, 664.6f);
    cr_expect_eq(c->band_info[0].resolution_m, 10.0f);
    float a[BANDS * H * W], b[BANDS * H * W];
    int32_t ma[H * W], mb[H * W];
    for (int64_t i = 0; i < c->n_samples; i++) {
        const gs_sample *s = &src->samples[i], *t = &c->samples[i];
        cr_expect_str_eq(t->stem, s->stem);
        cr_expect_str_eq(t->path, s->path);
        cr_expect(t->label == s->label && t->labels == s->labels && t->split == s->split && t->x == s->x &&
                      t->y == s->y && t->group == s->group,
                  "sample %lld metadata", (long long)i);
        gs_error err = {0};
        gs_sample_data da = {a, src->task == GS_TASK_SEGMENTATION ? ma : NULL};
        gs_sample_data db = {b, src->task == GS_TASK_SEGMENTATION ? mb : NULL};
        cr_assert_eq(src->format->read(src, i, &da, &err), GS_OK, "%s", err.message);
        cr_assert_eq(c->format->read(c, i, &db, &err), GS_OK, "%s", err.message);
        cr_expect_eq(memcmp(a, b, sizeof a), 0, "sample %lld pixels differ", (long long)i);
        if (da.mask) cr_expect_eq(memcmp(ma, mb, sizeof ma), 0, "sample %lld mask differs", (long long)i);
    }
}

Test(datasets_stats_cache, cache_round_trip_is_bit_exact) {
    char dir[256], path[400];
    make_source(dir, sizeof dir);
    gs_dataset src, c;
    open_tiny(&src, dir, false);
    snprintf(path, sizeof path, "%s/cache/tiny.h5", dir);
    gs_cache_report rep;
    gs_error err = {0};
    cr_assert_eq(gs_cache_build(&src, path, &(gs_cache_options){.workers = 2}, &rep, &err), GS_OK, "%s", err.message);
    cr_expect_eq(rep.dtype, GS_CACHE_UINT16, "auto picks uint16 for values up to 60011");
    cr_expect_eq(rep.samples, N);
    cr_assert_eq(gs_cache_open(path, &c, &err), GS_OK, "%s", err.message);
    cr_expect(gs_cache_is(&c));
    cr_expect_eq(gs_cache_pixel_type(&c), GS_CACHE_UINT16);
    expect_same_dataset(&src, &c);
    /* The stored statistics are those computed from the source. */
    gs_band_stats stored, direct;
    cr_assert(gs_cache_stats(&c, &stored));
    int64_t *idx, n;
    gs_stats_training_indices(&src, &idx, &n, &err);
    cr_assert_eq(gs_stats_compute(&src, idx, n, 1, NULL, &direct, &err), GS_OK);
    cr_expect_eq(memcmp(&stored, &direct, sizeof stored), 0);
    free(idx);
    gs_band_stats got;
    cr_assert_eq(gs_stats_get(&c, "/nonexistent", 1, NULL, &got, &err), GS_OK, "%s", err.message);
    cr_expect_eq(memcmp(&got, &stored, sizeof got), 0, "a cache-backed dataset's statistics come from the cache");
    /* The loader gives the same batches from the cache as from the files,
     * with 3 workers sharing the cache's lock. */
    gs_loader_config cfg = {.dataset = &src, .batch_size = 5, .workers = 3, .shuffle = true, .seed = 7, .epochs = 1,
                            .normalize = &stored};
    gs_loader *la, *lb;
    cr_assert_eq(gs_loader_create(&cfg, &la, &err), GS_OK);
    cfg.dataset = &c;
    cr_assert_eq(gs_loader_create(&cfg, &lb, &err), GS_OK);
    const gs_batch *ba, *bb;
    int batches = 0;
    while (gs_loader_next(la, &ba, &err) == GS_OK && ba) {
        cr_assert_eq(gs_loader_next(lb, &bb, &err), GS_OK, "%s", err.message);
        cr_assert_eq(ba->n, bb->n);
        cr_expect_eq(memcmp(ba->views[0].pixels, bb->views[0].pixels, sizeof(float) * (size_t)ba->n * BANDS * H * W), 0);
        batches++;
    }
    cr_expect_eq(batches, 3);
    gs_cache_lock_stats lock;
    cr_assert(gs_cache_lock_stats_get(&c, &lock));
    cr_expect_eq(lock.reads, N + N, "N direct reads above and N through the loader");
    gs_loader_destroy(la);
    gs_loader_destroy(lb);
    gs_dataset_close(&c);
    /* float32 is exact too; uint8 cannot hold these values. */
    cr_assert_eq(gs_cache_build(&src, path, &(gs_cache_options){.dtype = GS_CACHE_FLOAT32}, &rep, &err), GS_OK);
    cr_assert_eq(gs_cache_open(path, &c, &err), GS_OK, "%s", err.message);
    cr_expect_eq(gs_cache_pixel_type(&c), GS_CACHE_FLOAT32);
    expect_same_dataset(&src, &c);
    gs_dataset_close(&c);
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_cache_build(&src, path, &(gs_cache_options){.dtype = GS_CACHE_UINT8}, &rep, &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "uint8") != NULL, "%s", err.message);
    /* No temporary file is left behind. */
    char cache_dir[300];
    snprintf(cache_dir, sizeof cache_dir, "%s/cache", dir);
    DIR *d = opendir(cache_dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            files++;
            cr_expect_str_eq(e->d_name, "tiny.h5");
        }
    closedir(d);
    cr_expect_eq(files, 1);
    struct stat mode;
    stat(path, &mode);
    cr_expect_eq(mode.st_mode & 0777, 0644, "the cache is readable by others: %o", mode.st_mode & 0777);
    gs_dataset_close(&src);
    test_remove_tree(dir);
}

Test(datasets_stats_cache, cache_keeps_masks) {
    char dir[256], path[400];
    make_source(dir, sizeof dir);
    gs_dataset src, c;
    open_tiny(&src, dir, true);
    snprintf(path, sizeof path, "%s/seg.h5", dir);
    gs_error err = {0};
    cr_assert_eq(gs_cache_build(&src, path, NULL, NULL, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_cache_open(path, &c, &err), GS_OK, "%s", err.message);
    cr_expect_eq(c.task, GS_TASK_SEGMENTATION);
    expect_same_dataset(&src, &c);
    gs_dataset_close(&c);
    gs_dataset_close(&src);
    test_remove_tree(dir);
}

Test(datasets_stats_cache, cache_is_reused_then_rebuilt_when_the_source_changes) {
    char dir[256], path[400];
    make_source(dir, sizeof dir);
    gs_dataset src, c;
    open_tiny(&src, dir, false);
    snprintf(path, sizeof path, "%s/c.h5", dir);
    gs_cache_report rep;
    gs_error err = {0};
    cr_assert_eq(gs_cache_use(&src, path, NULL, &c, &rep, &err), GS_OK, "%s", err.message);
    cr_expect(rep.built);
    gs_dataset_close(&c);
    cr_assert_eq(gs_cache_use(&src, path, NULL, &c, &rep, &err), GS_OK, "%s", err.message);
    cr_expect(!rep.built, "an up-to-date cache is reused");
    gs_dataset_close(&c);
    /* New values in sample 5 with a later mtime: rebuilt, and the new
     * values are what the cache serves. */
    write_sample(dir, 5, 1);
    char sample[600];
    snprintf(sample, sizeof sample, "%s/t_05.tif", dir);
    struct stat st;
    stat(sample, &st);
    struct timespec later[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT}, {.tv_sec = st.st_mtim.tv_sec + 10}};
    cr_assert_eq(utimensat(AT_FDCWD, sample, later, 0), 0);
    cr_assert_eq(gs_cache_use(&src, path, NULL, &c, &rep, &err), GS_OK, "%s", err.message);
    cr_expect(rep.built, "a changed file must rebuild the cache");
    float px[BANDS * H * W];
    gs_sample_data data = {px, NULL};
    cr_assert_eq(c.format->read(&c, 5, &data, &err), GS_OK);
    cr_expect_eq(px[0], 8.0f, "sample 5 band 0 is now 5 + 3");
    gs_dataset_close(&c);
    /* One more file: another sample count. */
    gs_dataset_close(&src);
    write_sample(dir, N, 0);
    open_tiny(&src, dir, false);
    cr_assert_eq(gs_cache_use(&src, path, NULL, &c, &rep, &err), GS_OK, "%s", err.message);
    cr_expect(rep.built);
    cr_expect_eq(c.n_samples, N + 1);
    gs_dataset_close(&c);
    gs_dataset_close(&src);
    test_remove_tree(dir);
}

Test(datasets_stats_cache, truncated_or_foreign_caches_are_errors_naming_the_file) {
    char dir[256], path[400];
    make_source(dir, sizeof dir);
    gs_dataset src, c;
    open_tiny(&src, dir, false);
    snprintf(path, sizeof path, "%s/c.h5", dir);
    gs_error err = {0};
    cr_assert_eq(gs_cache_build(&src, path, NULL, NULL, &err), GS_OK, "%s", err.message);
    struct stat st;
    stat(path, &st);
    cr_assert_eq(truncate(path, st.st_size / 2), 0);
    cr_expect_eq(gs_cache_open(path, &c, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, path) && strstr(err.message, "truncated"), "%s", err.message);
    /* gs_cache_use rebuilds it, saying so: its digest header proves it is
     * a geossl cache, and a cache only saves time. */
    memset(&err, 0, sizeof err);
    char said[1024] = "";
    FILE *progress = fmemopen(said, sizeof said, "w");
    gs_cache_report rep;
    cr_expect_eq(gs_cache_use(&src, path, &(gs_cache_options){.progress = progress}, &c, &rep, &err), GS_OK, "%s",
                 err.message);
    fclose(progress);
    cr_expect(rep.built);
    cr_expect(strstr(said, path) && strstr(said, "truncated") && strstr(said, "rebuilding"), "%s", said);
    gs_dataset_close(&c);
    struct stat after;
    stat(path, &after);
    cr_expect_eq(after.st_size, st.st_size, "the rebuilt cache differs from the first");
    /* An HDF5 file that is not a cache: refused, and left alone. */
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);
    stat(path, &st);
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_cache_open(path, &c, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, path) && strstr(err.message, "not a geossl cache"), "%s", err.message);
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_cache_use(&src, path, NULL, &c, NULL, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, path) && strstr(err.message, "--rebuild"), "%s", err.message);
    stat(path, &after);
    cr_expect_eq(after.st_size, st.st_size, "a file that may not be geossl's was overwritten");
    /* Not HDF5 at all. */
    FILE *t = fopen(path, "w");
    fputs("pixels, but as text\n", t);
    fclose(t);
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_cache_open(path, &c, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, path) != NULL, "%s", err.message);
    memset(&err, 0, sizeof err);
    snprintf(path, sizeof path, "%s/none.h5", dir);
    cr_expect_eq(gs_cache_open(path, &c, &err), GS_ERR_IO);
    gs_dataset_close(&src);
    test_remove_tree(dir);
}

Test(datasets_stats_cache, bad_sample_while_packing) {
    char dir[256], path[400], bad[600];
    make_source(dir, sizeof dir);
    snprintf(bad, sizeof bad, "%s/t_04.tif", dir);
    FILE *f = fopen(bad, "wb");
    fputs("II*\0garbage", f);
    fclose(f);
    gs_dataset src, c;
    open_tiny(&src, dir, false);
    snprintf(path, sizeof path, "%s/c.h5", dir);
    gs_error err = {0};
    cr_expect_eq(gs_cache_build(&src, path, NULL, NULL, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, bad) != NULL, "%s", err.message);
    cr_expect_neq(access(path, F_OK), 0, "no cache after a failed build");
    gs_cache_report rep;
    memset(&err, 0, sizeof err);
    cr_assert_eq(gs_cache_build(&src, path, &(gs_cache_options){.skip_bad = true, .workers = 2}, &rep, &err), GS_OK,
                 "%s", err.message);
    cr_expect_eq(rep.skipped, 1);
    cr_assert_eq(gs_cache_open(path, &c, &err), GS_OK, "%s", err.message);
    cr_expect_eq(c.n_samples, N - 1);
    cr_expect_str_eq(c.samples[4].stem, "t_05");
    float px[BANDS * H * W];
    gs_sample_data data = {px, NULL};
    cr_assert_eq(c.format->read(&c, 4, &data, &err), GS_OK);
    cr_expect_eq(px[0], 5.0f);
    gs_dataset_close(&c);
    gs_dataset_close(&src);
    test_remove_tree(dir);
}

/* A cache whose pixels were rewritten without one-sample chunks (as h5py
 * might) is read through hyperslabs, with the same values. */
Test(datasets_stats_cache, cache_with_other_chunking_still_reads) {
    char dir[256], path[400];
    make_source(dir, sizeof dir);
    gs_dataset src, c;
    open_tiny(&src, dir, false);
    snprintf(path, sizeof path, "%s/c.h5", dir);
    gs_error err = {0};
    cr_assert_eq(gs_cache_build(&src, path, NULL, NULL, &err), GS_OK, "%s", err.message);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    static uint16_t all[N * BANDS * H * W];
    hid_t d = H5Dopen2(f, "pixels", H5P_DEFAULT);
    cr_assert_geq(H5Dread(d, H5T_NATIVE_UINT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, all), 0);
    hsize_t dims[5];
    hid_t old_space = H5Dget_space(d);
    cr_assert_eq(H5Sget_simple_extent_dims(old_space, dims, NULL), 5);
    H5Sclose(old_space);
    H5Dclose(d);
    hid_t space = H5Screate_simple(5, dims, NULL); /* contiguous, big-endian */
    cr_assert_geq(H5Ldelete(f, "pixels", H5P_DEFAULT), 0);
    d = H5Dcreate2(f, "pixels", H5T_STD_U16BE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(H5Dwrite(d, H5T_NATIVE_UINT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, all), 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Fclose(f);
    cr_assert_eq(gs_file_digest_seal(path, &err), GS_OK, "%s", err.message); /* changed on purpose */
    cr_assert_eq(gs_cache_open(path, &c, &err), GS_OK, "%s", err.message);
    expect_same_dataset(&src, &c);
    gs_dataset_close(&c);
    gs_dataset_close(&src);
    test_remove_tree(dir);
}

/* ---- damaged caches (issue 15) ------------------------------------------ */

static void flip_byte(const char *path, long offset) {
    FILE *f = fopen(path, "r+b");
    cr_assert(f);
    cr_assert_eq(fseek(f, offset, SEEK_SET), 0);
    int c = fgetc(f);
    cr_assert_neq(c, EOF);
    cr_assert_eq(fseek(f, offset, SEEK_SET), 0);
    fputc(c ^ 0x10, f);
    cr_assert_eq(fclose(f), 0);
}

/* One flipped bit in a cache (a pixel, or the table libhdf5 parses) is
 * refused when the cache is opened, naming the file, before libhdf5 reads
 * it; gs_cache_use rebuilds it instead, saying so. */
Test(datasets_stats_cache, a_flipped_bit_in_a_cache_is_refused_or_rebuilt) {
    char dir[256], path[400];
    make_source(dir, sizeof dir);
    gs_dataset src, c;
    open_tiny(&src, dir, false);
    snprintf(path, sizeof path, "%s/c.h5", dir);
    gs_error err = {0};
    cr_assert_eq(gs_cache_build(&src, path, NULL, NULL, &err), GS_OK, "%s", err.message);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    long where[3] = {GS_DIGEST_BLOCK + 200, st.st_size / 2, st.st_size - 3};
    for (int k = 0; k < 3; k++) {
        flip_byte(path, where[k]);
        memset(&err, 0, sizeof err);
        cr_expect_eq(gs_cache_open(path, &c, &err), GS_ERR_FORMAT, "byte %ld", where[k]);
        cr_expect(strstr(err.message, path) && strstr(err.message, "corrupt or was modified") &&
                      strstr(err.message, "rebuild"),
                  "%s", err.message);
        flip_byte(path, where[k]);
        cr_assert_eq(gs_cache_open(path, &c, &err), GS_OK, "flipped back: %s", err.message);
        gs_dataset_close(&c);
    }
    flip_byte(path, st.st_size / 2);
    char said[1024] = "";
    FILE *progress = fmemopen(said, sizeof said, "w");
    gs_cache_report rep;
    cr_assert_eq(gs_cache_use(&src, path, &(gs_cache_options){.progress = progress}, &c, &rep, &err), GS_OK, "%s",
                 err.message);
    fclose(progress);
    cr_expect(rep.built, "a damaged cache was used");
    cr_expect(strstr(said, "corrupt or was modified") && strstr(said, "rebuilding"), "%s", said);
    expect_same_dataset(&src, &c);
    gs_dataset_close(&c);
    gs_dataset_close(&src);
    test_remove_tree(dir);
}

/* A cache written before digests: where geossl named it (the cache folder)
 * it is rebuilt; at a path the user chose it is refused, left alone, with
 * the way to rebuild it. */
Test(datasets_stats_cache, cache_without_digest_is_rebuilt_only_under_its_own_name) {
    char dir[256], own[400], chosen[400];
    make_source(dir, sizeof dir);
    gs_dataset src, c;
    open_tiny(&src, dir, false);
    gs_cache_path(&src, dir, own, sizeof own);
    snprintf(chosen, sizeof chosen, "%s/mine.h5", dir);
    gs_error err = {0};
    const char *paths[2] = {own, chosen};
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(gs_cache_build(&src, paths[k], NULL, NULL, &err), GS_OK, "%s", err.message);
        /* As an older geossl wrote it: the HDF5 data without the header. */
        FILE *f = fopen(paths[k], "rb");
        cr_assert(f);
        static unsigned char buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        cr_assert_gt(n, (size_t)GS_DIGEST_BLOCK);
        f = fopen(paths[k], "wb");
        fwrite(buf + GS_DIGEST_BLOCK, 1, n - GS_DIGEST_BLOCK, f);
        fclose(f);
    }
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_cache_open(own, &c, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, own) && strstr(err.message, "carries no digest"), "%s", err.message);
    gs_cache_report rep;
    memset(&err, 0, sizeof err);
    cr_assert_eq(gs_cache_use(&src, own, NULL, &c, &rep, &err), GS_OK, "%s", err.message);
    cr_expect(rep.built);
    gs_dataset_close(&c);
    struct stat before, after;
    stat(chosen, &before);
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_cache_use(&src, chosen, NULL, &c, &rep, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, chosen) && strstr(err.message, "carries no digest") && strstr(err.message, "--rebuild"),
              "%s", err.message);
    stat(chosen, &after);
    cr_expect_eq(after.st_size, before.st_size, "a file at a chosen path was overwritten");
    gs_dataset_close(&src);
    test_remove_tree(dir);
}
