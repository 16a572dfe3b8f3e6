/* The synthetic generator: format dispatch, the output folder, Sentinel-2
 * bands, material spectra, seeding, the spectral canvas and file helpers.
 * Shapes and textures are in synthetic_shapes.c, the formats in
 * synthetic_<family>.c. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "synthetic_internal.h"

/* ---- Sentinel-2 bands ----------------------------------------------------- */

const char *s2_band_name(s2_band b) {
    static const char *const names[S2_BANDS] = {"B01", "B02", "B03", "B04", "B05", "B06", "B07",
                                                "B08", "B8A", "B09", "B10", "B11", "B12"};
    return names[b];
}

const char *s2_band_short_name(s2_band b) {
    static const char *const names[S2_BANDS] = {"B1", "B2",  "B3", "B4",  "B5",  "B6", "B7",
                                                "B8", "B8A", "B9", "B10", "B11", "B12"};
    return names[b];
}

/* Sentinel-2 MSI band resolutions (ESA, Sentinel-2 User Handbook, 2015). */
int s2_band_resolution_m(s2_band b) {
    switch (b) {
    case S2_B02:
    case S2_B03:
    case S2_B04:
    case S2_B08: return 10;
    case S2_B01:
    case S2_B09:
    case S2_B10: return 60;
    default: return 20;
    }
}

/* ---- materials ------------------------------------------------------------ */

/* Rough top-of-atmosphere spectra chosen for this generator (not measured):
 * the shapes that matter are the red edge and NIR plateau of vegetation,
 * dark water beyond the visible, bright SWIR of soil and sand, flat
 * man-made surfaces, snow bright in the visible and dark in the SWIR, and
 * low B09 (water vapour) and B10 (cirrus) everywhere.  Path radiance keeps
 * B01/B02 from going dark. */
const float *synth_material_spectrum(synth_material m) {
    /* clang-format off: keep the band columns aligned */
    static const float spectra[MAT_COUNT][S2_BANDS] = {
        /*              B01   B02   B03   B04   B05   B06   B07   B08   B8A   B09  B10   B11   B12 */
        [MAT_VEGETATION] = {1250, 950, 950, 600, 1150, 2500, 3000, 3200, 3300, 1100, 20, 1900, 900},
        [MAT_DRY_VEGETATION] = {1300, 1150, 1200, 1350, 1600, 2000, 2250, 2400, 2500, 900, 20, 2800, 1900},
        [MAT_FOREST] = {1150, 850, 750, 450, 750, 1900, 2300, 2450, 2550, 850, 15, 1300, 600},
        [MAT_CONIFER] = {1100, 800, 650, 400, 650, 1500, 1800, 1900, 1950, 700, 12, 1000, 450},
        [MAT_SOIL] = {1400, 1300, 1500, 1900, 2100, 2250, 2400, 2500, 2650, 850, 25, 3200, 2700},
        [MAT_SAND] = {1800, 1900, 2300, 2800, 3000, 3150, 3300, 3400, 3500, 1200, 35, 3900, 3300},
        [MAT_WATER] = {1250, 1000, 800, 500, 420, 350, 330, 300, 280, 100, 8, 120, 90},
        [MAT_CONCRETE] = {1600, 1600, 1750, 1850, 1950, 2050, 2150, 2250, 2300, 800, 25, 2600, 2300},
        [MAT_ASPHALT] = {1250, 1050, 1050, 1100, 1150, 1200, 1250, 1300, 1350, 500, 12, 1500, 1400},
        [MAT_ROOF_RED] = {1300, 1100, 1150, 1900, 2200, 2350, 2450, 2500, 2550, 850, 20, 2700, 2300},
        [MAT_ROOF_GRAY] = {1400, 1300, 1350, 1400, 1450, 1500, 1550, 1600, 1650, 600, 15, 1800, 1600},
        [MAT_ROCK] = {1500, 1450, 1600, 1800, 1950, 2100, 2200, 2300, 2400, 850, 25, 2900, 2500},
        [MAT_SNOW] = {8500, 8800, 8900, 8700, 8500, 8300, 8100, 7800, 7600, 2500, 400, 1200, 900},
        [MAT_BURNT] = {1100, 850, 800, 800, 900, 1000, 1050, 1100, 1150, 400, 10, 1800, 1700},
        [MAT_WETLAND] = {1200, 950, 900, 600, 900, 1600, 1850, 1950, 2000, 700, 12, 900, 500},
    };
    /* clang-format on */
    return spectra[m];
}

/* ---- random numbers --------------------------------------------------------- */

gs_rng synth_item_rng(uint64_t seed, const char *tag, uint64_t a, uint64_t b) {
    /* FNV-1a over the tag, then a multiplicative mix of the coordinates:
     * gs_rng_seed's splitmix scrambles the result further. */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = tag; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    h ^= seed * 0x9E3779B97F4A7C15ULL;
    h ^= (a + 1) * 0xD1B54A32D192ED03ULL;
    h ^= (b + 1) * 0xABC98388FB8FAC03ULL;
    gs_rng rng;
    gs_rng_seed(&rng, h);
    return rng;
}

float synth_uniform(gs_rng *rng, float lo, float hi) { return lo + (hi - lo) * gs_rng_uniform(rng); }

int synth_int(gs_rng *rng, int lo, int hi) { return lo + (int)gs_rng_below(rng, (uint64_t)(hi - lo + 1)); }

/* ---- the canvas ------------------------------------------------------------- */

gs_status synth_canvas_init(synth_canvas *c, const s2_band *ids, int bands, int h, int w, gs_error *err) {
    memset(c, 0, sizeof *c);
    c->data = malloc(sizeof(float) * (size_t)bands * (size_t)h * (size_t)w);
    if (!c->data)
        return gs_error_set(err, GS_ERR_MEMORY, "out of memory for a %d x %d x %d synthetic image", bands, h, w);
    c->bands = bands;
    memcpy(c->band_ids, ids, sizeof(s2_band) * (size_t)bands);
    c->h = h;
    c->w = w;
    return GS_OK;
}

void synth_canvas_free(synth_canvas *c) {
    free(c->data);
    memset(c, 0, sizeof *c);
}

void synth_fill(synth_canvas *c, const float *spectrum) {
    size_t n = (size_t)c->h * (size_t)c->w;
    for (int b = 0; b < c->bands; b++)
        for (size_t i = 0; i < n; i++) c->data[b * n + i] = spectrum[c->band_ids[b]];
}

void synth_paint(synth_canvas *c, const float *mask, const float *spectrum, const float *modulation) {
    size_t n = (size_t)c->h * (size_t)c->w;
    for (int b = 0; b < c->bands; b++) {
        float v = spectrum[c->band_ids[b]];
        float *plane = c->data + b * n;
        for (size_t i = 0; i < n; i++) {
            float m = mask[i];
            if (m <= 0.0f) continue;
            float value = modulation ? v * modulation[i] : v;
            plane[i] += m * (value - plane[i]);
        }
    }
}

void synth_modulate(synth_canvas *c, const float *field) {
    size_t n = (size_t)c->h * (size_t)c->w;
    for (int b = 0; b < c->bands; b++)
        for (size_t i = 0; i < n; i++) c->data[b * n + i] *= field[i];
}

void synth_add_noise(synth_canvas *c, float sigma_rel, float sigma_abs, gs_rng *rng) {
    /* Sensor noise needs no exact gaussian: the sum of four 16-bit uniforms
     * from one draw (variance 1/3 before scaling) is close and several
     * times cheaper than Box-Muller, which dominated generation time. */
    size_t n = (size_t)c->bands * (size_t)c->h * (size_t)c->w;
    const float scale = 1.7320508f / 65536.0f;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = gs_rng_next_u64(rng);
        float sum = (float)((r & 0xFFFF) + (r >> 16 & 0xFFFF) + (r >> 32 & 0xFFFF) + (r >> 48));
        float normal = sum * scale - 2.0f * 1.7320508f;
        float v = c->data[i];
        c->data[i] = v + (sigma_rel * v + sigma_abs) * normal;
    }
}

/* ---- output ----------------------------------------------------------------- */

static int canvas_plane(const synth_canvas *c, s2_band band) {
    for (int b = 0; b < c->bands; b++)
        if (c->band_ids[b] == band) return b;
    return -1;
}

gs_status synth_canvas_to_raster(const synth_canvas *c, const s2_band *order, int n, float scale, gs_raster *out,
                                 gs_error *err) {
    if (gs_raster_alloc(out, n, c->h, c->w, err) != GS_OK) return err->status;
    size_t plane = (size_t)c->h * (size_t)c->w;
    for (int k = 0; k < n; k++) {
        int b = canvas_plane(c, order[k]);
        if (b < 0) {
            gs_raster_free(out);
            return gs_error_set(err, GS_ERR_INTERNAL, "synthetic image lacks band %s", s2_band_name(order[k]));
        }
        for (size_t i = 0; i < plane; i++) out->data[k * plane + i] = c->data[b * plane + i] * scale;
    }
    return GS_OK;
}

gs_status synth_band_downsample(const synth_canvas *c, s2_band band, int factor, float scale, gs_raster *out,
                                gs_error *err) {
    int b = canvas_plane(c, band);
    if (b < 0 || factor < 1 || c->h % factor || c->w % factor)
        return gs_error_set(err, GS_ERR_INTERNAL, "cannot downsample band %s by %d", s2_band_name(band), factor);
    int h = c->h / factor, w = c->w / factor;
    if (gs_raster_alloc(out, 1, h, w, err) != GS_OK) return err->status;
    const float *src = c->data + (size_t)b * c->h * c->w;
    float norm = scale / (float)(factor * factor);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float sum = 0.0f;
            for (int dy = 0; dy < factor; dy++)
                for (int dx = 0; dx < factor; dx++) sum += src[(size_t)(y * factor + dy) * c->w + x * factor + dx];
            out->data[(size_t)y * w + x] = sum * norm;
        }
    return GS_OK;
}

/* ---- files ---------------------------------------------------------------- */

gs_status synth_path(char *buf, size_t size, gs_error *err, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(buf, size, fmt, args);
    va_end(args);
    if (n < 0 || (size_t)n >= size)
        return gs_error_set(err, GS_ERR_ARGUMENT, "path too long: %.80s... (choose a shorter output folder)", buf);
    return GS_OK;
}

gs_status synth_mkdir(const char *path, gs_error *err) {
    if (mkdir(path, 0777) == 0) return GS_OK;
    struct stat st;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return GS_OK;
    return gs_error_set(err, GS_ERR_IO, "cannot create folder %s: %s", path, strerror(errno));
}

gs_status synth_write_text(const char *path, const char *text, gs_error *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return gs_error_set(err, GS_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    size_t n = strlen(text);
    bool ok = fwrite(text, 1, n, f) == n;
    if (fclose(f) != 0) ok = false;
    if (!ok) return gs_error_set(err, GS_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return GS_OK;
}

/* Creates dir and its missing parents; an existing dir must be empty so a
 * second run never mixes its files with an older, different dataset. */
static gs_status prepare_output_dir(const char *dir, gs_error *err) {
    char path[4096];
    if (synth_path(path, sizeof path, err, "%s", dir) != GS_OK) return err->status;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        struct stat st;
        if (stat(path, &st) != 0 && mkdir(path, 0777) != 0 && errno != EEXIST) {
            gs_error_set(err, GS_ERR_IO, "cannot create output folder %s (while creating %s: %s)", dir, path,
                         strerror(errno));
            return err->status;
        }
        *p = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return gs_error_set(err, GS_ERR_IO, "cannot create output folder %s: %s", dir, strerror(errno));
    DIR *d = opendir(dir);
    if (!d) return gs_error_set(err, GS_ERR_IO, "cannot open output folder %s: %s", dir, strerror(errno));
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = false;
    closedir(d);
    if (!empty)
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "output folder %s is not empty: remove it or choose a new folder, so the synthetic "
                            "dataset is not mixed with other files",
                            dir);
    return GS_OK;
}

/* ---- dispatch --------------------------------------------------------------- */

typedef enum synth_kind {
    KIND_EUROSAT_RGB,
    KIND_EUROSAT_MS,
    KIND_RESISC45,
    KIND_BIGEARTHNET,
    KIND_POTSDAM,
    KIND_SECO,
    KIND_SSL4EO,
    KIND_GEOTIFF,
    KIND_S2_TIMESERIES
} synth_kind;

typedef struct synth_format {
    const char *name;
    synth_kind kind;
    const char *summary;
} synth_format;

static const synth_format FORMATS[] = {
    {"eurosat-rgb", KIND_EUROSAT_RGB, "<Class>/<Class>_<n>.jpg, 10 classes, 64x64 RGB JPEG, split lists"},
    {"eurosat-ms", KIND_EUROSAT_MS, "<Class>/<Class>_<n>.tif, 10 classes, 64x64 13-band uint16, split lists"},
    {"resisc45", KIND_RESISC45, "<class>/<class>_<nnn>.jpg, 45 classes (or the first --classes), 256x256 RGB JPEG"},
    {"bigearthnet", KIND_BIGEARTHNET, "<patch>/<patch>_B??.tif at 120/60/20 px + labels JSON (43 classes), split CSVs"},
    {"potsdam", KIND_POTSDAM, "4_Ortho_RGBIR/top_potsdam_<a>_<b>_RGBIR.tif + colour label TIFs, official tile ids"},
    {"seco", KIND_SECO, "<location>/<date_tile>/B*.tif, 12 uint8 bands at 3 resolutions, 5 seasonal dates"},
    {"ssl4eo-s12", KIND_SSL4EO, "<location>/<date_tile>/B*.tif + metadata.json, 13 uint16 bands, 4 seasons"},
    {"geotiff", KIND_GEOTIFF, "scene_<n>.tif, 4-band uint16 scenes of varied sizes to tile"},
    {"s2-timeseries", KIND_S2_TIMESERIES, "<location>/<YYYY-MM-DD>.tif, 16-band float64 exports, 6 dates, named bands"},
};
#define N_FORMATS (sizeof FORMATS / sizeof *FORMATS)

void gs_synth_print_formats(FILE *out) {
    for (size_t i = 0; i < N_FORMATS; i++) fprintf(out, "  %-12s %s\n", FORMATS[i].name, FORMATS[i].summary);
}

static gs_status check_options(const synth_format *f, const gs_synth_options *o, gs_error *err) {
    if (o->count < 0 || o->size < 0 || o->n_classes < 0 || o->dates < 0)
        return gs_error_set(err, GS_ERR_ARGUMENT, "synthetic %s: count, size, classes and dates must not be negative",
                            f->name);
    if (o->count > 1000000 || o->size > 20000 || o->dates > 100)
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "synthetic %s: count %d, size %d or dates %d is beyond what a synthetic set needs", f->name,
                            o->count, o->size, o->dates);
    if (o->size != 0 && o->size < 16)
        return gs_error_set(err, GS_ERR_ARGUMENT, "synthetic %s: size %d is too small (at least 16 px)", f->name,
                            o->size);
    /* Limits of the real datasets (the writers hold the lists themselves),
     * checked here so a refused request creates no folder. */
    if (f->kind == KIND_POTSDAM && o->count > 24)
        return gs_error_set(err, GS_ERR_ARGUMENT, "synthetic potsdam: %d training tiles asked, the benchmark has 24",
                            o->count);
    if (f->kind == KIND_RESISC45 && o->n_classes > 45)
        return gs_error_set(err, GS_ERR_ARGUMENT, "synthetic resisc45: %d classes asked, the dataset has 45",
                            o->n_classes);
    bool sixes = f->kind == KIND_BIGEARTHNET || f->kind == KIND_SECO || f->kind == KIND_SSL4EO;
    if (sixes && o->size % 6)
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "synthetic %s: size %d is not a multiple of 6 (the 20 m and 60 m bands are size/2 and "
                            "size/6 px); try %d",
                            f->name, o->size, (o->size / 6 + 1) * 6);
    return GS_OK;
}

gs_status gs_synth_write(const char *format, const char *dir, const gs_synth_options *opt, gs_error *err) {
    const synth_format *f = NULL;
    for (size_t i = 0; format && i < N_FORMATS; i++)
        if (!strcmp(FORMATS[i].name, format)) f = &FORMATS[i];
    if (!f)
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "no synthetic generator for format '%s' (formats: eurosat-rgb, eurosat-ms, resisc45, "
                            "bigearthnet, potsdam, seco, ssl4eo-s12, geotiff, s2-timeseries)",
                            format ? format : "");
    if (!dir || !*dir) return gs_error_set(err, GS_ERR_ARGUMENT, "synthetic %s: no output folder given", f->name);
    gs_synth_options o = {0};
    if (opt) o = *opt;
    if (check_options(f, &o, err) != GS_OK || prepare_output_dir(dir, err) != GS_OK) return err->status;
    switch (f->kind) {
    case KIND_EUROSAT_RGB: return synth_write_eurosat(dir, &o, false, err);
    case KIND_EUROSAT_MS: return synth_write_eurosat(dir, &o, true, err);
    case KIND_RESISC45: return synth_write_resisc45(dir, &o, err);
    case KIND_BIGEARTHNET: return synth_write_bigearthnet(dir, &o, err);
    case KIND_POTSDAM: return synth_write_potsdam(dir, &o, err);
    case KIND_SECO: return synth_write_seasonal(dir, &o, false, err);
    case KIND_SSL4EO: return synth_write_seasonal(dir, &o, true, err);
    case KIND_GEOTIFF: return synth_write_geotiff(dir, &o, err);
    case KIND_S2_TIMESERIES: return synth_write_s2_timeseries(dir, &o, err);
    }
    return gs_error_set(err, GS_ERR_INTERNAL, "synthetic format %s has no writer", f->name);
}
