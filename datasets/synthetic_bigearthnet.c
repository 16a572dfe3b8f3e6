/* BigEarthNet v1.0 (Sentinel-2) layout: one folder per patch named
 * <product>_<row>_<col>, holding 12 single-band uint16 GeoTIFFs
 * <patch>_B01.tif .. <patch>_B12.tif, <patch>_B8A.tif at 120 px (10 m:
 * B02, B03, B04, B08), 60 px (20 m: B05, B06, B07, B8A, B11, B12) and
 * 20 px (60 m: B01, B09), and <patch>_labels_metadata.json with the
 * patch's CORINE labels.  Split lists bigearthnet-{train,val,test}.csv
 * (one patch name per line) sit next to the patch folders.
 *
 * A patch is 1 to 4 land-cover regions (warped Voronoi cells), each
 * rendered with the look of its label; the JSON names exactly the labels
 * whose region is in the patch. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synthetic_internal.h"

/* The 43 BigEarthNet labels (CORINE Land Cover level-3 classes present in
 * BigEarthNet; Sumbul et al., 2019, "BigEarthNet: A Large-Scale Benchmark
 * Archive for Remote Sensing Image Understanding"), in nomenclature order,
 * each with a look and a weight for how often patches show it (common
 * classes of the archive weigh more; chosen here, not measured). */
typedef struct bigearthnet_label {
    float weight;
    synth_recipe look; /* look.name is the label */
} bigearthnet_label;

static const bigearthnet_label LABELS[] = {
    {2,
     {"Continuous urban fabric",
      {MAT_CONCRETE, MAT_ROOF_RED, MAT_ASPHALT, MAT_ROOF_GRAY},
      {{SHAPE_GRID, 2, 0.25f, 0.03f, 0.9f}, {SHAPE_BLOCKS, 1, 0.25f, 0.06f, 0.95f}},
      0.05f}},
    {6,
     {"Discontinuous urban fabric",
      {MAT_VEGETATION, MAT_ROOF_RED, MAT_ASPHALT, MAT_FOREST},
      {{SHAPE_PATCHES, 3, 8, 0.2f, 0.1f}, {SHAPE_GRID, 2, 0.3f, 0.025f, 0.8f}, {SHAPE_BLOCKS, 1, 0.3f, 0.06f, 0.5f}},
      0.06f}},
    {3,
     {"Industrial or commercial units",
      {MAT_CONCRETE, MAT_ROOF_GRAY, MAT_ASPHALT, MAT_SOIL},
      {{SHAPE_GRID, 2, 0.4f, 0.03f, 0.7f}, {SHAPE_RECTS, 1, 5, 0.12f, 0.3f}},
      0.05f}},
    {1,
     {"Road and rail networks and associated land",
      {MAT_DRY_VEGETATION, MAT_ASPHALT, MAT_ROCK, MAT_SOIL},
      {{SHAPE_ROADS, 2, 1, 0.06f, 0}, {SHAPE_ROADS, 1, 1, 0.03f, 1}},
      0.05f}},
    {0.5f,
     {"Port areas",
      {MAT_WATER, MAT_CONCRETE, MAT_ROOF_GRAY, MAT_ASPHALT},
      {{SHAPE_SHORE, 1, 0, 0.05f, 0.2f}, {SHAPE_RECTS, 2, 6, 0.04f, 0.12f}},
      0.03f}},
    {0.5f,
     {"Airports",
      {MAT_DRY_VEGETATION, MAT_ASPHALT, MAT_CONCRETE, MAT_ROOF_GRAY},
      {{SHAPE_ROADS, 1, 1, 0.06f, 0}, {SHAPE_RECTS, 3, 3, 0.05f, 0.15f}},
      0.05f}},
    {0.7f,
     {"Mineral extraction sites",
      {MAT_ROCK, MAT_SAND, MAT_WATER, MAT_SOIL},
      {{SHAPE_CONTOURS, 1, 3, 5, 0.4f}, {SHAPE_PATCHES, 2, 4, 0.15f, 0.05f}},
      0.1f}},
    {0.3f,
     {"Dump sites",
      {MAT_SOIL, MAT_ROCK, MAT_CONCRETE, MAT_SOIL},
      {{SHAPE_PATCHES, 1, 8, 0.4f, 0.1f}, {SHAPE_PATCHES, 2, 16, 0.2f, 0.1f}},
      0.15f}},
    {0.3f,
     {"Construction sites",
      {MAT_SOIL, MAT_CONCRETE, MAT_SAND, MAT_ASPHALT},
      {{SHAPE_RECTS, 1, 4, 0.1f, 0.3f}, {SHAPE_ROADS, 3, 1, 0.03f, 0}},
      0.1f}},
    {0.7f,
     {"Green urban areas",
      {MAT_VEGETATION, MAT_FOREST, MAT_ASPHALT, MAT_SOIL},
      {{SHAPE_PATCHES, 1, 6, 0.35f, 0.1f}, {SHAPE_ROADS, 2, 2, 0.02f, 0}},
      0.06f}},
    {0.8f,
     {"Sport and leisure facilities",
      {MAT_VEGETATION, MAT_SAND, MAT_ROOF_RED, MAT_CONCRETE},
      {{SHAPE_DISCS, 2, 2, 0.15f, 0.04f}, {SHAPE_RECTS, 3, 3, 0.08f, 0.15f}},
      0.05f}},
    {10,
     {"Non-irrigated arable land",
      {MAT_SOIL, MAT_VEGETATION, MAT_DRY_VEGETATION, MAT_SOIL},
      {{SHAPE_PARCELS, 1, 6, 0.075f, 0.9f}},
      0.08f}},
    {0.6f,
     {"Permanently irrigated land",
      {MAT_SOIL, MAT_VEGETATION, MAT_DRY_VEGETATION, MAT_WATER},
      {{SHAPE_DISCS, 1, 3, 0.2f, 0}, {SHAPE_PARCELS, 2, 4, 0.08f, 0.5f}},
      0.06f}},
    {0.3f,
     {"Rice fields",
      {MAT_WATER, MAT_VEGETATION, MAT_WETLAND, MAT_SOIL},
      {{SHAPE_PARCELS, 1, 12, 0, 0.7f}, {SHAPE_GRID, 3, 0.2f, 0.015f, 0.8f}},
      0.04f}},
    {0.8f,
     {"Vineyards", {MAT_SOIL, MAT_VEGETATION, MAT_DRY_VEGETATION, MAT_SOIL}, {{SHAPE_PARCELS, 1, 4, 0.04f, 1}}, 0.06f}},
    {1,
     {"Fruit trees and berry plantations",
      {MAT_DRY_VEGETATION, MAT_VEGETATION, MAT_SOIL, MAT_SOIL},
      {{SHAPE_LATTICE, 1, 0.09f, 0.025f, 0.9f}},
      0.06f}},
    {0.7f,
     {"Olive groves",
      {MAT_SOIL, MAT_FOREST, MAT_DRY_VEGETATION, MAT_SOIL},
      {{SHAPE_LATTICE, 1, 0.1f, 0.03f, 0.9f}},
      0.08f}},
    {8,
     {"Pastures",
      {MAT_VEGETATION, MAT_DRY_VEGETATION, MAT_FOREST, MAT_SOIL},
      {{SHAPE_PARCELS, 1, 3, 0, 0.6f}, {SHAPE_TEXTURE, 2, 1.5f, 1, 0.8f}},
      0.05f}},
    {0.6f,
     {"Annual crops associated with permanent crops",
      {MAT_SOIL, MAT_VEGETATION, MAT_FOREST, MAT_SOIL},
      {{SHAPE_PARCELS, 1, 5, 0.07f, 0.7f}, {SHAPE_LATTICE, 2, 0.1f, 0.025f, 0.4f}},
      0.06f}},
    {6,
     {"Complex cultivation patterns",
      {MAT_SOIL, MAT_VEGETATION, MAT_DRY_VEGETATION, MAT_SOIL},
      {{SHAPE_PARCELS, 1, 12, 0.06f, 0.8f}, {SHAPE_PARCELS, 2, 8, 0, 0.5f}},
      0.06f}},
    {6,
     {"Land principally occupied by agriculture, with significant areas of natural vegetation",
      {MAT_VEGETATION, MAT_SOIL, MAT_FOREST, MAT_SOIL},
      {{SHAPE_PARCELS, 1, 5, 0.07f, 0.6f}, {SHAPE_PATCHES, 2, 5, 0.3f, 0.1f}},
      0.06f}},
    {1,
     {"Agro-forestry areas",
      {MAT_DRY_VEGETATION, MAT_FOREST, MAT_SOIL, MAT_SOIL},
      {{SHAPE_PATCHES, 1, 20, 0.3f, 0.1f}},
      0.08f}},
    {9,
     {"Broad-leaved forest",
      {MAT_FOREST, MAT_VEGETATION, MAT_CONIFER, MAT_SOIL},
      {{SHAPE_TEXTURE, 1, 18, 2, 2.5f}},
      0.2f}},
    {9, {"Coniferous forest", {MAT_CONIFER, MAT_FOREST, MAT_SOIL, MAT_SOIL}, {{SHAPE_TEXTURE, 1, 24, 2, 2}}, 0.2f}},
    {8,
     {"Mixed forest",
      {MAT_FOREST, MAT_CONIFER, MAT_VEGETATION, MAT_SOIL},
      {{SHAPE_PATCHES, 1, 8, 0.5f, 0.1f}, {SHAPE_TEXTURE, 2, 20, 2, 1.5f}},
      0.2f}},
    {1.5f,
     {"Natural grassland",
      {MAT_DRY_VEGETATION, MAT_VEGETATION, MAT_SOIL, MAT_SOIL},
      {{SHAPE_TEXTURE, 1, 4, 3, 1.2f}},
      0.1f}},
    {1.5f,
     {"Moors and heathland",
      {MAT_WETLAND, MAT_DRY_VEGETATION, MAT_SOIL, MAT_SOIL},
      {{SHAPE_PATCHES, 1, 10, 0.4f, 0.2f}},
      0.1f}},
    {1.2f,
     {"Sclerophyllous vegetation",
      {MAT_SOIL, MAT_FOREST, MAT_DRY_VEGETATION, MAT_SOIL},
      {{SHAPE_PATCHES, 1, 30, 0.35f, 0.15f}},
      0.1f}},
    {7,
     {"Transitional woodland/shrub",
      {MAT_DRY_VEGETATION, MAT_FOREST, MAT_VEGETATION, MAT_SOIL},
      {{SHAPE_PATCHES, 1, 12, 0.35f, 0.1f}, {SHAPE_TEXTURE, 2, 6, 2, 0.8f}},
      0.12f}},
    {0.5f,
     {"Beaches, dunes, sands",
      {MAT_SAND, MAT_WATER, MAT_DRY_VEGETATION, MAT_SOIL},
      {{SHAPE_CONTOURS, 2, 3, 5, 0.3f}, {SHAPE_SHORE, 1, 0.3f, 0.1f, 0.3f}},
      0.06f}},
    {0.5f, {"Bare rock", {MAT_ROCK, MAT_SOIL, MAT_SNOW, MAT_SOIL}, {{SHAPE_TEXTURE, 1, 5, 5, 2}}, 0.15f}},
    {1,
     {"Sparsely vegetated areas",
      {MAT_ROCK, MAT_DRY_VEGETATION, MAT_SOIL, MAT_SOIL},
      {{SHAPE_PATCHES, 1, 25, 0.2f, 0.15f}},
      0.1f}},
    {0.2f,
     {"Burnt areas", {MAT_BURNT, MAT_DRY_VEGETATION, MAT_SOIL, MAT_SOIL}, {{SHAPE_PATCHES, 1, 4, 0.3f, 0.2f}}, 0.1f}},
    {0.8f,
     {"Inland marshes",
      {MAT_WETLAND, MAT_WATER, MAT_VEGETATION, MAT_SOIL},
      {{SHAPE_PATCHES, 1, 8, 0.35f, 0.1f}},
      0.08f}},
    {1,
     {"Peatbogs",
      {MAT_WETLAND, MAT_SOIL, MAT_WATER, MAT_SOIL},
      {{SHAPE_PATCHES, 1, 12, 0.3f, 0.2f}, {SHAPE_PATCHES, 2, 20, 0.08f, 0.05f}},
      0.08f}},
    {0.3f,
     {"Salt marshes",
      {MAT_WETLAND, MAT_WATER, MAT_SAND, MAT_SOIL},
      {{SHAPE_RIVER, 1, 0.05f, 0.15f, 0.4f}, {SHAPE_RIVER, 1, 0.03f, 0.1f, 0.3f}},
      0.06f}},
    {0.2f,
     {"Salines",
      {MAT_SAND, MAT_WATER, MAT_CONCRETE, MAT_SOIL},
      {{SHAPE_PARCELS, 1, 8, 0, 0.8f}, {SHAPE_GRID, 2, 0.25f, 0.015f, 1}},
      0.03f}},
    {0.3f, {"Intertidal flats", {MAT_SAND, MAT_WATER, MAT_WETLAND, MAT_SOIL}, {{SHAPE_TEXTURE, 1, 6, 3, 1.5f}}, 0.05f}},
    {1.5f,
     {"Water courses",
      {MAT_VEGETATION, MAT_WATER, MAT_DRY_VEGETATION, MAT_SOIL},
      {{SHAPE_RIVER, 1, 0.1f, 0.1f, 0.7f}},
      0.06f}},
    {5,
     {"Water bodies", {MAT_WATER, MAT_VEGETATION, MAT_WETLAND, MAT_SOIL}, {{SHAPE_SHORE, 1, 0.6f, 0.1f, 0.4f}}, 0.02f}},
    {0.3f,
     {"Coastal lagoons",
      {MAT_WATER, MAT_SAND, MAT_WETLAND, MAT_SOIL},
      {{SHAPE_SHORE, 1, 0, 0.05f, 0.4f}, {SHAPE_PATCHES, 2, 4, 0.1f, 0.05f}},
      0.02f}},
    {0.3f,
     {"Estuaries",
      {MAT_WATER, MAT_WETLAND, MAT_SAND, MAT_SOIL},
      {{SHAPE_SHORE, 1, 0, 0.15f, 0.3f}, {SHAPE_RIVER, 0, 0.15f, 0.1f, 0.6f}},
      0.02f}},
    {4, {"Sea and ocean", {MAT_WATER, MAT_WATER, MAT_WATER, MAT_WATER}, {{SHAPE_TEXTURE, 0, 4, 2, 0.1f}}, 0.02f}},
};
#define N_LABELS ((int)(sizeof LABELS / sizeof *LABELS))
#define MAX_REGIONS 4

/* The 12 bands of a BigEarthNet-S2 patch (L2A has no B10). */
static const s2_band BANDS[] = {S2_B01, S2_B02, S2_B03, S2_B04, S2_B05, S2_B06,
                                S2_B07, S2_B08, S2_B8A, S2_B09, S2_B11, S2_B12};
#define N_BANDS ((int)(sizeof BANDS / sizeof *BANDS))

/* Patches come in runs of this many from one Sentinel-2 product, on a
 * 5 x 5 block of the product's patch grid. */
#define PATCHES_PER_PRODUCT 25

typedef struct product {
    char name[64];        /* S2A_MSIL2A_20170613T101031 */
    char tile_source[96]; /* S2A_MSIL1C_..._T33UUP_....SAFE */
    char date[24];        /* 2017-06-13 10:10:31 */
    int zone, row0, col0;
} product;

static void make_product(product *p, uint64_t seed, int index) {
    gs_rng rng = synth_item_rng(seed, "bigearthnet-product", (uint64_t)index, 0);
    /* BigEarthNet's acquisitions span June 2017 to May 2018. */
    int month_index = synth_int(&rng, 0, 11), year = month_index < 7 ? 2017 : 2018;
    int month = (month_index + 5) % 12 + 1, day = synth_int(&rng, 1, 28);
    int hour = synth_int(&rng, 9, 11), minute = synth_int(&rng, 0, 59), second = synth_int(&rng, 0, 59);
    char satellite = gs_rng_uniform(&rng) < 0.5f ? 'A' : 'B';
    p->zone = synth_int(&rng, 29, 35); /* the UTM zones of BigEarthNet's ten countries */
    const char *letters = "TUVW";
    char band = letters[gs_rng_below(&rng, 4)];
    char sq1 = (char)('K' + gs_rng_below(&rng, 14)), sq2 = (char)('A' + gs_rng_below(&rng, 20));
    snprintf(p->name, sizeof p->name, "S2%c_MSIL2A_%04d%02d%02dT%02d%02d%02d", satellite, year, month, day, hour,
             minute, second);
    snprintf(p->tile_source, sizeof p->tile_source,
             "S2%c_MSIL1C_%04d%02d%02dT%02d%02d%02d_N0205_R%03d_T%02d%c%c%c_%04d%02d%02dT%02d%02d%02d.SAFE", satellite,
             year, month, day, hour, minute, second, synth_int(&rng, 1, 143), p->zone, band, sq1, sq2, year, month, day,
             hour + 1, minute, second);
    snprintf(p->date, sizeof p->date, "%04d-%02d-%02d %02d:%02d:%02d", year, month, day, hour, minute, second);
    /* Distinct 5 x 5 blocks for products 0..323 keep patch names unique
     * even where two products draw the same date. */
    p->row0 = 5 * (index % 18);
    p->col0 = 5 * (index / 18 % 18);
}

/* Distinct labels drawn by weight. */
static int choose_labels(int *labels, gs_rng *rng) {
    float u = gs_rng_uniform(rng);
    int n = u < 0.2f ? 1 : u < 0.55f ? 2 : u < 0.85f ? 3 : 4;
    for (int k = 0; k < n; k++) {
        float total = 0;
        for (int i = 0; i < N_LABELS; i++) {
            bool taken = false;
            for (int j = 0; j < k; j++) taken |= labels[j] == i;
            if (!taken) total += LABELS[i].weight;
        }
        float pick = gs_rng_uniform(rng) * total;
        int chosen = -1;
        for (int i = 0; i < N_LABELS && chosen < 0; i++) {
            bool taken = false;
            for (int j = 0; j < k; j++) taken |= labels[j] == i;
            if (taken) continue;
            pick -= LABELS[i].weight;
            if (pick <= 0) chosen = i;
        }
        labels[k] = chosen < 0 ? N_LABELS - 1 : chosen;
    }
    return n;
}

/* Regions of at least 3% of the patch each, so every label is visible. */
static void make_regions(int32_t *cells, int side, int n, gs_rng *rng, int *area) {
    float seeds[2 * MAX_REGIONS];
    for (int attempt = 0; attempt < 20; attempt++) {
        for (int k = 0; k < 2 * n; k++) seeds[k] = synth_uniform(rng, 0.0f, (float)side);
        synth_voronoi(cells, side, side, seeds, n, 0.15f * side, rng);
        memset(area, 0, sizeof(int) * MAX_REGIONS);
        for (int i = 0; i < side * side; i++) area[cells[i]]++;
        bool ok = true;
        for (int k = 0; k < n; k++) ok &= area[k] >= 0.03f * side * side;
        if (ok) return;
    }
}

static gs_status write_json(const char *path, const product *p, const int *labels, int n, int row, int col, int side,
                            gs_error *err) {
    /* Labels in nomenclature order, as the archive lists them. */
    int sorted[MAX_REGIONS];
    memcpy(sorted, labels, sizeof(int) * (size_t)n);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            int t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    cJSON *root = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(root, "labels");
    for (int k = 0; k < n; k++) cJSON_AddItemToArray(list, cJSON_CreateString(LABELS[sorted[k]].look.name));
    cJSON *coords = cJSON_AddObjectToObject(root, "coordinates");
    double ulx = 300000.0 + (p->col0 + col) * side * 10.0, uly = 6000000.0 - (p->row0 + row) * side * 10.0;
    cJSON_AddNumberToObject(coords, "ulx", ulx);
    cJSON_AddNumberToObject(coords, "uly", uly);
    cJSON_AddNumberToObject(coords, "lrx", ulx + side * 10.0);
    cJSON_AddNumberToObject(coords, "lry", uly - side * 10.0);
    char wkt[1024];
    snprintf(
        wkt, sizeof wkt,
        "PROJCS[\"WGS 84 / UTM zone %dN\",GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,"
        "298.257223563]],PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433]],"
        "PROJECTION[\"Transverse_Mercator\"],PARAMETER[\"latitude_of_origin\",0],PARAMETER[\"central_meridian\",%d],"
        "PARAMETER[\"scale_factor\",0.9996],PARAMETER[\"false_easting\",500000],PARAMETER[\"false_northing\",0],"
        "UNIT[\"metre\",1],AUTHORITY[\"EPSG\",\"326%02d\"]]",
        p->zone, p->zone * 6 - 183, p->zone);
    cJSON_AddStringToObject(root, "projection", wkt);
    cJSON_AddStringToObject(root, "tile_source", p->tile_source);
    cJSON_AddStringToObject(root, "acquisition_date", p->date);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) return gs_error_set(err, GS_ERR_MEMORY, "out of memory writing %s", path);
    synth_write_text(path, text, err);
    cJSON_free(text);
    return err->status;
}

typedef struct work {
    synth_scratch s;
    synth_canvas patch, region;
} work;

static gs_status write_patch(const char *dir, int index, int side, uint64_t seed, work *wk, char *name,
                             size_t name_size, gs_error *err) {
    product p;
    make_product(&p, seed, index / PATCHES_PER_PRODUCT);
    int within = index % PATCHES_PER_PRODUCT, row = within / 5, col = within % 5;
    snprintf(name, name_size, "%s_%d_%d", p.name, p.row0 + row, p.col0 + col);
    gs_rng rng = synth_item_rng(seed, "bigearthnet", (uint64_t)index, 0);
    int labels[MAX_REGIONS], area[MAX_REGIONS];
    int n = choose_labels(labels, &rng);
    int32_t *cells = malloc(sizeof(int32_t) * (size_t)side * side);
    if (!cells) return gs_error_set(err, GS_ERR_MEMORY, "out of memory for a BigEarthNet patch");
    make_regions(cells, side, n, &rng, area);
    float gain = expf(0.1f * gs_rng_normal(&rng));
    size_t plane = (size_t)side * side;
    for (int k = 0; k < n; k++) {
        const synth_recipe *look = &LABELS[labels[k]].look;
        float spectra[SYNTH_ROLES][S2_BANDS];
        for (int r = 0; r < SYNTH_ROLES; r++)
            synth_jitter_spectrum(spectra[r], synth_material_spectrum(look->roles[r]), gain, 0.04f, &rng);
        const float *roles[SYNTH_ROLES] = {spectra[0], spectra[1], spectra[2], spectra[3]};
        synth_render(&wk->region, look, roles, &wk->s, &rng);
        for (int b = 0; b < wk->patch.bands; b++)
            for (size_t i = 0; i < plane; i++)
                if (cells[i] == k) wk->patch.data[b * plane + i] = wk->region.data[b * plane + i];
    }
    synth_add_noise(&wk->patch, 0.01f, 5.0f, &rng);
    /* Only labels whose region survived are named. */
    int kept = 0;
    for (int k = 0; k < n; k++)
        if (area[k] > 0) labels[kept++] = labels[k];
    free(cells);

    char folder[4096], path[4200];
    if (synth_path(folder, sizeof folder, err, "%s/%s", dir, name) != GS_OK || synth_mkdir(folder, err) != GS_OK)
        return err->status;
    for (int b = 0; b < N_BANDS; b++) {
        gs_raster r;
        int factor = s2_band_resolution_m(BANDS[b]) / 10;
        if (synth_path(path, sizeof path, err, "%s/%s_%s.tif", folder, name, s2_band_name(BANDS[b])) != GS_OK ||
            synth_band_downsample(&wk->patch, BANDS[b], factor, 1.0f, &r, err) != GS_OK)
            return err->status;
        gs_tiff_write(path, &r, GS_PIXEL_U16, 0, err);
        gs_raster_free(&r);
        if (err->status != GS_OK) return err->status;
    }
    if (synth_path(path, sizeof path, err, "%s/%s_labels_metadata.json", folder, name) != GS_OK) return err->status;
    return write_json(path, &p, labels, kept, row, col, side, err);
}

/* 60/20/20 by a seeded shuffle of the patches. */
static gs_status write_splits(const char *dir, char **names, int count, uint64_t seed, gs_error *err) {
    int *order = malloc(sizeof(int) * (size_t)count);
    size_t cap = (size_t)count * 80 + 1;
    char *lists[3] = {calloc(cap, 1), calloc(cap, 1), calloc(cap, 1)};
    if (!order || !lists[0] || !lists[1] || !lists[2]) {
        gs_error_set(err, GS_ERR_MEMORY, "out of memory for the BigEarthNet split lists");
    } else {
        gs_rng rng = synth_item_rng(seed, "bigearthnet-split", 0, 0);
        for (int i = 0; i < count; i++) order[i] = i;
        for (int i = count - 1; i > 0; i--) {
            int j = (int)gs_rng_below(&rng, (uint64_t)i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        size_t len[3] = {0, 0, 0};
        int n_train = (int)lrint(0.6 * count), n_val = (int)lrint(0.2 * count);
        for (int i = 0; i < count; i++) {
            int split = i < n_train ? 0 : i < n_train + n_val ? 1 : 2;
            len[split] += (size_t)snprintf(lists[split] + len[split], cap - len[split], "%s\n", names[order[i]]);
        }
        static const char *const split_names[3] = {"train", "val", "test"};
        char path[4096];
        for (int i = 0; i < 3 && err->status == GS_OK; i++)
            if (synth_path(path, sizeof path, err, "%s/bigearthnet-%s.csv", dir, split_names[i]) == GS_OK)
                synth_write_text(path, lists[i], err);
    }
    for (int i = 0; i < 3; i++) free(lists[i]);
    free(order);
    return err->status;
}

gs_status synth_write_bigearthnet(const char *dir, const gs_synth_options *opt, gs_error *err) {
    int side = opt->size ? opt->size : 120, count = opt->count ? opt->count : 100;
    work wk;
    memset(&wk, 0, sizeof wk);
    char **names = calloc((size_t)count, sizeof *names);
    if (!names || synth_scratch_init(&wk.s, side, side, err) != GS_OK ||
        synth_canvas_init(&wk.patch, BANDS, N_BANDS, side, side, err) != GS_OK ||
        synth_canvas_init(&wk.region, BANDS, N_BANDS, side, side, err) != GS_OK) {
        gs_error_set(err, GS_ERR_MEMORY, "out of memory for synthetic BigEarthNet");
    }
    for (int i = 0; i < count && err->status == GS_OK; i++) {
        names[i] = malloc(96);
        if (!names[i]) {
            gs_error_set(err, GS_ERR_MEMORY, "out of memory for synthetic BigEarthNet");
            break;
        }
        write_patch(dir, i, side, opt->seed, &wk, names[i], 96, err);
    }
    if (err->status == GS_OK) write_splits(dir, names, count, opt->seed, err);
    for (int i = 0; names && i < count; i++) free(names[i]);
    free(names);
    synth_canvas_free(&wk.patch);
    synth_canvas_free(&wk.region);
    synth_scratch_free(&wk.s);
    return err->status;
}
