/* Backends by name.  The only place that knows which backends were built. */
#include <string.h>

#include "backend.h"

#ifdef GEOSSL_HAVE_ONEDNN
const gs_backend *gs_backend_onednn(void);
#endif

const gs_backend *gs_backend_by_name(const char *name) {
    if (!name || !strcmp(name, "default")) return gs_backend_default();
    if (!strcmp(name, "cpu")) return gs_backend_cpu();
#ifdef GEOSSL_HAVE_ONEDNN
    if (!strcmp(name, "onednn")) return gs_backend_onednn();
#endif
    return NULL;
}

const gs_backend *gs_backend_default(void) {
#ifdef GEOSSL_HAVE_ONEDNN
    return gs_backend_onednn();
#else
    return gs_backend_cpu();
#endif
}

const char *gs_backend_names(void) {
#ifdef GEOSSL_HAVE_ONEDNN
    return "cpu, onednn";
#else
    return "cpu";
#endif
}
