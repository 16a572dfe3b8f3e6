#include "options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text_buffer.h"

/* Bounds are printed as plain decimals, as results are (no "1e+06"). */
static void format_bound(char *out, size_t size, double v) {
    char text[GS_DOUBLE_TEXT_SIZE];
    gs_format_double(text, v);
    snprintf(out, size, "%.60s", text);
}

void gs_option_describe_allowed(const gs_option *o, char *out, size_t size) {
    const gs_option_allowed *a = &o->allowed;
    if (size) out[0] = '\0';
    switch (a->kind) {
    case GS_ALLOWED_INTS: snprintf(out, size, "%lld to %lld", a->int_min, a->int_max); break;
    case GS_ALLOWED_NUMBERS: {
        char lo[64], hi[64];
        format_bound(lo, sizeof lo, a->min);
        format_bound(hi, sizeof hi, a->max);
        const char *above = a->min_exclusive ? ">" : ">=", *below = a->max_exclusive ? "<" : "<=";
        bool has_lo = isfinite(a->min), has_hi = isfinite(a->max);
        if (has_lo && has_hi && !a->min_exclusive && !a->max_exclusive)
            snprintf(out, size, "%s to %s", lo, hi);
        else if (has_lo && has_hi)
            snprintf(out, size, "%s %s and %s %s", above, lo, below, hi);
        else if (has_lo)
            snprintf(out, size, "%s %s", above, lo);
        else if (has_hi)
            snprintf(out, size, "%s %s", below, hi);
        else
            snprintf(out, size, "any finite number");
        break;
    }
    case GS_ALLOWED_CHOICES: {
        size_t used = 0;
        for (int i = 0; a->choices && a->choices[i] && used < size; i++) {
            int n = snprintf(out + used, size - used, "%s%s", i ? ", " : "", a->choices[i]);
            if (n < 0) break;
            used += (size_t)n;
        }
        break;
    }
    case GS_ALLOWED_UNSTATED:
    case GS_ALLOWED_TEXT:
    case GS_ALLOWED_FLAG: break;
    }
}

int gs_option_choice(const char *const *choices, const char *value) {
    for (int i = 0; choices && value && choices[i]; i++)
        if (!strcmp(choices[i], value)) return i;
    return -1;
}

int gs_option_split_choices(char *list, const char **choices, int max) {
    int n = 0;
    for (char *p = list; *p && n < max - 1;) {
        p += strspn(p, ", ");
        if (!*p) break;
        choices[n++] = p;
        p += strcspn(p, ", ");
        if (*p) *p++ = '\0';
    }
    if (max > 0) choices[n] = NULL;
    return n;
}

static const char *table_problem(const gs_option *o) {
    const gs_option_allowed *a = &o->allowed;
    switch (o->type) {
    case GS_OPT_INT:
        if (a->kind != GS_ALLOWED_INTS) return "is an integer option without a GS_RANGE";
        if (a->int_min > a->int_max) return "has an empty range";
        break;
    case GS_OPT_FLOAT:
        if (a->kind != GS_ALLOWED_NUMBERS) return "is a number option without GS_ABOVE, GS_AT_LEAST or GS_BETWEEN";
        if (!(a->min <= a->max)) return "has an empty range";
        break;
    case GS_OPT_STRING:
        if (a->kind == GS_ALLOWED_TEXT) break;
        if (a->kind != GS_ALLOWED_CHOICES || !a->choices || !a->choices[0])
            return "is a text option without GS_CHOICES or GS_ANY_TEXT";
        /* A default outside the list would only show up when nobody types the option. */
        if (*(const char **)o->value && gs_option_choice(a->choices, *(const char **)o->value) < 0)
            return "starts with a value that is not among its choices";
        break;
    case GS_OPT_FLAG:
        if (a->kind != GS_ALLOWED_FLAG) return "is a flag without GS_NO_VALUE";
        break;
    }
    return NULL;
}

bool gs_options_check(const char *command, const gs_option *options, int n_options) {
    for (int i = 0; i < n_options; i++) {
        const char *problem = table_problem(&options[i]);
        if (problem) {
            fprintf(stderr, "geossl %s: option table: --%s %s (a bug in geossl)\n", command, options[i].name,
                    problem);
            return false;
        }
    }
    return true;
}

void gs_options_usage(FILE *out, const char *command, const char *summary, const gs_option *options,
                      int n_options) {
    gs_options_check(command, options, n_options);
    fprintf(out, "usage: geossl %s [options]\n\n%s\n\noptions:\n", command, summary);
    for (int i = 0; i < n_options; i++) {
        char left[64], allowed[512];
        snprintf(left, sizeof left, "--%s%s%s", options[i].name, options[i].type == GS_OPT_FLAG ? "" : " ",
                 options[i].type == GS_OPT_FLAG ? "" : options[i].metavar);
        gs_option_describe_allowed(&options[i], allowed, sizeof allowed);
        if (allowed[0])
            fprintf(out, "  %-24s %s (allowed: %s)\n", left, options[i].help, allowed);
        else
            fprintf(out, "  %-24s %s\n", left, options[i].help);
    }
    fprintf(out, "  %-24s %s\n", "--help", "show this help");
}

/* One line: the option, the value as typed, why not, and what would do. */
static int reject(const char *command, const gs_option *o, const char *text, const char *why) {
    char allowed[512];
    gs_option_describe_allowed(o, allowed, sizeof allowed);
    fprintf(stderr, "geossl %s: --%s %s %s (allowed: %s)\n", command, o->name, text[0] ? text : "''", why, allowed);
    return 2;
}

static bool number_allowed(const gs_option_allowed *a, double v) {
    bool above = a->min_exclusive ? v > a->min : v >= a->min;
    bool below = a->max_exclusive ? v < a->max : v <= a->max;
    return above && below;
}

/* Reads and checks one value; stores it only when it is allowed. */
static int store_value(const char *command, const gs_option *o, const char *text) {
    const gs_option_allowed *a = &o->allowed;
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case GS_OPT_STRING:
        if (a->kind == GS_ALLOWED_CHOICES && gs_option_choice(a->choices, text) < 0)
            return reject(command, o, text, "is not one of the choices");
        *(const char **)o->value = text;
        break;
    case GS_OPT_INT: {
        long long v = strtoll(text, &end, 10);
        if (end == text || *end) return reject(command, o, text, "is not an integer");
        if (errno == ERANGE || v < a->int_min || v > a->int_max) return reject(command, o, text, "is out of range");
        *(long long *)o->value = v;
        break;
    }
    case GS_OPT_FLOAT: {
        double v = strtod(text, &end);
        if (end == text || *end) return reject(command, o, text, "is not a number");
        if (!isfinite(v)) return reject(command, o, text, "is not a finite number");
        if (!number_allowed(a, v)) return reject(command, o, text, "is out of range");
        *(double *)o->value = v;
        break;
    }
    case GS_OPT_FLAG: break;
    }
    return 0;
}

int gs_options_parse(const char *command, const char *summary, const gs_option *options, int n_options, int argc,
                     char **argv) {
    if (!gs_options_check(command, options, n_options)) return 2;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            gs_options_usage(stdout, command, summary, options, n_options);
            return 1;
        }
        const gs_option *o = NULL;
        if (!strncmp(arg, "--", 2))
            for (int k = 0; k < n_options; k++)
                if (!strcmp(arg + 2, options[k].name)) o = &options[k];
        if (!o) {
            fprintf(stderr, "geossl %s: unknown option '%s' (see 'geossl %s --help')\n", command, arg, command);
            return 2;
        }
        if (o->type == GS_OPT_FLAG) {
            *(bool *)o->value = true;
            continue;
        }
        if (i + 1 >= argc) {
            char allowed[512];
            gs_option_describe_allowed(o, allowed, sizeof allowed);
            fprintf(stderr, "geossl %s: --%s needs a value (%s%s%s)\n", command, o->name, o->metavar,
                    allowed[0] ? "; allowed: " : "", allowed);
            return 2;
        }
        if (store_value(command, o, argv[++i])) return 2;
    }
    return 0;
}

bool gs_cli_make_folder(const char *command, const char *dir) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) < (int)sizeof path)
        for (char *slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
            *slash = '\0'; /* parents first; failures show up as the last mkdir's */
            mkdir(path, 0777);
            *slash = '/';
        }
    if (mkdir(dir, 0777) == 0 || access(dir, W_OK) == 0) return true;
    fprintf(stderr, "geossl %s: cannot create or write the folder %s: check the path and permissions\n", command, dir);
    return false;
}
