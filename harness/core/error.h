/* A self-contained error record for code that runs on worker threads (data
 * loading), where the context's sticky error cannot be shared.  The caller
 * copies it into the context with gs_fail_with(). */
#ifndef GS_ERROR_H
#define GS_ERROR_H

#include "status.h"

typedef struct gs_error {
    gs_status status;
    char message[512];
} gs_error;

/* Records status and message (first error wins) and returns status. */
gs_status gs_error_set(gs_error *err, gs_status status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
