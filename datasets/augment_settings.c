/* Augmentation settings by name: `KEY=VALUE[,KEY=VALUE...]` overrides of a
 * recipe (the command line's --augment) and the recipe printed back as
 * `key = value` lines (--print-config), one table for both so a printed
 * recipe can be typed back. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"

typedef enum { SETTING_BOOL, SETTING_PROB, SETTING_NONNEG, SETTING_RANGE } setting_kind;

typedef struct setting {
    const char *key;
    setting_kind kind;
    size_t offset; /* of the bool or float (the first of two for a range) */
    const char *unit;
} setting;

#define AT(field) offsetof(gs_augment_config, field)

static const setting SETTINGS[] = {
    {"crop", SETTING_BOOL, AT(crop), "random resized crop (else the whole image)"},
    {"crop_scale", SETTING_RANGE, AT(crop_scale), "area fraction of the source"},
    {"crop_ratio", SETTING_RANGE, AT(crop_ratio), "aspect ratio w/h, log-uniform"},
    {"hflip_p", SETTING_PROB, AT(hflip_p), "probability"},
    {"vflip_p", SETTING_PROB, AT(vflip_p), "probability"},
    {"rot90_p", SETTING_PROB, AT(rot90_p), "probability"},
    {"color_jitter_p", SETTING_PROB, AT(color_jitter_p), "probability (RGB)"},
    {"brightness", SETTING_NONNEG, AT(brightness), "factor in [1-x, 1+x]"},
    {"contrast", SETTING_NONNEG, AT(contrast), "factor in [1-x, 1+x]"},
    {"saturation", SETTING_NONNEG, AT(saturation), "factor in [1-x, 1+x]"},
    {"hue", SETTING_NONNEG, AT(hue), "shift in [-x, x] turns, x <= 0.5"},
    {"grayscale_p", SETTING_PROB, AT(grayscale_p), "probability (RGB)"},
    {"band_jitter_p", SETTING_PROB, AT(band_jitter_p), "probability (non-RGB)"},
    {"band_brightness", SETTING_NONNEG, AT(band_brightness), "shift in [-x, x] normalized units"},
    {"band_contrast", SETTING_NONNEG, AT(band_contrast), "factor in [1-x, 1+x]"},
    {"blur_p", SETTING_PROB, AT(blur_p), "probability"},
    {"blur_sigma", SETTING_RANGE, AT(blur_sigma), "px of the view, uniform; kernel radius ceil(3 sigma)"},
    {"solarize_p", SETTING_PROB, AT(solarize_p), "probability"},
    {"solarize_threshold", SETTING_NONNEG, AT(solarize_threshold),
     "fraction of rgb_max with solarize_raw, else normalized units"},
    {"solarize_raw", SETTING_BOOL, AT(solarize_raw), "1: threshold on raw RGB values as PIL's solarize"},
};
enum { N_SETTINGS = sizeof SETTINGS / sizeof *SETTINGS };

static bool parse_float(const char *s, const char *end, float *out) {
    char buf[64];
    size_t len = (size_t)(end - s);
    if (len == 0 || len >= sizeof buf) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *stop;
    double v = strtod(buf, &stop);
    if (*stop || !isfinite(v)) return false;
    *out = (float)v;
    return true;
}

static void list_keys(char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < N_SETTINGS && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", SETTINGS[i].key);
}

static gs_status set_one(gs_augment_config *c, const char *item, const char *end, gs_error *err) {
    const char *eq = memchr(item, '=', (size_t)(end - item));
    int key_len = (int)((eq ? eq : end) - item);
    const setting *s = NULL;
    for (int i = 0; i < N_SETTINGS; i++)
        if ((int)strlen(SETTINGS[i].key) == key_len && !strncmp(SETTINGS[i].key, item, (size_t)key_len))
            s = &SETTINGS[i];
    if (!s) {
        char keys[1024];
        list_keys(keys, sizeof keys);
        return gs_error_set(err, GS_ERR_ARGUMENT, "unknown augmentation setting '%.*s' (one of: %s)", key_len, item,
                            keys);
    }
    if (!eq)
        return gs_error_set(err, GS_ERR_ARGUMENT, "augmentation setting '%s' needs a value: %s=VALUE", s->key, s->key);
    const char *v = eq + 1;
    char *field = (char *)c + s->offset;
    float a, b;
    switch (s->kind) {
    case SETTING_BOOL:
        if ((end - v == 1 && (*v == '0' || *v == '1'))) {
            *(bool *)field = *v == '1';
            return GS_OK;
        }
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s=%.*s: use 0 or 1", s->key, (int)(end - v), v);
    case SETTING_PROB:
        if (parse_float(v, end, &a) && a >= 0 && a <= 1) {
            *(float *)field = a;
            return GS_OK;
        }
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s=%.*s: a probability in [0, 1]", s->key, (int)(end - v), v);
    case SETTING_NONNEG:
        if (parse_float(v, end, &a) && a >= 0) {
            *(float *)field = a;
            return GS_OK;
        }
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s=%.*s: a number >= 0", s->key, (int)(end - v), v);
    case SETTING_RANGE: {
        const char *colon = memchr(v, ':', (size_t)(end - v));
        if (colon && parse_float(v, colon, &a) && parse_float(colon + 1, end, &b) && a > 0 && a <= b) {
            ((float *)field)[0] = a;
            ((float *)field)[1] = b;
            return GS_OK;
        }
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s=%.*s: LO:HI with 0 < LO <= HI", s->key, (int)(end - v), v);
    }
    }
    return gs_error_set(err, GS_ERR_INTERNAL, "augmentation setting '%s' of unknown kind", s->key);
}

gs_status gs_augment_set(gs_augment_config *c, const char *settings, gs_error *err) {
    if (!settings) return GS_OK;
    const char *p = settings;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        if (end > p && set_one(c, p, end, err) != GS_OK) return err->status;
        p = *end ? end + 1 : end;
    }
    return GS_OK;
}

/* The shortest decimal that reads back as the same float (0.08, not
 * 0.0799999982), so a printed recipe typed back is the same recipe. */
static const char *shortest(char buf[32], float v) {
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, 32, "%.*g", digits, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    return buf;
}

void gs_augment_print(FILE *out, const char *prefix, const gs_augment_config *c) {
    char a[32], b[32];
    fprintf(out, "%ssize = %dx%d  # px\n", prefix, c->out_height, c->out_width);
    for (int i = 0; i < N_SETTINGS; i++) {
        const setting *s = &SETTINGS[i];
        const char *field = (const char *)c + s->offset;
        switch (s->kind) {
        case SETTING_BOOL: fprintf(out, "%s%s = %d", prefix, s->key, *(const bool *)field); break;
        case SETTING_PROB:
        case SETTING_NONNEG: fprintf(out, "%s%s = %s", prefix, s->key, shortest(a, *(const float *)field)); break;
        case SETTING_RANGE:
            fprintf(out, "%s%s = %s:%s", prefix, s->key, shortest(a, ((const float *)field)[0]),
                    shortest(b, ((const float *)field)[1]));
            break;
        }
        fprintf(out, "  # %s\n", s->unit);
    }
}
