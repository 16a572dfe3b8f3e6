/* The pixel types of the HDF5 cache, on their own so that cache_h5.h (the
 * HDF5 helpers cache.c uses) names them without including cache.h. */
#ifndef GS_DATASETS_CACHE_DTYPE_H
#define GS_DATASETS_CACHE_DTYPE_H

typedef enum gs_cache_dtype {
    GS_CACHE_AUTO = 0, /* the narrowest of uint8, uint16, float32 that holds every value exactly */
    GS_CACHE_UINT8,
    GS_CACHE_UINT16,
    GS_CACHE_FLOAT32,
} gs_cache_dtype;

#endif
