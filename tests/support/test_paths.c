#include "test_paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *test_shared_data_dir(void) {
    const char *env = getenv("GEOSSL_SHARED_DATA");
    return env && *env ? env : GEOSSL_SHARED_DATA_DIR;
}

const char *test_fixture_path(const char *name, char *buf, unsigned long size) {
    snprintf(buf, size, "%s/%s", GEOSSL_FIXTURE_DIR, name);
    return buf;
}

const char *test_temp_dir(char *buf, unsigned long size) {
    const char *base = getenv("TMPDIR");
    snprintf(buf, size, "%s/geossl-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(buf)) buf[0] = '\0';
    return buf;
}
