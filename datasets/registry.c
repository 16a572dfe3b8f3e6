/* The formats geossl reads, by the FORMAT name of FORMAT:PATH. */
#include "formats/formats.h"

static const gs_dataset_format *const FORMATS[] = {
    &gs_format_eurosat_rgb, &gs_format_eurosat_ms, &gs_format_resisc45, &gs_format_bigearthnet,
    &gs_format_potsdam,     &gs_format_seco,       &gs_format_ssl4eo,   &gs_format_geotiff,
    &gs_format_s2_timeseries,
};

const gs_dataset_format *gs_dataset_format_find(const char *name) {
    for (size_t i = 0; i < sizeof FORMATS / sizeof *FORMATS; i++)
        if (FORMATS[i]->name && !strcmp(FORMATS[i]->name, name)) return FORMATS[i];
    return NULL;
}

void gs_dataset_print_formats(FILE *out) {
    for (size_t i = 0; i < sizeof FORMATS / sizeof *FORMATS; i++)
        if (FORMATS[i]->name) fprintf(out, "  %-12s %s\n", FORMATS[i]->name, FORMATS[i]->summary);
}

const gs_dataset_format *gs_dataset_format_at(int i) {
    int seen = 0;
    for (size_t k = 0; k < sizeof FORMATS / sizeof *FORMATS; k++)
        if (FORMATS[k]->name && seen++ == i) return FORMATS[k];
    return NULL;
}

void gs_dataset_describe(const gs_dataset *ds, FILE *out) {
    if (ds->format == &gs_format_s2_timeseries) gs_s2_timeseries_describe(ds, out);
}

bool gs_dataset_sample_dates(const gs_dataset *ds, int64_t index, int32_t *ymd) {
    if (ds->format == &gs_format_s2_timeseries) return gs_s2_timeseries_sample_dates(ds, index, ymd);
    return false;
}
