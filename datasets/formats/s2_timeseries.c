/* Sentinel-2 time series as users' exports arrive (Earth Engine, GDAL):
 *   <root>/<location>/<YYYY-MM-DD>.tif
 * one multi-band GeoTIFF per acquisition date, any sample type the reader
 * knows (uint8/16, int16, float32, float64).  The real sample in
 * ../shared/data/s2-timeseries-sen2dwater (SEN2DWATER) is 2 locations x 12
 * dates of 16 float64 bands, LZW, 256 px tiles.
 *
 * Dates come from the file names (a .tif/.tiff whose name is not a valid
 * YYYY-MM-DD is an error naming it; other files warn), sorted, so date 0 is
 * the earliest.  Band names come from the GDAL_METADATA tag of the first
 * file when it names every band (B4 is read as B04, see sentinel2.h); else
 * by the band count in Sentinel-2 order: 13 = B1..B8, B8A, B9..B12; 12 = the
 * same without B10 (Level-2A, SeCo); 16 = the 13 and Earth Engine's QA10,
 * QA20, QA60; any other count is band1.. with a warning.  Every file must
 * have the same band count, and when tagged the same names, as the first.
 * Bands that are all zero (the QA bands of SEN2DWATER) are kept, named.
 *
 * Sizes: the exports of one region differ by a pixel or two between dates
 * (SEN2DWATER: 316 x 315 to 318 x 317; the dates lie in two UTM zones,
 * 32N and 33N, each export on its own zone's grid).  Each location is cut
 * to the smallest width and height among its dates, centred in each date
 * (offset (size - common) / 2), since the exports cover the same region
 * around the same centre.  A difference of more than 16 px warns: that is no
 * longer the same export region.  Cropping does not co-register dates whose
 * grids differ: two UTM zones' grids are rotated against each other (in
 * SEN2DWATER by about 4 degrees: a 32N date matches a 33N one best after
 * rotating it by 4 degrees about the centre, by correlation of B11), so
 * dates in different coordinate systems (the GeoKeys' EPSG code) warn and
 * `data check` lists them; reprojecting is left to GDAL.
 *
 * Samples: the common extent is cut into patch_size x patch_size tiles
 * (default 64) every `stride` pixels (default patch_size); tiles that would
 * cross the right or bottom edge are dropped.  One sample is one tile with
 * all its dates: read() fills (dates, bands, patch, patch).  The number of
 * dates must be the same for every sample: options.dates = n > 0 takes the
 * n earliest dates of every location (one with fewer is an error); 0 takes
 * the smallest count among the locations, the earliest ones of each, and
 * warns naming the locations whose later dates are left out.
 * sample.path is the location folder, sample.stem its name (split lists
 * name locations, so a location's tiles never straddle splits), sample.x/.y
 * the tile's offset in the common extent, sample.group the location index. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

#include "../image_io.h"
#include "../sentinel2.h"
#include "formats.h"

enum { DEFAULT_PATCH = 64, SIZE_WARNING_PX = 16 };

typedef struct date_file {
    char *name;             /* "2017-01-04.tif" */
    int year, month, day;
    int64_t width, height;  /* of the file */
    int64_t x0, y0;         /* where the location's common extent starts in it */
    int epsg;               /* its coordinate system (GeoKeys); 0: not given */
} date_file;

typedef struct location {
    char *folder;           /* <root>/<location> */
    date_file *dates;       /* every date found, sorted; the first ds->dates are read */
    int n_dates;
    int64_t width, height;  /* common extent */
    int64_t tiles;
    int other_epsg_date;    /* a date in another coordinate system than date 0; -1: none */
} location;

typedef struct s2ts_state {
    location *locations;
    int64_t n_locations;
    char bands_from[64];    /* "GDAL_METADATA of <file>" or "band count" */
} s2ts_state;

static char *join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s", a, b);
    return s;
}

static bool has_tiff_extension(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && dot != name && (!strcasecmp(dot, ".tif") || !strcasecmp(dot, ".tiff"));
}

/* "YYYY-MM-DD" followed by the extension, a real calendar date. */
static bool parse_date(const char *name, int *year, int *month, int *day) {
    for (int i = 0; i < 10; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? name[i] != '-' : (name[i] < '0' || name[i] > '9')) return false;
    }
    if (name[10] != '.') return false;
    *year = atoi(name);
    *month = atoi(name + 5);
    *day = atoi(name + 8);
    static const int days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (*month < 1 || *month > 12 || *day < 1 || *day > days[*month - 1]) return false;
    bool leap = (*year % 4 == 0 && *year % 100 != 0) || *year % 400 == 0;
    return !(*month == 2 && *day == 29 && !leap);
}

static int compare_dates(const void *pa, const void *pb) {
    const date_file *a = pa, *b = pb;
    if (a->year != b->year) return a->year < b->year ? -1 : 1;
    if (a->month != b->month) return a->month < b->month ? -1 : 1;
    if (a->day != b->day) return a->day < b->day ? -1 : 1;
    return strcmp(a->name, b->name);
}

static void free_location(location *l) {
    for (int d = 0; d < l->n_dates; d++) free(l->dates[d].name);
    free(l->dates);
    free(l->folder);
}

static void s2ts_close(gs_dataset *ds) {
    s2ts_state *st = ds->state;
    if (!st) return;
    for (int64_t i = 0; i < st->n_locations; i++) free_location(&st->locations[i]);
    free(st->locations);
    free(st);
    ds->state = NULL;
}

/* The dated files of one location, sorted.  A .tif whose name is not a date
 * is an error (it would silently be a date short otherwise); other files
 * (GDAL's .aux.xml, notes) warn. */
static gs_status list_dates(gs_dataset *ds, location *l, gs_error *err) {
    DIR *d = opendir(l->folder);
    if (!d) return gs_error_set(err, GS_ERR_IO, "cannot list %s: %s", l->folder, strerror(errno));
    gs_status status = GS_OK;
    int capacity = 0;
    struct dirent *e;
    while (status == GS_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        date_file f = {0};
        if (!has_tiff_extension(e->d_name)) {
            fprintf(stderr, "warning: %s/%s is not a YYYY-MM-DD.tif date file; ignored\n", l->folder, e->d_name);
            ds->n_warnings++;
            continue;
        }
        if (!parse_date(e->d_name, &f.year, &f.month, &f.day)) {
            status = gs_error_set(err, GS_ERR_FORMAT,
                                  "%s/%s: s2-timeseries names each date's file by its acquisition date, "
                                  "YYYY-MM-DD.tif (e.g. 2017-01-04.tif): rename it or move it out of the folder",
                                  l->folder, e->d_name);
            break;
        }
        if (l->n_dates == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            date_file *grown = realloc(l->dates, (size_t)capacity * sizeof *grown);
            if (!grown) {
                status = gs_error_set(err, GS_ERR_MEMORY, "out of memory listing %s", l->folder);
                break;
            }
            l->dates = grown;
        }
        f.name = strdup(e->d_name);
        if (!f.name) {
            status = gs_error_set(err, GS_ERR_MEMORY, "out of memory listing %s", l->folder);
            break;
        }
        l->dates[l->n_dates++] = f;
    }
    closedir(d);
    if (status != GS_OK) return status;
    if (l->n_dates > 1) qsort(l->dates, (size_t)l->n_dates, sizeof *l->dates, compare_dates);
    for (int i = 1; i < l->n_dates; i++) {
        const date_file *a = &l->dates[i - 1], *b = &l->dates[i];
        if (a->year == b->year && a->month == b->month && a->day == b->day)
            return gs_error_set(err, GS_ERR_FORMAT, "%s has two files for one date: %s and %s; keep one", l->folder,
                                a->name, b->name);
    }
    if (l->n_dates == 0)
        return gs_error_set(err, GS_ERR_FORMAT,
                            "location %s has no YYYY-MM-DD.tif files: is %s the folder of the location folders?",
                            l->folder, ds->root);
    return GS_OK;
}

/* Names the bands from the first file: its GDAL_METADATA when that names
 * every band, else the Sentinel-2 order for the band count. */
static gs_status name_bands(gs_dataset *ds, s2ts_state *st, const char *path, int bands, gs_error *err) {
    static const char *const S2_13[13] = {"B1", "B2", "B3", "B4", "B5", "B6", "B7",
                                          "B8", "B8A", "B9", "B10", "B11", "B12"};
    static const char *const QA[3] = {"QA10", "QA20", "QA60"}; /* Earth Engine's S2 quality bands */
    char names[GS_MAX_BANDS][16];
    int named = 0;
    if (gs_tiff_band_names(path, bands, names, &named, err) != GS_OK) return err->status;
    if (named == bands) {
        snprintf(st->bands_from, sizeof st->bands_from, "the GDAL_METADATA tag");
    } else {
        snprintf(st->bands_from, sizeof st->bands_from, "the band count (no band names in the files)");
        for (int b = 0; b < bands; b++) {
            if (bands == 13 || bands == 16) snprintf(names[b], sizeof names[b], "%s", b < 13 ? S2_13[b] : QA[b - 13]);
            else if (bands == 12) snprintf(names[b], sizeof names[b], "%s", S2_13[b < 10 ? b : b + 1]);
            else snprintf(names[b], sizeof names[b], "band%d", b + 1);
        }
        if (bands != 12 && bands != 13 && bands != 16) {
            fprintf(stderr,
                    "warning: %s has %d bands and no band names (GDAL_METADATA): named band1..band%d; Sentinel-2 "
                    "bands are known by order only for 12, 13 or 16 bands\n",
                    path, bands, bands);
            ds->n_warnings++;
        }
    }
    for (int b = 0; b < bands; b++) {
        if (!gs_s2_band_info(names[b], &ds->band_info[b])) {
            memset(&ds->band_info[b], 0, sizeof ds->band_info[b]);
            memcpy(ds->band_info[b].name, names[b], sizeof ds->band_info[b].name);
            ds->band_info[b].name[sizeof ds->band_info[b].name - 1] = '\0';
        }
        for (int c = 0; c < b; c++)
            if (!strcmp(ds->band_info[c].name, ds->band_info[b].name))
                return gs_error_set(err, GS_ERR_FORMAT, "%s names two bands %s (bands %d and %d): rename one",
                                    path, ds->band_info[b].name, c + 1, b + 1);
    }
    return GS_OK;
}

/* Probes every kept date of a location: band count (and names, when the
 * file has them) as the first file's, then the common extent and where it
 * starts in each date. */
static gs_status measure_location(gs_dataset *ds, s2ts_state *st, location *l, char *first_path,
                                  size_t first_size, gs_error *err) {
    for (int d = 0; d < ds->dates; d++) {
        date_file *f = &l->dates[d];
        char *path = join(l->folder, f->name);
        if (!path) return gs_error_set(err, GS_ERR_MEMORY, "out of memory indexing %s", l->folder);
        int bands;
        gs_pixel_type type;
        gs_status status = gs_tiff_probe(path, &f->width, &f->height, &bands, &type, err);
        if (status == GS_OK)
            status = gs_image_check_limits(path, f->width, f->height, bands, type,
                                           &(gs_image_limits){.max_bytes = ds->options.max_scene_bytes}, err);
        if (status == GS_OK) status = gs_tiff_epsg(path, &f->epsg, err);
        if (status == GS_OK && !first_path[0]) {
            if (bands > GS_MAX_BANDS)
                status = gs_error_set(err, GS_ERR_FORMAT, "%s has %d bands; geossl reads at most %d", path, bands,
                                      GS_MAX_BANDS);
            else {
                ds->bands = bands;
                status = name_bands(ds, st, path, bands, err);
            }
            snprintf(first_path, first_size, "%s", path);
        } else if (status == GS_OK && bands != ds->bands) {
            status = gs_error_set(err, GS_ERR_FORMAT,
                                  "%s has %d bands but %s has %d: every date of every location needs the same bands",
                                  path, bands, first_path, ds->bands);
        } else if (status == GS_OK) {
            char names[GS_MAX_BANDS][16];
            int named = 0;
            status = gs_tiff_band_names(path, bands, names, &named, err);
            for (int b = 0; status == GS_OK && named == bands && b < bands; b++) {
                gs_band_info info;
                const char *name = gs_s2_band_info(names[b], &info) ? info.name : names[b];
                if (strcmp(name, ds->band_info[b].name))
                    status = gs_error_set(err, GS_ERR_FORMAT,
                                          "%s names band %d %s but %s names it %s: every date needs the bands in "
                                          "the same order",
                                          path, b + 1, name, first_path, ds->band_info[b].name);
            }
        }
        free(path);
        if (status != GS_OK) return status;
        if (d == 0 || f->width < l->width) l->width = f->width;
        if (d == 0 || f->height < l->height) l->height = f->height;
    }
    int64_t widest = 0, tallest = 0;
    for (int d = 0; d < ds->dates; d++) {
        date_file *f = &l->dates[d];
        f->x0 = (f->width - l->width) / 2;
        f->y0 = (f->height - l->height) / 2;
        if (f->width > widest) widest = f->width;
        if (f->height > tallest) tallest = f->height;
    }
    l->other_epsg_date = -1;
    for (int d = 1; d < ds->dates && l->other_epsg_date < 0; d++)
        if (l->dates[d].epsg && l->dates[0].epsg && l->dates[d].epsg != l->dates[0].epsg) l->other_epsg_date = d;
    if (l->other_epsg_date >= 0) {
        const date_file *a = &l->dates[0], *b = &l->dates[l->other_epsg_date];
        fprintf(stderr,
                "warning: %s: its dates are in different coordinate systems (%s in EPSG:%d, %s in EPSG:%d): each "
                "export is on its own grid, and the grids of neighbouring UTM zones are rotated by a few degrees "
                "against each other, so away from the centre the same pixel of two dates is not the same ground; "
                "reproject the exports to one system "
                "(e.g. gdalwarp -t_srs EPSG:%d) for co-registered dates\n",
                l->folder, a->name, a->epsg, b->name, b->epsg, a->epsg);
        ds->n_warnings++;
    }
    if (widest - l->width > SIZE_WARNING_PX || tallest - l->height > SIZE_WARNING_PX) {
        fprintf(stderr,
                "warning: %s: its dates range from %lld x %lld to %lld x %lld px (width x height); all are cut to "
                "the common %lld x %lld around their centres, but dates this different may not cover the same "
                "ground\n",
                l->folder, (long long)l->width, (long long)l->height, (long long)widest, (long long)tallest,
                (long long)l->width, (long long)l->height);
        ds->n_warnings++;
    }
    return GS_OK;
}

/* Settles how many dates every sample has (see the header comment). */
static gs_status choose_date_count(gs_dataset *ds, s2ts_state *st, gs_error *err) {
    int wanted = ds->options.dates, fewest = 0;
    if (wanted < 0) return gs_error_set(err, GS_ERR_ARGUMENT, "dates per sample must be >= 0, not %d", wanted);
    for (int64_t i = 0; i < st->n_locations; i++) {
        const location *l = &st->locations[i];
        if (wanted > 0 && l->n_dates < wanted)
            return gs_error_set(err, GS_ERR_FORMAT, "location %s has %d dates, fewer than the %d asked for", l->folder,
                                l->n_dates, wanted);
        if (i == 0 || l->n_dates < fewest) fewest = l->n_dates;
    }
    ds->dates = wanted > 0 ? wanted : fewest;
    if (wanted > 0) return GS_OK;
    for (int64_t i = 0; i < st->n_locations; i++) {
        const location *l = &st->locations[i];
        if (l->n_dates == ds->dates) continue;
        fprintf(stderr,
                "warning: %s has %d dates but the location with the fewest has %d: every sample needs as many, so "
                "its %d latest (from %s on) are left out (options.dates picks the count)\n",
                l->folder, l->n_dates, ds->dates, l->n_dates - ds->dates, l->dates[ds->dates].name);
        ds->n_warnings++;
    }
    return GS_OK;
}

static gs_status s2ts_open(gs_dataset *ds, gs_error *err) {
    int patch = ds->options.patch_size ? ds->options.patch_size : DEFAULT_PATCH;
    int stride = ds->options.stride ? ds->options.stride : patch;
    if (patch < 1 || stride < 1)
        return gs_error_set(err, GS_ERR_ARGUMENT, "patch size %d and stride %d must be positive", patch, stride);
    s2ts_state *st = calloc(1, sizeof *st);
    if (!st) return gs_error_set(err, GS_ERR_MEMORY, "out of memory opening %s", ds->root);
    ds->state = st;
    ds->task = GS_TASK_UNLABELED;
    ds->height = ds->width = patch;

    char **names;
    int64_t n_names;
    if (gs_list_subfolders(ds->root, &names, &n_names, err) != GS_OK) return err->status;
    gs_status status = GS_OK;
    if (n_names == 0) { /* a location folder itself? */
        location probe = {.folder = ds->root};
        gs_error ignored = {0};
        int64_t warnings = ds->n_warnings;
        if (list_dates(ds, &probe, &ignored) == GS_OK)
            status = gs_error_set(err, GS_ERR_FORMAT,
                                  "%s holds date files (%s, ...) but no location folders: s2-timeseries reads "
                                  "<root>/<location>/<YYYY-MM-DD>.tif, so name the folder above it",
                                  ds->root, probe.dates[0].name);
        ds->n_warnings = warnings;
        probe.folder = NULL;
        free_location(&probe);
    }
    st->locations = calloc((size_t)(n_names > 0 ? n_names : 1), sizeof *st->locations);
    if (!st->locations) status = gs_error_set(err, GS_ERR_MEMORY, "out of memory opening %s", ds->root);
    for (int64_t i = 0; i < n_names && status == GS_OK; i++) {
        location *l = &st->locations[st->n_locations++];
        l->folder = join(ds->root, names[i]);
        status = l->folder ? list_dates(ds, l, err) : gs_error_set(err, GS_ERR_MEMORY, "out of memory opening %s",
                                                                   ds->root);
    }
    if (status == GS_OK && st->n_locations > 0) status = choose_date_count(ds, st, err);
    char first_path[4096] = "";
    for (int64_t i = 0; i < st->n_locations && status == GS_OK; i++) {
        location *l = &st->locations[i];
        if ((status = measure_location(ds, st, l, first_path, sizeof first_path, err)) != GS_OK) break;
        if (l->width < patch || l->height < patch) {
            fprintf(stderr, "warning: %s (%lld x %lld px common to its dates) is smaller than one %d px tile; "
                    "skipped\n", l->folder, (long long)l->width, (long long)l->height, patch);
            ds->n_warnings++;
            continue;
        }
        for (int64_t y = 0; status == GS_OK && y + patch <= l->height; y += stride)
            for (int64_t x = 0; x + patch <= l->width; x += stride) {
                gs_sample *s = gs_dataset_add_sample(ds, l->folder, names[i], err);
                if (!s) {
                    status = err->status;
                    break;
                }
                s->x = x;
                s->y = y;
                s->group = (int32_t)i;
                l->tiles++;
            }
    }
    gs_free_names(names);
    return status;
}

/* Decodes, for each date, only the strips or tiles under the sample's
 * window (gs_tiff_read_window) shifted by that date's crop offset. */
static gs_status s2ts_read(const gs_dataset *ds, int64_t index, gs_sample_data *out, gs_error *err) {
    if (index < 0 || index >= ds->n_samples)
        return gs_error_set(err, GS_ERR_ARGUMENT, "sample %lld out of range (%lld samples)", (long long)index,
                            (long long)ds->n_samples);
    const s2ts_state *st = ds->state;
    const gs_sample *s = &ds->samples[index];
    const location *l = &st->locations[s->group];
    int64_t per_date = (int64_t)ds->bands * ds->height * ds->width;
    for (int d = 0; d < ds->dates; d++) {
        const date_file *f = &l->dates[d];
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", l->folder, f->name);
        if (n < 0 || (size_t)n >= sizeof path)
            return gs_error_set(err, GS_ERR_ARGUMENT, "path of %s/%s is too long", l->folder, f->name);
        gs_raster tile;
        gs_error window_err = {0};
        if (gs_tiff_read_window(path, f->x0 + s->x, f->y0 + s->y, ds->width, ds->height, &tile, &window_err) !=
            GS_OK) {
            if (window_err.status == GS_ERR_ARGUMENT) /* the window no longer fits */
                return gs_error_set(err, GS_ERR_FORMAT,
                                    "%s is now smaller than the %lld x %lld px found when the folder was indexed: "
                                    "did the file change? (%s)",
                                    path, (long long)f->width, (long long)f->height, window_err.message);
            *err = window_err;
            return err->status;
        }
        gs_status status = GS_OK;
        if (tile.bands != ds->bands)
            status = gs_error_set(err, GS_ERR_FORMAT,
                                  "%s now has %d bands, not the %d found when the folder was indexed: did the file "
                                  "change?",
                                  path, tile.bands, ds->bands);
        else
            memcpy(out->pixels + d * per_date, tile.data, (size_t)per_date * sizeof(float));
        gs_raster_free(&tile);
        if (status != GS_OK) return status;
    }
    return GS_OK;
}

bool gs_s2_timeseries_sample_dates(const gs_dataset *ds, int64_t index, int32_t *ymd) {
    const s2ts_state *st = ds->state;
    if (!st || index < 0 || index >= ds->n_samples) return false;
    const location *l = &st->locations[ds->samples[index].group];
    for (int d = 0; d < ds->dates; d++) {
        ymd[3 * d] = l->dates[d].year;
        ymd[3 * d + 1] = l->dates[d].month;
        ymd[3 * d + 2] = l->dates[d].day;
    }
    return true;
}

void gs_s2_timeseries_describe(const gs_dataset *ds, FILE *out) {
    const s2ts_state *st = ds->state;
    if (!st) return;
    fprintf(out, "locations: %lld, %d dates per sample (the earliest of each location)\n", (long long)st->n_locations,
            ds->dates);
    for (int64_t i = 0; i < st->n_locations; i++) {
        const location *l = &st->locations[i];
        const char *name = strrchr(l->folder, '/');
        fprintf(out, "  %s: %d dates, %lld x %lld px common to the dates read, %lld tiles\n    ",
                name ? name + 1 : l->folder, l->n_dates, (long long)l->width, (long long)l->height,
                (long long)l->tiles);
        for (int d = 0; d < l->n_dates; d++)
            fprintf(out, "%04d-%02d-%02d%s%s", l->dates[d].year, l->dates[d].month, l->dates[d].day,
                    d >= ds->dates ? " (left out)" : "", d + 1 < l->n_dates ? (d % 6 == 5 ? "\n    " : " ") : "\n");
        if (l->other_epsg_date >= 0) {
            fprintf(out, "    not co-registered: dates in EPSG:%d", l->dates[0].epsg);
            for (int d = 0; d < ds->dates; d++)
                if (l->dates[d].epsg != l->dates[0].epsg)
                    fprintf(out, ", %04d-%02d-%02d in EPSG:%d", l->dates[d].year, l->dates[d].month, l->dates[d].day,
                            l->dates[d].epsg);
            fputc('\n', out);
        }
    }
    fprintf(out, "bands (named by %s):", st->bands_from);
    for (int b = 0; b < ds->bands; b++) fprintf(out, " %s", ds->band_info[b].name);
    fputc('\n', out);
}

const gs_dataset_format gs_format_s2_timeseries = {
    .tiled = true,
    .name = "s2-timeseries",
    .summary = "<location>/<YYYY-MM-DD>.tif time series (Earth Engine exports), all dates of a tile per sample",
    .open = s2ts_open,
    .read = s2ts_read,
    .close = s2ts_close,
};
