#include "h5_guard.h"

#include "common.h"
#include "io/file_digest.h"

hid_t __real_H5Fopen(const char *name, unsigned flags, hid_t fapl);

hid_t __wrap_H5Fopen(const char *name, unsigned flags, hid_t fapl) {
    gs_digest_check check = gs_file_digest_verify(name);
    if (check.state != GS_DIGEST_VALID)
        fuzz_fail("h5_guard", "libhdf5 was handed %s, whose digest does not verify (state %d: %s)", name,
                  (int)check.state, check.detail);
    return __real_H5Fopen(name, flags, fapl);
}

void fuzz_h5_expect_closed(const char *target) {
    ssize_t open = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open != 0) fuzz_fail(target, "%zd HDF5 files or objects left open", open);
}
