/* Where tests find committed fixtures and the real data samples. */
#ifndef GS_TEST_PATHS_H
#define GS_TEST_PATHS_H

/* $GEOSSL_SHARED_DATA, else <source dir>/../shared/data (set by CMake). */
const char *test_shared_data_dir(void);
/* Writes "<tests/fixtures>/<name>" into buf; returns buf. */
const char *test_fixture_path(const char *name, char *buf, unsigned long size);
/* A fresh empty temporary directory for this test process; returns its path. */
const char *test_temp_dir(char *buf, unsigned long size);

#endif
