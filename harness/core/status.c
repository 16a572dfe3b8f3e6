#include "status.h"

const char *gs_status_name(gs_status status) {
    switch (status) {
    case GS_OK: return "ok";
    case GS_ERR_ARGUMENT: return "invalid argument";
    case GS_ERR_SHAPE: return "shape mismatch";
    case GS_ERR_NONFINITE: return "non-finite value";
    case GS_ERR_IO: return "i/o error";
    case GS_ERR_FORMAT: return "bad file format";
    case GS_ERR_MISMATCH: return "mismatch";
    case GS_ERR_MEMORY: return "out of memory";
    case GS_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}
