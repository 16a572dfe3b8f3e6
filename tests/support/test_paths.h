/* Where tests find committed fixtures and the real data samples. */
#ifndef GS_TEST_PATHS_H
#define GS_TEST_PATHS_H

#include <stdbool.h>
#include <stdint.h>

#include "dataset.h"

/* $GEOSSL_SHARED_DATA, else <source dir>/../shared/data (set by CMake). */
const char *test_shared_data_dir(void);
/* Writes "<tests/fixtures>/<name>" into buf; returns buf. */
const char *test_fixture_path(const char *name, char *buf, unsigned long size);
/* A fresh empty temporary directory for this test process; returns its path. */
const char *test_temp_dir(char *buf, unsigned long size);

/* Writes "<shared data>/<rel>" into path; true when it exists. */
bool test_shared_path(const char *rel, char *path, unsigned long size);
/* Skips the current Criterion test, saying which real sample is absent.
 * `path` must be a char array (its size is taken with sizeof). */
#define REQUIRE_SHARED(rel, path)                                                                       \
    do {                                                                                                \
        if (!test_shared_path(rel, path, sizeof path)) cr_skip_test("real sample %s is absent", path); \
    } while (0)
/* rm -r of a test's temporary tree (symlinks are removed, not followed). */
void test_remove_tree(const char *path);

/* gs_dataset_open("FORMAT:path") with a cleared error record. */
gs_status test_open_dataset(const char *format, const char *path, gs_dataset *ds, gs_error *err);
/* Index of the sample with this stem, or -1. */
int64_t test_find_stem(const gs_dataset *ds, const char *stem);

#endif
