/* A method's own settings, "KEY=VALUE,..." in gs_method_config.options:
 * one text that the command line, the checkpoint's config and the run
 * folder carry unchanged, whatever keys a method declares. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "method.h"

/* Walks "k=v,k=v": the next pair's key and value spans; false at the end. */
static bool next_pair(const char **cursor, const char **key, size_t *key_len, const char **value, size_t *value_len) {
    const char *p = *cursor;
    while (*p == ',' || *p == ' ') p++;
    if (!*p) return false;
    const char *end = strchr(p, ',');
    if (!end) end = p + strlen(p);
    const char *eq = memchr(p, '=', (size_t)(end - p));
    *key = p;
    *key_len = eq ? (size_t)(eq - p) : (size_t)(end - p);
    *value = eq ? eq + 1 : end;
    *value_len = eq ? (size_t)(end - eq - 1) : 0;
    *cursor = end;
    return true;
}

const char *gs_method_option(const gs_method_config *cfg, const char *key, char *buf, size_t size) {
    const char *cursor = cfg->options ? cfg->options : "", *k, *v;
    size_t kn, vn;
    const char *found = NULL;
    while (next_pair(&cursor, &k, &kn, &v, &vn)) {
        if (kn != strlen(key) || strncmp(k, key, kn)) continue;
        if (vn >= size) vn = size - 1; /* the last value given wins, as on a command line */
        memcpy(buf, v, vn);
        buf[vn] = '\0';
        found = buf;
    }
    return found;
}

gs_status gs_method_option_float(gs_context *ctx, const gs_method_config *cfg, const char *key, double lo, double hi,
                                 float *out) {
    char buf[64];
    if (!gs_method_option(cfg, key, buf, sizeof buf)) return GS_OK;
    char *end;
    errno = 0;
    double x = strtod(buf, &end);
    if (end == buf || *end || errno || !isfinite(x) || x < lo || x > hi)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "method option %s=%s: expected a number in [%g, %g]", key, buf, lo, hi);
    *out = (float)x;
    return GS_OK;
}

gs_status gs_method_option_int(gs_context *ctx, const gs_method_config *cfg, const char *key, long lo, long hi,
                               int *out) {
    char buf[64];
    if (!gs_method_option(cfg, key, buf, sizeof buf)) return GS_OK;
    char *end;
    errno = 0;
    long x = strtol(buf, &end, 10);
    if (end == buf || *end || errno || x < lo || x > hi)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "method option %s=%s: expected an integer in [%ld, %ld]", key, buf, lo,
                       hi);
    *out = (int)x;
    return GS_OK;
}

gs_status gs_method_option_choice(gs_context *ctx, const gs_method_config *cfg, const char *key, const char *choices,
                                  int *out) {
    char buf[64];
    if (!gs_method_option(cfg, key, buf, sizeof buf)) return GS_OK;
    const char *c = choices;
    for (int index = 0;; index++) {
        const char *bar = strchr(c, '|');
        size_t n = bar ? (size_t)(bar - c) : strlen(c);
        if (n == strlen(buf) && !strncmp(c, buf, n)) {
            *out = index;
            return GS_OK;
        }
        if (!bar) break;
        c = bar + 1;
    }
    return gs_fail(ctx, GS_ERR_ARGUMENT, "method option %s=%s: expected one of %s", key, buf, choices);
}

gs_status gs_method_options_check(const gs_method_ops *ops, const char *options, gs_error *err) {
    const char *cursor = options ? options : "", *k, *v;
    size_t kn, vn;
    while (next_pair(&cursor, &k, &kn, &v, &vn)) {
        if (kn == 0 || k + kn == v)
            return gs_error_set(err, GS_ERR_ARGUMENT, "method option '%.*s' of %s: expected KEY=VALUE",
                                (int)(v - k), k, ops->name);
        bool known = false;
        for (const gs_method_option_info *o = ops->options; o && o->key; o++)
            known = known || (strlen(o->key) == kn && !strncmp(o->key, k, kn));
        if (known) continue;
        char list[512] = "";
        size_t used = 0;
        for (const gs_method_option_info *o = ops->options; o && o->key && used < sizeof list; o++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", o->key);
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s has no option '%.*s' (%s)", ops->name, (int)kn, k,
                            used ? list : "it takes none");
    }
    return GS_OK;
}
