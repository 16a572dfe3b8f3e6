/* BigEarthNet v1.0, Sentinel-2 part: one folder per patch,
 *   <root>/<patch>/<patch>_B01.tif ... _B12.tif, _B8A.tif   (12 bands, no B10)
 *   <root>/<patch>/<patch>_labels_metadata.json             ({"labels": [...], ...})
 * bands at 120 x 120 (10 m), 60 x 60 (20 m) and 20 x 20 (60 m) px, uint16.
 * read() returns the 12 bands in wavelength order, each upsampled onto B02's
 * grid (sentinel2.h: bilinear, by the integer size ratio).
 *
 * Labels: the 43 CORINE Land Cover level-3 names of the JSON files, as a bit
 * set in sample.labels; with options.bigearthnet19 the 19-class nomenclature
 * instead, through its published mapping (names the mapping drops set no bit;
 * a patch can then have none, and keeps its place).
 *
 * Splits: bigearthnet-train.csv, bigearthnet-val.csv and bigearthnet-test.csv
 * (the official lists; the first column names the S2 patch, a second column,
 * where present, its Sentinel-1 twin) are looked for in <root> and, when
 * <root> has none of them, in <root>/.. (the release unpacks the patches into
 * BigEarthNet-v1.0/ next to the lists).  Patches listed in none of them (the
 * ones the official lists leave out for seasonal snow, cloud and shadow) keep
 * GS_SPLIT_NONE.  Without any list every patch is GS_SPLIT_NONE. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "../image_io.h"
#include "../sentinel2.h"
#include "formats.h"

/* The 43 labels of BigEarthNet v1.0 (Sumbul et al., "BigEarthNet: A
 * Large-Scale Benchmark Archive for Remote Sensing Image Understanding",
 * IGARSS 2019): CORINE Land Cover 2018 level-3 classes, in CLC code order. */
const char *const gs_bigearthnet_labels_43[43] = {
    "Continuous urban fabric",
    "Discontinuous urban fabric",
    "Industrial or commercial units",
    "Road and rail networks and associated land",
    "Port areas",
    "Airports",
    "Mineral extraction sites",
    "Dump sites",
    "Construction sites",
    "Green urban areas",
    "Sport and leisure facilities",
    "Non-irrigated arable land",
    "Permanently irrigated land",
    "Rice fields",
    "Vineyards",
    "Fruit trees and berry plantations",
    "Olive groves",
    "Pastures",
    "Annual crops associated with permanent crops",
    "Complex cultivation patterns",
    "Land principally occupied by agriculture, with significant areas of natural vegetation",
    "Agro-forestry areas",
    "Broad-leaved forest",
    "Coniferous forest",
    "Mixed forest",
    "Natural grassland",
    "Moors and heathland",
    "Sclerophyllous vegetation",
    "Transitional woodland/shrub",
    "Beaches, dunes, sands",
    "Bare rock",
    "Sparsely vegetated areas",
    "Burnt areas",
    "Inland marshes",
    "Peatbogs",
    "Salt marshes",
    "Salines",
    "Intertidal flats",
    "Water courses",
    "Water bodies",
    "Coastal lagoons",
    "Estuaries",
    "Sea and ocean",
};

/* The 19-class nomenclature and its mapping from the 43 (Sumbul et al.,
 * "BigEarthNet Dataset with a New Class-Nomenclature for Remote Sensing Image
 * Understanding", arXiv:2001.06372, 2020; used as BigEarthNet-19 in Sumbul et
 * al., "BigEarthNet-MM", IEEE GRSM 2021). */
static const char *const LABELS_19[19] = {
    "Urban fabric",
    "Industrial or commercial units",
    "Arable land",
    "Permanent crops",
    "Pastures",
    "Complex cultivation patterns",
    "Land principally occupied by agriculture, with significant areas of natural vegetation",
    "Agro-forestry areas",
    "Broad-leaved forest",
    "Coniferous forest",
    "Mixed forest",
    "Natural grassland and sparsely vegetated areas",
    "Moors, heathland and sclerophyllous vegetation",
    "Transitional woodland, shrub",
    "Beaches, dunes, sands",
    "Inland wetlands",
    "Coastal wetlands",
    "Inland waters",
    "Marine waters",
};

/* gs_bigearthnet_labels_43[i] -> LABELS_19 index, or -1 for the 11 classes the new
 * nomenclature removes (roads, ports, airports, mine/dump/construction sites,
 * green urban and sport areas, bare rock, burnt areas, intertidal flats). */
static const int MAP_43_TO_19[43] = {
    0,  0,  1,  -1, -1, -1, -1, -1, -1, -1, -1, /* 0..10: urban and artificial */
    2,  2,  2,  3,  3,  3,  4,  3,  5,  6,  7,  /* 11..21: agricultural */
    8,  9,  10, 11, 12, 12, 13, 14, -1, 11, -1, /* 22..32: forest and semi-natural */
    15, 15, 16, 16, -1, 17, 17, 18, 18, 18,     /* 33..42: wetlands and water */
};

/* Wavelength order; B02 (index 1) is the 10 m reference grid. */
static const char *const BANDS[12] = {"B01", "B02", "B03", "B04", "B05", "B06",
                                      "B07", "B08", "B8A", "B09", "B11", "B12"};
enum { N_BANDS = 12, REF_BAND = 1 };

static gs_status band_path(const char *root, const char *patch, const char *suffix, char *out, size_t size,
                           gs_error *err) {
    int n = snprintf(out, size, "%s/%s/%s_%s", root, patch, patch, suffix);
    if (n < 0 || (size_t)n >= size)
        return gs_error_set(err, GS_ERR_ARGUMENT, "path of %s in %s/%s is too long", suffix, root, patch);
    return GS_OK;
}

static gs_status read_text(const char *path, char **text, size_t *len, gs_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return gs_error_set(err, GS_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || st.st_size > (64 << 20)) {
        fclose(f);
        return gs_error_set(err, GS_ERR_FORMAT, "%s: unreadable or implausibly large for a labels file", path);
    }
    *len = (size_t)st.st_size;
    *text = malloc(*len + 1);
    if (!*text) {
        fclose(f);
        return gs_error_set(err, GS_ERR_MEMORY, "out of memory reading %s", path);
    }
    size_t got = fread(*text, 1, *len, f);
    fclose(f);
    if (got != *len) {
        free(*text);
        return gs_error_set(err, GS_ERR_IO, "%s: short read", path);
    }
    (*text)[*len] = '\0';
    return GS_OK;
}

/* Parses <patch>_labels_metadata.json into a bit set over the task's classes. */
static gs_status read_labels(const char *path, bool nineteen, uint64_t *labels, gs_error *err) {
    char *text = NULL;
    size_t len = 0;
    if (read_text(path, &text, &len, err) != GS_OK) return err->status;
    const char *end = NULL;
    /* ParseWithLengthOpts reports where parsing stopped without cJSON's
     * global error pointer, which would not be thread-safe. */
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        long offset = end ? (long)(end - text) : -1;
        free(text);
        return gs_error_set(err, GS_ERR_FORMAT, "%s is not valid JSON (parsing stopped at byte %ld)", path, offset);
    }
    free(text);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "labels");
    gs_status status = GS_OK;
    if (!cJSON_IsArray(list))
        status = gs_error_set(err, GS_ERR_FORMAT, "%s has no \"labels\" array", path);
    *labels = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        if (status != GS_OK) break;
        const char *name = cJSON_GetStringValue(item);
        int index = -1;
        for (int c = 0; name && c < 43; c++)
            if (!strcmp(gs_bigearthnet_labels_43[c], name)) index = c;
        if (index < 0) {
            status = gs_error_set(err, GS_ERR_FORMAT,
                                  "%s: \"%s\" is not one of the 43 BigEarthNet v1.0 label names", path,
                                  name ? name : "(not a string)");
            break;
        }
        int target = nineteen ? MAP_43_TO_19[index] : index;
        if (target >= 0) *labels |= UINT64_C(1) << target;
    }
    cJSON_Delete(root);
    return status;
}

static int compare_stem(const void *key, const void *sample) {
    return strcmp((const char *)key, ((const gs_sample *)sample)->stem);
}

/* Applies one split CSV: the first column names a patch (samples are sorted
 * by stem, so a binary search finds it). */
static gs_status apply_split_csv(gs_dataset *ds, const char *path, gs_split split, gs_error *err) {
    FILE *f = fopen(path, "r");
    if (!f) return gs_error_set(err, GS_ERR_IO, "cannot open split list %s: %s", path, strerror(errno));
    char line[1024];
    int64_t unknown = 0, twice = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, ",\r\n")] = '\0';
        char *name = line;
        while (*name == ' ' || *name == '\t') name++;
        if (!*name) continue;
        gs_sample *s = bsearch(name, ds->samples, (size_t)ds->n_samples, sizeof *s, compare_stem);
        if (!s)
            unknown++;
        else if (s->split != GS_SPLIT_NONE && s->split != (int)split)
            twice++;
        else
            s->split = split;
    }
    fclose(f);
    if (unknown > 0) {
        fprintf(stderr, "warning: %lld patches listed in %s are not under %s (a partial copy?)\n",
                (long long)unknown, path, ds->root);
        ds->n_warnings++;
    }
    if (twice > 0) {
        fprintf(stderr, "warning: %lld patches listed in %s are already in another split; kept there\n",
                (long long)twice, path);
        ds->n_warnings++;
    }
    return GS_OK;
}

static gs_status apply_splits(gs_dataset *ds, gs_error *err) {
    static const char *const FILES[3] = {"bigearthnet-train.csv", "bigearthnet-val.csv", "bigearthnet-test.csv"};
    static const gs_split SPLITS[3] = {GS_SPLIT_TRAIN, GS_SPLIT_VAL, GS_SPLIT_TEST};
    const char *dirs[2] = {"", "/.."};
    for (int d = 0; d < 2; d++) {
        int found = 0;
        for (int i = 0; i < 3; i++) {
            char path[4096];
            struct stat st;
            snprintf(path, sizeof path, "%s%s/%s", ds->root, dirs[d], FILES[i]);
            if (stat(path, &st) != 0) continue;
            found++;
            if (apply_split_csv(ds, path, SPLITS[i], err) != GS_OK) return err->status;
        }
        if (found) return GS_OK;
    }
    return GS_OK;
}

static gs_status bigearthnet_open(gs_dataset *ds, gs_error *err) {
    bool nineteen = ds->options.bigearthnet19;
    ds->task = GS_TASK_MULTILABEL;
    if (gs_dataset_set_classes(ds, nineteen ? LABELS_19 : gs_bigearthnet_labels_43, nineteen ? 19 : 43, err) != GS_OK)
        return err->status;
    ds->bands = N_BANDS;
    for (int b = 0; b < N_BANDS; b++) gs_s2_band_info(BANDS[b], &ds->band_info[b]);

    char **patches;
    int64_t n_patches;
    if (gs_list_subfolders(ds->root, &patches, &n_patches, err) != GS_OK) return err->status;
    gs_status status = GS_OK;
    char path[4096];
    for (int64_t i = 0; i < n_patches && status == GS_OK; i++) {
        status = band_path(ds->root, patches[i], "labels_metadata.json", path, sizeof path, err);
        struct stat st;
        if (status == GS_OK && stat(path, &st) != 0)
            status = gs_error_set(err, GS_ERR_FORMAT,
                                  "%s is missing: is %s the BigEarthNet-v1.0 folder, with one folder per patch?",
                                  path, ds->root);
        uint64_t labels = 0;
        if (status == GS_OK) status = read_labels(path, nineteen, &labels, err);
        if (status != GS_OK) break;
        char folder[4096];
        snprintf(folder, sizeof folder, "%s/%s", ds->root, patches[i]);
        gs_sample *s = gs_dataset_add_sample(ds, folder, patches[i], err);
        if (!s) status = err->status;
        else s->labels = labels;
    }
    gs_free_names(patches);
    if (status != GS_OK || ds->n_samples == 0) return status;

    /* Every patch is read at the size of the first one's B02 (120 x 120 in
     * the release); read() reports a patch that differs. */
    int bands;
    gs_pixel_type type;
    if (band_path(ds->root, ds->samples[0].stem, "B02.tif", path, sizeof path, err) != GS_OK ||
        gs_tiff_probe(path, &ds->width, &ds->height, &bands, &type, err) != GS_OK ||
        gs_image_check_limits(path, ds->width, ds->height, bands, type,
                              &(gs_image_limits){.max_bytes = ds->options.max_scene_bytes}, err) != GS_OK)
        return err->status;
    return apply_splits(ds, err);
}

static gs_status bigearthnet_read(const gs_dataset *ds, int64_t index, gs_sample_data *out, gs_error *err) {
    if (index < 0 || index >= ds->n_samples)
        return gs_error_set(err, GS_ERR_ARGUMENT, "sample %lld out of range (%lld samples)", (long long)index,
                            (long long)ds->n_samples);
    const char *patch = ds->samples[index].stem;
    char storage[N_BANDS][4096];
    const char *paths[N_BANDS];
    for (int b = 0; b < N_BANDS; b++) {
        char suffix[16];
        snprintf(suffix, sizeof suffix, "%s.tif", BANDS[b]);
        if (band_path(ds->root, patch, suffix, storage[b], sizeof storage[b], err) != GS_OK) return err->status;
        paths[b] = storage[b];
    }
    return gs_s2_read_bands(paths, N_BANDS, REF_BAND, ds->height, ds->width, out->pixels, err);
}

const gs_dataset_format gs_format_bigearthnet = {
    .name = "bigearthnet",
    .summary = "BigEarthNet v1.0 Sentinel-2 patches, 12 bands on the 10 m grid, 43 or 19 multi-labels",
    .open = bigearthnet_open,
    .read = bigearthnet_read,
    .close = NULL,
};
