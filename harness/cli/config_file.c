#include "config_file.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static bool add_pair(const char *command, gs_config_pairs *pairs, const char *key, size_t key_length,
                     const char *value, const char *origin) {
    if (pairs->count >= GS_CONFIG_MAX_PAIRS) {
        fprintf(stderr, "geossl %s: %s: more than %d keys\n", command, origin, GS_CONFIG_MAX_PAIRS);
        return false;
    }
    gs_config_pair *p = &pairs->items[pairs->count];
    p->key = malloc(key_length + 1);
    p->value = strdup(value);
    if (!p->key || !p->value) {
        free(p->key);
        free(p->value);
        fprintf(stderr, "geossl %s: out of memory reading %s\n", command, origin);
        return false;
    }
    memcpy(p->key, key, key_length);
    p->key[key_length] = '\0';
    snprintf(p->origin, sizeof p->origin, "%s", origin);
    pairs->count++;
    return true;
}

void gs_config_pairs_free(gs_config_pairs *pairs) {
    for (int i = 0; i < pairs->count; i++) {
        free(pairs->items[i].key);
        free(pairs->items[i].value);
    }
    pairs->count = 0;
}

bool gs_config_add_set(const char *command, const char *text, gs_config_pairs *pairs) {
    const char *eq = strchr(text, '=');
    if (!eq || eq == text) {
        fprintf(stderr, "geossl %s: --set '%s' is not KEY=VALUE (e.g. --set optimizer.lr=0.1)\n", command, text);
        return false;
    }
    return add_pair(command, pairs, text, (size_t)(eq - text), eq + 1, "--set");
}

/* A JSON value as option text: numbers round-trip (17 digits), booleans
 * true/false, arrays of scalars joined by commas; objects are walked by
 * flatten().  NULL for null and for arrays holding arrays or objects (the
 * resolved views: written for the record). */
static char *json_text(const cJSON *v) {
    char buffer[64];
    if (cJSON_IsString(v)) return strdup(v->valuestring);
    if (cJSON_IsBool(v)) return strdup(cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == (double)(long long)d && d > -1e15 && d < 1e15)
            snprintf(buffer, sizeof buffer, "%lld", (long long)d);
        else
            snprintf(buffer, sizeof buffer, "%.17g", d);
        return strdup(buffer);
    }
    if (cJSON_IsArray(v)) {
        size_t size = 1, used = 0;
        char *joined = calloc(1, size);
        for (const cJSON *item = v->child; joined && item; item = item->next) {
            if (cJSON_IsArray(item) || cJSON_IsObject(item) || cJSON_IsNull(item)) {
                free(joined);
                return NULL;
            }
            char *part = json_text(item);
            if (!part) break;
            size_t n = strlen(part);
            char *grown = realloc(joined, size + n + 1);
            if (!grown) {
                free(part);
                break;
            }
            joined = grown;
            size += n + 1;
            used += (size_t)sprintf(joined + used, "%s%s", used ? "," : "", part);
            free(part);
        }
        return joined;
    }
    return NULL;
}

/* Nested objects become dotted keys, in the file's order. */
static bool flatten(const char *command, const cJSON *object, const char *prefix, const char *origin,
                    gs_config_pairs *pairs) {
    for (const cJSON *item = object->child; item; item = item->next) {
        char key[256];
        snprintf(key, sizeof key, "%s%s", prefix, item->string ? item->string : "");
        if (cJSON_IsObject(item)) {
            char nested[260];
            snprintf(nested, sizeof nested, "%s.", key);
            if (!flatten(command, item, nested, origin, pairs)) return false;
            continue;
        }
        char *text = json_text(item);
        /* null and nested arrays hold nothing an option could take: kept
         * under their key with an empty value, so an unknown key is still
         * caught and a record-only one accepted. */
        bool ok = add_pair(command, pairs, key, strlen(key), text ? text : "", origin);
        free(text);
        if (!ok) return false;
    }
    return true;
}

char *gs_config_trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

static bool read_lines(const char *command, const char *path, char *text, gs_config_pairs *pairs) {
    int line_number = 0;
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = '\0';
        line_number++;
        char *comment = strchr(line, '#');
        if (comment) *comment = '\0';
        char *content = gs_config_trim(line);
        line = next;
        if (!*content) continue;
        char origin[160];
        snprintf(origin, sizeof origin, "%.140s:%d", path, line_number);
        char *eq = strchr(content, '=');
        if (!eq) {
            fprintf(stderr, "geossl %s: %s: '%s' is not 'key = value'\n", command, origin, content);
            return false;
        }
        *eq = '\0';
        char *key = gs_config_trim(content), *value = gs_config_trim(eq + 1);
        if (!*key) {
            fprintf(stderr, "geossl %s: %s: a value without a key\n", command, origin);
            return false;
        }
        if (!add_pair(command, pairs, key, strlen(key), value, origin)) return false;
    }
    return true;
}

bool gs_config_read_file(const char *command, const char *path, gs_config_pairs *pairs) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "geossl %s: --config %s cannot be read: check the path\n", command, path);
        return false;
    }
    /* Recipes are small; a megabyte is not one. */
    enum { MAX_BYTES = 1 << 20 };
    char *text = malloc(MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, MAX_BYTES + 1, f) : 0;
    bool read_error = ferror(f) != 0;
    fclose(f);
    if (!text || read_error || n > MAX_BYTES) {
        fprintf(stderr, "geossl %s: --config %s: %s\n", command, path,
                !text ? "out of memory" : read_error ? "read error" : "larger than 1 MiB: not a recipe");
        free(text);
        return false;
    }
    text[n] = '\0';
    if (memchr(text, '\0', n)) {
        fprintf(stderr, "geossl %s: --config %s is binary, not JSON or 'key = value' lines\n", command, path);
        free(text);
        return false;
    }
    const char *start = text + strspn(text, " \t\r\n");
    bool ok;
    if (*start == '{') {
        cJSON *root = cJSON_Parse(start);
        if (!root || !cJSON_IsObject(root)) {
            const char *where = cJSON_GetErrorPtr();
            fprintf(stderr, "geossl %s: --config %s is not valid JSON (near byte %lld)\n", command, path,
                    where && where >= start ? (long long)(where - text) : 0LL);
            cJSON_Delete(root);
            free(text);
            return false;
        }
        ok = flatten(command, root, "", path, pairs);
        cJSON_Delete(root);
    } else {
        ok = read_lines(command, path, text, pairs);
    }
    free(text);
    return ok;
}

/* ---- from pairs to options ---- */


static const gs_option *option_named(const struct gs_command_line *line, const char *name, size_t length) {
    for (int i = 0; i < line->n_options; i++)
        if (strlen(line->options[i].name) == length && !strncmp(line->options[i].name, name, length))
            return &line->options[i];
    return NULL;
}

/* An option whose name is the key with '_' for '-' (flags are no keys:
 * --resume or --force in a recipe would act on the run, not describe it). */
static const gs_option *option_for_key(const struct gs_command_line *line, const char *key) {
    char name[128];
    size_t n = strlen(key);
    if (n >= sizeof name) return NULL;
    for (size_t i = 0; i <= n; i++) name[i] = key[i] == '_' ? '-' : key[i];
    const gs_option *o = option_named(line, name, n);
    return o && o->type != GS_OPT_FLAG ? o : NULL;
}

static const gs_config_key *table_entry(const struct gs_command_line *line, const char *key) {
    for (int i = 0; i < line->n_config_keys; i++) {
        const gs_config_key *k = &line->config_keys[i];
        if (k->kind == GS_KEY_ITEMS ? !strncmp(key, k->key, strlen(k->key)) && key[strlen(k->key)]
                                    : !strcmp(key, k->key))
            return k;
    }
    return NULL;
}

static int unknown_key(const struct gs_command_line *line, const gs_config_pair *p) {
    const char *best = NULL;
    char best_name[128] = "";
    int best_score = 3;
    size_t length = strlen(p->key);
    for (int i = 0; i < line->n_options + line->n_config_keys; i++) {
        char name[128];
        if (i < line->n_options) {
            if (line->options[i].type == GS_OPT_FLAG) continue;
            snprintf(name, sizeof name, "%s", line->options[i].name);
            for (char *c = name; *c; c++)
                if (*c == '-') *c = '_';
        } else {
            snprintf(name, sizeof name, "%s", line->config_keys[i - line->n_options].key);
        }
        int score = gs_option_edit_distance(p->key, length, name);
        if (score < best_score) {
            best_score = score;
            snprintf(best_name, sizeof best_name, "%s", name);
            best = best_name;
        }
    }
    fprintf(stderr, "geossl %s: %s: unknown key '%s'%s%s%s; keys are the options' names with '_' (see 'geossl %s "
                    "--help') and the paths a run's config.json holds\n",
            line->command, p->origin, p->key, best ? " (did you mean " : "", best ? best : "", best ? "?)" : "",
            line->command);
    return 2;
}

/* A growing list of "--name=value" texts, NUL-separated in one buffer. */
typedef struct option_texts {
    char *text;
    size_t used, size;
    int count;
} option_texts;

static bool append_text(option_texts *t, const char *name, const char *value) {
    size_t need = strlen(name) + strlen(value) + 4;
    if (t->used + need > t->size) {
        size_t size = (t->size + need) * 2;
        char *grown = realloc(t->text, size);
        if (!grown) return false;
        t->text = grown;
        t->size = size;
    }
    t->used += (size_t)sprintf(t->text + t->used, "--%s=%s", name, value) + 1;
    t->count++;
    return true;
}

/* The comma-separated list a GS_KEY_LIST / GS_KEY_ITEMS option collects. */
#define MAX_LIST_OPTIONS 8
typedef struct list_value {
    const gs_option *option;
    char text[2048];
    char origin[200];
} list_value;

static bool append_item(list_value *lists, int *n_lists, const gs_option *o, const char *item, const char *origin) {
    list_value *l = NULL;
    for (int i = 0; i < *n_lists; i++)
        if (lists[i].option == o) l = &lists[i];
    if (!l) {
        if (*n_lists >= MAX_LIST_OPTIONS) return false;
        l = &lists[(*n_lists)++];
        l->option = o;
        l->text[0] = '\0';
        snprintf(l->origin, sizeof l->origin, "%s", origin);
    }
    size_t used = strlen(l->text);
    int n = snprintf(l->text + used, sizeof l->text - used, "%s%s", used ? "," : "", item);
    return n >= 0 && (size_t)n < sizeof l->text - used;
}

static bool is_zero(const char *value) {
    char *end = NULL;
    double v = strtod(value, &end);
    return end != value && !*end && v == 0.0;
}

/* Turns the pairs into option texts, checking each value as its option does. */
static int pairs_to_options(const struct gs_command_line *line, const gs_config_pairs *pairs, option_texts *out) {
    list_value lists[MAX_LIST_OPTIONS];
    int n_lists = 0;
    for (int i = 0; i < pairs->count; i++) {
        const gs_config_pair *p = &pairs->items[i];
        const gs_config_key *entry = table_entry(line, p->key);
        const gs_option *o = entry && entry->option ? option_named(line, entry->option, strlen(entry->option))
                                                    : !entry ? option_for_key(line, p->key) : NULL;
        if (!entry && !o) return unknown_key(line, p);
        if (entry && entry->kind == GS_KEY_RECORD) continue;
        if (!o) {
            fprintf(stderr, "geossl %s: recipe key table: '%s' names no option (a bug in geossl)\n", line->command,
                    p->key);
            return 2;
        }
        /* JSON null, and 0 where config.json writes 0 for "the method's", leave the option unset. */
        if (!p->value[0] || (entry && entry->unset_when_zero && is_zero(p->value))) continue;
        char label[400];
        if (!strcmp(p->origin, "--set"))
            snprintf(label, sizeof label, "--set %s:", p->key);
        else
            snprintf(label, sizeof label, "%s: %s", p->origin, p->key);
        if (entry && (entry->kind == GS_KEY_ITEMS || entry->kind == GS_KEY_LIST)) {
            char item[1024];
            if (entry->kind == GS_KEY_ITEMS) {
                snprintf(item, sizeof item, "%s=%s", p->key + strlen(entry->key), p->value);
                for (char *c = strchr(item, '='); *c; c++)
                    if (*c == ',') *c = ':';
            } else {
                snprintf(item, sizeof item, "%s", p->value);
            }
            if (!append_item(lists, &n_lists, o, item, p->origin)) {
                fprintf(stderr, "geossl %s: %s: too many items for --%s\n", line->command, label, o->name);
                return 2;
            }
            continue;
        }
        if (gs_option_check_value(line->command, o, label, p->value)) return 2;
        if (!append_text(out, o->name, p->value)) return 2;
    }
    for (int i = 0; i < n_lists; i++) {
        char label[300];
        snprintf(label, sizeof label, "%s: --%s", lists[i].origin, lists[i].option->name);
        if (gs_option_check_value(line->command, lists[i].option, label, lists[i].text)) return 2;
        if (!append_text(out, lists[i].option->name, lists[i].text)) return 2;
    }
    return 0;
}

/* Whether argv[i] is --NAME or --NAME=VALUE; *value: the attached value or NULL. */
static bool is_option(const char *element, const char *name, const char **value) {
    size_t n = strlen(name);
    if (strncmp(element, "--", 2) || strncmp(element + 2, name, n)) return false;
    if (element[2 + n] == '\0') {
        *value = NULL;
        return true;
    }
    if (element[2 + n] == '=') {
        *value = element + 3 + n;
        return true;
    }
    return false;
}

int gs_config_expand(const struct gs_command_line *line, int argc, char **argv, struct gs_parsed_args *args,
                     int *expanded_argc) {
    args->config = calloc(1, sizeof *args->config);
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    const char **files = calloc((size_t)argc + 1, sizeof *files), **sets = calloc((size_t)argc + 1, sizeof *sets);
    int n_rest = 0, n_files = 0, n_sets = 0, result = 0;
    if (!args->config || !rest || !files || !sets) {
        fprintf(stderr, "geossl %s: out of memory\n", line->command);
        result = 2;
        goto done;
    }
    rest[n_rest++] = argv[0];
    bool ended = false;
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        bool config = !ended && is_option(argv[i], "config", &value);
        bool set = !ended && !config && is_option(argv[i], "set", &value);
        if (!config && !set) {
            if (!strcmp(argv[i], "--")) ended = true;
            rest[n_rest++] = argv[i];
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "geossl %s: --%s needs a value (%s)\n", line->command, config ? "config" : "set",
                        config ? "FILE" : "KEY=VALUE");
                result = 2;
                goto done;
            }
            value = argv[++i];
        }
        if (config) files[n_files++] = value;
        else sets[n_sets++] = value;
    }
    if (n_files && !line->takes_config) {
        fprintf(stderr, "geossl %s: takes --set KEY=VALUE, not --config (the suite file is its recipe)\n",
                line->command);
        result = 2;
        goto done;
    }
    for (int i = 0; i < n_files && !result; i++)
        if (!gs_config_read_file(line->command, files[i], args->config)) result = 2;
    for (int i = 0; i < n_sets && !result; i++)
        if (!gs_config_add_set(line->command, sets[i], args->config)) result = 2;
    if (result) goto done;

    option_texts texts = {0};
    if (line->takes_config && (result = pairs_to_options(line, args->config, &texts)) != 0) {
        free(texts.text);
        goto done;
    }
    args->expanded_argv = calloc((size_t)(n_rest + texts.count + 1), sizeof *args->expanded_argv);
    if (!args->expanded_argv) {
        free(texts.text);
        fprintf(stderr, "geossl %s: out of memory\n", line->command);
        result = 2;
        goto done;
    }
    args->expanded_text = texts.text;
    int n = 0;
    args->expanded_argv[n++] = rest[0];
    for (size_t at = 0; (int)n < texts.count + 1; at += strlen(texts.text + at) + 1)
        args->expanded_argv[n++] = texts.text + at;
    for (int i = 1; i < n_rest; i++) args->expanded_argv[n++] = rest[i];
    *expanded_argc = n;
done:
    free(rest);
    free(files);
    free(sets);
    return result;
}
