/* Hostile files (issue 15): inputs that are valid enough to get past the
 * first checks but would make a reader index out of bounds, allocate what a
 * header declares, or pass NaN on to training.  Each test writes its own
 * file, so it runs without ../shared; the reproducers in ../shared/repro are
 * read too when present (skipped visibly when absent). */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache.h"
#include "synthetic.h"
#include "test_paths.h"

/* ---- cache labels -------------------------------------------------------- */

/* A cache whose label column holds a value outside the class count (the
 * defect seen: 536870914 in a 10-class EuroSAT cache) is refused when it is
 * opened, naming the sample, instead of indexing per-class arrays with it. */
Test(datasets_hostile_files, cache_label_outside_the_class_count_is_refused) {
    char dir[256], data[300], spec[320], path[320];
    test_temp_dir(dir, sizeof dir);
    snprintf(data, sizeof data, "%s/eurosat", dir);
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("eurosat-rgb", data, &(gs_synth_options){.count = 2}, &err), GS_OK, "%s",
                 err.message);
    gs_dataset src, c;
    snprintf(spec, sizeof spec, "eurosat-rgb:%s", data);
    cr_assert_eq(gs_dataset_open(spec, NULL, &src, &err), GS_OK, "%s", err.message);
    snprintf(path, sizeof path, "%s/c.h5", dir);
    cr_assert_eq(gs_cache_build(&src, path, NULL, NULL, &err), GS_OK, "%s", err.message);
    int64_t n = src.n_samples;
    cr_assert_eq(gs_cache_open(path, &c, &err), GS_OK, "the intact cache must open: %s", err.message);
    gs_dataset_close(&c);

    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    hid_t d = H5Dopen2(f, "label", H5P_DEFAULT);
    cr_assert_geq(d, 0, "the cache has no 'label' column");
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    cr_assert_geq(H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels), 0);
    labels[n - 1] = 536870914;
    cr_assert_geq(H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels), 0);
    free(labels);
    H5Dclose(d);
    H5Fclose(f);

    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_cache_open(path, &c, &err), GS_ERR_FORMAT, "a label of 536870914 in a 10-class cache was accepted");
    cr_expect(strstr(err.message, path) != NULL, "%s", err.message);
    cr_expect(strstr(err.message, "536870914") != NULL, "%s", err.message);
    cr_expect(strstr(err.message, src.samples[n - 1].stem) != NULL, "the sample is not named: %s", err.message);
    gs_dataset_close(&src);
    test_remove_tree(dir);
}
