/* Seasonal Sentinel-2 for pretraining: the SeCo and SSL4EO-S12 layouts,
 *   <root>/<location>/<date folder>/B1.tif ... B12.tif, B8A.tif
 * several acquisitions of each location, one single-band GeoTIFF per band at
 * 10, 20 and 60 m (264, 132 and 44 px in both releases).  The date folder is
 * named <acquisition>_<processing>_<tile>, e.g.
 * 20190803T154559_20190803T154611_T18QVG, so sorting the names bytewise
 * sorts the acquisitions by date.
 *
 * One sample is one location with all its dates: read() fills
 * (dates, bands, height, width), dates in acquisition order, every band
 * upsampled onto B2's grid (sentinel2.h).  options.dates picks how many: 0
 * (default) takes them all and every location must have as many as the first
 * one; n > 0 takes the n earliest and every location needs at least n.
 * sample.group is the location's index, sample.stem its folder name.
 *
 * Bands:
 * - seco: the 12 bands of the SeCo dataset, every MSI band but the cirrus band
 *   B10, which the dataset does not store (Mañas et al., "Seasonal Contrast:
 *   Unsupervised Pre-Training from Uncurated Remote Sensing Data", ICCV 2021).
 *   uint8 in the release.
 * - ssl4eo-s12: all 13 bands of the Level-1C release, B10 included (Wang et
 *   al., "SSL4EO-S12: A Large-Scale Multi-Modal, Multi-Temporal Dataset for
 *   Self-Supervised Learning in Earth Observation", IEEE GRSM 2023), uint16.
 *   The release unpacks into s12/{s1,s2a,s2c}/: <root> may be s2c itself or
 *   the folder holding it.  The Level-2A part (s2a) has no B10 and reads as 12
 *   bands: whether B10 is there is decided by the first date folder.
 * Files beside the date folders (metadata.json in SSL4EO, stray .tif copies)
 * are ignored; a subfolder whose name does not start with a date warns. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../image_io.h"
#include "../sentinel2.h"
#include "formats.h"

enum { MAX_S2_BANDS = 13, REF_BAND = 1 /* B2 */ };

/* Wavelength order, as the files are named in both releases. */
static const char *const S2_FILES[MAX_S2_BANDS] = {"B1", "B2", "B3", "B4",  "B5",  "B6", "B7",
                                                   "B8", "B8A", "B9", "B10", "B11", "B12"};

typedef struct seasonal_state {
    char *base;             /* the folder holding the location folders */
    int n_bands;
    const char *files[MAX_S2_BANDS];
    char **date_folders;    /* n_samples * dates names, location-major */
    int64_t n_date_folders, capacity;
} seasonal_state;

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* "YYYYMMDDT...": the acquisition time the folder names start with. */
static bool starts_with_date(const char *name) {
    for (int i = 0; i < 8; i++)
        if (name[i] < '0' || name[i] > '9') return false;
    return name[8] == 'T';
}

static char *join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s", a, b);
    return s;
}

static gs_status keep_date_folder(seasonal_state *st, const char *name, gs_error *err) {
    if (st->n_date_folders == st->capacity) {
        int64_t capacity = st->capacity ? st->capacity * 2 : 256;
        char **grown = realloc(st->date_folders, (size_t)capacity * sizeof *grown);
        if (!grown) return gs_error_set(err, GS_ERR_MEMORY, "out of memory indexing date folders");
        st->date_folders = grown;
        st->capacity = capacity;
    }
    size_t n = strlen(name) + 1;
    char *copy = malloc(n);
    if (!copy) return gs_error_set(err, GS_ERR_MEMORY, "out of memory indexing date folders");
    memcpy(copy, name, n);
    st->date_folders[st->n_date_folders++] = copy;
    return GS_OK;
}

/* The date folders of one location, sorted, others warned about. */
static gs_status list_dates(gs_dataset *ds, const char *location, char ***dates, int64_t *n, gs_error *err) {
    char **names;
    int64_t count;
    if (gs_list_subfolders(location, &names, &count, err) != GS_OK) return err->status;
    int64_t kept = 0;
    for (int64_t i = 0; i < count; i++) {
        if (starts_with_date(names[i])) {
            names[kept++] = names[i];
            continue;
        }
        fprintf(stderr, "warning: %s/%s is not a date folder (YYYYMMDDThhmmss_...); ignored\n", location, names[i]);
        ds->n_warnings++;
        free(names[i]);
    }
    names[kept] = NULL;
    *dates = names;
    *n = kept;
    return GS_OK;
}

static void seasonal_close(gs_dataset *ds) {
    seasonal_state *st = ds->state;
    if (!st) return;
    for (int64_t i = 0; i < st->n_date_folders; i++) free(st->date_folders[i]);
    free(st->date_folders);
    free(st->base);
    free(st);
    ds->state = NULL;
}

/* Indexes the locations under st->base and keeps the first ds->dates date
 * folders of each. */
static gs_status index_locations(gs_dataset *ds, seasonal_state *st, gs_error *err) {
    char **locations;
    int64_t n_locations;
    if (gs_list_subfolders(st->base, &locations, &n_locations, err) != GS_OK) return err->status;
    int wanted = ds->options.dates;
    gs_status status = wanted < 0 ? gs_error_set(err, GS_ERR_ARGUMENT, "dates per sample must be >= 0, not %d", wanted)
                                  : GS_OK;
    for (int64_t i = 0; i < n_locations && status == GS_OK; i++) {
        char *folder = join(st->base, locations[i]);
        char **dates = NULL;
        int64_t n_dates = 0;
        if (!folder) status = gs_error_set(err, GS_ERR_MEMORY, "out of memory indexing %s", st->base);
        if (status == GS_OK) status = list_dates(ds, folder, &dates, &n_dates, err);
        if (status == GS_OK && n_dates == 0)
            status = gs_error_set(err, GS_ERR_FORMAT,
                                  "location %s has no date folders (YYYYMMDDThhmmss_..._Txxxxx/B*.tif): is %s the "
                                  "folder of the location folders?",
                                  folder, st->base);
        if (status == GS_OK && ds->dates == 0 && wanted == 0) ds->dates = (int)n_dates;
        if (status == GS_OK && wanted == 0 && n_dates != ds->dates)
            status = gs_error_set(err, GS_ERR_FORMAT,
                                  "location %s has %lld dates, the first location %d: pass the number of dates "
                                  "to use (options.dates) to take the earliest ones",
                                  folder, (long long)n_dates, ds->dates);
        if (status == GS_OK && wanted > 0 && n_dates < wanted)
            status = gs_error_set(err, GS_ERR_FORMAT, "location %s has %lld dates, fewer than the %d asked for",
                                  folder, (long long)n_dates, wanted);
        if (status == GS_OK && wanted > 0) ds->dates = wanted;
        for (int d = 0; status == GS_OK && d < ds->dates; d++) status = keep_date_folder(st, dates[d], err);
        if (status == GS_OK) {
            gs_sample *s = gs_dataset_add_sample(ds, folder, locations[i], err);
            if (!s) status = err->status;
            else s->group = (int32_t)(ds->n_samples - 1);
        }
        gs_free_names(dates);
        free(folder);
    }
    gs_free_names(locations);
    return status;
}

static gs_status seasonal_open(gs_dataset *ds, bool ssl4eo, gs_error *err) {
    seasonal_state *st = calloc(1, sizeof *st);
    if (!st) return gs_error_set(err, GS_ERR_MEMORY, "out of memory opening %s", ds->root);
    ds->state = st;
    ds->task = GS_TASK_UNLABELED;
    ds->dates = 0; /* set from the first location */
    if (ssl4eo) { /* the release's s12/ folder holds s1/, s2a/ (L2A) and s2c/ (L1C) */
        char *s2c = join(ds->root, "s2c"), *s2a = join(ds->root, "s2a");
        if (s2c && is_dir(s2c)) {
            st->base = s2c;
            s2c = NULL;
        } else if (s2a && is_dir(s2a)) {
            st->base = s2a;
            s2a = NULL;
        }
        free(s2c);
        free(s2a);
    }
    if (!st->base) st->base = strdup(ds->root);
    if (!st->base) return gs_error_set(err, GS_ERR_MEMORY, "out of memory opening %s", ds->root);

    if (index_locations(ds, st, err) != GS_OK) return err->status;
    if (ds->n_samples == 0) return GS_OK; /* gs_dataset_open reports the empty folder */

    char first[4096], path[4096 + 16];
    snprintf(first, sizeof first, "%s/%s", ds->samples[0].path, st->date_folders[0]);
    st->n_bands = 0;
    for (int b = 0; b < MAX_S2_BANDS; b++) {
        bool cirrus = !strcmp(S2_FILES[b], "B10");
        if (cirrus && !ssl4eo) continue;
        if (cirrus) {
            snprintf(path, sizeof path, "%s/B10.tif", first);
            if (!is_file(path)) continue; /* Level-2A: no cirrus band */
        }
        st->files[st->n_bands] = S2_FILES[b];
        gs_s2_band_info(S2_FILES[b], &ds->band_info[st->n_bands]);
        st->n_bands++;
    }
    ds->bands = st->n_bands;
    int bands;
    gs_pixel_type type;
    snprintf(path, sizeof path, "%s/B2.tif", first);
    if (gs_tiff_probe(path, &ds->width, &ds->height, &bands, &type, err) != GS_OK) return err->status;
    return gs_image_check_limits(path, ds->width, ds->height, bands, type,
                                 &(gs_image_limits){.max_bytes = ds->options.max_scene_bytes}, err);
}

static gs_status seco_open(gs_dataset *ds, gs_error *err) { return seasonal_open(ds, false, err); }
static gs_status ssl4eo_open(gs_dataset *ds, gs_error *err) { return seasonal_open(ds, true, err); }

static gs_status seasonal_read(const gs_dataset *ds, int64_t index, gs_sample_data *out, gs_error *err) {
    if (index < 0 || index >= ds->n_samples)
        return gs_error_set(err, GS_ERR_ARGUMENT, "sample %lld out of range (%lld samples)", (long long)index,
                            (long long)ds->n_samples);
    const seasonal_state *st = ds->state;
    int64_t per_date = (int64_t)st->n_bands * ds->height * ds->width;
    char storage[MAX_S2_BANDS][4096];
    const char *paths[MAX_S2_BANDS];
    for (int d = 0; d < ds->dates; d++) {
        const char *date = st->date_folders[index * ds->dates + d];
        for (int b = 0; b < st->n_bands; b++) {
            int n = snprintf(storage[b], sizeof storage[b], "%s/%s/%s.tif", ds->samples[index].path, date,
                             st->files[b]);
            if (n < 0 || (size_t)n >= sizeof storage[b])
                return gs_error_set(err, GS_ERR_ARGUMENT, "path of %s/%s is too long", ds->samples[index].path, date);
            paths[b] = storage[b];
        }
        if (gs_s2_read_bands(paths, st->n_bands, REF_BAND, ds->height, ds->width, out->pixels + d * per_date, err) !=
            GS_OK)
            return err->status;
    }
    return GS_OK;
}

const gs_dataset_format gs_format_seco = {
    .name = "seco",
    .summary = "SeCo seasonal Sentinel-2: all dates of a location, 12 bands (no B10) on the 10 m grid",
    .open = seco_open,
    .read = seasonal_read,
    .close = seasonal_close,
};

const gs_dataset_format gs_format_ssl4eo = {
    .name = "ssl4eo-s12",
    .summary = "SSL4EO-S12 seasonal Sentinel-2 (s2c, L1C): all dates of a location, 13 bands on the 10 m grid",
    .open = ssl4eo_open,
    .read = seasonal_read,
    .close = seasonal_close,
};
