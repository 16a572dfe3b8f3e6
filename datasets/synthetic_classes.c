/* Scene classification in the EuroSAT (RGB JPEG and 13-band GeoTIFF) and
 * NWPU-RESISC45 layouts.  Each class is a layered recipe: its layout
 * (parcels of stripes, a road pair, a street grid with houses, an orchard
 * lattice, a meander, a shoreline, ...) carries the class, while the
 * materials are drawn per image from a pool shared by all classes, with
 * only a bias towards the class's typical ones.  That is what makes the
 * per-band statistics overlap between classes (a logistic regression on
 * per-band mean and std stays well under 60% on EuroSAT; see
 * tests/datasets_synthetic.c) while the structure stays learnable. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "synthetic_internal.h"

/* DN to 8-bit for RGB products: EuroSAT's RGB release is B04/B03/B02
 * stretched to 0..255; 3000 DN maps to white here. */
#define RGB_SCALE (255.0f / 3000.0f)
#define JPEG_QUALITY 90

/* Chance that a role gets its recipe's typical material rather than one
 * drawn from the shared pool (EuroSAT is tuned by the mean/std test). */
#define EUROSAT_TYPICAL 0.5f
#define RESISC45_TYPICAL 0.75f

/* The EuroSAT classes, with the dataset's folder names (Helber et al., 2019,
 * "EuroSAT: A Novel Dataset and Deep Learning Benchmark for Land Use and
 * Land Cover Classification").  Sizes are fractions of the 64 px side. */
static const synth_recipe EUROSAT[] = {
    {"AnnualCrop",
     {MAT_SOIL, MAT_VEGETATION, MAT_DRY_VEGETATION, MAT_SOIL},
     {{SHAPE_PARCELS, 1, 6, 0.075f, 0.9f}},
     0.08f},
    {"Forest",
     {MAT_FOREST, MAT_VEGETATION, MAT_CONIFER, MAT_SOIL},
     {{SHAPE_TEXTURE, 1, 18, 2, 2.5f}, {SHAPE_PATCHES, 2, 10, 0.12f, 0.1f}},
     0.2f},
    {"HerbaceousVegetation",
     {MAT_VEGETATION, MAT_DRY_VEGETATION, MAT_SOIL, MAT_SOIL},
     {{SHAPE_PATCHES, 1, 6, 0.45f, 0.3f}, {SHAPE_PATCHES, 2, 12, 0.08f, 0.15f}},
     0.12f},
    {"Highway",
     {MAT_VEGETATION, MAT_ASPHALT, MAT_DRY_VEGETATION, MAT_SOIL},
     {{SHAPE_PATCHES, 2, 2.5f, 0.4f, 0.2f}, {SHAPE_ROADS, 1, 1, 0.035f, 1}},
     0.06f},
    {"Industrial",
     {MAT_CONCRETE, MAT_ROOF_GRAY, MAT_ASPHALT, MAT_SOIL},
     {{SHAPE_RECTS, 2, 3, 0.15f, 0.35f}, {SHAPE_RECTS, 1, 4, 0.15f, 0.4f}},
     0.06f},
    {"Pasture",
     {MAT_VEGETATION, MAT_DRY_VEGETATION, MAT_FOREST, MAT_SOIL},
     {{SHAPE_PARCELS, 1, 3, 0, 0.6f}, {SHAPE_TEXTURE, 2, 1.5f, 1, 0.8f}},
     0.05f},
    {"PermanentCrop",
     {MAT_DRY_VEGETATION, MAT_VEGETATION, MAT_SOIL, MAT_SOIL},
     {{SHAPE_LATTICE, 1, 0.09f, 0.025f, 0.8f}},
     0.06f},
    {"Residential",
     {MAT_VEGETATION, MAT_ROOF_RED, MAT_ASPHALT, MAT_SOIL},
     {{SHAPE_GRID, 2, 0.24f, 0.03f, 0.9f}, {SHAPE_BLOCKS, 1, 0.24f, 0.06f, 0.75f}},
     0.08f},
    {"River",
     {MAT_VEGETATION, MAT_WATER, MAT_DRY_VEGETATION, MAT_SOIL},
     {{SHAPE_PATCHES, 2, 2.5f, 0.35f, 0.2f}, {SHAPE_RIVER, 1, 0.1f, 0.12f, 0.7f}},
     0.06f},
    {"SeaLake", {MAT_WATER, MAT_VEGETATION, MAT_SAND, MAT_SOIL}, {{SHAPE_SHORE, 1, 0.35f, 0.25f, 0.3f}}, 0.03f},
};
#define EUROSAT_CLASSES ((int)(sizeof EUROSAT / sizeof *EUROSAT))

/* The 45 NWPU-RESISC45 classes with the dataset's folder names (Cheng et
 * al., 2017, "Remote Sensing Image Scene Classification: Benchmark and
 * State of the Art").  Sizes are fractions of the 256 px side. */
static const synth_recipe RESISC45[] = {
    {"airplane",
     {MAT_CONCRETE, MAT_ROOF_GRAY, MAT_ASPHALT, MAT_SNOW},
     {{SHAPE_ROADS, 2, 1, 0.05f, 0}, {SHAPE_PLANES, 1, 1.2f, 0.4f, 0}},
     0.05f},
    {"airport",
     {MAT_DRY_VEGETATION, MAT_ASPHALT, MAT_CONCRETE, MAT_ROOF_GRAY},
     {{SHAPE_ROADS, 1, 1, 0.09f, 0}, {SHAPE_ROADS, 2, 2, 0.02f, 2}, {SHAPE_RECTS, 3, 3, 0.05f, 0.15f}},
     0.08f},
    {"baseball_diamond",
     {MAT_VEGETATION, MAT_SOIL, MAT_SAND, MAT_CONCRETE},
     {{SHAPE_DISCS, 1, 1, 0.2f, 0.04f}, {SHAPE_DISCS, 2, 1, 0.05f, 0}},
     0.08f},
    {"basketball_court",
     {MAT_CONCRETE, MAT_ROOF_RED, MAT_VEGETATION, MAT_SNOW},
     {{SHAPE_PATCHES, 2, 3, 0.3f, 0.05f}, {SHAPE_RECTS, 1, 2, 0.15f, 0.25f}},
     0.05f},
    {"beach",
     {MAT_WATER, MAT_SAND, MAT_VEGETATION, MAT_SOIL},
     {{SHAPE_SHORE, 1, 0, 0.1f, 0.15f}, {SHAPE_STRIPES, 0, 0.05f, 0.1f, -1}},
     0.05f},
    {"bridge",
     {MAT_VEGETATION, MAT_WATER, MAT_ASPHALT, MAT_SOIL},
     {{SHAPE_RIVER, 1, 0.3f, 0.05f, 1.5f}, {SHAPE_ROADS, 2, 1, 0.05f, 0}},
     0.08f},
    {"chaparral",
     {MAT_SOIL, MAT_DRY_VEGETATION, MAT_FOREST, MAT_SAND},
     {{SHAPE_PATCHES, 2, 40, 0.25f, 0.15f}, {SHAPE_TEXTURE, 1, 4, 2, 0.8f}},
     0.1f},
    {"church",
     {MAT_CONCRETE, MAT_ROOF_GRAY, MAT_ROOF_RED, MAT_VEGETATION},
     {{SHAPE_RECTS, 1, 6, 0.06f, 0.15f}, {SHAPE_PLANES, 2, 1, 0.5f, 0}},
     0.06f},
    {"circular_farmland",
     {MAT_DRY_VEGETATION, MAT_VEGETATION, MAT_SOIL, MAT_SOIL},
     {{SHAPE_DISCS, 1, 3, 0.2f, 0}, {SHAPE_DISCS, 2, 2, 0.15f, 0}},
     0.06f},
    {"cloud",
     {MAT_VEGETATION, MAT_SNOW, MAT_ROOF_GRAY, MAT_SOIL},
     {{SHAPE_TEXTURE, 2, 3, 4, 1.2f}, {SHAPE_PATCHES, 1, 3, 0.6f, 0.4f}},
     0.1f},
    {"commercial_area",
     {MAT_CONCRETE, MAT_ROOF_GRAY, MAT_ASPHALT, MAT_VEGETATION},
     {{SHAPE_GRID, 2, 0.3f, 0.04f, 0.8f}, {SHAPE_RECTS, 1, 8, 0.08f, 0.2f}},
     0.06f},
    {"dense_residential",
     {MAT_ASPHALT, MAT_ROOF_RED, MAT_VEGETATION, MAT_CONCRETE},
     {{SHAPE_BLOCKS, 1, 0.2f, 0.05f, 0.95f}, {SHAPE_PATCHES, 2, 20, 0.05f, 0.1f}},
     0.06f},
    {"desert", {MAT_SAND, MAT_SOIL, MAT_ROCK, MAT_SAND}, {{SHAPE_CONTOURS, 1, 3, 6, 0.3f}}, 0.08f},
    {"forest",
     {MAT_FOREST, MAT_CONIFER, MAT_VEGETATION, MAT_SOIL},
     {{SHAPE_TEXTURE, 1, 40, 2, 2.5f}, {SHAPE_PATCHES, 2, 8, 0.1f, 0.1f}},
     0.2f},
    {"freeway",
     {MAT_VEGETATION, MAT_ASPHALT, MAT_CONCRETE, MAT_SOIL},
     {{SHAPE_ROADS, 2, 1, 0.12f, 0}, {SHAPE_ROADS, 1, 1, 0.05f, 1}},
     0.06f},
    {"golf_course",
     {MAT_VEGETATION, MAT_SAND, MAT_WATER, MAT_FOREST},
     {{SHAPE_PATCHES, 3, 4, 0.3f, 0.1f}, {SHAPE_DISCS, 1, 4, 0.03f, 0}, {SHAPE_DISCS, 2, 1, 0.08f, 0}},
     0.05f},
    {"ground_track_field",
     {MAT_VEGETATION, MAT_ROOF_RED, MAT_CONCRETE, MAT_SNOW},
     {{SHAPE_DISCS, 1, 1, 0.3f, 0.07f}, {SHAPE_RECTS, 2, 3, 0.05f, 0.1f}},
     0.05f},
    {"harbor",
     {MAT_WATER, MAT_CONCRETE, MAT_ROOF_GRAY, MAT_ASPHALT},
     {{SHAPE_SHORE, 1, 0, 0.05f, 0.3f}, {SHAPE_ROADS, 1, 4, 0.02f, 0}, {SHAPE_RECTS, 2, 8, 0.02f, 0.06f}},
     0.03f},
    {"industrial_area",
     {MAT_CONCRETE, MAT_ROOF_GRAY, MAT_ASPHALT, MAT_SOIL},
     {{SHAPE_GRID, 2, 0.35f, 0.03f, 0.7f}, {SHAPE_RECTS, 1, 6, 0.1f, 0.35f}},
     0.06f},
    {"intersection",
     {MAT_VEGETATION, MAT_ASPHALT, MAT_CONCRETE, MAT_ROOF_RED},
     {{SHAPE_ROADS, 1, 1, 0.1f, 2}, {SHAPE_RECTS, 3, 4, 0.08f, 0.15f}},
     0.06f},
    {"island",
     {MAT_WATER, MAT_VEGETATION, MAT_SAND, MAT_FOREST},
     {{SHAPE_DISCS, 2, 1, 0.3f, 0}, {SHAPE_PATCHES, 1, 3, 0.1f, 0.05f}},
     0.03f},
    {"lake",
     {MAT_VEGETATION, MAT_WATER, MAT_FOREST, MAT_SOIL},
     {{SHAPE_PATCHES, 2, 6, 0.3f, 0.1f}, {SHAPE_PATCHES, 1, 2, 0.45f, 0.05f}},
     0.06f},
    {"meadow", {MAT_VEGETATION, MAT_DRY_VEGETATION, MAT_SOIL, MAT_SOIL}, {{SHAPE_TEXTURE, 1, 3, 3, 1.2f}}, 0.1f},
    {"medium_residential",
     {MAT_VEGETATION, MAT_ROOF_RED, MAT_ASPHALT, MAT_FOREST},
     {{SHAPE_GRID, 2, 0.3f, 0.04f, 0.9f}, {SHAPE_BLOCKS, 1, 0.3f, 0.05f, 0.55f}, {SHAPE_PATCHES, 3, 10, 0.15f, 0.1f}},
     0.06f},
    {"mobile_home_park",
     {MAT_CONCRETE, MAT_ROOF_GRAY, MAT_VEGETATION, MAT_ASPHALT},
     {{SHAPE_GRID, 3, 0.15f, 0.02f, 1}, {SHAPE_BLOCKS, 1, 0.15f, 0.03f, 0.9f}},
     0.05f},
    {"mountain",
     {MAT_ROCK, MAT_CONIFER, MAT_SNOW, MAT_SOIL},
     {{SHAPE_TEXTURE, 1, 4, 5, 2}, {SHAPE_PATCHES, 2, 3, 0.15f, 0.05f}},
     0.15f},
    {"overpass",
     {MAT_VEGETATION, MAT_ASPHALT, MAT_CONCRETE, MAT_SOIL},
     {{SHAPE_ROADS, 1, 1, 0.06f, 2}, {SHAPE_ROADS, 2, 1, 0.05f, 0}},
     0.06f},
    {"palace",
     {MAT_CONCRETE, MAT_ROOF_RED, MAT_VEGETATION, MAT_ROOF_GRAY},
     {{SHAPE_PATCHES, 2, 4, 0.3f, 0.05f}, {SHAPE_RECTS, 1, 1, 0.4f, 0.6f}, {SHAPE_RECTS, 3, 2, 0.1f, 0.2f}},
     0.05f},
    {"parking_lot",
     {MAT_ASPHALT, MAT_ROOF_RED, MAT_ROOF_GRAY, MAT_CONCRETE},
     {{SHAPE_LATTICE, 1, 0.045f, 0.012f, 0.8f}, {SHAPE_LATTICE, 2, 0.045f, 0.012f, 0.4f}},
     0.04f},
    {"railway",
     {MAT_VEGETATION, MAT_ROCK, MAT_ASPHALT, MAT_SOIL},
     {{SHAPE_ROADS, 1, 1, 0.08f, 1}, {SHAPE_ROADS, 2, 1, 0.015f, 1}},
     0.06f},
    {"railway_station",
     {MAT_CONCRETE, MAT_ROOF_GRAY, MAT_ROCK, MAT_ASPHALT},
     {{SHAPE_STRIPES, 2, 0.08f, 0.4f, -1}, {SHAPE_RECTS, 1, 2, 0.1f, 0.3f}},
     0.05f},
    {"rectangular_farmland",
     {MAT_SOIL, MAT_VEGETATION, MAT_DRY_VEGETATION, MAT_ASPHALT},
     {{SHAPE_RECTS, 1, 5, 0.2f, 0.5f}, {SHAPE_GRID, 3, 0.35f, 0.01f, 1}},
     0.06f},
    {"river",
     {MAT_VEGETATION, MAT_WATER, MAT_FOREST, MAT_SOIL},
     {{SHAPE_PATCHES, 2, 3, 0.3f, 0.1f}, {SHAPE_RIVER, 1, 0.12f, 0.15f, 0.8f}},
     0.06f},
    {"roundabout",
     {MAT_VEGETATION, MAT_ASPHALT, MAT_CONCRETE, MAT_SOIL},
     {{SHAPE_ROADS, 1, 2, 0.05f, 2}, {SHAPE_DISCS, 1, 1, 0.15f, 0.06f}},
     0.06f},
    {"runway",
     {MAT_DRY_VEGETATION, MAT_ASPHALT, MAT_SNOW, MAT_SOIL},
     {{SHAPE_ROADS, 1, 1, 0.25f, 0}, {SHAPE_ROADS, 2, 1, 0.01f, 0}},
     0.05f},
    {"sea_ice", {MAT_WATER, MAT_SNOW, MAT_ROCK, MAT_WATER}, {{SHAPE_SHARDS, 1, 25, 0.015f, 0.7f}}, 0.03f},
    {"ship",
     {MAT_WATER, MAT_ROOF_GRAY, MAT_CONCRETE, MAT_WATER},
     {{SHAPE_STRIPES, 2, 0.03f, 0.1f, -1}, {SHAPE_RECTS, 1, 2, 0.04f, 0.2f}},
     0.02f},
    {"snowberg",
     {MAT_SNOW, MAT_ROCK, MAT_WATER, MAT_CONIFER},
     {{SHAPE_TEXTURE, 1, 6, 4, 1.5f}, {SHAPE_PATCHES, 2, 3, 0.2f, 0.05f}},
     0.1f},
    {"sparse_residential",
     {MAT_VEGETATION, MAT_ROOF_RED, MAT_ASPHALT, MAT_FOREST},
     {{SHAPE_PATCHES, 3, 6, 0.3f, 0.1f}, {SHAPE_ROADS, 2, 2, 0.03f, 0}, {SHAPE_RECTS, 1, 6, 0.05f, 0.09f}},
     0.08f},
    {"stadium",
     {MAT_CONCRETE, MAT_VEGETATION, MAT_ROOF_GRAY, MAT_ASPHALT},
     {{SHAPE_DISCS, 2, 1, 0.3f, 0.12f}, {SHAPE_DISCS, 1, 1, 0.18f, 0}},
     0.05f},
    {"storage_tank",
     {MAT_CONCRETE, MAT_ROOF_GRAY, MAT_ASPHALT, MAT_SOIL},
     {{SHAPE_LATTICE, 1, 0.2f, 0.07f, 0.7f}},
     0.05f},
    {"tennis_court",
     {MAT_VEGETATION, MAT_ROOF_RED, MAT_SNOW, MAT_CONCRETE},
     {{SHAPE_RECTS, 1, 3, 0.12f, 0.2f}, {SHAPE_GRID, 2, 0.12f, 0.008f, 0.5f}},
     0.05f},
    {"terrace", {MAT_VEGETATION, MAT_SOIL, MAT_DRY_VEGETATION, MAT_SOIL}, {{SHAPE_CONTOURS, 1, 2, 12, 0.4f}}, 0.08f},
    {"thermal_power_station",
     {MAT_CONCRETE, MAT_ROOF_GRAY, MAT_ASPHALT, MAT_SNOW},
     {{SHAPE_RECTS, 2, 3, 0.1f, 0.25f}, {SHAPE_DISCS, 1, 2, 0.1f, 0}},
     0.06f},
    {"wetland",
     {MAT_WETLAND, MAT_WATER, MAT_VEGETATION, MAT_SOIL},
     {{SHAPE_PATCHES, 1, 8, 0.35f, 0.1f}, {SHAPE_TEXTURE, 2, 12, 2, 0.6f}},
     0.1f},
};
#define RESISC45_CLASSES ((int)(sizeof RESISC45 / sizeof *RESISC45))

/* Materials any role may get instead of its typical one. */
static const synth_material POOL[] = {MAT_VEGETATION, MAT_DRY_VEGETATION, MAT_FOREST,   MAT_CONIFER, MAT_SOIL,
                                      MAT_SAND,       MAT_WATER,          MAT_CONCRETE, MAT_ASPHALT, MAT_ROOF_RED,
                                      MAT_ROOF_GRAY,  MAT_ROCK,           MAT_WETLAND};
#define POOL_SIZE ((int)(sizeof POOL / sizeof *POOL))

/* Role spectra for one image: typical or pooled materials, distinct across
 * roles so every layer stays visible, a blend towards another pooled
 * material, one brightness gain for the image and a little per-band jitter. */
static void choose_spectra(const synth_recipe *r, float typical, float spectra[SYNTH_ROLES][S2_BANDS], gs_rng *rng) {
    synth_material used[SYNTH_ROLES];
    float gain = expf(0.25f * gs_rng_normal(rng));
    for (int k = 0; k < SYNTH_ROLES; k++) {
        synth_material m = r->roles[k];
        bool clash;
        int tries = 0;
        do {
            if (tries > 0 || gs_rng_uniform(rng) >= typical) m = POOL[gs_rng_below(rng, POOL_SIZE)];
            clash = false;
            for (int j = 0; j < k; j++) clash |= used[j] == m;
        } while (clash && ++tries < 32);
        used[k] = m;
        const float *a = synth_material_spectrum(m), *b = synth_material_spectrum(POOL[gs_rng_below(rng, POOL_SIZE)]);
        float blend = synth_uniform(rng, 0.0f, 0.3f), mixed[S2_BANDS];
        for (int i = 0; i < S2_BANDS; i++) mixed[i] = a[i] + blend * (b[i] - a[i]);
        synth_jitter_spectrum(spectra[k], mixed, gain, 0.05f, rng);
    }
}

/* EuroSAT MS holds every band at 10 m, the 20 m and 60 m bands upsampled:
 * make those blocky, then restore each band's mean and spread so the band
 * statistics keep no trace of the scene's spatial frequencies. */
static void coarsen_low_resolution_bands(synth_canvas *c, float *block) {
    int n = c->h * c->w;
    for (int b = 0; b < c->bands; b++) {
        int factor = s2_band_resolution_m(c->band_ids[b]) / 10;
        if (factor == 1) continue;
        float *plane = c->data + (size_t)b * n;
        double mean = 0, var = 0, mean_c = 0, var_c = 0;
        for (int i = 0; i < n; i++) mean += plane[i];
        mean /= n;
        for (int by = 0; by < c->h; by += factor)
            for (int bx = 0; bx < c->w; bx += factor) {
                float sum = 0;
                int cnt = 0;
                for (int y = by; y < by + factor && y < c->h; y++)
                    for (int x = bx; x < bx + factor && x < c->w; x++, cnt++) sum += plane[y * c->w + x];
                for (int y = by; y < by + factor && y < c->h; y++)
                    for (int x = bx; x < bx + factor && x < c->w; x++) block[y * c->w + x] = sum / cnt;
            }
        for (int i = 0; i < n; i++) {
            var += (plane[i] - mean) * (plane[i] - mean);
            mean_c += block[i];
        }
        mean_c /= n;
        for (int i = 0; i < n; i++) var_c += (block[i] - mean_c) * (block[i] - mean_c);
        double gain = var_c > 1e-6 ? sqrt(var / var_c) : 0.0;
        for (int i = 0; i < n; i++) plane[i] = (float)(mean + (block[i] - mean_c) * gain);
    }
}

/* The EuroSAT MS file's band order, as the dataset's documentation lists
 * the 13 bands (and datasets/formats/eurosat_ms.c reads them): B01..B08,
 * B8A ("B08A"), B09, B10, B11, B12. */
static const s2_band EUROSAT_MS_ORDER[S2_BANDS] = {S2_B01, S2_B02, S2_B03, S2_B04, S2_B05, S2_B06, S2_B07,
                                                   S2_B08, S2_B8A, S2_B09, S2_B10, S2_B11, S2_B12};
static const s2_band RGB_ORDER[3] = {S2_B04, S2_B03, S2_B02};

typedef struct class_writer {
    const char *tag; /* seeds: RGB and MS share it, so both releases show the same scenes */
    const synth_recipe *recipes;
    float typical;
    bool multispectral;
    int size;
    const char *name_format; /* "%s/%s/%s_%d.jpg" or with %03d */
} class_writer;

static gs_status write_class_image(const class_writer *cw, const char *dir, int k, int n, uint64_t seed,
                                   synth_scratch *s, synth_canvas *c, gs_error *err) {
    char path[4096];
    const synth_recipe *r = &cw->recipes[k];
    if (synth_path(path, sizeof path, err, cw->name_format, dir, r->name, r->name, n) != GS_OK) return err->status;
    gs_rng rng = synth_item_rng(seed, cw->tag, (uint64_t)k, (uint64_t)n);
    float spectra[SYNTH_ROLES][S2_BANDS];
    choose_spectra(r, cw->typical, spectra, &rng);
    const float *roles[SYNTH_ROLES] = {spectra[0], spectra[1], spectra[2], spectra[3]};
    synth_render(c, r, roles, s, &rng);
    if (cw->multispectral) coarsen_low_resolution_bands(c, s->tmp);
    synth_add_noise(c, 0.01f, 8.0f, &rng);
    gs_raster raster;
    if (cw->multispectral) {
        if (synth_canvas_to_raster(c, EUROSAT_MS_ORDER, S2_BANDS, 1.0f, &raster, err) != GS_OK) return err->status;
        gs_tiff_write(path, &raster, GS_PIXEL_U16, 0, err);
    } else {
        if (synth_canvas_to_raster(c, RGB_ORDER, 3, RGB_SCALE, &raster, err) != GS_OK) return err->status;
        gs_jpeg_write(path, &raster, JPEG_QUALITY, err);
    }
    gs_raster_free(&raster);
    return err->status;
}

static gs_status write_classes(const class_writer *cw, int n_classes, int count, const char *dir, uint64_t seed,
                               gs_error *err) {
    synth_scratch s;
    synth_canvas c;
    const s2_band *ids = cw->multispectral ? EUROSAT_MS_ORDER : RGB_ORDER;
    if (synth_scratch_init(&s, cw->size, cw->size, err) != GS_OK) return err->status;
    if (synth_canvas_init(&c, ids, cw->multispectral ? S2_BANDS : 3, cw->size, cw->size, err) != GS_OK) {
        synth_scratch_free(&s);
        return err->status;
    }
    char path[4096];
    for (int k = 0; k < n_classes && err->status == GS_OK; k++) {
        if (synth_path(path, sizeof path, err, "%s/%s", dir, cw->recipes[k].name) != GS_OK ||
            synth_mkdir(path, err) != GS_OK)
            break;
        for (int n = 1; n <= count && err->status == GS_OK; n++) write_class_image(cw, dir, k, n, seed, &s, &c, err);
    }
    synth_canvas_free(&c);
    synth_scratch_free(&s);
    return err->status;
}

/* eurosat-{train,val,test}.txt: 60/20/20 of each class by a seeded
 * shuffle, one file name per line as the published lists have them (they
 * name the .tif files of the MS release for both releases). */
static gs_status write_eurosat_splits(const char *dir, int count, uint64_t seed, gs_error *err) {
    static const char *const names[3] = {"train", "val", "test"};
    size_t cap = (size_t)EUROSAT_CLASSES * (size_t)count * 40 + 1;
    char *lists[3] = {calloc(cap, 1), calloc(cap, 1), calloc(cap, 1)};
    size_t len[3] = {0, 0, 0};
    int *order = malloc(sizeof(int) * (size_t)count);
    gs_status status = lists[0] && lists[1] && lists[2] && order ? GS_OK : GS_ERR_MEMORY;
    if (status != GS_OK) gs_error_set(err, status, "out of memory for the EuroSAT split lists");
    for (int k = 0; k < EUROSAT_CLASSES && status == GS_OK; k++) {
        gs_rng rng = synth_item_rng(seed, "eurosat-split", (uint64_t)k, 0);
        for (int i = 0; i < count; i++) order[i] = i + 1;
        for (int i = count - 1; i > 0; i--) {
            int j = (int)gs_rng_below(&rng, (uint64_t)i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int n_train = (int)lrint(0.6 * count), n_val = (int)lrint(0.2 * count);
        /* Rounding leaves 3 images per class no test image; a class of 2 or
         * more always has one, taken from training. */
        if (count >= 2 && n_train + n_val >= count) n_train = count - n_val - 1;
        for (int i = 0; i < count; i++) {
            int split = i < n_train ? 0 : i < n_train + n_val ? 1 : 2;
            len[split] +=
                (size_t)snprintf(lists[split] + len[split], cap - len[split], "%s_%d.tif\n", EUROSAT[k].name, order[i]);
        }
    }
    char path[4096];
    /* An empty list is left out: the reader refuses a split file that names
     * nothing, and takes a missing one as an empty split. */
    for (int i = 0; i < 3 && status == GS_OK; i++)
        if (len[i] > 0 && (synth_path(path, sizeof path, err, "%s/eurosat-%s.txt", dir, names[i]) != GS_OK ||
            synth_write_text(path, lists[i], err) != GS_OK))
            status = err->status;
    for (int i = 0; i < 3; i++) free(lists[i]);
    free(order);
    return status;
}

gs_status synth_write_eurosat(const char *dir, const gs_synth_options *opt, bool multispectral, gs_error *err) {
    class_writer cw = {
        .tag = "eurosat",
        .recipes = EUROSAT,
        .typical = EUROSAT_TYPICAL,
        .multispectral = multispectral,
        .size = opt->size ? opt->size : 64,
        .name_format = multispectral ? "%s/%s/%s_%d.tif" : "%s/%s/%s_%d.jpg",
    };
    int count = opt->count ? opt->count : 100;
    if (write_classes(&cw, EUROSAT_CLASSES, count, dir, opt->seed, err) != GS_OK) return err->status;
    return write_eurosat_splits(dir, count, opt->seed, err);
}

gs_status synth_write_resisc45(const char *dir, const gs_synth_options *opt, gs_error *err) {
    int n_classes = opt->n_classes && opt->n_classes < RESISC45_CLASSES ? opt->n_classes : RESISC45_CLASSES;
    class_writer cw = {
        .tag = "resisc45",
        .recipes = RESISC45,
        .typical = RESISC45_TYPICAL,
        .multispectral = false,
        .size = opt->size ? opt->size : 256,
        .name_format = "%s/%s/%s_%03d.jpg",
    };
    return write_classes(&cw, n_classes, opt->count ? opt->count : 20, dir, opt->seed, err);
}
