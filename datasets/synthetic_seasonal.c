/* Seasonal Sentinel-2 in the SeCo and SSL4EO-S12 layouts,
 * <root>/<location>/<date>_<date>_T<tile>/B*.tif, and GeoTIFF scenes.
 *
 *   seco:       locations 000000.., 5 dates about 3 months apart, 12 bands
 *               (no B10) as uint8, B1.tif .. B12.tif, B8A.tif
 *   ssl4eo-s12: locations 0000000.., 4 dates (one per season), 13 bands
 *               (L1C, with B10) as LZW uint16, plus metadata.json per date
 *   geotiff:    scene_<n>.tif, 4 bands (B02, B03, B04, B08) uint16 LZW,
 *               sizes that do not divide evenly into patches
 *   s2-timeseries: <location>/<YYYY-MM-DD>.tif, one 16-band float64 LZW
 *               file per date as Earth Engine exports them (the 13 L1C
 *               bands and empty QA10, QA20, QA60, named in GDAL_METADATA),
 *               6 dates about two months apart, sizes that differ by up to
 *               2 px between dates around the same centre
 * The 10 m bands are `size` px, the 20 m bands size/2, the 60 m bands size/6.
 *
 * A location is 2 to 4 land-cover regions with the same layout on every
 * date; what changes with the date is the spectrum: vegetation greens up
 * and dries out with the hemisphere's seasons, crops follow their own
 * calendars, cold places get snow in winter, and each date has its own
 * atmosphere.  Those are SeCo's seasonal positives. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synthetic_internal.h"

#define PI_F 3.14159265358979f
#define SECO_SCALE (255.0f / 4000.0f) /* DN to uint8: this generator's stretch, 4000 DN to 255 */

typedef enum cover {
    COVER_CROPS,
    COVER_DECIDUOUS,
    COVER_CONIFER,
    COVER_GRASS,
    COVER_URBAN,
    COVER_WATER,
    COVER_BARE,
    N_COVERS
} cover;

/* Layouts per cover; the role materials are replaced per date. */
static const synth_recipe COVER_LOOKS[N_COVERS] = {
    [COVER_CROPS] = {"crops",
                     {MAT_SOIL, MAT_VEGETATION, MAT_VEGETATION, MAT_SOIL},
                     {{SHAPE_PARCELS, 1, 8, 0.03f, 0.5f}, {SHAPE_PARCELS, 2, 6, 0, 0.5f}},
                     0.06f},
    [COVER_DECIDUOUS] = {"deciduous",
                         {MAT_FOREST, MAT_VEGETATION, MAT_SOIL, MAT_SOIL},
                         {{SHAPE_TEXTURE, 1, 60, 2, 2.0f}},
                         0.15f},
    [COVER_CONIFER] = {"conifer",
                       {MAT_CONIFER, MAT_FOREST, MAT_SOIL, MAT_SOIL},
                       {{SHAPE_TEXTURE, 1, 70, 2, 1.5f}},
                       0.15f},
    [COVER_GRASS] = {"grass",
                     {MAT_VEGETATION, MAT_DRY_VEGETATION, MAT_SOIL, MAT_SOIL},
                     {{SHAPE_PATCHES, 1, 10, 0.4f, 0.3f}},
                     0.1f},
    [COVER_URBAN] = {"urban",
                     {MAT_CONCRETE, MAT_ROOF_RED, MAT_ASPHALT, MAT_VEGETATION},
                     {{SHAPE_GRID, 2, 0.08f, 0.008f, 0.9f}, {SHAPE_BLOCKS, 1, 0.08f, 0.015f, 0.8f}},
                     0.05f},
    [COVER_WATER] = {"water",
                     {MAT_WATER, MAT_VEGETATION, MAT_SOIL, MAT_SOIL},
                     {{SHAPE_SHORE, 1, 0.5f, 0.1f, 0.4f}},
                     0.02f},
    [COVER_BARE] = {"bare", {MAT_SAND, MAT_ROCK, MAT_SOIL, MAT_SOIL}, {{SHAPE_CONTOURS, 1, 4, 6, 0.3f}}, 0.08f},
};

typedef struct location {
    float lat, lon;
    int zone;
    char tile[8]; /* MGRS tile, e.g. 32UQD */
    int n_regions;
    cover covers[4];
    float crop_peak[2]; /* day of year of each crop's greenest state */
    float coldness;     /* 0: never snows, 1: snowy winters */
    uint64_t layout_seed;
} location;

/* ---- dates ------------------------------------------------------------------ */

/* Civil date from days since 1970-01-01 (proleptic Gregorian). */
static void civil_from_days(long z, int *y, int *m, int *d) {
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static long days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Greenness 0..1 at a day of year: lowest in mid-January, highest in
 * mid-July in the north, half a year shifted in the south. */
static float greenness(float doy, float lat) {
    float shift = lat < 0 ? 182.0f : 0.0f;
    return 0.5f - 0.5f * cosf(2.0f * PI_F * (doy - 15.0f - shift) / 365.0f);
}

/* A crop's cover: a bump of about three months around its peak day. */
static float crop_cover(float doy, float peak) {
    float d = fabsf(doy - peak);
    if (d > 182.5f) d = 365.0f - d;
    return expf(-(d * d) / (2.0f * 45.0f * 45.0f));
}

static void mix(float *out, synth_material a, synth_material b, float t) {
    const float *x = synth_material_spectrum(a), *y = synth_material_spectrum(b);
    for (int i = 0; i < S2_BANDS; i++) out[i] = x[i] + t * (y[i] - x[i]);
}

/* ---- locations -------------------------------------------------------------- */

static void make_location(location *loc, uint64_t seed, const char *tag, int index, int max_regions) {
    gs_rng rng = synth_item_rng(seed, tag, (uint64_t)index, 0);
    loc->lat = synth_uniform(&rng, -45.0f, 65.0f);
    loc->lon = synth_uniform(&rng, -180.0f, 180.0f);
    loc->zone = (int)((loc->lon + 180.0f) / 6.0f) % 60 + 1;
    static const char bands[] = "CDEFGHJKLMNPQRSTUVWX", col[] = "ABCDEFGHJKLMNPQRSTUVWXYZ",
                      row[] = "ABCDEFGHJKLMNPQRSTUV";
    snprintf(loc->tile, sizeof loc->tile, "%02d%c%c%c", loc->zone, bands[(int)((loc->lat + 80.0f) / 8.0f)],
             col[gs_rng_below(&rng, 24)], row[gs_rng_below(&rng, 20)]);
    loc->n_regions = synth_int(&rng, 2, max_regions);
    for (int k = 0; k < loc->n_regions; k++) loc->covers[k] = (cover)gs_rng_below(&rng, N_COVERS);
    loc->crop_peak[0] = synth_uniform(&rng, 120.0f, 220.0f);
    loc->crop_peak[1] = synth_uniform(&rng, 60.0f, 300.0f);
    float cold = (fabsf(loc->lat) - 40.0f) / 20.0f;
    loc->coldness = cold < 0.0f ? 0.0f : cold > 1.0f ? 1.0f : cold;
    loc->layout_seed = gs_rng_next_u64(&rng);
}

/* The role spectra of a cover on a day of the year. */
static void cover_spectra(const location *loc, cover c, float doy, float spectra[SYNTH_ROLES][S2_BANDS]) {
    const synth_recipe *look = &COVER_LOOKS[c];
    for (int r = 0; r < SYNTH_ROLES; r++)
        memcpy(spectra[r], synth_material_spectrum(look->roles[r]), sizeof spectra[r]);
    float g = greenness(doy, loc->lat);
    float peak0 = loc->crop_peak[0] + (loc->lat < 0 ? 182.0f : 0.0f), peak1 = loc->crop_peak[1];
    switch (c) {
    case COVER_CROPS:
        mix(spectra[1], MAT_SOIL, MAT_VEGETATION, crop_cover(doy, peak0));
        mix(spectra[2], MAT_DRY_VEGETATION, MAT_VEGETATION, crop_cover(doy, peak1));
        break;
    case COVER_DECIDUOUS:
        mix(spectra[0], MAT_DRY_VEGETATION, MAT_FOREST, g);
        mix(spectra[1], MAT_SOIL, MAT_VEGETATION, g);
        break;
    case COVER_CONIFER: mix(spectra[1], MAT_CONIFER, MAT_FOREST, g); break;
    case COVER_GRASS:
        mix(spectra[0], MAT_DRY_VEGETATION, MAT_VEGETATION, g);
        mix(spectra[1], MAT_SOIL, MAT_DRY_VEGETATION, g);
        break;
    case COVER_WATER: mix(spectra[1], MAT_DRY_VEGETATION, MAT_VEGETATION, g); break;
    default: break;
    }
}

typedef struct work {
    synth_scratch s;
    synth_canvas image, region;
    int32_t *cells;
    float *snow;
} work;

/* Renders one date of a location onto wk->image (size x size at 10 m). */
static void render_date(const location *loc, float doy, gs_rng *date_rng, work *wk) {
    int h = wk->image.h, w = wk->image.w;
    size_t plane = (size_t)h * w;
    /* Layout draws come from the location's own generator, so they repeat on every date. */
    gs_rng layout = synth_item_rng(loc->layout_seed, "layout", 0, 0);
    float seeds[8];
    for (int k = 0; k < 2 * loc->n_regions; k++) seeds[k] = synth_uniform(&layout, 0.0f, (float)(k % 2 ? h : w));
    synth_voronoi(wk->cells, h, w, seeds, loc->n_regions, 0.12f * (h < w ? h : w), &layout);
    synth_noise(wk->snow, h, w, 4.0f, 3, 0.5f, &layout);
    for (int k = 0; k < loc->n_regions; k++) {
        float spectra[SYNTH_ROLES][S2_BANDS];
        cover_spectra(loc, loc->covers[k], doy, spectra);
        const float *roles[SYNTH_ROLES] = {spectra[0], spectra[1], spectra[2], spectra[3]};
        gs_rng region_rng = synth_item_rng(loc->layout_seed, "region", (uint64_t)k, 0);
        synth_render(&wk->region, &COVER_LOOKS[loc->covers[k]], roles, &wk->s, &region_rng);
        for (int b = 0; b < wk->image.bands; b++)
            for (size_t i = 0; i < plane; i++)
                if (wk->cells[i] == k) wk->image.data[b * plane + i] = wk->region.data[b * plane + i];
    }
    /* Snow in cold winters, thickest where the location's snow field is high. */
    float cover = loc->coldness * (1.0f - greenness(doy, loc->lat)) * 1.6f - 0.4f;
    if (cover > 0.0f) {
        memcpy(wk->s.mask, wk->snow, sizeof(float) * plane);
        synth_threshold(wk->s.mask, (int)plane, cover > 1.0f ? 1.0f : cover, 0.1f);
        synth_paint(&wk->image, wk->s.mask, synth_material_spectrum(MAT_SNOW), NULL);
    }
    /* The date's atmosphere: a gain, and haze that brightens the blue end. */
    float gain = expf(0.05f * gs_rng_normal(date_rng)), haze = synth_uniform(date_rng, 0.0f, 300.0f);
    for (int b = 0; b < wk->image.bands; b++) {
        s2_band id = wk->image.band_ids[b];
        float add = id <= S2_B03 ? haze * (1.0f - 0.3f * id) : 0.0f;
        for (size_t i = 0; i < plane; i++) wk->image.data[b * plane + i] = wk->image.data[b * plane + i] * gain + add;
    }
    synth_add_noise(&wk->image, 0.01f, 5.0f, date_rng);
}

static gs_status work_init(work *wk, const s2_band *bands, int n_bands, int h, int w, gs_error *err) {
    memset(wk, 0, sizeof *wk);
    wk->cells = malloc(sizeof(int32_t) * (size_t)h * w);
    wk->snow = malloc(sizeof(float) * (size_t)h * w);
    if (!wk->cells || !wk->snow) return gs_error_set(err, GS_ERR_MEMORY, "out of memory for a %d x %d scene", h, w);
    if (synth_scratch_init(&wk->s, h, w, err) != GS_OK ||
        synth_canvas_init(&wk->image, bands, n_bands, h, w, err) != GS_OK ||
        synth_canvas_init(&wk->region, bands, n_bands, h, w, err) != GS_OK)
        return err->status;
    return GS_OK;
}

static void work_free(work *wk) {
    synth_scratch_free(&wk->s);
    synth_canvas_free(&wk->image);
    synth_canvas_free(&wk->region);
    free(wk->cells);
    free(wk->snow);
}

/* ---- SeCo and SSL4EO-S12 ---------------------------------------------------- */

static const s2_band SECO_BANDS[] = {S2_B01, S2_B02, S2_B03, S2_B04, S2_B05, S2_B06,
                                     S2_B07, S2_B08, S2_B8A, S2_B09, S2_B11, S2_B12};
static const s2_band L1C_BANDS[] = {S2_B01, S2_B02, S2_B03, S2_B04, S2_B05, S2_B06, S2_B07,
                                    S2_B08, S2_B8A, S2_B09, S2_B10, S2_B11, S2_B12};

/* metadata.json as the SSL4EO-S12 export writes it (Earth Engine's image
 * record, reduced to the band list and the properties a reader may use). */
static gs_status write_metadata(const char *path, const location *loc, const char *folder, long day, int hh, int mm,
                                int ss, float cloud, gs_error *err) {
    cJSON *root = cJSON_CreateObject(), *bands = cJSON_CreateArray();
    cJSON_AddStringToObject(root, "type", "Image");
    cJSON_AddItemToObject(root, "bands", bands);
    char crs[32];
    snprintf(crs, sizeof crs, "EPSG:32%c%02d", loc->lat >= 0 ? '6' : '7', loc->zone);
    for (int b = 0; b < S2_BANDS; b++) {
        int res = s2_band_resolution_m(L1C_BANDS[b]), dim = 109800 / res;
        cJSON *band = cJSON_CreateObject(), *type = cJSON_AddObjectToObject(band, "data_type");
        cJSON_AddStringToObject(band, "id", s2_band_short_name(L1C_BANDS[b]));
        cJSON_AddStringToObject(type, "type", "PixelType");
        cJSON_AddStringToObject(type, "precision", "int");
        cJSON_AddNumberToObject(type, "min", 0);
        cJSON_AddNumberToObject(type, "max", 65535);
        const int dims[2] = {dim, dim};
        cJSON_AddItemToObject(band, "dimensions", cJSON_CreateIntArray(dims, 2));
        cJSON_AddStringToObject(band, "crs", crs);
        const double transform[6] = {res, 0, 399960, 0, -res, loc->lat >= 0 ? 5000040 : 8000020};
        cJSON_AddItemToObject(band, "crs_transform", cJSON_CreateDoubleArray(transform, 6));
        cJSON_AddItemToArray(bands, band);
    }
    char id[128], product[128];
    snprintf(id, sizeof id, "COPERNICUS/S2/%s", folder);
    cJSON_AddStringToObject(root, "id", id);
    cJSON *props = cJSON_AddObjectToObject(root, "properties");
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(product, sizeof product, "S2A_MSIL1C_%04d%02d%02dT%02d%02d%02d_N0209_R%03d_T%s_%04d%02d%02dT%02d%02d%02d",
             y, m, d, hh, mm, ss, 1 + (int)(day % 143), loc->tile, y, m, d, (hh + 2) % 24, mm, ss);
    cJSON_AddStringToObject(props, "SPACECRAFT_NAME", "Sentinel-2A");
    cJSON_AddStringToObject(props, "MGRS_TILE", loc->tile);
    cJSON_AddStringToObject(props, "PRODUCT_ID", product);
    cJSON_AddNumberToObject(props, "CLOUDY_PIXEL_PERCENTAGE", cloud);
    cJSON_AddNumberToObject(props, "system:time_start", ((double)day * 86400.0 + hh * 3600 + mm * 60 + ss) * 1000.0);
    cJSON_AddStringToObject(props, "system:index", folder);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) return gs_error_set(err, GS_ERR_MEMORY, "out of memory writing %s", path);
    synth_write_text(path, text, err);
    cJSON_free(text);
    return err->status;
}

static gs_status write_date(const char *loc_dir, const location *loc, long day, bool ssl4eo, gs_rng *rng, work *wk,
                            gs_error *err) {
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    /* Sentinel-2 passes at about 10:30 local solar time. */
    float utc = 10.5f - loc->lon / 15.0f;
    int hh = ((int)floorf(utc) % 24 + 24) % 24, mm = synth_int(rng, 0, 59), ss = synth_int(rng, 0, 59);
    int later = mm + synth_int(rng, 2, 20);
    char folder[96], dir[4096], path[4200];
    snprintf(folder, sizeof folder, "%04d%02d%02dT%02d%02d%02d_%04d%02d%02dT%02d%02d%02d_T%s", y, m, d, hh, mm, ss, y,
             m, d, (hh + later / 60) % 24, later % 60, synth_int(rng, 0, 59), loc->tile);
    if (synth_path(dir, sizeof dir, err, "%s/%s", loc_dir, folder) != GS_OK || synth_mkdir(dir, err) != GS_OK)
        return err->status;
    long jan1 = days_from_civil(y, 1, 1);
    render_date(loc, (float)(day - jan1), rng, wk);
    for (int b = 0; b < wk->image.bands && err->status == GS_OK; b++) {
        s2_band band = wk->image.band_ids[b];
        gs_raster r;
        if (synth_path(path, sizeof path, err, "%s/%s.tif", dir, s2_band_short_name(band)) != GS_OK ||
            synth_band_downsample(&wk->image, band, s2_band_resolution_m(band) / 10, ssl4eo ? 1.0f : SECO_SCALE, &r,
                                  err) != GS_OK)
            break;
        gs_tiff_write(path, &r, ssl4eo ? GS_PIXEL_U16 : GS_PIXEL_U8, 1, err);
        gs_raster_free(&r);
    }
    if (err->status != GS_OK || !ssl4eo) return err->status;
    if (synth_path(path, sizeof path, err, "%s/metadata.json", dir) != GS_OK) return err->status;
    return write_metadata(path, loc, folder, day, hh, mm, ss, synth_uniform(rng, 0.0f, 10.0f), err);
}

gs_status synth_write_seasonal(const char *dir, const gs_synth_options *opt, bool ssl4eo, gs_error *err) {
    int side = opt->size ? opt->size : 264, count = opt->count ? opt->count : 20;
    int dates = opt->dates ? opt->dates : ssl4eo ? 4 : 5;
    const char *tag = ssl4eo ? "ssl4eo-s12" : "seco";
    work wk;
    if (work_init(&wk, ssl4eo ? L1C_BANDS : SECO_BANDS, ssl4eo ? 13 : 12, side, side, err) != GS_OK) {
        work_free(&wk);
        return err->status;
    }
    char loc_dir[4096];
    for (int i = 0; i < count && err->status == GS_OK; i++) {
        location loc;
        make_location(&loc, opt->seed, tag, i, 4);
        if (synth_path(loc_dir, sizeof loc_dir, err, ssl4eo ? "%s/%07d" : "%s/%06d", dir, i) != GS_OK ||
            synth_mkdir(loc_dir, err) != GS_OK)
            break;
        gs_rng rng = synth_item_rng(opt->seed, tag, (uint64_t)i, 1);
        /* SeCo: about every 3 months from a start in the first half of 2019;
         * SSL4EO-S12: one date per season of 2020-2021, as its four
         * seasonal snapshots are. */
        long start = ssl4eo ? days_from_civil(2020, 3, 1) + synth_int(&rng, 0, 300)
                            : days_from_civil(2019, 1, 1) + synth_int(&rng, 0, 180);
        for (int t = 0; t < dates && err->status == GS_OK; t++) {
            long day = start + 91L * t + (t ? synth_int(&rng, -10, 10) : 0);
            write_date(loc_dir, &loc, day, ssl4eo, &rng, &wk, err);
        }
    }
    work_free(&wk);
    return err->status;
}

/* ---- GeoTIFF scenes ------------------------------------------------------------ */

gs_status synth_write_geotiff(const char *dir, const gs_synth_options *opt, gs_error *err) {
    static const s2_band bands[4] = {S2_B02, S2_B03, S2_B04, S2_B08};
    int side = opt->size ? opt->size : 512, count = opt->count ? opt->count : 3;
    for (int i = 0; i < count && err->status == GS_OK; i++) {
        /* Sizes that are not multiples of a patch, so tiling meets ragged edges. */
        int w = side + (i % 3) * side / 4 + (i % 2) * 7, h = side + ((i + 1) % 3) * side / 8;
        location loc;
        make_location(&loc, opt->seed, "geotiff", i, 4);
        work wk;
        if (work_init(&wk, bands, 4, h, w, err) == GS_OK) {
            gs_rng rng = synth_item_rng(opt->seed, "geotiff", (uint64_t)i, 1);
            render_date(&loc, synth_uniform(&rng, 0.0f, 365.0f), &rng, &wk);
            gs_raster r;
            char path[4096];
            if (synth_path(path, sizeof path, err, "%s/scene_%d.tif", dir, i + 1) == GS_OK &&
                synth_canvas_to_raster(&wk.image, bands, 4, 1.0f, &r, err) == GS_OK) {
                gs_tiff_write(path, &r, GS_PIXEL_U16, 1, err);
                gs_raster_free(&r);
            }
        }
        work_free(&wk);
    }
    return err->status;
}

/* ---- Earth Engine time-series exports -------------------------------------- */

/* Writes one date: the canvas (side + 2 px square) cut to w x h around its
 * centre, as the exports of one region in different UTM zones differ. */
static gs_status write_export(const char *path, const work *wk, int w, int h, gs_error *err) {
    static const char *const qa[3] = {"QA10", "QA20", "QA60"};
    const char *names[S2_BANDS + 3];
    for (int b = 0; b < S2_BANDS; b++) names[b] = s2_band_short_name(L1C_BANDS[b]);
    for (int q = 0; q < 3; q++) names[S2_BANDS + q] = qa[q];
    gs_raster r;
    if (gs_raster_alloc(&r, S2_BANDS + 3, h, w, err) != GS_OK) return err->status; /* QA planes stay zero */
    int x0 = (wk->image.w - w) / 2, y0 = (wk->image.h - h) / 2;
    for (int b = 0; b < S2_BANDS; b++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                float v = wk->image.data[((size_t)b * wk->image.h + y0 + y) * wk->image.w + x0 + x];
                r.data[((size_t)b * h + y) * w + x] = nearbyintf(v < 0 ? 0 : v); /* L1C digital numbers */
            }
    gs_tiff_write_named(path, &r, GS_PIXEL_F64, 1, names, err);
    gs_raster_free(&r);
    return err->status;
}

gs_status synth_write_s2_timeseries(const char *dir, const gs_synth_options *opt, gs_error *err) {
    int side = opt->size ? opt->size : 160, count = opt->count ? opt->count : 4, dates = opt->dates ? opt->dates : 6;
    work wk;
    if (work_init(&wk, L1C_BANDS, S2_BANDS, side + 2, side + 2, err) != GS_OK) {
        work_free(&wk);
        return err->status;
    }
    char loc_dir[4096], path[4200];
    for (int i = 0; i < count && err->status == GS_OK; i++) {
        location loc;
        make_location(&loc, opt->seed, "s2-timeseries", i, 4);
        /* Named as SEN2DWATER names its locations: place, latitude, longitude. */
        if (synth_path(loc_dir, sizeof loc_dir, err, "%s/Site%02d_Lat_%.5f_Lon_%.5f", dir, i, (double)loc.lat,
                       (double)loc.lon) != GS_OK ||
            synth_mkdir(loc_dir, err) != GS_OK)
            break;
        gs_rng rng = synth_item_rng(opt->seed, "s2-timeseries", (uint64_t)i, 1);
        long start = days_from_civil(2017, 1, 1) + synth_int(&rng, 0, 60);
        for (int t = 0; t < dates && err->status == GS_OK; t++) {
            long day = start + 61L * t + (t ? synth_int(&rng, -7, 7) : 0);
            int y, m, d;
            civil_from_days(day, &y, &m, &d);
            render_date(&loc, (float)(day - days_from_civil(y, 1, 1)), &rng, &wk);
            int w = side + synth_int(&rng, 0, 2), h = side + synth_int(&rng, 0, 2);
            if (synth_path(path, sizeof path, err, "%s/%04d-%02d-%02d.tif", loc_dir, y, m, d) == GS_OK)
                write_export(path, &wk, w, h, err);
        }
    }
    work_free(&wk);
    return err->status;
}
