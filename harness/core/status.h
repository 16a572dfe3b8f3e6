/* Status codes returned by every library call.
 *
 * The engine never aborts on bad input: a failing call records a status and a
 * message in the context (see context.h) and returns.  The CLI turns that into
 * one clear line and a non-zero exit. */
#ifndef GS_STATUS_H
#define GS_STATUS_H

typedef enum gs_status {
    GS_OK = 0,
    GS_ERR_ARGUMENT,  /* a caller passed something invalid (bad option, NULL) */
    GS_ERR_SHAPE,     /* tensor shapes do not fit the operation */
    GS_ERR_NONFINITE, /* NaN or Inf in a loss or gradient */
    GS_ERR_IO,        /* a file could not be opened, read or written */
    GS_ERR_FORMAT,    /* a file exists but is truncated, corrupt or foreign */
    GS_ERR_MISMATCH,  /* a file belongs to another architecture or config */
    GS_ERR_MEMORY,    /* an allocation failed */
    GS_ERR_INTERNAL,  /* a broken invariant: a bug in geossl */
} gs_status;

/* A short lower-case name for the status, e.g. "shape mismatch". */
const char *gs_status_name(gs_status status);

#endif
