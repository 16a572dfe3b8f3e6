#include "weights_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

static const char *const DEFAULT_PREFIXES[] = {"module.", "encoder.", "backbone.", "model."};

/* A file tensor under the name it maps to once prefixes are stripped. */
typedef struct mapped {
    const char *key;
    int index; /* into st->tensors */
} mapped;

typedef struct importer {
    gs_context *ctx;
    const char *path;
    gs_safetensors st;
    mapped *keys;  /* sorted by key */
    bool *used;    /* per file tensor */
    const char *const *prefixes;
    int n_prefixes;
    gs_weights_import_report report;
} importer;

static bool starts_with(const char *s, const char *prefix) { return !strncmp(s, prefix, strlen(prefix)); }

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static bool is_head(const char *name) { return starts_with(name, "fc.") || starts_with(name, "head."); }

static const char *strip(const importer *im, const char *name) {
    for (bool again = true; again;) {
        again = false;
        for (int p = 0; p < im->n_prefixes; p++) {
            size_t len = strlen(im->prefixes[p]);
            if (len > 0 && starts_with(name, im->prefixes[p]) && name[len]) {
                name += len;
                again = true;
            }
        }
    }
    return name;
}

static int by_key(const void *a, const void *b) { return strcmp(((const mapped *)a)->key, ((const mapped *)b)->key); }

static void shape_of(const gs_st_tensor *t, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < t->ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    if (used < size) snprintf(buf + used, size - used, ")");
}

static bool same_shape(const gs_st_tensor *f, const gs_tensor *t) {
    if (f->ndim != t->ndim) return false;
    for (int i = 0; i < t->ndim; i++)
        if (f->shape[i] != t->shape[i]) return false;
    return true;
}

/* Maps every file name and refuses two that land on the same key. */
static gs_status build_keys(importer *im) {
    int n = im->st.count;
    im->keys = malloc((size_t)(n ? n : 1) * sizeof *im->keys);
    im->used = calloc((size_t)(n ? n : 1), sizeof *im->used);
    if (!im->keys || !im->used) return gs_fail(im->ctx, GS_ERR_MEMORY, "out of memory importing %s", im->path);
    for (int i = 0; i < n; i++) {
        const char *name = im->st.tensors[i].name;
        im->keys[i] = (mapped){strip(im, name), i};
        if (im->keys[i].key != name && !im->report.stripped[0])
            snprintf(im->report.stripped, sizeof im->report.stripped, "%.*s", (int)(im->keys[i].key - name), name);
    }
    qsort(im->keys, (size_t)n, sizeof *im->keys, by_key);
    for (int i = 1; i < n; i++)
        if (!strcmp(im->keys[i - 1].key, im->keys[i].key))
            return gs_fail(im->ctx, GS_ERR_MISMATCH,
                           "%s: tensors '%.100s' and '%.100s' both map to '%.100s' once prefixes are stripped; pass "
                           "a prefix list that keeps them apart",
                           im->path, im->st.tensors[im->keys[i - 1].index].name, im->st.tensors[im->keys[i].index].name,
                           im->keys[i].key);
    return GS_OK;
}

static const gs_st_tensor *lookup(importer *im, const char *name) {
    mapped probe = {name, -1};
    const mapped *hit = im->st.count ? bsearch(&probe, im->keys, (size_t)im->st.count, sizeof *im->keys, by_key) : NULL;
    if (!hit) return NULL;
    im->used[hit->index] = true;
    return &im->st.tensors[hit->index];
}

/* The mismatch message, with the two cases users meet most spelled out. */
static gs_status shape_mismatch(importer *im, const gs_st_tensor *f, const gs_tensor *t) {
    char have[128], want[128];
    shape_of(f, have, sizeof have);
    gs_shape_str(t, want, sizeof want);
    bool stem = !strcmp(t->name, "conv1.weight") || !strcmp(t->name, "patch_embed.proj.weight");
    if (stem && f->ndim == 4 && t->ndim == 4 && f->shape[1] != t->shape[1] && f->shape[0] == t->shape[0]) {
        /* The model takes its band count from the data: say which option of
         * geossl eval picks the bands the file's network was trained on. */
        long long file_bands = (long long)f->shape[1];
        char how[200];
        if (f->shape[1] < t->shape[1])
            snprintf(how, sizeof how, "geossl eval --bands chooses %lld of the data's bands by name, e.g. --bands rgb "
                                      "or --bands B4,B3,B2", file_bands);
        else
            snprintf(how, sizeof how, "geossl eval needs data with %lld bands, all taken with --bands all",
                     file_bands);
        return gs_fail(im->ctx, GS_ERR_MISMATCH,
                       "%s: '%s' has shape %s in the file but %s in this model: the file's network takes %lld input "
                       "bands, this one %lld (build the backbone with bands=%lld: %s)",
                       im->path, t->name, have, want, file_bands, (long long)t->shape[1], file_bands, how);
    }
    if (!strcmp(t->name, "pos_embed") && f->ndim == 3 && t->ndim == 3 && f->shape[1] != t->shape[1])
        return gs_fail(im->ctx, GS_ERR_MISMATCH,
                       "%s: 'pos_embed' has shape %s in the file but %s in this model: the file's position table "
                       "holds %lld tokens, this model's %lld ((img_size / patch)^2 + 1 with the cls token); "
                       "interpolating position embeddings is not supported, so build the ViT with the file's "
                       "img_size and patch size",
                       im->path, have, want, (long long)f->shape[1], (long long)t->shape[1]);
    return gs_fail(im->ctx, GS_ERR_MISMATCH, "%s: '%s' has shape %s in the file but %s in this model", im->path,
                   t->name, have, want);
}

/* A file tensor named "<prefix><name>" once the usual prefixes are
 * stripped: the name the model wants under a prefix this import does not
 * strip (MoCo's "encoder_q.").  Its index, or -1. */
static int under_a_prefix(const importer *im, const char *name, size_t *prefix_len) {
    size_t n = strlen(name);
    for (int i = 0; i < im->st.count; i++) {
        const char *key = strip(im, im->st.tensors[i].name);
        size_t k = strlen(key);
        if (k > n && key[k - n - 1] == '.' && !strcmp(key + k - n, name)) {
            *prefix_len = (size_t)(key - im->st.tensors[i].name) + k - n;
            return i;
        }
    }
    return -1;
}

/* A model tensor the file lacks; the message names the tool that rewrites
 * a file whose names carry a prefix (tools/convert-weights.py --prefix). */
static gs_status missing_tensor(importer *im, const gs_tensor *t) {
    char want[128];
    gs_shape_str(t, want, sizeof want);
    if (!im->st.count)
        return gs_fail(im->ctx, GS_ERR_MISMATCH, "%s has no tensor '%s' (shape %s in this model); it holds no tensors",
                       im->path, t->name, want);
    size_t prefix_len = 0;
    int near = under_a_prefix(im, t->name, &prefix_len);
    if (near >= 0) {
        const char *name = im->st.tensors[near].name;
        return gs_fail(im->ctx, GS_ERR_MISMATCH,
                       "%s has no tensor '%s' (shape %s in this model) but has '%.120s': write a copy without the "
                       "prefix with tools/convert-weights.py --prefix %.*s %s OUT.safetensors",
                       im->path, t->name, want, name, (int)(prefix_len > 100 ? 100 : prefix_len), name, im->path);
    }
    return gs_fail(im->ctx, GS_ERR_MISMATCH,
                   "%s has no tensor '%s' (shape %s in this model); its first tensor is '%.100s' (when the names carry "
                   "a prefix, tools/convert-weights.py --prefix PREFIX writes a copy without it)",
                   im->path, t->name, want, im->st.tensors[0].name);
}

/* Reads every model tensor into staging (the same order and sizes as the list). */
static gs_status read_all(importer *im, const gs_param_list *params, const gs_weights_import_options *o,
                          float *staging, bool *take) {
    size_t offset = 0;
    for (int i = 0; i < params->count; i++) {
        const gs_tensor *t = params->items[i].tensor;
        float *dst = staging + offset;
        offset += (size_t)t->numel;
        const gs_st_tensor *f = lookup(im, t->name);
        bool optional = is_head(t->name) && !o->require_head;
        take[i] = false;
        if (!f && optional) {
            im->report.head_kept++;
            continue;
        }
        if (!f) return missing_tensor(im, t);
        if (!same_shape(f, t)) {
            if (!optional) return shape_mismatch(im, f, t);
            char have[128], want[128];
            shape_of(f, have, sizeof have);
            gs_shape_str(t, want, sizeof want);
            gs_log(im->ctx, GS_LOG_WARN, "%s: head '%s' has shape %s in the file, %s here: keeping this model's",
                   im->path, t->name, have, want);
            im->report.head_kept++;
            continue;
        }
        if (gs_safetensors_read_f32(im->ctx, &im->st, f, dst) != GS_OK) return im->ctx->status;
        int64_t bad = gs_first_nonfinite(dst, t->numel);
        if (bad >= 0)
            return gs_fail(im->ctx, GS_ERR_NONFINITE, "%s: tensor '%.120s' holds a non-finite value at index %lld",
                           im->path, f->name, (long long)bad);
        take[i] = true;
        im->report.loaded++;
    }
    return GS_OK;
}

/* File tensors nobody took: counted, named, then a warning or an error. */
static gs_status check_leftovers(importer *im, const gs_param_list *params, bool unused_is_error) {
    gs_weights_import_report *r = &im->report;
    size_t used_chars = 0;
    for (int i = 0; i < im->st.count; i++) {
        if (im->used[i]) continue;
        const char *key = strip(im, im->st.tensors[i].name);
        if (ends_with(key, "num_batches_tracked") || (is_head(key) && !gs_param_find(params, key))) {
            r->ignored++;
            continue;
        }
        if (r->unused < 4 && used_chars < sizeof r->unused_names)
            used_chars += (size_t)snprintf(r->unused_names + used_chars, sizeof r->unused_names - used_chars,
                                           r->unused ? ", %s" : "%s", im->st.tensors[i].name);
        r->unused++;
    }
    if (r->unused == 0) return GS_OK;
    if (unused_is_error)
        return gs_fail(im->ctx, GS_ERR_MISMATCH, "%s holds %d tensors this model lacks (%s%s)", im->path, r->unused,
                       r->unused_names, r->unused > 4 ? ", ..." : "");
    gs_log(im->ctx, GS_LOG_WARN, "%s: %d tensors match nothing in this model and were skipped (%s%s)", im->path,
           r->unused, r->unused_names, r->unused > 4 ? ", ..." : "");
    return GS_OK;
}

/* PyTorch's own files (torch.save): a zip archive since PyTorch 1.6, a bare
 * pickle before.  Told apart from a damaged safetensors file so the error
 * can name the converter. */
static bool looks_like_torch_save(const char *path) {
    unsigned char head[4] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return n == sizeof head && ((head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) ||
                                (head[0] == 0x80 && head[1] >= 2 && head[1] <= 5));
}

gs_status gs_weights_import(gs_context *ctx, const char *path, const gs_param_list *params,
                            const gs_weights_import_options *options, gs_weights_import_report *report) {
    if (report) memset(report, 0, sizeof *report);
    if (gs_failed(ctx)) return ctx->status;
    if (!params) return gs_fail(ctx, GS_ERR_ARGUMENT, "gs_weights_import: no parameter list given");
    gs_weights_import_options defaults = {0};
    const gs_weights_import_options *o = options ? options : &defaults;
    if (o->n_strip_prefixes < 0 || (o->n_strip_prefixes > 0 && !o->strip_prefixes))
        return gs_fail(ctx, GS_ERR_ARGUMENT, "gs_weights_import: %d strip prefixes given without a list",
                       o->n_strip_prefixes);
    importer im = {.ctx = ctx, .path = path};
    im.prefixes = o->strip_prefixes ? o->strip_prefixes : DEFAULT_PREFIXES;
    im.n_prefixes = o->strip_prefixes ? o->n_strip_prefixes : (int)(sizeof DEFAULT_PREFIXES / sizeof *DEFAULT_PREFIXES);
    for (int p = 0; p < im.n_prefixes; p++)
        if (!im.prefixes[p]) return gs_fail(ctx, GS_ERR_ARGUMENT, "gs_weights_import: strip prefix %d is NULL", p);
    if (gs_safetensors_open(ctx, path, &im.st) != GS_OK) {
        if (ctx->status == GS_ERR_FORMAT && looks_like_torch_save(path)) {
            gs_clear_error(ctx);
            return gs_fail(ctx, GS_ERR_FORMAT,
                           "%s is a PyTorch file (torch.save), not safetensors: convert it with "
                           "tools/convert-weights.py %s OUT.safetensors (PyTorch needed there only)", path, path);
        }
        return ctx->status;
    }
    const char *arch = gs_safetensors_meta(&im.st, "architecture");
    if (arch) snprintf(im.report.architecture, sizeof im.report.architecture, "%s", arch);

    size_t total = 0;
    for (int i = 0; i < params->count; i++) total += (size_t)params->items[i].tensor->numel;
    float *staging = malloc((total ? total : 1) * sizeof *staging);
    bool *take = calloc((size_t)(params->count ? params->count : 1), sizeof *take);
    gs_status status = staging && take ? GS_OK : gs_fail(ctx, GS_ERR_MEMORY, "out of memory importing %s", path);
    if (status == GS_OK) status = build_keys(&im);
    if (status == GS_OK) status = read_all(&im, params, o, staging, take);
    if (status == GS_OK) status = check_leftovers(&im, params, o->unused_is_error);
    if (status == GS_OK) {
        const float *src = staging;
        for (int i = 0; i < params->count; i++) {
            gs_tensor *t = params->items[i].tensor;
            if (take[i]) memcpy(t->data, src, (size_t)t->numel * sizeof *src);
            src += t->numel;
        }
        if (report) *report = im.report;
    }
    free(staging);
    free(take);
    free(im.keys);
    free(im.used);
    gs_safetensors_close(&im.st);
    return status;
}

gs_status gs_weights_export(gs_context *ctx, const char *path, const gs_param_list *params, const char *architecture) {
    return gs_weights_export_meta(ctx, path, params, architecture, NULL, 0);
}

gs_status gs_weights_export_meta(gs_context *ctx, const char *path, const gs_param_list *params,
                                 const char *architecture, const gs_st_meta *extra, int n_extra) {
    if (gs_failed(ctx)) return ctx->status;
    if (n_extra < 0 || (n_extra > 0 && !extra))
        return gs_fail(ctx, GS_ERR_ARGUMENT, "gs_weights_export: %d metadata entries given without a list", n_extra);
    if (!params) return gs_fail(ctx, GS_ERR_ARGUMENT, "gs_weights_export: no parameter list given");
    for (int i = 0; i < params->count; i++) {
        const gs_tensor *t = params->items[i].tensor;
        int64_t bad = gs_first_nonfinite(t->data, t->numel);
        if (bad >= 0)
            return gs_fail(ctx, GS_ERR_NONFINITE, "refusing to export %s: tensor '%s' holds a non-finite value at "
                                                  "index %lld", path, t->name, (long long)bad);
    }
    const gs_tensor **tensors = malloc((size_t)(params->count ? params->count : 1) * sizeof *tensors);
    gs_st_meta *meta = malloc((size_t)(3 + n_extra) * sizeof *meta);
    if (!tensors || !meta) {
        free(tensors);
        free(meta);
        return gs_fail(ctx, GS_ERR_MEMORY, "out of memory exporting %s", path);
    }
    for (int i = 0; i < params->count; i++) tensors[i] = params->items[i].tensor;
    meta[0] = (gs_st_meta){"format", "pt"};
    meta[1] = (gs_st_meta){"producer", "geossl"};
    meta[2] = (gs_st_meta){"architecture", (char *)(architecture ? architecture : "")};
    for (int i = 0; i < n_extra; i++) meta[3 + i] = extra[i];
    gs_status status = gs_safetensors_write(ctx, path, tensors, params->count, meta, 3 + n_extra);
    free(tensors);
    free(meta);
    return status;
}
