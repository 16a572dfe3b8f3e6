#include "dataset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c) memcpy(c, s, n);
    return c;
}

char *gs_path_stem(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *stem = copy_string(base);
    if (!stem) return NULL;
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = '\0';
    return stem;
}

gs_status gs_dataset_open(const char *spec, const gs_dataset_options *options, gs_dataset *out, gs_error *err) {
    memset(out, 0, sizeof *out);
    const char *colon = spec ? strchr(spec, ':') : NULL;
    if (!colon || colon == spec || !colon[1])
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "dataset '%s' is not FORMAT:PATH (for example eurosat-rgb:/data/EuroSAT)",
                            spec ? spec : "");
    char format_name[64];
    size_t len = (size_t)(colon - spec);
    if (len >= sizeof format_name) len = sizeof format_name - 1;
    memcpy(format_name, spec, len);
    format_name[len] = '\0';
    const gs_dataset_format *format = gs_dataset_format_find(format_name);
    if (!format || !format->open)
        return gs_error_set(err, GS_ERR_ARGUMENT, "unknown dataset format '%s' (run 'geossl data formats' for the list)",
                            format_name);
    struct stat st;
    if (stat(colon + 1, &st) != 0)
        return gs_error_set(err, GS_ERR_IO, "dataset folder %s: %s", colon + 1, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return gs_error_set(err, GS_ERR_IO, "dataset path %s is not a folder", colon + 1);
    out->format = format;
    out->root = copy_string(colon + 1);
    out->dates = 1;
    if (options) out->options = *options;
    gs_status status = format->open(out, err);
    if (status == GS_OK && out->n_samples == 0)
        status = gs_error_set(err, GS_ERR_FORMAT, "no %s samples found under %s: is this the right folder and format?",
                              format_name, out->root);
    if (status == GS_OK && out->options.bands[0]) status = gs_dataset_select_bands(out, out->options.bands, err);
    if (status != GS_OK) gs_dataset_close(out);
    return status;
}

void gs_dataset_close(gs_dataset *ds) {
    if (ds->format && ds->format->close) ds->format->close(ds);
    for (int64_t i = 0; i < ds->n_samples; i++) {
        free(ds->samples[i].path);
        free(ds->samples[i].stem);
    }
    free(ds->samples);
    for (int i = 0; i < ds->n_classes; i++) free(ds->class_names[i]);
    free(ds->class_names);
    free(ds->root);
    memset(ds, 0, sizeof *ds);
}

gs_sample *gs_dataset_add_sample(gs_dataset *ds, const char *path, const char *stem, gs_error *err) {
    if (ds->n_samples == ds->capacity) {
        int64_t capacity = ds->capacity ? ds->capacity * 2 : 1024;
        gs_sample *s = realloc(ds->samples, (size_t)capacity * sizeof *s);
        if (!s) {
            gs_error_set(err, GS_ERR_MEMORY, "out of memory indexing %s", ds->root);
            return NULL;
        }
        ds->samples = s;
        ds->capacity = capacity;
    }
    gs_sample *s = &ds->samples[ds->n_samples];
    memset(s, 0, sizeof *s);
    s->path = copy_string(path);
    s->stem = stem ? copy_string(stem) : gs_path_stem(path);
    if (!s->path || !s->stem) {
        free(s->path);
        free(s->stem);
        gs_error_set(err, GS_ERR_MEMORY, "out of memory indexing %s", ds->root);
        return NULL;
    }
    s->label = GS_IGNORE_LABEL;
    s->split = GS_SPLIT_NONE;
    s->group = -1;
    ds->n_samples++;
    return s;
}

int gs_dataset_class_index(const gs_dataset *ds, const char *name) {
    for (int i = 0; i < ds->n_classes; i++)
        if (!strcmp(ds->class_names[i], name)) return i;
    return -1;
}

gs_status gs_dataset_set_classes(gs_dataset *ds, const char *const *names, int n, gs_error *err) {
    ds->class_names = calloc((size_t)(n > 0 ? n : 1), sizeof *ds->class_names);
    if (!ds->class_names) return gs_error_set(err, GS_ERR_MEMORY, "out of memory for class names");
    for (int i = 0; i < n; i++) {
        ds->class_names[i] = copy_string(names[i]);
        if (!ds->class_names[i]) return gs_error_set(err, GS_ERR_MEMORY, "out of memory for class names");
        ds->n_classes = i + 1;
    }
    return GS_OK;
}

int64_t gs_dataset_sample_floats(const gs_dataset *ds) {
    return (int64_t)(ds->dates > 0 ? ds->dates : 1) * ds->bands * ds->height * ds->width;
}
