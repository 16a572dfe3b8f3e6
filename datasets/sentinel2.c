#define _DEFAULT_SOURCE /* d_type, strdup */
#include "sentinel2.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image_io.h"

/* The 13 bands of the Sentinel-2 MSI: centre wavelengths of Sentinel-2A and
 * native ground sampling distances, from ESA's Sentinel-2 User Handbook
 * (2015, issue 1.2, the spectral band table) and ESA's Sentinel-2 MSI User
 * Guide (spatial resolution: 10 m B02-B04, B08; 20 m B05-B07, B8A, B11, B12;
 * 60 m B01, B09, B10).  Sentinel-2B's centres differ by at most a few nm
 * (largest: B12, 2185.7 nm), which no model here depends on. */
typedef struct s2_band {
    const char *name;
    float wavelength_nm;
    float resolution_m;
} s2_band;

static const s2_band S2_BANDS[] = {
    {"B01", 442.7f, 60}, {"B02", 492.4f, 10}, {"B03", 559.8f, 10},  {"B04", 664.6f, 10},  {"B05", 704.1f, 20},
    {"B06", 740.5f, 20}, {"B07", 782.8f, 20}, {"B08", 832.8f, 10},  {"B8A", 864.7f, 20},  {"B09", 945.1f, 60},
    {"B10", 1373.5f, 60}, {"B11", 1613.7f, 20}, {"B12", 2202.4f, 20},
};

int gs_s2_band_info(const char *name, gs_band_info *out) {
    if (!name || (name[0] != 'B' && name[0] != 'b')) return 0;
    /* Canonical form: "B" + two characters, a leading zero added to B1..B9. */
    char canonical[4];
    size_t len = strlen(name + 1);
    if (len == 1) {
        canonical[1] = '0';
        canonical[2] = name[1];
    } else if (len == 2) {
        canonical[1] = name[1];
        canonical[2] = name[2] == 'a' ? 'A' : name[2];
    } else {
        return 0;
    }
    canonical[0] = 'B';
    canonical[3] = '\0';
    for (size_t i = 0; i < sizeof S2_BANDS / sizeof *S2_BANDS; i++)
        if (!strcmp(S2_BANDS[i].name, canonical)) {
            memset(out, 0, sizeof *out);
            snprintf(out->name, sizeof out->name, "%s", S2_BANDS[i].name);
            out->wavelength_nm = S2_BANDS[i].wavelength_nm;
            out->resolution_m = S2_BANDS[i].resolution_m;
            return 1;
        }
    return 0;
}

/* Source coordinate of output pixel i and its two neighbours with weights:
 * pixel centres aligned, clamped at the edges. */
static void bilinear_tap(int64_t i, int64_t k, int64_t n, int64_t *i0, int64_t *i1, float *w1) {
    double s = ((double)i + 0.5) / (double)k - 0.5;
    if (s <= 0) {
        *i0 = *i1 = 0;
        *w1 = 0;
        return;
    }
    if (s >= (double)(n - 1)) {
        *i0 = *i1 = n - 1;
        *w1 = 0;
        return;
    }
    *i0 = (int64_t)s;
    *i1 = *i0 + 1;
    *w1 = (float)(s - (double)*i0);
}

gs_status gs_s2_upsample(const float *src, int64_t src_h, int64_t src_w, float *dst, int64_t dst_h, int64_t dst_w,
                         const char *band_path, const char *ref_path, gs_error *err) {
    if (src_h < 1 || src_w < 1 || dst_h % src_h != 0 || dst_w % src_w != 0 || dst_h / src_h != dst_w / src_w)
        return gs_error_set(err, GS_ERR_FORMAT,
                            "%s is %lld x %lld pixels, not an integer fraction (the same on both axes) of the "
                            "%lld x %lld of the finest band %s: is it from the same patch?",
                            band_path, (long long)src_h, (long long)src_w, (long long)dst_h, (long long)dst_w,
                            ref_path);
    int64_t k = dst_h / src_h;
    if (k == 1) {
        memcpy(dst, src, (size_t)(dst_h * dst_w) * sizeof *dst);
        return GS_OK;
    }
    for (int64_t y = 0; y < dst_h; y++) {
        int64_t y0, y1;
        float wy;
        bilinear_tap(y, k, src_h, &y0, &y1, &wy);
        const float *row0 = src + y0 * src_w, *row1 = src + y1 * src_w;
        for (int64_t x = 0; x < dst_w; x++) {
            int64_t x0, x1;
            float wx;
            bilinear_tap(x, k, src_w, &x0, &x1, &wx);
            float top = row0[x0] + wx * (row0[x1] - row0[x0]);
            float bottom = row1[x0] + wx * (row1[x1] - row1[x0]);
            dst[y * dst_w + x] = top + wy * (bottom - top);
        }
    }
    return GS_OK;
}

static gs_status read_single_band(const char *path, gs_raster *r, gs_error *err) {
    if (gs_tiff_read(path, r, err) != GS_OK) return err->status;
    if (r->bands != 1) {
        int bands = r->bands;
        gs_raster_free(r);
        return gs_error_set(err, GS_ERR_FORMAT, "%s has %d bands; a Sentinel-2 band file holds one", path, bands);
    }
    return GS_OK;
}

gs_status gs_s2_read_bands(const char *const *paths, int n, int ref, int64_t height, int64_t width, float *dst,
                           gs_error *err) {
    if (n < 1 || ref < 0 || ref >= n)
        return gs_error_set(err, GS_ERR_INTERNAL, "gs_s2_read_bands: reference band %d of %d", ref, n);
    int64_t plane = height * width;
    /* The reference first: its size is the grid every other band must fit. */
    gs_raster r;
    if (read_single_band(paths[ref], &r, err) != GS_OK) return err->status;
    if (r.height != height || r.width != width) {
        gs_status st = gs_error_set(err, GS_ERR_FORMAT,
                                    "%s is %lld x %lld pixels; the dataset's samples are %lld x %lld (taken from the "
                                    "first sample): every sample must have the same size",
                                    paths[ref], (long long)r.height, (long long)r.width, (long long)height,
                                    (long long)width);
        gs_raster_free(&r);
        return st;
    }
    memcpy(dst + (int64_t)ref * plane, r.data, (size_t)plane * sizeof *dst);
    gs_raster_free(&r);
    for (int b = 0; b < n; b++) {
        if (b == ref) continue;
        if (read_single_band(paths[b], &r, err) != GS_OK) return err->status;
        gs_status st = gs_s2_upsample(r.data, r.height, r.width, dst + (int64_t)b * plane, height, width, paths[b],
                                      paths[ref], err);
        gs_raster_free(&r);
        if (st != GS_OK) return st;
    }
    return GS_OK;
}

/* ---- folder listing shared by the Sentinel-2 formats ---------------------- */

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void gs_free_names(char **names) {
    if (!names) return;
    for (char **p = names; *p; p++) free(*p);
    free(names);
}

gs_status gs_list_subfolders(const char *dir, char ***names, int64_t *count, gs_error *err) {
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return gs_error_set(err, GS_ERR_IO, "cannot list %s: %s", dir, strerror(errno));
    int64_t n = 0, capacity = 64;
    char **list = malloc((size_t)capacity * sizeof *list);
    gs_status status = list ? GS_OK : gs_error_set(err, GS_ERR_MEMORY, "out of memory listing %s", dir);
    struct dirent *e;
    while (status == GS_OK && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        bool is_dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) { /* some file systems do not fill d_type */
            char path[4096];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            is_dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        }
        if (!is_dir) continue;
        if (n + 1 >= capacity) {
            char **grown = realloc(list, (size_t)capacity * 2 * sizeof *list);
            if (!grown) {
                status = gs_error_set(err, GS_ERR_MEMORY, "out of memory listing %s", dir);
                break;
            }
            list = grown;
            capacity *= 2;
        }
        list[n] = strdup(e->d_name);
        if (!list[n]) {
            status = gs_error_set(err, GS_ERR_MEMORY, "out of memory listing %s", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (list) list[n] = NULL;
    if (status != GS_OK) {
        gs_free_names(list);
        return status;
    }
    qsort(list, (size_t)n, sizeof *list, compare_names);
    *names = list;
    *count = n;
    return GS_OK;
}
