/* The cache folder: where packed caches (cache.h) and band statistics
 * files (stats.h) go.  No dataset code here, so both can use it. */
#ifndef GS_DATASETS_CACHE_DIR_H
#define GS_DATASETS_CACHE_DIR_H

#include <stddef.h>

#include "core/error.h"

/* $GEOSSL_CACHE_DIR, else $XDG_CACHE_HOME/geossl, else $HOME/.cache/geossl,
 * else ./.geossl-cache. */
void gs_cache_default_dir(char *buf, size_t size);
/* mkdir -p. */
gs_status gs_cache_make_dir(const char *dir, gs_error *err);

#endif
