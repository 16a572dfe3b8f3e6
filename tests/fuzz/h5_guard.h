/* For the targets that read geossl's HDF5 files (checkpoints, dataset and
 * feature caches): those files carry a SHA-256 digest that is checked before
 * libhdf5 reads them (harness/io/file_digest.h), because libhdf5 is not
 * hardened against damaged files.  These targets are linked with
 * -Wl,--wrap=H5Fopen, so every H5Fopen geossl makes goes through
 * __wrap_H5Fopen first, which reports a finding when the file's digest does
 * not verify: a mutated file must be refused before libhdf5 sees it.  (No
 * target skips the digest: libhdf5's own parser is not ours to harden.) */
#ifndef GS_FUZZ_H5_GUARD_H
#define GS_FUZZ_H5_GUARD_H

#include <hdf5.h>

hid_t __wrap_H5Fopen(const char *name, unsigned flags, hid_t fapl);

/* Reports a finding when any HDF5 file or object is still open: every
 * reader closes what it opened on every path (an open id left behind made
 * libhdf5's exit handler crash). */
void fuzz_h5_expect_closed(const char *target);

#endif
