/* Any folder of GeoTIFF scenes, for pretraining on one's own imagery: every
 * *.tif / *.tiff under <root> (recursively; symbolic links to folders are not
 * followed, so a link cycle cannot loop), in sorted path order, cut into
 * unlabeled patch_size x patch_size patches (default 64) every `stride`
 * pixels (default: patch_size, no overlap).  Patches that would cross the
 * right or bottom edge are dropped, so a 150 x 130 scene gives 2 x 2 patches
 * of 64.  All scenes must have the same band count; their sizes may differ.
 *
 * sample.path is the scene, sample.stem its file stem (a split file lists
 * scenes, so a scene's patches never straddle splits), sample.x/.y the patch
 * offset, sample.group the scene's index.  Band names are "band1".. with
 * unknown wavelength and resolution: a plain GeoTIFF does not say. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

#include "../image_io.h"
#include "formats.h"

enum { DEFAULT_PATCH = 64 };

typedef struct path_list {
    char **items;
    int64_t n, capacity;
} path_list;

static void path_list_free(path_list *l) {
    for (int64_t i = 0; i < l->n; i++) free(l->items[i]);
    free(l->items);
}

static gs_status path_list_add(path_list *l, const char *path, gs_error *err) {
    if (l->n == l->capacity) {
        int64_t capacity = l->capacity ? l->capacity * 2 : 64;
        char **grown = realloc(l->items, (size_t)capacity * sizeof *grown);
        if (!grown) return gs_error_set(err, GS_ERR_MEMORY, "out of memory listing scenes");
        l->items = grown;
        l->capacity = capacity;
    }
    l->items[l->n] = strdup(path);
    if (!l->items[l->n]) return gs_error_set(err, GS_ERR_MEMORY, "out of memory listing scenes");
    l->n++;
    return GS_OK;
}

static bool has_tiff_extension(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && dot != name && (!strcasecmp(dot, ".tif") || !strcasecmp(dot, ".tiff"));
}

static gs_status find_tiffs(const char *dir, path_list *out, int depth, gs_error *err) {
    if (depth > 64) return gs_error_set(err, GS_ERR_FORMAT, "%s: folders nested more than 64 deep", dir);
    DIR *d = opendir(dir);
    if (!d) return gs_error_set(err, GS_ERR_IO, "cannot list %s: %s", dir, strerror(errno));
    gs_status status = GS_OK;
    struct dirent *e;
    while (status == GS_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue; /* ".", "..", hidden files */
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof path) {
            status = gs_error_set(err, GS_ERR_ARGUMENT, "path of %s in %s is too long", e->d_name, dir);
            break;
        }
        struct stat st;
        if (lstat(path, &st) != 0) continue; /* vanished while listing */
        if (S_ISDIR(st.st_mode)) {
            status = find_tiffs(path, out, depth + 1, err);
        } else if (has_tiff_extension(e->d_name)) {
            if (S_ISLNK(st.st_mode) && (stat(path, &st) != 0 || !S_ISREG(st.st_mode))) continue;
            status = path_list_add(out, path, err);
        }
    }
    closedir(d);
    return status;
}

static int compare_paths(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static gs_status geotiff_open(gs_dataset *ds, gs_error *err) {
    int patch = ds->options.patch_size ? ds->options.patch_size : DEFAULT_PATCH;
    int stride = ds->options.stride ? ds->options.stride : patch;
    if (patch < 1 || stride < 1)
        return gs_error_set(err, GS_ERR_ARGUMENT, "patch size %d and stride %d must be positive", patch, stride);
    ds->task = GS_TASK_UNLABELED;
    ds->height = ds->width = patch;
    ds->dates = 1;

    path_list scenes = {0};
    gs_status status = find_tiffs(ds->root, &scenes, 0, err);
    if (status == GS_OK) qsort(scenes.items, (size_t)scenes.n, sizeof *scenes.items, compare_paths);
    const char *first = NULL;
    for (int64_t i = 0; i < scenes.n && status == GS_OK; i++) {
        const char *path = scenes.items[i];
        int64_t w, h;
        int bands;
        gs_pixel_type type;
        if ((status = gs_tiff_probe(path, &w, &h, &bands, &type, err)) != GS_OK ||
            (status = gs_image_check_limits(path, w, h, bands, type,
                                            &(gs_image_limits){.max_bytes = ds->options.max_scene_bytes}, err)) != GS_OK)
            break;
        if (!first) {
            if (bands > GS_MAX_BANDS) {
                status = gs_error_set(err, GS_ERR_FORMAT, "%s has %d bands; geossl reads at most %d", path, bands,
                                      GS_MAX_BANDS);
                break;
            }
            first = path;
            ds->bands = bands;
            for (int b = 0; b < bands; b++) snprintf(ds->band_info[b].name, sizeof ds->band_info[b].name, "band%d", b + 1);
        } else if (bands != ds->bands) {
            status = gs_error_set(err, GS_ERR_FORMAT,
                                  "%s has %d bands but %s has %d: every scene of a geotiff folder needs the same bands",
                                  path, bands, first, ds->bands);
            break;
        }
        if (h < patch || w < patch) {
            fprintf(stderr, "warning: %s (%lld x %lld) is smaller than one %d px patch; skipped\n", path,
                    (long long)h, (long long)w, patch);
            ds->n_warnings++;
            continue;
        }
        char *stem = gs_path_stem(path);
        if (!stem) status = gs_error_set(err, GS_ERR_MEMORY, "out of memory indexing %s", path);
        for (int64_t y = 0; status == GS_OK && y + patch <= h; y += stride)
            for (int64_t x = 0; x + patch <= w; x += stride) {
                gs_sample *s = gs_dataset_add_sample(ds, path, stem, err);
                if (!s) {
                    status = err->status;
                    break;
                }
                s->x = x;
                s->y = y;
                s->group = (int32_t)i;
            }
        free(stem);
    }
    path_list_free(&scenes);
    return status;
}

/* Decodes only the strips or tiles under the patch (gs_tiff_read_window),
 * so an epoch costs one decode of each scene, not one per patch. */
static gs_status geotiff_read(const gs_dataset *ds, int64_t index, gs_sample_data *out, gs_error *err) {
    if (index < 0 || index >= ds->n_samples)
        return gs_error_set(err, GS_ERR_ARGUMENT, "sample %lld out of range (%lld samples)", (long long)index,
                            (long long)ds->n_samples);
    const gs_sample *s = &ds->samples[index];
    gs_raster patch;
    gs_error window_err = {0};
    if (gs_tiff_read_window(s->path, s->x, s->y, ds->width, ds->height, &patch, &window_err) != GS_OK) {
        if (window_err.status == GS_ERR_ARGUMENT) /* the window no longer fits */
            return gs_error_set(err, GS_ERR_FORMAT, "%s is now too small for the patch at (%lld, %lld) found when "
                                "the folder was indexed: did the file change? (%s)",
                                s->path, (long long)s->y, (long long)s->x, window_err.message);
        *err = window_err;
        return err->status;
    }
    gs_status status = GS_OK;
    if (patch.bands != ds->bands)
        status = gs_error_set(err, GS_ERR_FORMAT,
                              "%s now has %d bands, not the %d found when the folder was indexed: did the file change?",
                              s->path, patch.bands, ds->bands);
    else
        memcpy(out->pixels, patch.data, (size_t)(ds->bands * ds->height * ds->width) * sizeof(float));
    gs_raster_free(&patch);
    return status;
}

const gs_dataset_format gs_format_geotiff = {
    .tiled = true,
    .name = "geotiff",
    .summary = "any folder of GeoTIFF scenes (recursive), tiled into unlabeled patches",
    .open = geotiff_open,
    .read = geotiff_read,
    .close = NULL,
};
