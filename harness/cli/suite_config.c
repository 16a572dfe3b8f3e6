#include "suite_config.h"
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "eval_common.h"
#include "method.h"
#include "nn/backbone.h"
#include "results_store.h"

const char GS_SUITE_CONFIG_HELP[] =
    "The suite file: one 'key = value' per line, '#' starts a comment, lists are separated by\n"
    "commas, paths are relative to the working directory.  Keys [defaults]:\n"
    "  name = TEXT                 report title [the file's name]\n"
    "  out = DIR                   run folder [runs/<file name without extension>]\n"
    "  methods = LIST              random (random-init baseline) and registered methods (required)\n"
    "  pretrain_data = FORMAT:PATH pretraining data (required unless every method is random)\n"
    "  eval_data = LIST            FORMAT:PATH datasets to evaluate on, one per format (required)\n"
    "  protocols = LIST            knn, linear, finetune, segment (required)\n"
    "  label_fractions = LIST      training labels used, e.g. 1%, 10%, 100% [100%]\n"
    "  seeds = LIST                evaluation seeds; pretraining uses the first [0]\n"
    "  backbone = NAME             resnet18 | resnet50 | vit-tiny | vit-small [resnet18]\n"
    "  width = N                   backbone width (0: standard) [0]\n"
    "  patch = N                   ViT patch size [8]\n"
    "  stem = NAME                 ResNet stem: imagenet | small [imagenet]\n"
    "  epochs = N                  pretraining epochs [20]\n"
    "  batch = N                   pretraining batch [64]\n"
    "  size = PX                   pretraining view size [the dataset's]\n"
    "  finetune_epochs = N         fine-tuning epochs [10]\n"
    "  eval_batch = N              evaluation batch [64 features, 32 fine-tuning]\n"
    "  threads = N                 compute threads (0: all cores) [0]\n"
    "  workers = N                 loader threads [2]\n"
    "A cell is method x eval_data x protocol x label fraction x seed; a label fraction applies to\n"
    "every protocol (kNN and the linear probe also train on that share of the labels).  Cells can\n"
    "be added to a suite later; the other settings are fixed for a run folder (OUT/settings.txt).\n";

/* What a key's handler reports: false and a reason (without file:line). */
typedef bool (*key_handler)(gs_suite_config *c, char *value, char *why, size_t n);

/* ---- values ---- */

static bool parse_int(const char *key, const char *text, long long min, long long *out, char *why, size_t n) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end) {
        snprintf(why, n, "%s takes a whole number, not '%s'", key, text);
        return false;
    }
    if (v < min || v > 1000000000) {
        snprintf(why, n, "%s = %lld is out of range (%lld to 1000000000)", key, v, min);
        return false;
    }
    *out = v;
    return true;
}

/* Splits value in place at commas; items are trimmed and must be non-empty
 * and distinct. */
static bool split_list(const char *key, char *value, char **items, int *count, char *why, size_t n) {
    *count = 0;
    for (char *item = value;;) {
        char *comma = strchr(item, ',');
        if (comma) *comma = '\0';
        char *t = gs_config_trim(item);
        if (!*t) {
            snprintf(why, n, "%s has an empty item (a stray comma?)", key);
            return false;
        }
        if (*count == GS_SUITE_MAX_ITEMS) {
            snprintf(why, n, "%s lists more than %d items", key, GS_SUITE_MAX_ITEMS);
            return false;
        }
        for (int i = 0; i < *count; i++)
            if (!strcmp(items[i], t)) {
                snprintf(why, n, "%s lists '%s' twice", key, t);
                return false;
            }
        items[(*count)++] = t;
        if (!comma) return true;
        item = comma + 1;
    }
}

static bool copy_text(const char *key, const char *text, char *dst, size_t size, char *why, size_t n) {
    if (strlen(text) >= size) {
        snprintf(why, n, "%s is longer than %zu characters", key, size - 1);
        return false;
    }
    memcpy(dst, text, strlen(text) + 1);
    return true;
}

/* FORMAT:PATH with a known format. */
static bool check_data_spec(const char *key, const char *spec, char *why, size_t n) {
    const char *colon = strchr(spec, ':');
    char format[64];
    if (!colon || colon == spec || !colon[1] || (size_t)(colon - spec) >= sizeof format) {
        snprintf(why, n, "%s takes FORMAT:PATH (e.g. eurosat-rgb:data/eurosat), not '%s'", key, spec);
        return false;
    }
    memcpy(format, spec, (size_t)(colon - spec));
    format[colon - spec] = '\0';
    if (!gs_dataset_format_find(format)) {
        snprintf(why, n, "unknown dataset format '%s' in %s (see 'geossl data formats')", format, key);
        return false;
    }
    return true;
}

/* ---- keys ---- */

static bool set_name(gs_suite_config *c, char *v, char *why, size_t n) {
    return copy_text("name", v, c->name, sizeof c->name, why, n);
}
static bool set_out(gs_suite_config *c, char *v, char *why, size_t n) {
    return copy_text("out", v, c->out, sizeof c->out, why, n);
}
static bool set_backbone(gs_suite_config *c, char *v, char *why, size_t n) {
    if (!gs_backbone_name_valid(v)) {
        snprintf(why, n, "unknown backbone '%s' (resnet18, resnet50, vit-tiny or vit-small)", v);
        return false;
    }
    return copy_text("backbone", v, c->backbone, sizeof c->backbone, why, n);
}
static bool set_stem(gs_suite_config *c, char *v, char *why, size_t n) {
    if (strcmp(v, "small") && strcmp(v, "imagenet")) {
        snprintf(why, n, "unknown stem '%s' (imagenet or small)", v);
        return false;
    }
    c->small_stem = !strcmp(v, "small");
    return true;
}

#define INT_KEY(field, min)                                                     \
    static bool set_##field(gs_suite_config *c, char *v, char *why, size_t n) { \
        long long x;                                                            \
        if (!parse_int(#field, v, min, &x, why, n)) return false;               \
        c->field = (int)x;                                                      \
        return true;                                                            \
    }
INT_KEY(width, 0)
INT_KEY(patch, 1)
INT_KEY(epochs, 1)
INT_KEY(batch, 2)
INT_KEY(size, 0)
INT_KEY(finetune_epochs, 0)
INT_KEY(eval_batch, 0)
INT_KEY(threads, 0)
INT_KEY(workers, 1)

static bool set_methods(gs_suite_config *c, char *v, char *why, size_t n) {
    char *items[GS_SUITE_MAX_ITEMS];
    if (!split_list("methods", v, items, &c->n_methods, why, n)) return false;
    for (int i = 0; i < c->n_methods; i++) {
        if (strcmp(items[i], "random") && !gs_method_find(items[i])) {
            char names[256];
            snprintf(why, n, "unknown method '%s' (random, %s)", items[i], gs_method_names(names, sizeof names));
            return false;
        }
        /* Stored canonically ("moco" becomes "mocov2"), so rows and run folders carry one name. */
        const gs_method_ops *ops = strcmp(items[i], "random") ? gs_method_find(items[i]) : NULL;
        const char *name = ops ? ops->name : items[i];
        if (!copy_text("a method name", name, c->methods[i], sizeof c->methods[i], why, n)) return false;
    }
    return true;
}
static bool set_pretrain_data(gs_suite_config *c, char *v, char *why, size_t n) {
    return check_data_spec("pretrain_data", v, why, n) &&
           copy_text("pretrain_data", v, c->pretrain_data, sizeof c->pretrain_data, why, n);
}
static bool set_eval_data(gs_suite_config *c, char *v, char *why, size_t n) {
    char *items[GS_SUITE_MAX_ITEMS];
    if (!split_list("eval_data", v, items, &c->n_eval_data, why, n)) return false;
    for (int i = 0; i < c->n_eval_data; i++) {
        if (!check_data_spec("eval_data", items[i], why, n)) return false;
        /* Results name a dataset by its format, so two of one format would be one cell. */
        size_t len = (size_t)(strchr(items[i], ':') - items[i]);
        for (int k = 0; k < i; k++)
            if (!strncmp(items[k], items[i], len + 1)) {
                snprintf(why, n, "eval_data lists two %.*s datasets: results name a dataset by its format, so a "
                         "suite evaluates one of each", (int)len, items[i]);
                return false;
            }
        if (!copy_text("eval_data", items[i], c->eval_data[i], sizeof c->eval_data[i], why, n)) return false;
    }
    return true;
}
static bool set_protocols(gs_suite_config *c, char *v, char *why, size_t n) {
    char *items[GS_SUITE_MAX_ITEMS];
    if (!split_list("protocols", v, items, &c->n_protocols, why, n)) return false;
    for (int i = 0; i < c->n_protocols; i++)
        if (!gs_protocol_parse(items[i], &c->protocols[i])) {
            snprintf(why, n, "unknown protocol '%s' (knn, linear, finetune or segment)", items[i]);
            return false;
        }
    return true;
}
static bool set_label_fractions(gs_suite_config *c, char *v, char *why, size_t n) {
    char *items[GS_SUITE_MAX_ITEMS];
    if (!split_list("label_fractions", v, items, &c->n_label_fractions, why, n)) return false;
    for (int i = 0; i < c->n_label_fractions; i++) {
        if (!gs_cli_parse_fraction(items[i], &c->label_fractions[i])) {
            snprintf(why, n, "label_fractions takes fractions such as 1%%, 10%%, 100%% or 0.5, not '%s'", items[i]);
            return false;
        }
        for (int k = 0; k < i; k++)
            if (gs_label_fraction_equal(c->label_fractions[k], c->label_fractions[i])) {
                snprintf(why, n, "label_fractions lists %s twice", items[i]);
                return false;
            }
    }
    return true;
}
static bool set_seeds(gs_suite_config *c, char *v, char *why, size_t n) {
    char *items[GS_SUITE_MAX_ITEMS];
    if (!split_list("seeds", v, items, &c->n_seeds, why, n)) return false;
    for (int i = 0; i < c->n_seeds; i++)
        if (!parse_int("seeds", items[i], 0, &c->seeds[i], why, n)) return false;
    return true;
}

typedef struct key_spec {
    const char *name;
    key_handler set;
} key_spec;

static const key_spec KEYS[] = {
    {"name", set_name},
    {"out", set_out},
    {"backbone", set_backbone},
    {"width", set_width},
    {"patch", set_patch},
    {"stem", set_stem},
    {"methods", set_methods},
    {"pretrain_data", set_pretrain_data},
    {"epochs", set_epochs},
    {"batch", set_batch},
    {"size", set_size},
    {"eval_data", set_eval_data},
    {"protocols", set_protocols},
    {"label_fractions", set_label_fractions},
    {"seeds", set_seeds},
    {"finetune_epochs", set_finetune_epochs},
    {"eval_batch", set_eval_batch},
    {"threads", set_threads},
    {"workers", set_workers},
};
#define N_KEYS ((int)(sizeof KEYS / sizeof *KEYS))

static void unknown_key(const char *key, char *why, size_t n) {
    const char *closest = NULL;
    size_t best = 3; /* suggest only near misses */
    for (int k = 0; k < N_KEYS; k++) {
        size_t d = (size_t)gs_option_edit_distance(key, strlen(key), KEYS[k].name);
        if (d < best) {
            best = d;
            closest = KEYS[k].name;
        }
    }
    if (closest)
        snprintf(why, n, "unknown key '%s' (did you mean '%s'?)", key, closest);
    else
        snprintf(why, n, "unknown key '%s' (see 'geossl run --help' for the keys)", key);
}

/* "dir/eurosat-sample.conf" -> "eurosat-sample". */
static void file_stem(const char *path, char *out, size_t size) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    snprintf(out, size, "%.*s", (int)len, base);
}

static void set_defaults(gs_suite_config *c, const char *path) {
    memset(c, 0, sizeof *c);
    char stem[128];
    file_stem(path, stem, sizeof stem);
    snprintf(c->name, sizeof c->name, "%s", stem);
    snprintf(c->out, sizeof c->out, "runs/%s", stem);
    snprintf(c->backbone, sizeof c->backbone, "resnet18");
    c->patch = 8;
    c->epochs = 20;
    c->batch = 64;
    c->workers = 2;
    c->label_fractions[0] = 1.0;
    c->n_label_fractions = 1;
    c->n_seeds = 1;
}

static gs_status check_complete(const gs_suite_config *c, const char *path, const int *seen, gs_error *err) {
    static const char *const REQUIRED[] = {"methods", "eval_data", "protocols"};
    for (size_t r = 0; r < sizeof REQUIRED / sizeof *REQUIRED; r++)
        for (int k = 0; k < N_KEYS; k++)
            if (!strcmp(KEYS[k].name, REQUIRED[r]) && !seen[k])
                return gs_error_set(err, GS_ERR_ARGUMENT, "%s: missing required key '%s'", path, REQUIRED[r]);
    bool pretrains = false;
    for (int i = 0; i < c->n_methods; i++) pretrains |= strcmp(c->methods[i], "random") != 0;
    if (pretrains && !c->pretrain_data[0])
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "%s: missing required key 'pretrain_data' (methods other than random pretrain on it)", path);
    return GS_OK;
}

/* --set KEY=VALUE on the command line: over the file's value (or the default). */
static gs_status apply_overrides(gs_suite_config *c, const gs_config_pairs *overrides, int *seen, gs_error *err) {
    for (int i = 0; overrides && i < overrides->count; i++) {
        const gs_config_pair *p = &overrides->items[i];
        char why[400];
        int k = 0;
        while (k < N_KEYS && strcmp(KEYS[k].name, p->key)) k++;
        if (k == N_KEYS)
            unknown_key(p->key, why, sizeof why);
        else if (!*p->value)
            snprintf(why, sizeof why, "%s has no value", p->key);
        else if (KEYS[k].set(c, p->value, why, sizeof why)) {
            seen[k] = seen[k] ? seen[k] : -1;
            continue;
        }
        return gs_error_set(err, GS_ERR_ARGUMENT, "--set %s=%s: %s", p->key, p->value, why);
    }
    return GS_OK;
}

gs_status gs_suite_config_parse(const char *text, const char *path, gs_suite_config *out, gs_error *err) {
    return gs_suite_config_parse_with(text, path, NULL, out, err);
}

gs_status gs_suite_config_parse_with(const char *text, const char *path, const gs_config_pairs *overrides,
                                     gs_suite_config *out, gs_error *err) {
    set_defaults(out, path);
    int seen[N_KEYS] = {0}; /* the line each key was set on */
    char *copy = strdup(text);
    if (!copy) return gs_error_set(err, GS_ERR_MEMORY, "out of memory reading %s", path);
    int line_no = 0;
    char *next = copy;
    while (next && err->status == GS_OK) {
        char *line = next;
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        line_no++;
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        line = gs_config_trim(line);
        if (!*line) continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            gs_error_set(err, GS_ERR_ARGUMENT, "%s:%d: expected 'key = value', got '%.80s'", path, line_no, line);
            break;
        }
        *eq = '\0';
        char *key = gs_config_trim(line), *value = gs_config_trim(eq + 1), why[400];
        int k = 0;
        while (k < N_KEYS && strcmp(KEYS[k].name, key)) k++;
        if (k == N_KEYS)
            unknown_key(key, why, sizeof why);
        else if (seen[k])
            snprintf(why, sizeof why, "%s is set twice (first on line %d)", key, seen[k]);
        else if (!*value)
            snprintf(why, sizeof why, "%s has no value", key);
        else if (KEYS[k].set(out, value, why, sizeof why)) {
            seen[k] = line_no;
            continue;
        }
        gs_error_set(err, GS_ERR_ARGUMENT, "%s:%d: %s", path, line_no, why);
    }
    free(copy);
    if (err->status != GS_OK || apply_overrides(out, overrides, seen, err) != GS_OK) return err->status;
    return check_complete(out, path, seen, err);
}

gs_status gs_suite_config_load(const char *path, gs_suite_config *out, gs_error *err) {
    return gs_suite_config_load_with(path, NULL, out, err);
}

gs_status gs_suite_config_load_with(const char *path, const gs_config_pairs *overrides, gs_suite_config *out,
                                    gs_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return gs_error_set(err, GS_ERR_IO, "cannot read the suite file %s: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    size_t got;
    while (text && (got = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char *bigger = cap < (1u << 20) ? realloc(text, cap * 2) : NULL;
            if (!bigger) free(text);
            text = bigger;
            cap *= 2;
        }
    }
    bool read_error = ferror(f);
    fclose(f);
    if (!text) return gs_error_set(err, GS_ERR_ARGUMENT, "%s is not a suite file (larger than 1 MiB), or memory ran out", path);
    if (read_error) {
        free(text);
        return gs_error_set(err, GS_ERR_IO, "cannot read the suite file %s", path);
    }
    text[len] = '\0';
    if (memchr(text, '\0', len)) {
        free(text);
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s is not a text file (suite files are 'key = value' lines)", path);
    }
    gs_status status = gs_suite_config_parse_with(text, path, overrides, out, err);
    free(text);
    return status;
}

/* FORMAT:../shared/data/REST -> FORMAT:SHARED/REST, in place. */
static gs_status resolve_one(char *spec, size_t size, const char *shared_dir, gs_error *err) {
    static const char PREFIX[] = "../shared/data";
    char *path = strchr(spec, ':');
    if (!path) return GS_OK;
    path++;
    size_t n = sizeof PREFIX - 1;
    if (strncmp(path, PREFIX, n) || (path[n] != '/' && path[n] != '\0')) return GS_OK;
    char resolved[GS_SUITE_MAX_PATH];
    int length = snprintf(resolved, sizeof resolved, "%.*s%s%s", (int)(path - spec), spec, shared_dir, path + n);
    if (length < 0 || (size_t)length >= size || (size_t)length >= sizeof resolved)
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s with $GEOSSL_SHARED_DATA=%s is too long a path", spec,
                            shared_dir);
    memcpy(spec, resolved, (size_t)length + 1);
    return GS_OK;
}

gs_status gs_suite_config_resolve_shared(gs_suite_config *c, const char *shared_dir, gs_error *err) {
    if (!shared_dir || !*shared_dir) return GS_OK;
    if (resolve_one(c->pretrain_data, sizeof c->pretrain_data, shared_dir, err) != GS_OK) return err->status;
    for (int i = 0; i < c->n_eval_data; i++)
        if (resolve_one(c->eval_data[i], sizeof c->eval_data[i], shared_dir, err) != GS_OK) return err->status;
    return GS_OK;
}
