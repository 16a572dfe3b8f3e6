/* A SHA-256 digest inside the files geossl writes for itself to read back
 * (checkpoints, dataset caches, feature caches), so that a damaged or
 * modified file is refused before libhdf5 parses a byte of it: libhdf5 1.10
 * is not hardened against hostile input (a mutated checkpoint overflowed a
 * heap buffer inside H5Aexists), and a flipped bit in a tensor is valid HDF5.
 *
 * Layout: the first GS_DIGEST_BLOCK bytes of the file are its header (HDF5
 * keeps them free as its "user block", so h5py and h5dump still read the
 * file), and the digest covers every byte after them:
 *
 *   geossl-digest 1\n
 *   sha256 <64 lowercase hex digits>\n
 *   bytes <20 decimal digits: the length after the header>\n
 *   <a comment line>, then zero bytes up to GS_DIGEST_BLOCK
 *
 * A writer creates the file with that user block, closes it, then seals it
 * (gs_file_digest_seal) before the durable rename (durable_file.h). */
#ifndef GS_IO_FILE_DIGEST_H
#define GS_IO_FILE_DIGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/error.h"

/* The header's size: HDF5's user block (a power of two >= 512). */
#define GS_DIGEST_BLOCK 512

typedef enum gs_digest_state {
    GS_DIGEST_VALID,      /* header present and the bytes after it match */
    GS_DIGEST_MISSING,    /* no geossl header: an older geossl's file, another program's, or not HDF5 */
    GS_DIGEST_MISMATCH,   /* header present but the file is not what was sealed: corrupt or modified */
    GS_DIGEST_UNREADABLE, /* the file cannot be opened or read (detail holds errno's text) */
} gs_digest_state;

typedef struct gs_digest_check {
    gs_digest_state state;
    /* MISSING: the file starts with HDF5's signature (as geossl's files did
     * before digests), or has an empty user block before it. */
    bool hdf5;
    uint64_t file_bytes; /* the file's size, when it could be read */
    char detail[160];    /* why, for the caller's message: "truncated: 4096 of 6144 bytes" */
} gs_digest_check;

/* Checks path against its header; reads the whole file once. */
gs_digest_check gs_file_digest_verify(const char *path);

/* Writes the header of a finished file whose first GS_DIGEST_BLOCK bytes are
 * still zero (an HDF5 user block nobody wrote), or replaces the header of
 * one changed on purpose after it was sealed (tests that damage a file to
 * reach the checks behind the digest).  GS_ERR_IO naming path.
 *
 * The digest tells damage from intact data; it is no signature: whoever
 * writes a file can seal it.  Readers still bound what they read. */
gs_status gs_file_digest_seal(const char *path, gs_error *err);

#endif
