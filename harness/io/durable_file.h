/* The last step of every atomic write (checkpoints, weights, caches, band
 * statistics, feature caches): the finished temporary file is synced, then
 * renamed over the target, then the rename is made durable.  A kill at any
 * point leaves either the old file or the new one, never half of one. */
#ifndef GS_IO_DURABLE_FILE_H
#define GS_IO_DURABLE_FILE_H

#include "../core/error.h"

/* fsync(tmp), rename(tmp, path), fsync of path's folder (best effort: some
 * filesystems refuse it, and the new file is complete either way).  On
 * failure tmp is removed and err says which step failed and why. */
gs_status gs_commit_file(const char *tmp, const char *path, gs_error *err);
/* gs_file_digest_seal(tmp) (file_digest.h), then gs_commit_file: for the
 * HDF5 files geossl reads back, written with an empty user block. */
gs_status gs_commit_sealed_file(const char *tmp, const char *path, gs_error *err);
/* The folder part alone, for writers that rename themselves. */
void gs_sync_parent_dir(const char *path);

#endif
