#include "error.h"

#include <stdarg.h>
#include <stdio.h>

gs_status gs_error_set(gs_error *err, gs_status status, const char *fmt, ...) {
    if (!err || err->status != GS_OK) return status;
    err->status = status;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, args);
    va_end(args);
    return status;
}
