/* ISPRS Potsdam (2D semantic labeling benchmark, ISPRS WG II/4): 5 cm true
 * orthophoto tiles with colour-coded label tiles, cut into square patches.
 *
 * Two layouts, told apart by the folders under the root:
 *  - the ISPRS release: image tiles top_potsdam_<a>_<b>_RGBIR.tif (4 bands),
 *    _RGB.tif or _IRRG.tif (3 bands) and label tiles top_potsdam_<a>_<b>_label.tif
 *    (or _label_noBoundary.tif with options.eroded_labels), anywhere below the
 *    root (4_Ortho_RGBIR/, 5_Labels_all/, ... or all in one folder).  When
 *    several image kinds are present, RGBIR is used, else RGB, else IRRG.  The
 *    DSM tiles (1_DSM*) are not read.
 *  - pre-cut crops: <split>_RGBIR/<name>.tif with the label <split>_lbl/<name>.tif,
 *    split = train, val (GS_SPLIT_VAL) or test.
 * Patches are options.patch_size (default 256 for tiles, the crop size for
 * crops) every options.stride pixels (default: the patch size); when the
 * stride does not end on the tile's edge a last patch flush with the edge is
 * added, so every pixel is in some patch.  sample.x/.y is the patch offset,
 * sample.group the index of its tile (or crop file) in sorted order.
 *
 * Classes, in this order (class id = index), with the benchmark's palette
 * (R,G,B): impervious surfaces 255,255,255; building 0,0,255; low vegetation
 * 0,255,255; tree 0,255,0; car 255,255,0; clutter/background 255,0,0.
 * Any other colour is GS_IGNORE_LABEL (open() counts and reports such pixels
 * once per label file); in the eroded files the eroded boundary pixels are
 * black and are ignored without a warning. */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../image_io.h"
#include "formats.h"

#define POTSDAM_DEFAULT_PATCH 256
#define POTSDAM_MAX_DEPTH 4          /* root/Potsdam/5_Labels_all/x.tif and the like */
#define POTSDAM_SCAN_ROWS 512        /* rows decoded at a time when checking a label tile */
#define POTSDAM_GSD_M 0.05f          /* ISPRS: 5 cm ground sampling distance */

static const char *const CLASS_NAMES[] = {"impervious_surfaces", "building", "low_vegetation",
                                          "tree",                "car",      "clutter"};
static const unsigned char PALETTE[][3] = {{255, 255, 255}, {0, 0, 255},   {0, 255, 255},
                                           {0, 255, 0},     {255, 255, 0}, {255, 0, 0}};
enum { N_CLASSES = sizeof CLASS_NAMES / sizeof *CLASS_NAMES };

/* Official tile split of the ISPRS 2D semantic labeling benchmark (Potsdam):
 * 24 training tiles and 14 test tiles, as rows a with columns b_first..b_last. */
typedef struct tile_range {
    int a, b_first, b_last;
} tile_range;
static const tile_range TRAIN_TILES[] = {{2, 10, 12}, {3, 10, 12}, {4, 10, 12}, {5, 10, 12}, {6, 7, 12}, {7, 7, 12}};
static const tile_range TEST_TILES[] = {{2, 13, 14}, {3, 13, 14}, {4, 13, 15}, {5, 13, 15}, {6, 13, 15}, {7, 13, 13}};

/* The ISPRS documentation gives no band responses for the camera: these are
 * nominal centres of the usual four-band aerial bands (B 450-490, G 500-580,
 * R 580-660, NIR 770-890 nm).  The 4th RGBIR band is infrared although the
 * files tag it as alpha. */
static const gs_band_info BAND_R = {"R", 620.0f, POTSDAM_GSD_M}, BAND_G = {"G", 540.0f, POTSDAM_GSD_M},
                          BAND_B = {"B", 470.0f, POTSDAM_GSD_M}, BAND_IR = {"IR", 830.0f, POTSDAM_GSD_M};

typedef enum tile_kind { KIND_RGBIR, KIND_RGB, KIND_IRRG, KIND_LABEL, KIND_LABEL_ERODED, N_KINDS } tile_kind;
static const char *const KIND_SUFFIX[N_KINDS] = {"RGBIR", "RGB", "IRRG", "label", "label_noBoundary"};

typedef struct potsdam_tile {
    char *image, *label;
    int64_t width, height;
    int split;
} potsdam_tile;

typedef struct potsdam_state {
    potsdam_tile *tiles;
    int n_tiles, capacity;
    bool eroded; /* black is the eroded boundary, not an unknown colour */
} potsdam_state;

/* A file of the ISPRS layout, by its tile id and kind. */
typedef struct found_file {
    int a, b;
    tile_kind kind;
    char *path;
} found_file;

typedef struct found_list {
    found_file *files;
    size_t n, capacity;
} found_list;

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c) memcpy(c, s, n);
    return c;
}

static char *join_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool has_tif_extension(const char *name, size_t *stem_len) {
    const char *dot = strrchr(name, '.');
    if (!dot || (strcmp(dot, ".tif") && strcmp(dot, ".tiff"))) return false;
    *stem_len = (size_t)(dot - name);
    return true;
}

/* "top_potsdam_2_10_label.tif" -> a = 2, b = 10, KIND_LABEL. */
static bool parse_tile_name(const char *name, int *a, int *b, tile_kind *kind) {
    size_t stem_len;
    int consumed = 0;
    if (!has_tif_extension(name, &stem_len) || sscanf(name, "top_potsdam_%d_%d_%n", a, b, &consumed) != 2 ||
        consumed == 0)
        return false;
    for (int k = 0; k < N_KINDS; k++)
        if (stem_len - (size_t)consumed == strlen(KIND_SUFFIX[k]) &&
            !strncmp(name + consumed, KIND_SUFFIX[k], strlen(KIND_SUFFIX[k]))) {
            *kind = (tile_kind)k;
            return true;
        }
    return false;
}

static gs_status collect_tiles(const char *dir, int depth, found_list *list, gs_error *err) {
    DIR *d = opendir(dir);
    if (!d) return depth == 0 ? gs_error_set(err, GS_ERR_IO, "cannot list %s", dir) : GS_OK;
    gs_status status = GS_OK;
    struct dirent *e;
    while (status == GS_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char *path = join_path(dir, e->d_name);
        if (!path) {
            status = gs_error_set(err, GS_ERR_MEMORY, "out of memory listing %s", dir);
            break;
        }
        int a, b;
        tile_kind kind;
        if (parse_tile_name(e->d_name, &a, &b, &kind)) {
            if (list->n == list->capacity) {
                size_t capacity = list->capacity ? 2 * list->capacity : 64;
                found_file *files = realloc(list->files, capacity * sizeof *files);
                if (!files) {
                    free(path);
                    status = gs_error_set(err, GS_ERR_MEMORY, "out of memory listing %s", dir);
                    break;
                }
                list->files = files;
                list->capacity = capacity;
            }
            list->files[list->n++] = (found_file){a, b, kind, path};
            continue;
        }
        if (depth < POTSDAM_MAX_DEPTH && is_dir(path)) status = collect_tiles(path, depth + 1, list, err);
        free(path);
    }
    closedir(d);
    return status;
}

static int compare_found(const void *pa, const void *pb) {
    const found_file *x = pa, *y = pb;
    if (x->a != y->a) return x->a < y->a ? -1 : 1;
    if (x->b != y->b) return x->b < y->b ? -1 : 1;
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    return strcmp(x->path, y->path);
}

static int compare_strings(const void *pa, const void *pb) {
    return strcmp(*(char *const *)pa, *(char *const *)pb);
}

static int official_split(int a, int b) {
    for (size_t i = 0; i < sizeof TRAIN_TILES / sizeof *TRAIN_TILES; i++)
        if (TRAIN_TILES[i].a == a && b >= TRAIN_TILES[i].b_first && b <= TRAIN_TILES[i].b_last) return GS_SPLIT_TRAIN;
    for (size_t i = 0; i < sizeof TEST_TILES / sizeof *TEST_TILES; i++)
        if (TEST_TILES[i].a == a && b >= TEST_TILES[i].b_first && b <= TEST_TILES[i].b_last) return GS_SPLIT_TEST;
    return GS_SPLIT_NONE;
}

static void warn(gs_dataset *ds, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(gs_dataset *ds, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "warning: potsdam: ");
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    ds->n_warnings++;
}

/* Takes ownership of image and label. */
static gs_status add_tile(potsdam_state *st, char *image, char *label, int split, gs_error *err) {
    if (st->n_tiles == st->capacity) {
        int capacity = st->capacity ? 2 * st->capacity : 64;
        potsdam_tile *tiles = realloc(st->tiles, (size_t)capacity * sizeof *tiles);
        if (!tiles) {
            free(image);
            free(label);
            return gs_error_set(err, GS_ERR_MEMORY, "out of memory indexing Potsdam tiles");
        }
        st->tiles = tiles;
        st->capacity = capacity;
    }
    st->tiles[st->n_tiles++] = (potsdam_tile){image, label, 0, 0, split};
    return GS_OK;
}

/* The ISPRS layout: pairs each image tile of the chosen kind with its label. */
static gs_status index_isprs_tiles(gs_dataset *ds, potsdam_state *st, tile_kind *image_kind, gs_error *err) {
    found_list list = {0};
    gs_status status = collect_tiles(ds->root, 0, &list, err);
    if (status == GS_OK && list.n > 0) qsort(list.files, list.n, sizeof *list.files, compare_found);
    *image_kind = N_KINDS;
    for (size_t i = 0; i < list.n; i++)
        if (list.files[i].kind <= KIND_IRRG && list.files[i].kind < *image_kind) *image_kind = list.files[i].kind;
    if (status == GS_OK && *image_kind == N_KINDS)
        status = gs_error_set(err, GS_ERR_FORMAT,
                              "no Potsdam data under %s: expected image tiles top_potsdam_<a>_<b>_RGBIR.tif "
                              "(or _RGB, _IRRG) with label tiles top_potsdam_<a>_<b>_label.tif, or pre-cut crops "
                              "in train_RGBIR/ and train_lbl/ (val_RGBIR/, val_lbl/)",
                              ds->root);
    tile_kind label_kind = st->eroded ? KIND_LABEL_ERODED : KIND_LABEL;
    long long other_kind = 0;
    size_t first = 0; /* first file of the run of the current tile id and kind: the one used */
    for (size_t i = 0; i < list.n && status == GS_OK; i++) {
        const found_file *f = &list.files[i];
        if (i > 0 && f->a == list.files[first].a && f->b == list.files[first].b && f->kind == list.files[first].kind) {
            if (f->kind == *image_kind || f->kind == label_kind)
                warn(ds, "ignoring %s, another copy of tile %d_%d (using %s)", f->path, f->a, f->b,
                     list.files[first].path);
            continue;
        }
        first = i;
        if (f->kind != *image_kind) {
            if (f->kind <= KIND_IRRG) other_kind++;
            continue;
        }
        const char *label = NULL;
        for (size_t j = 0; j < list.n; j++)
            if (list.files[j].a == f->a && list.files[j].b == f->b && list.files[j].kind == label_kind) {
                label = list.files[j].path;
                break;
            }
        if (!label) {
            status = gs_error_set(err, GS_ERR_FORMAT,
                                  "label tile top_potsdam_%d_%d_%s.tif for %s is missing under %s: add it (the "
                                  "ISPRS release has it in %s) or remove the image tile",
                                  f->a, f->b, KIND_SUFFIX[label_kind], f->path, ds->root,
                                  st->eroded ? "5_Labels_all_noBoundary/" : "5_Labels_all/");
            break;
        }
        int split = official_split(f->a, f->b);
        if (split == GS_SPLIT_NONE)
            warn(ds, "%s is in neither the official train nor the test tiles of the ISPRS benchmark; its split is unset",
                 f->path);
        char *image_copy = copy_string(f->path), *label_copy = copy_string(label);
        if (!image_copy || !label_copy) {
            free(image_copy);
            free(label_copy);
            status = gs_error_set(err, GS_ERR_MEMORY, "out of memory indexing %s", ds->root);
            break;
        }
        status = add_tile(st, image_copy, label_copy, split, err);
    }
    if (status == GS_OK && other_kind > 0)
        warn(ds, "using the %s tiles under %s; %lld tiles of other image kinds are not read",
             KIND_SUFFIX[*image_kind], ds->root, other_kind);
    for (size_t i = 0; i < list.n; i++) free(list.files[i].path);
    free(list.files);
    return status;
}

/* The crops layout: every <split>_RGBIR/<name>.tif with <split>_lbl/<name>.tif. */
static gs_status index_crops(gs_dataset *ds, potsdam_state *st, gs_error *err) {
    static const char *const SPLIT_NAMES[] = {"train", "val", "test"};
    static const int SPLITS[] = {GS_SPLIT_TRAIN, GS_SPLIT_VAL, GS_SPLIT_TEST};
    gs_status status = GS_OK;
    for (int s = 0; s < 3 && status == GS_OK; s++) {
        char sub[64], lbl[64];
        snprintf(sub, sizeof sub, "%s_RGBIR", SPLIT_NAMES[s]);
        snprintf(lbl, sizeof lbl, "%s_lbl", SPLIT_NAMES[s]);
        char *image_dir = join_path(ds->root, sub), *label_dir = join_path(ds->root, lbl);
        char **names = NULL;
        size_t n = 0, capacity = 0;
        DIR *d = image_dir && label_dir ? opendir(image_dir) : NULL;
        if (!image_dir || !label_dir) status = gs_error_set(err, GS_ERR_MEMORY, "out of memory indexing %s", ds->root);
        struct dirent *e;
        while (d && status == GS_OK && (e = readdir(d)) != NULL) {
            size_t stem_len;
            if (e->d_name[0] == '.' || !has_tif_extension(e->d_name, &stem_len)) continue;
            if (n == capacity) {
                capacity = capacity ? 2 * capacity : 64;
                char **grown = realloc(names, capacity * sizeof *names);
                if (!grown) {
                    status = gs_error_set(err, GS_ERR_MEMORY, "out of memory listing %s", image_dir);
                    break;
                }
                names = grown;
            }
            if (!(names[n] = copy_string(e->d_name))) {
                status = gs_error_set(err, GS_ERR_MEMORY, "out of memory listing %s", image_dir);
                break;
            }
            n++;
        }
        if (d) closedir(d);
        if (n) qsort(names, n, sizeof *names, compare_strings);
        for (size_t i = 0; i < n && status == GS_OK; i++) {
            char *image = join_path(image_dir, names[i]), *label = join_path(label_dir, names[i]);
            struct stat sb;
            if (!image || !label) {
                free(image);
                free(label);
                status = gs_error_set(err, GS_ERR_MEMORY, "out of memory indexing %s", ds->root);
            } else if (stat(label, &sb) != 0) {
                status = gs_error_set(err, GS_ERR_FORMAT,
                                      "label %s for the crop %s is missing: every %s/ file needs one of the same "
                                      "name in %s/",
                                      label, image, sub, lbl);
                free(image);
                free(label);
            } else {
                status = add_tile(st, image, label, SPLITS[s], err);
            }
        }
        for (size_t i = 0; i < n; i++) free(names[i]);
        free(names);
        free(image_dir);
        free(label_dir);
    }
    return status;
}

/* Class of one label pixel; *unknown is set for a colour outside the palette. */
static int32_t class_of(float r, float g, float b, bool eroded, bool *unknown) {
    *unknown = false;
    for (int c = 0; c < N_CLASSES; c++)
        if (r == PALETTE[c][0] && g == PALETTE[c][1] && b == PALETTE[c][2]) return c;
    if (!(eroded && r == 0 && g == 0 && b == 0)) *unknown = true;
    return GS_IGNORE_LABEL;
}

/* Maps every pixel of the label raster to its class
 * (mask may be NULL) and returns how many had unknown colours. */
static int64_t map_labels(const gs_raster *label, bool eroded, int32_t *mask) {
    int64_t plane = label->height * label->width, unknown_pixels = 0;
    for (int64_t i = 0; i < plane; i++) {
        bool unknown;
        int32_t c = class_of(label->data[i], label->data[plane + i], label->data[2 * plane + i], eroded, &unknown);
        unknown_pixels += unknown;
        if (mask) mask[i] = c;
    }
    return unknown_pixels;
}

/* Checks a tile's files against each other and decodes its label once, so a
 * corrupt label fails here and unknown colours are reported once per file. */
static gs_status check_tile(gs_dataset *ds, potsdam_tile *t, int want_bands, bool eroded, gs_error *err) {
    int64_t lw, lh;
    int bands, label_bands;
    gs_pixel_type type;
    const gs_image_limits scene = {.max_bytes = ds->options.max_scene_bytes};
    if (gs_tiff_probe(t->image, &t->width, &t->height, &bands, &type, err) != GS_OK ||
        gs_image_check_limits(t->image, t->width, t->height, bands, type, &scene, err) != GS_OK ||
        gs_tiff_probe(t->label, &lw, &lh, &label_bands, &type, err) != GS_OK ||
        gs_image_check_limits(t->label, lw, lh, label_bands, type, &scene, err) != GS_OK)
        return err->status;
    if (bands != want_bands)
        return gs_error_set(err, GS_ERR_FORMAT, "%s has %d bands; this kind of Potsdam image has %d", t->image, bands,
                            want_bands);
    if (lw != t->width || lh != t->height)
        return gs_error_set(err, GS_ERR_FORMAT,
                            "label %s is %lld x %lld but its image %s is %lld x %lld: they must be the same tile",
                            t->label, (long long)lw, (long long)lh, t->image, (long long)t->width,
                            (long long)t->height);
    if (label_bands < 3)
        return gs_error_set(err, GS_ERR_FORMAT, "label %s has %d band(s); Potsdam labels are RGB colour-coded",
                            t->label, label_bands);
    int64_t unknown = 0;
    for (int64_t y = 0; y < lh; y += POTSDAM_SCAN_ROWS) {
        int64_t rows = lh - y < POTSDAM_SCAN_ROWS ? lh - y : POTSDAM_SCAN_ROWS;
        gs_raster label;
        if (gs_tiff_read_window(t->label, 0, y, lw, rows, &label, err) != GS_OK) return err->status;
        unknown += map_labels(&label, eroded, NULL);
        gs_raster_free(&label);
    }
    if (unknown > 0)
        warn(ds, "%s: %lld of its %lld pixels have colours outside the ISPRS palette; they are ignored", t->label,
             (long long)unknown, (long long)(lw * lh));
    return GS_OK;
}

static int64_t patch_offsets(int64_t length, int64_t patch, int64_t stride, int64_t *out) {
    if (length < patch) return 0;
    int64_t n = 0, x = 0;
    for (; x + patch <= length; x += stride) {
        if (out) out[n] = x;
        n++;
    }
    if (x - stride + patch < length) {
        if (out) out[n] = length - patch; /* flush with the edge: no pixel left out */
        n++;
    }
    return n;
}

static gs_status add_patches(gs_dataset *ds, const potsdam_tile *t, int group, gs_error *err) {
    int64_t patch = ds->height, stride = ds->options.stride;
    int64_t nx = patch_offsets(t->width, patch, stride, NULL), ny = patch_offsets(t->height, patch, stride, NULL);
    if (nx == 0 || ny == 0) {
        warn(ds, "%s is %lld x %lld, smaller than the patch size %lld: skipped", t->image, (long long)t->width,
             (long long)t->height, (long long)patch);
        return GS_OK;
    }
    int64_t *xs = malloc((size_t)(nx + ny) * sizeof *xs);
    if (!xs) return gs_error_set(err, GS_ERR_MEMORY, "out of memory indexing %s", t->image);
    int64_t *ys = xs + nx;
    patch_offsets(t->width, patch, stride, xs);
    patch_offsets(t->height, patch, stride, ys);
    gs_status status = GS_OK;
    for (int64_t j = 0; j < ny && status == GS_OK; j++)
        for (int64_t i = 0; i < nx; i++) {
            gs_sample *s = gs_dataset_add_sample(ds, t->image, NULL, err);
            if (!s) {
                status = err->status;
                break;
            }
            s->x = xs[i];
            s->y = ys[j];
            s->group = group;
            s->split = t->split;
        }
    free(xs);
    return status;
}

static void potsdam_close(gs_dataset *ds) {
    potsdam_state *st = ds->state;
    if (!st) return;
    for (int i = 0; i < st->n_tiles; i++) {
        free(st->tiles[i].image);
        free(st->tiles[i].label);
    }
    free(st->tiles);
    free(st);
    ds->state = NULL;
}

static gs_status potsdam_open(gs_dataset *ds, gs_error *err) {
    potsdam_state *st = calloc(1, sizeof *st);
    if (!st) return gs_error_set(err, GS_ERR_MEMORY, "out of memory opening %s", ds->root);
    ds->state = st;
    st->eroded = ds->options.eroded_labels;
    if (ds->options.patch_size < 0 || ds->options.stride < 0)
        return gs_error_set(err, GS_ERR_ARGUMENT, "Potsdam patch size %d and stride %d must not be negative",
                            ds->options.patch_size, ds->options.stride);
    bool crops = false;
    for (int s = 0; s < 3 && !crops; s++) {
        char *sub = join_path(ds->root, (const char *[]){"train_RGBIR", "val_RGBIR", "test_RGBIR"}[s]);
        crops = sub && is_dir(sub);
        free(sub);
    }
    tile_kind image_kind = KIND_RGBIR;
    gs_status status;
    if (crops) {
        if (st->eroded)
            return gs_error_set(err, GS_ERR_ARGUMENT,
                                "%s holds pre-cut crops, which have no eroded-boundary labels: drop the eroded "
                                "labels option or point at the ISPRS tiles",
                                ds->root);
        status = index_crops(ds, st, err);
    } else {
        status = index_isprs_tiles(ds, st, &image_kind, err);
    }
    if (status != GS_OK) return status;

    static const gs_band_info *const BANDS[][4] = {
        [KIND_RGBIR] = {&BAND_R, &BAND_G, &BAND_B, &BAND_IR},
        [KIND_RGB] = {&BAND_R, &BAND_G, &BAND_B, NULL},
        [KIND_IRRG] = {&BAND_IR, &BAND_R, &BAND_G, NULL},
    };
    ds->task = GS_TASK_SEGMENTATION;
    ds->bands = image_kind == KIND_RGBIR ? 4 : 3;
    for (int b = 0; b < ds->bands; b++) ds->band_info[b] = *BANDS[image_kind][b];
    if ((status = gs_dataset_set_classes(ds, CLASS_NAMES, N_CLASSES, err)) != GS_OK) return status;
    for (int i = 0; i < st->n_tiles; i++)
        if ((status = check_tile(ds, &st->tiles[i], ds->bands, st->eroded, err)) != GS_OK) return status;

    int64_t patch = ds->options.patch_size;
    if (patch == 0) patch = crops && st->n_tiles > 0 ? st->tiles[0].width : POTSDAM_DEFAULT_PATCH;
    if (ds->options.stride == 0) ds->options.stride = (int)patch;
    ds->options.patch_size = (int)patch;
    ds->height = ds->width = patch;
    for (int i = 0; i < st->n_tiles && status == GS_OK; i++) status = add_patches(ds, &st->tiles[i], i, err);
    if (status == GS_OK && ds->n_samples == 0 && st->n_tiles > 0)
        status = gs_error_set(err, GS_ERR_ARGUMENT,
                              "every Potsdam tile under %s is smaller than the patch size %lld (the first is %lld x "
                              "%lld): pass a smaller patch size",
                              ds->root, (long long)patch, (long long)st->tiles[0].width,
                              (long long)st->tiles[0].height);
    return status;
}

static gs_status potsdam_read(const gs_dataset *ds, int64_t index, gs_sample_data *out, gs_error *err) {
    const potsdam_state *st = ds->state;
    if (index < 0 || index >= ds->n_samples)
        return gs_error_set(err, GS_ERR_ARGUMENT, "Potsdam sample %lld is out of range (%lld samples)",
                            (long long)index, (long long)ds->n_samples);
    const gs_sample *s = &ds->samples[index];
    const potsdam_tile *t = &st->tiles[s->group];
    int64_t patch = ds->height, plane = patch * patch;
    if (out->pixels) {
        gs_raster image;
        if (gs_tiff_read_window(t->image, s->x, s->y, patch, patch, &image, err) != GS_OK) return err->status;
        if (image.bands != ds->bands) {
            gs_raster_free(&image);
            return gs_error_set(err, GS_ERR_FORMAT, "%s now has %d bands, %d when the dataset was opened", t->image,
                                image.bands, ds->bands);
        }
        memcpy(out->pixels, image.data, (size_t)(ds->bands * plane) * sizeof *out->pixels);
        gs_raster_free(&image);
    }
    if (out->mask) {
        gs_raster label;
        if (gs_tiff_read_window(t->label, s->x, s->y, patch, patch, &label, err) != GS_OK) return err->status;
        if (label.bands < 3) {
            gs_raster_free(&label);
            return gs_error_set(err, GS_ERR_FORMAT, "label %s has %d band(s); Potsdam labels are RGB colour-coded",
                                t->label, label.bands);
        }
        map_labels(&label, st->eroded, out->mask);
        gs_raster_free(&label);
    }
    return GS_OK;
}

const gs_dataset_format gs_format_potsdam = {
    .tiled = true,
    .name = "potsdam",
    .summary = "ISPRS Potsdam tiles (RGBIR/RGB/IRRG + colour labels) or pre-cut crops, cut into patches",
    .open = potsdam_open,
    .read = potsdam_read,
    .close = potsdam_close,
};
