/* Band selection by name (gs_dataset_options.bands): the same command runs
 * on every format that has the bands it names, whatever their order and
 * spelling there (EuroSAT MS's "B04", a time series' "B4", RGB formats'
 * "red").  The format still reads every band; gs_dataset_read keeps the
 * chosen ones, in the order asked for, in the caller's buffer (no copy of
 * the sample of its own). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dataset.h"
#include "sentinel2.h"

/* A band name in one spelling: Sentinel-2's canonical "B04", else as given. */
static void canonical(const char *name, char *out, size_t size) {
    gs_band_info info;
    snprintf(out, size, "%s", gs_s2_band_info(name, &info) ? info.name : name);
}

static int find_exact(const gs_dataset *ds, const char *want) {
    char have[32];
    for (int b = 0; b < ds->bands; b++) {
        canonical(ds->band_info[b].name, have, sizeof have);
        if (!strcasecmp(want, have)) return b;
    }
    return -1;
}

/* EuroSAT's RGB files are Sentinel-2's B04, B03, B02 under the names red,
 * green, blue: each spelling finds the other, so an RGB encoder evaluates
 * on 13-band data and back. */
static const char *const COLOUR_ALIASES[][2] = {{"red", "B04"}, {"green", "B03"}, {"blue", "B02"}};

static int find_band(const gs_dataset *ds, const char *name) {
    char want[32];
    canonical(name, want, sizeof want);
    int b = find_exact(ds, want);
    for (size_t i = 0; b < 0 && i < sizeof COLOUR_ALIASES / sizeof *COLOUR_ALIASES; i++)
        for (int side = 0; side < 2; side++)
            if (!strcasecmp(want, COLOUR_ALIASES[i][side])) b = find_exact(ds, COLOUR_ALIASES[i][1 - side]);
    return b;
}

bool gs_dataset_bands_are(const gs_dataset *ds, const char *names) {
    char copy[sizeof ds->options.bands];
    if (strlen(names) >= sizeof copy) return false;
    snprintf(copy, sizeof copy, "%s", names);
    int b = 0;
    for (char *save = NULL, *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save), b++)
        if (b >= ds->bands || find_band(ds, name) != b) return false;
    return b == ds->bands;
}

const char *gs_dataset_band_names_at(const gs_dataset *ds, const int *bands, int n, char *out, size_t size) {
    size_t used = 0;
    if (size) out[0] = '\0';
    for (int i = 0; i < n && used < size; i++) {
        int n_written = snprintf(out + used, size - used, "%s%s", i ? "," : "", ds->band_info[bands ? bands[i] : i].name);
        if (n_written < 0) break;
        used += (size_t)n_written;
    }
    return out;
}

const char *gs_dataset_band_names(const gs_dataset *ds, char *out, size_t size) {
    return gs_dataset_band_names_at(ds, NULL, ds->bands, out, size);
}

/* "rgb": the first triple the data has all of. */
static const char *rgb_names(const gs_dataset *ds) {
    static const char *const TRIPLES[] = {"B04,B03,B02", "red,green,blue", "R,G,B"};
    for (size_t t = 0; t < sizeof TRIPLES / sizeof *TRIPLES; t++) {
        char copy[32];
        snprintf(copy, sizeof copy, "%s", TRIPLES[t]);
        bool all = true;
        for (char *save = NULL, *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save))
            all = all && find_band(ds, name) >= 0;
        if (all) return TRIPLES[t];
    }
    return NULL;
}

gs_status gs_dataset_select_bands(gs_dataset *ds, const char *spec, gs_error *err) {
    if (!spec || !spec[0] || !strcasecmp(spec, "all")) return GS_OK;
    char have[GS_MAX_BANDS * 17];
    gs_dataset_band_names(ds, have, sizeof have);
    const char *list = spec;
    if (!strcasecmp(spec, "rgb") && !(list = rgb_names(ds)))
        return gs_error_set(err, GS_ERR_ARGUMENT, "bands rgb: %s:%s has no red, green and blue bands (its bands: %s)",
                            ds->format->name, ds->root, have);
    char copy[sizeof ds->options.bands];
    if (strlen(list) >= sizeof copy)
        return gs_error_set(err, GS_ERR_ARGUMENT, "bands '%.40s...': longer than %zu characters", list,
                            sizeof copy - 1);
    snprintf(copy, sizeof copy, "%s", list);
    int chosen[GS_MAX_BANDS], n = 0;
    for (char *save = NULL, *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*name)) name++;
        for (char *end = name + strlen(name); end > name && isspace((unsigned char)end[-1]);) *--end = '\0';
        int b = find_band(ds, name);
        if (b < 0)
            return gs_error_set(err, GS_ERR_ARGUMENT, "bands %s: '%s' is not in %s:%s (its bands: %s)", spec,
                                name, ds->format->name, ds->root, have);
        for (int i = 0; i < n; i++)
            if (chosen[i] == b)
                return gs_error_set(err, GS_ERR_ARGUMENT, "bands %s: '%s' is named twice", spec, name);
        if (n == GS_MAX_BANDS)
            return gs_error_set(err, GS_ERR_ARGUMENT, "bands %s: more than %d", spec, GS_MAX_BANDS);
        chosen[n++] = b;
    }
    if (n == 0) return gs_error_set(err, GS_ERR_ARGUMENT, "bands '%s' names no band (its bands: %s)", spec, have);
    /* Relative to the format's own bands, also when a selection was made before. */
    if (!ds->source_bands) {
        ds->source_bands = ds->bands;
        for (int b = 0; b < ds->bands; b++) ds->band_source[b] = b;
    }
    int source[GS_MAX_BANDS];
    gs_band_info info[GS_MAX_BANDS];
    for (int i = 0; i < n; i++) {
        source[i] = ds->band_source[chosen[i]];
        info[i] = ds->band_info[chosen[i]];
    }
    memcpy(ds->band_source, source, (size_t)n * sizeof *source);
    memcpy(ds->band_info, info, (size_t)n * sizeof *info);
    ds->bands = n;
    snprintf(ds->options.bands, sizeof ds->options.bands, "%s", gs_dataset_band_names(ds, have, sizeof have));
    return GS_OK;
}

int64_t gs_dataset_read_floats(const gs_dataset *ds) {
    int64_t floats = gs_dataset_sample_floats(ds);
    if (!ds->source_bands) return floats;
    return floats + (floats / ds->bands) * ds->source_bands; /* the chosen bands, then the whole sample behind them */
}

gs_status gs_dataset_read(const gs_dataset *ds, int64_t index, gs_sample_data *out, gs_error *err) {
    if (!ds->source_bands) return ds->format->read(ds, index, out, err);
    /* The format sees itself as it opened, with all its bands, and reads the
     * whole sample behind the chosen bands' place in the caller's buffer
     * (gs_dataset_read_floats); the chosen planes are then copied to the front. */
    gs_dataset whole = *ds;
    whole.bands = ds->source_bands;
    int64_t plane = ds->height * ds->width, dates = ds->dates > 0 ? ds->dates : 1;
    float *all = out->pixels + gs_dataset_sample_floats(ds);
    gs_sample_data raw = {.pixels = all, .mask = out->mask};
    gs_status st = ds->format->read(&whole, index, &raw, err);
    if (st == GS_OK)
        for (int64_t d = 0; d < dates; d++)
            for (int b = 0; b < ds->bands; b++)
                memcpy(out->pixels + (d * ds->bands + b) * plane, all + (d * whole.bands + ds->band_source[b]) * plane,
                       (size_t)plane * sizeof *all);
    return st;
}
