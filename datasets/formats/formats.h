/* Every format, defined one per file in this folder. */
#ifndef GS_DATASETS_FORMATS_H
#define GS_DATASETS_FORMATS_H

#include <string.h>

#include "../dataset.h"

extern const gs_dataset_format gs_format_eurosat_rgb; /* eurosat_rgb.c */
extern const gs_dataset_format gs_format_eurosat_ms;  /* eurosat_ms.c */
extern const gs_dataset_format gs_format_resisc45;    /* resisc45.c */
extern const gs_dataset_format gs_format_bigearthnet; /* bigearthnet.c */
extern const gs_dataset_format gs_format_potsdam;     /* potsdam.c */
extern const gs_dataset_format gs_format_seco;        /* seasonal.c (SeCo layout) */
extern const gs_dataset_format gs_format_ssl4eo;      /* seasonal.c (SSL4EO-S12 layout) */
extern const gs_dataset_format gs_format_geotiff;     /* geotiff_folder.c */
extern const gs_dataset_format gs_format_s2_timeseries; /* s2_timeseries.c */

/* Dates per location and where the band names came from (s2_timeseries.c),
 * for gs_dataset_describe. */
void gs_s2_timeseries_describe(const gs_dataset *ds, FILE *out);
/* gs_dataset_sample_dates for s2-timeseries. */
bool gs_s2_timeseries_sample_dates(const gs_dataset *ds, int64_t index, int32_t *ymd);

/* The 43 BigEarthNet v1.0 label names in CLC code order (bigearthnet.c):
 * the generator and the tests name labels from this one list. */
extern const char *const gs_bigearthnet_labels_43[43];

#endif
