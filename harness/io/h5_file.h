/* What every HDF5 file geossl writes for itself (checkpoints, dataset and
 * feature caches) shares: the user block that holds its digest
 * (file_digest.h), the access properties, bounds on lengths read from it,
 * and writing that survives a full disk.
 *
 * Writing: gs_space_check(tmp, estimate), gs_h5_create_sealable(tmp),
 * gs_h5_reserve(file, estimate), the writes (reserving more first when
 * the estimate may be passed), gs_h5_flush_kept; at the first failed call
 * gs_h5_abandon(file) BEFORE closing anything else; then every handle
 * closed once, the file last; then gs_h5_commit when everything
 * succeeded, else unlink(tmp).
 *
 * Why: libhdf5 1.10 does not recover from a failed write.  A failed
 * metadata flush leaves its cache where every later flush fails ("slist
 * already enabled?"); closing the file flushes, so H5Fclose fails after
 * freeing part of the file's state but leaves its id registered, and the
 * library's exit handler closes it again and crashes (H5F__close_cb from
 * H5_term_library).  A failed H5Fcreate or raw chunk write leaks memory
 * that its exit handler then reports ("infinite loop closing library").
 * Hence: (1) disk space is reserved before libhdf5 writes into it, so its
 * writes do not run out of room and a full disk is a clean error of
 * geossl's; (2) after a failure all the same (no fallocate, an I/O
 * error), the file's remaining writes go to an anonymous file in memory,
 * so the closes succeed and free the file's state (it is deleted anyway). */
#ifndef GS_IO_H5_FILE_H
#define GS_IO_H5_FILE_H

#include <hdf5.h>
#include <stdbool.h>
#include <stdint.h>

#include "../core/error.h"

/* File access properties: closing the file also closes what an error path
 * left open in it; HDF5's lock is kept but not fatal where flock is missing. */
hid_t gs_h5_file_access(void);

/* H5Fcreate(path, truncating) with a user block for the digest header. */
hid_t gs_h5_create_sealable(const char *path);

/* Routes the remaining writes of the file holding loc (the file or an
 * object in it) to an anonymous memory file (sec2 driver, the default; a
 * no-op for other drivers).  Only for a file being discarded. */
void gs_h5_abandon(hid_t loc);

/* Allocates the first `bytes` of the file holding loc on disk through
 * libhdf5's own descriptor, extending the file when shorter (sec2 driver;
 * a no-op for other drivers).  Without fallocate on the filesystem, the
 * free space it reports is checked instead.  0 or an errno value (ENOSPC,
 * EDQUOT, EFBIG). */
int gs_h5_reserve(hid_t loc, uint64_t bytes);

/* Whether path's filesystem can take `bytes` now: allocates them in the
 * file at path (created, still empty) and gives them back; without
 * fallocate, writes the first 64 KiB of them.  0 or an errno value.  Only
 * a check, just before H5Fcreate (which truncates the file). */
int gs_space_check(const char *path, uint64_t bytes);

/* The end of what libhdf5 has allocated in the file (user block
 * included), or 0 when unknown. */
uint64_t gs_h5_end(hid_t file);

/* The last flush of a file being kept: reserves what the file has
 * allocated, then H5Fflush.  False (the file abandoned) when either fails;
 * why holds the reason, or "" when it is on HDF5's error stack. */
bool gs_h5_flush_kept(hid_t file, char *why, size_t size);

/* After the file at tmp was closed: cuts off space reserved beyond what
 * libhdf5 used, then gs_commit_sealed_file (digest, fsync, rename; tmp is
 * removed on failure). */
gs_status gs_h5_commit(const char *tmp, const char *path, gs_error *err);

/* False when `bytes` exceeds the size of the file holding loc: no honest
 * dataset, attribute or string of an unfiltered geossl file is larger than
 * its file, so a length read from it is checked here before allocating. */
bool gs_h5_fits_in_file(hid_t loc, uint64_t bytes);

#endif
