#include "class_folders.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../splits.h"

/* How deep below the given root the class folders may lie and how many
 * folders the search may visit: bounded, so pointing at a huge tree fails
 * quickly with a clear message instead of crawling it.  EuroSAT MS needs 6. */
#define SEARCH_MAX_DEPTH 8
#define SEARCH_MAX_FOLDERS 20000

typedef struct name_list {
    char **names;
    size_t n, cap;
} name_list;

static void names_free(name_list *l) {
    for (size_t i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
    memset(l, 0, sizeof *l);
}

/* Takes ownership of s (freed on failure). */
static gs_status names_take(name_list *l, char *s, gs_error *err) {
    if (s && l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **names = realloc(l->names, cap * sizeof *names);
        if (!names) {
            free(s);
            s = NULL;
        } else {
            l->names = names;
            l->cap = cap;
        }
    }
    if (!s) return gs_error_set(err, GS_ERR_MEMORY, "out of memory listing folders");
    l->names[l->n++] = s;
    return GS_OK;
}

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c) memcpy(c, s, n);
    return c;
}

static char *join_path(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t at = a;
    if (a == 0 || dir[a - 1] != '/') p[at++] = '/';
    memcpy(p + at, name, b + 1);
    return p;
}

static int compare_plain(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int compare_natural(const void *a, const void *b) {
    return gs_split_name_compare(*(char *const *)a, *(char *const *)b);
}

static const char *codec_extension(gs_image_codec codec) { return codec == GS_CODEC_JPEG ? "jpg" : "tif"; }

static bool has_extension(const char *name, gs_image_codec codec) {
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return false;
    char ext[8];
    size_t n = strlen(dot + 1);
    if (n == 0 || n >= sizeof ext) return false;
    for (size_t i = 0; i <= n; i++)
        ext[i] = (char)(dot[1 + i] >= 'A' && dot[1 + i] <= 'Z' ? dot[1 + i] + 32 : dot[1 + i]);
    if (codec == GS_CODEC_JPEG) return !strcmp(ext, "jpg") || !strcmp(ext, "jpeg");
    return !strcmp(ext, "tif") || !strcmp(ext, "tiff");
}

static void warn(gs_dataset *ds, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(gs_dataset *ds, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    fputs("warning: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    ds->n_warnings++;
}

/* The entries of dir that are folders (want_folders) or other files,
 * skipping hidden ones ('.', '..', .DS_Store), sorted by name. */
static gs_status list_entries(const char *dir, bool want_folders, name_list *out, gs_error *err) {
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) return gs_error_set(err, GS_ERR_IO, "cannot list folder %s: %s", dir, strerror(errno));
    gs_status status = GS_OK;
    struct dirent *e;
    while (status == GS_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char *path = join_path(dir, e->d_name);
        if (!path) {
            status = gs_error_set(err, GS_ERR_MEMORY, "out of memory listing %s", dir);
            break;
        }
        struct stat st;
        bool folder = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        free(path);
        if (folder == want_folders) status = names_take(out, copy_string(e->d_name), err);
    }
    closedir(d);
    if (status != GS_OK) {
        names_free(out);
        return status;
    }
    if (out->n > 1) qsort(out->names, out->n, sizeof *out->names, compare_plain);
    return GS_OK;
}

/* True when dir directly holds at least one image of the codec. */
static bool folder_has_images(const char *dir, gs_image_codec codec) {
    DIR *d = opendir(dir);
    if (!d) return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) found = e->d_name[0] != '.' && has_extension(e->d_name, codec);
    closedir(d);
    return found;
}

static int official_index(const gs_class_folder_layout *layout, const char *name) {
    for (int i = 0; i < layout->n_official; i++)
        if (!strcmp(layout->official_classes[i], name)) return i;
    return -1;
}

/* dir holds class folders: a subfolder (with an official name when the class
 * list is fixed) that directly holds images. */
static gs_status holds_class_folders(const char *dir, const gs_class_folder_layout *layout, bool *yes, gs_error *err) {
    *yes = false;
    name_list subs;
    gs_status status = list_entries(dir, true, &subs, err);
    if (status != GS_OK) return status;
    for (size_t i = 0; i < subs.n && !*yes; i++) {
        if (layout->fixed_classes && official_index(layout, subs.names[i]) < 0) continue;
        char *path = join_path(dir, subs.names[i]);
        if (!path) {
            status = gs_error_set(err, GS_ERR_MEMORY, "out of memory searching %s", dir);
            break;
        }
        *yes = folder_has_images(path, layout->codec);
        free(path);
    }
    names_free(&subs);
    return status;
}

/* Breadth-first: the shallowest folder holding class folders wins; two at the
 * same depth are ambiguous and named. */
static gs_status find_class_root(const gs_dataset *ds, const gs_class_folder_layout *layout, char **out,
                                 gs_error *err) {
    *out = NULL;
    name_list level = {0}, next = {0};
    gs_status status = names_take(&level, copy_string(ds->root), err);
    size_t visited = 0;
    for (int depth = 0; status == GS_OK && depth <= SEARCH_MAX_DEPTH && level.n > 0; depth++) {
        for (size_t i = 0; status == GS_OK && i < level.n; i++) {
            bool yes = false;
            status = holds_class_folders(level.names[i], layout, &yes, err);
            if (status != GS_OK || !yes) continue;
            if (*out) {
                status = gs_error_set(err, GS_ERR_ARGUMENT,
                                      "%s: class folders found both in %s and in %s: pass the one you mean as %s:PATH",
                                      layout->format_name, *out, level.names[i], layout->format_name);
                break;
            }
            *out = copy_string(level.names[i]);
            if (!*out) status = gs_error_set(err, GS_ERR_MEMORY, "out of memory searching %s", ds->root);
        }
        if (status != GS_OK || *out) break;
        for (size_t i = 0; status == GS_OK && i < level.n; i++) {
            name_list subs;
            status = list_entries(level.names[i], true, &subs, err);
            for (size_t j = 0; status == GS_OK && j < subs.n; j++)
                status = names_take(&next, join_path(level.names[i], subs.names[j]), err);
            visited += subs.n;
            names_free(&subs);
            if (status == GS_OK && visited > SEARCH_MAX_FOLDERS)
                status =
                    gs_error_set(err, GS_ERR_ARGUMENT,
                                 "%s: more than %d folders under %s and no class folders yet: pass the folder that "
                                 "holds the class folders",
                                 layout->format_name, SEARCH_MAX_FOLDERS, ds->root);
        }
        names_free(&level);
        level = next;
        memset(&next, 0, sizeof next);
    }
    names_free(&level);
    names_free(&next);
    if (status != GS_OK) {
        free(*out);
        *out = NULL;
        return status;
    }
    if (*out) return GS_OK;
    const char *ext = codec_extension(layout->codec);
    if (folder_has_images(ds->root, layout->codec))
        return gs_error_set(err, GS_ERR_FORMAT,
                            "%s: %s holds .%s images itself; pass the folder above it, the one that holds the class "
                            "folders (<root>/<class>/*.%s)",
                            layout->format_name, ds->root, ext, ext);
    return gs_error_set(err, GS_ERR_FORMAT,
                        "%s: no class folders with .%s images under %s (expected %s/<class>/<class>_<n>.%s, up to %d "
                        "folders down)",
                        layout->format_name, ext, ds->root, ds->root, ext, SEARCH_MAX_DEPTH);
}

/* Indexes one class folder: its images, in natural file-name order. */
static gs_status scan_class_folder(gs_dataset *ds, const gs_class_folder_layout *layout, const char *dir, int label,
                                   int64_t *ignored, char *first_ignored, size_t first_size, gs_error *err) {
    name_list files;
    gs_status status = list_entries(dir, false, &files, err);
    if (status != GS_OK) return status;
    name_list images = {0};
    for (size_t i = 0; status == GS_OK && i < files.n; i++) {
        if (has_extension(files.names[i], layout->codec)) {
            status = names_take(&images, files.names[i], err);
            files.names[i] = NULL;
        } else if ((*ignored)++ == 0) {
            snprintf(first_ignored, first_size, "%s/%s", dir, files.names[i]);
        }
    }
    const char *ext = codec_extension(layout->codec);
    if (status == GS_OK && images.n == 0) {
        size_t others = 0;
        const char *example = NULL;
        for (size_t i = 0; i < files.n; i++)
            if (files.names[i]) {
                if (!example) example = files.names[i];
                others++;
            }
        if (example)
            status =
                gs_error_set(err, GS_ERR_FORMAT,
                             "%s: class folder %s holds no .%s images (it holds %zu other files, e.g. %s): is this "
                             "the right format?",
                             layout->format_name, dir, ext, others, example);
        else
            status = gs_error_set(err, GS_ERR_FORMAT,
                                  "%s: class folder %s is empty: every class folder needs its .%s images (remove "
                                  "the folder or restore them)",
                                  layout->format_name, dir, ext);
    }
    if (status == GS_OK && images.n > 1) qsort(images.names, images.n, sizeof *images.names, compare_natural);
    for (size_t i = 0; status == GS_OK && i < images.n; i++) {
        char *path = join_path(dir, images.names[i]);
        if (!path) {
            status = gs_error_set(err, GS_ERR_MEMORY, "out of memory indexing %s", dir);
            break;
        }
        gs_sample *s = gs_dataset_add_sample(ds, path, NULL, err);
        free(path);
        if (!s) status = err->status;
        else s->label = label;
    }
    names_free(&images);
    names_free(&files);
    return status;
}

/* Official names containing a renamed folder's name ("farmland" ->
 * "circular_farmland, rectangular_farmland"), to say what it may stand for. */
static void official_names_containing(const gs_class_folder_layout *layout, const char *name, char *buf, size_t size) {
    buf[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < layout->n_official && used + 1 < size; i++) {
        if (!strstr(layout->official_classes[i], name)) continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", layout->official_classes[i]);
        if (n < 0) break;
        used += (size_t)n;
    }
}

gs_status gs_class_folders_open(gs_dataset *ds, const gs_class_folder_layout *layout, gs_error *err) {
    ds->task = GS_TASK_CLASSIFICATION;
    ds->bands = layout->bands;
    ds->height = layout->height;
    ds->width = layout->width;
    ds->dates = 1;
    for (int b = 0; b < layout->bands && b < GS_MAX_BANDS; b++) ds->band_info[b] = layout->band_info[b];

    char *class_root = NULL;
    name_list folders = {0};
    gs_status status = find_class_root(ds, layout, &class_root, err);
    if (status == GS_OK) status = list_entries(class_root, true, &folders, err);
    if (status == GS_OK && layout->fixed_classes) {
        status = gs_dataset_set_classes(ds, layout->official_classes, layout->n_official, err);
        for (size_t i = 0; status == GS_OK && i < folders.n; i++)
            if (official_index(layout, folders.names[i]) < 0)
                warn(ds, "%s: folder %s/%s is not one of the %d %s classes; skipped", layout->format_name, class_root,
                     folders.names[i], layout->n_official, layout->dataset_name);
    } else if (status == GS_OK) {
        status = gs_dataset_set_classes(ds, (const char *const *)folders.names, (int)folders.n, err);
        size_t unofficial = 0;
        for (size_t i = 0; i < folders.n; i++) unofficial += official_index(layout, folders.names[i]) < 0;
        /* Not one official name: likely another dataset; one warning, not one per folder. */
        if (status == GS_OK && folders.n > 1 && unofficial == folders.n) {
            warn(ds, "%s: none of the %zu class folders in %s (%s, ...) is an %s class name: is this the right format? "
                 "kept as classes",
                 layout->format_name, folders.n, class_root, folders.names[0], layout->dataset_name);
            unofficial = 0;
        }
        for (size_t i = 0; status == GS_OK && unofficial > 0 && i < folders.n; i++) {
            if (official_index(layout, folders.names[i]) >= 0) continue;
            char hint[256];
            official_names_containing(layout, folders.names[i], hint, sizeof hint);
            warn(ds,
                 "%s: class folder '%s' in %s is not one of the %d %s class names%s%s%s; kept as a class of its own",
                 layout->format_name, folders.names[i], class_root, layout->n_official, layout->dataset_name,
                 hint[0] ? " (official names containing it: " : "", hint, hint[0] ? ")" : "");
        }
    }

    char missing[512] = "";
    int n_missing = 0;
    int64_t ignored = 0;
    char first_ignored[1024] = "";
    for (int c = 0; status == GS_OK && c < ds->n_classes; c++) {
        bool present = false;
        for (size_t i = 0; i < folders.n && !present; i++) present = !strcmp(folders.names[i], ds->class_names[c]);
        if (!present) {
            size_t used = strlen(missing);
            if (used + 1 < sizeof missing)
                snprintf(missing + used, sizeof missing - used, "%s%s", n_missing ? ", " : "", ds->class_names[c]);
            n_missing++;
            continue;
        }
        char *dir = join_path(class_root, ds->class_names[c]);
        if (!dir) status = gs_error_set(err, GS_ERR_MEMORY, "out of memory indexing %s", class_root);
        else status = scan_class_folder(ds, layout, dir, c, &ignored, first_ignored, sizeof first_ignored, err);
        free(dir);
    }
    if (status == GS_OK && n_missing > 0)
        warn(ds, "%s: %d of the %d %s classes %s no folder under %s (%s): %s no samples", layout->format_name,
             n_missing, ds->n_classes, layout->dataset_name, n_missing == 1 ? "has" : "have", class_root, missing,
             n_missing == 1 ? "it has" : "they have");
    if (status == GS_OK && ignored > 0)
        warn(ds, "%s: ignored %lld file%s that %s not .%s images (first: %s)", layout->format_name,
             (long long)ignored, ignored == 1 ? "" : "s", ignored == 1 ? "is" : "are", codec_extension(layout->codec),
             first_ignored);
    names_free(&folders);
    free(class_root);
    return status;
}

static const char *pixel_type_name(gs_pixel_type type) {
    switch (type) {
    case GS_PIXEL_U8: return "uint8";
    case GS_PIXEL_U16: return "uint16";
    case GS_PIXEL_I16: return "int16";
    case GS_PIXEL_F32: return "float32";
    case GS_PIXEL_F64: return "float64";
    }
    return "unknown";
}

gs_status gs_class_folders_read(const gs_dataset *ds, const gs_class_folder_layout *layout, int64_t index,
                                gs_sample_data *out, gs_error *err) {
    if (index < 0 || index >= ds->n_samples)
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s: sample %lld is out of range (dataset has %lld)",
                            layout->format_name, (long long)index, (long long)ds->n_samples);
    if (!out || !out->pixels)
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s: read() needs a pixel buffer", layout->format_name);
    const char *path = ds->samples[index].path;
    gs_raster r;
    /* The dataset's image size is the most a file may declare: a larger
     * header is refused before anything is allocated for it (a 461-byte
     * JPEG declaring 60783 x 256 took 199 MB).  Smaller files are decoded
     * and refused below with the shape they have. */
    const gs_image_limits limits = {.max_width = layout->width, .max_height = layout->height};
    gs_status status = layout->codec == GS_CODEC_JPEG ? gs_jpeg_read_limited(path, &limits, &r, err)
                                                       : gs_tiff_read_limited(path, &limits, &r, err);
    if (status != GS_OK) return status;
    if (r.bands != layout->bands || r.height != layout->height || r.width != layout->width ||
        r.type != layout->pixel_type) {
        status = gs_error_set(err, GS_ERR_FORMAT,
                              "%s is %d x %lld x %lld %s but %s expects %d x %lld x %lld %s (bands x height x width); "
                              "images are not resized: remove or replace the file",
                              path, r.bands, (long long)r.height, (long long)r.width, pixel_type_name(r.type),
                              layout->format_name, layout->bands, (long long)layout->height, (long long)layout->width,
                              pixel_type_name(layout->pixel_type));
    } else {
        memcpy(out->pixels, r.data, sizeof(float) * (size_t)r.bands * (size_t)r.height * (size_t)r.width);
    }
    gs_raster_free(&r);
    return status;
}
