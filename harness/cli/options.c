#include "options.h"

#include <errno.h>
#include <getopt.h>
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
    if (!strcmp(o->name, "help") || !strcmp(o->name, "quiet")) return "is one every command has (the parser's)";
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

void gs_command_line_usage(FILE *out, const gs_command_line *line) {
    gs_options_check(line->command, line->options, line->n_options);
    fprintf(out, "usage: geossl %s%s%s [options]\n\n%s\n\noptions:\n", line->command, line->operands ? " " : "",
            line->operands ? line->operands : "", line->summary);
    for (int i = 0; i < line->n_options; i++) {
        const gs_option *o = &line->options[i];
        char left[64], allowed[512];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->type == GS_OPT_FLAG ? "" : " ",
                 o->type == GS_OPT_FLAG ? "" : o->metavar);
        gs_option_describe_allowed(o, allowed, sizeof allowed);
        if (allowed[0])
            fprintf(out, "  %-24s %s (allowed: %s)\n", left, o->help, allowed);
        else
            fprintf(out, "  %-24s %s\n", left, o->help);
    }
    if (line->takes_config)
        fprintf(out, "  %-24s %s\n  %-24s %s\n", "--config FILE",
                "options from a file: a run folder's config.json (repeats that run) or 'key = value' lines; keys "
                "are the options' names with '_' for '-'",
                "--set KEY=VALUE", line->n_config_keys ? "one key on top of --config, repeatable (optimizer.lr=0.1, "
                "augment.blur_p=0); options typed here win over both" : "one key on top of --config, repeatable "
                "(k=10); options typed here win over both");
    else if (line->sets_to_command)
        fprintf(out, "  %-24s %s\n", "--set KEY=VALUE", "override one key of the suite file (repeatable)");
    fprintf(out, "  %-24s %s\n", "-q, --quiet", "no progress lines: only errors and results");
    fprintf(out, "  %-24s %s\n", "-h, --help", "show this help");
}

/* One line: where the value came from (the option, or a key of a recipe
 * file), the value as typed, why not, and what would do. */
static int reject(const char *command, const gs_option *o, const char *label, const char *text, const char *why) {
    char allowed[512];
    gs_option_describe_allowed(o, allowed, sizeof allowed);
    fprintf(stderr, "geossl %s: %s %s %s (allowed: %s)\n", command, label, text[0] ? text : "''", why, allowed);
    return 2;
}

static bool number_allowed(const gs_option_allowed *a, double v) {
    bool above = a->min_exclusive ? v > a->min : v >= a->min;
    bool below = a->max_exclusive ? v < a->max : v <= a->max;
    return above && below;
}

/* Reads and checks one value; stores it (when `o->value` is set and store
 * is true) only when it is allowed. */
static int read_value(const char *command, const gs_option *o, const char *label, const char *text, bool store) {
    const gs_option_allowed *a = &o->allowed;
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case GS_OPT_STRING:
        if (a->kind == GS_ALLOWED_CHOICES && gs_option_choice(a->choices, text) < 0)
            return reject(command, o, label, text, "is not one of the choices");
        if (store) *(const char **)o->value = text;
        break;
    case GS_OPT_INT: {
        long long v = strtoll(text, &end, 10);
        if (end == text || *end) return reject(command, o, label, text, "is not an integer");
        if (errno == ERANGE || v < a->int_min || v > a->int_max)
            return reject(command, o, label, text, "is out of range");
        if (store) *(long long *)o->value = v;
        break;
    }
    case GS_OPT_FLOAT: {
        double v = strtod(text, &end);
        if (end == text || *end) return reject(command, o, label, text, "is not a number");
        if (!isfinite(v)) return reject(command, o, label, text, "is not a finite number");
        if (!number_allowed(a, v)) return reject(command, o, label, text, "is out of range");
        if (store) *(double *)o->value = v;
        break;
    }
    case GS_OPT_FLAG: break;
    }
    return 0;
}

static int store_value(const char *command, const gs_option *o, const char *text) {
    char label[80];
    snprintf(label, sizeof label, "--%s", o->name);
    return read_value(command, o, label, text, true);
}

int gs_option_check_value(const char *command, const gs_option *o, const char *label, const char *text) {
    return read_value(command, o, label, text, false);
}

/* Edit distance between two option names (insertions, deletions and
 * substitutions), for "did you mean"; names are short, so two rows do. */
int gs_option_edit_distance(const char *a, size_t la, const char *b) {
    size_t lb = strlen(b);
    if (la > 63 || lb > 63) return 64;
    int row[64], next[64];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        next[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int replace = row[j - 1] + (a[i - 1] != b[j - 1]), insert = next[j - 1] + 1, remove = row[j] + 1;
            next[j] = replace < insert ? replace : insert;
            if (remove < next[j]) next[j] = remove;
        }
        memcpy(row, next, (lb + 1) * sizeof *row);
    }
    return row[lb];
}

/* How close `typed` (without dashes, up to an '=') is to `name`: 0 for a
 * prefix (an abbreviation), else the edit distance; above 2 is not close. */
static int closeness(const char *typed, size_t length, const char *name) {
    if (length > 0 && !strncmp(typed, name, length)) return 0;
    return gs_option_edit_distance(typed, length, name);
}

/* "unknown option '--epoc' (did you mean --epochs?)" naming the command and
 * its --help.  The parser's own --help and --quiet are candidates too. */
static int refuse_unknown(const gs_command_line *line, const char *element) {
    const char *typed = element + strspn(element, "-");
    size_t length = strcspn(typed, "=");
    const char *names[3] = {NULL, NULL, NULL};
    int scores[3] = {3, 3, 3};
    for (int i = 0; i < line->n_options + 2; i++) {
        const char *name = i < line->n_options ? line->options[i].name : i == line->n_options ? "help" : "quiet";
        int score = closeness(typed, length, name);
        /* Keep the three closest, best first. */
        for (int k = 0; k < 3; k++)
            if (score < scores[k]) {
                for (int m = 2; m > k; m--) names[m] = names[m - 1], scores[m] = scores[m - 1];
                names[k] = name;
                scores[k] = score;
                break;
            }
    }
    char hint[256] = "";
    if (names[0] && length > 0) {
        size_t used = (size_t)snprintf(hint, sizeof hint, " (did you mean --%s", names[0]);
        for (int k = 1; k < 3 && names[k] && used < sizeof hint; k++)
            used += (size_t)snprintf(hint + used, sizeof hint - used, "%s--%s", k == 2 || !names[2] ? " or " : ", ",
                                     names[k]);
        if (used < sizeof hint) snprintf(hint + used, sizeof hint - used, "?)");
    }
    fprintf(stderr, "geossl %s: unknown option '%s'%s; see 'geossl %s --help'\n", line->command, element, hint,
            line->command);
    return 2;
}

/* Too few operands (extra == NULL) or one too many (extra), with the usage line. */
static int refuse_operands(const gs_command_line *line, const char *extra) {
    const char *operands = line->operands ? line->operands : "";
    if (!extra)
        fprintf(stderr, "geossl %s: %s is missing (usage: geossl %s %s [options]; see 'geossl %s --help')\n",
                line->command, operands, line->command, operands, line->command);
    else
        fprintf(stderr, "geossl %s: unexpected argument '%s' (usage: geossl %s%s%s [options]; see 'geossl %s --help')\n",
                line->command, extra, line->command, operands[0] ? " " : "", operands, line->command);
    return 2;
}

/* getopt_long's val for table entry i: above every character, so the short
 * options (-h, -q) and the operand code (1) cannot collide with it. */
enum { TABLE_VAL = 1000 };

/* The argv element getopt_long has just read a long option from: the one
 * before its value when the value was the next element. */
static const char *option_element(char **argv) {
    return optarg && optarg == argv[optind - 1] ? argv[optind - 2] : argv[optind - 1];
}

/* Whether the element names the option in full (not an abbreviation). */
static bool typed_in_full(const char *element, const char *name) {
    if (strncmp(element, "--", 2)) return false;
    size_t length = strcspn(element + 2, "=");
    return length == strlen(name) && !strncmp(element + 2, name, length);
}

/* One getopt_long result: 0 to go on, 1 after --help, 2 after a message. */
static int take_one(const gs_command_line *line, char **argv, int code, int index,
                    const struct option *longs, gs_parsed_args *args) {
    const gs_option *o = code >= TABLE_VAL ? &line->options[code - TABLE_VAL] : NULL;
    if (code == 1) { /* an operand ('-' at the front of the short options asks for them in order) */
        if (args->n_operands >= GS_MAX_OPERANDS || args->n_operands >= line->max_operands)
            return refuse_operands(line, optarg);
        args->operands[args->n_operands++] = optarg;
        return 0;
    }
    if (code == ':') { /* a value-taking option last on the line */
        o = optopt >= TABLE_VAL ? &line->options[optopt - TABLE_VAL] : NULL;
        if (!o) return refuse_unknown(line, argv[optind - 1]);
        char allowed[512];
        gs_option_describe_allowed(o, allowed, sizeof allowed);
        fprintf(stderr, "geossl %s: --%s needs a value (%s%s%s)\n", line->command, o->name, o->metavar,
                allowed[0] ? "; allowed: " : "", allowed);
        return 2;
    }
    if (code == '?') {
        if (optopt >= TABLE_VAL || optopt == 'h' || optopt == 'q') { /* "--flag=value" */
            const char *name = optopt == 'h' ? "help" : optopt == 'q' ? "quiet" : line->options[optopt - TABLE_VAL].name;
            fprintf(stderr, "geossl %s: --%s takes no value (give it alone: --%s); see 'geossl %s --help'\n",
                    line->command, name, name, line->command);
            return 2;
        }
        if (optopt) { /* an unknown short option */
            char element[3] = {'-', (char)optopt, '\0'};
            return refuse_unknown(line, element);
        }
        return refuse_unknown(line, argv[optind - 1]); /* unknown, or a prefix of several */
    }
    /* getopt_long takes an unambiguous prefix; geossl does not (see options.h). */
    if (index >= 0 && !typed_in_full(option_element(argv), longs[index].name))
        return refuse_unknown(line, option_element(argv));
    if (code == 'h') {
        gs_command_line_usage(stdout, line);
        return 1;
    }
    if (code == 'q') {
        args->quiet = true;
        return 0;
    }
    if (!o) return refuse_unknown(line, argv[optind - 1]);
    if (o->type == GS_OPT_FLAG) {
        *(bool *)o->value = true;
        return 0;
    }
    return store_value(line->command, o, optarg) ? 2 : 0;
}

void gs_parsed_args_free(gs_parsed_args *args) {
    if (args->config) gs_config_pairs_free(args->config);
    free(args->config);
    free(args->expanded_argv);
    free(args->expanded_text);
    args->config = NULL;
    args->expanded_argv = NULL;
    args->expanded_text = NULL;
}

int gs_command_line_parse(const gs_command_line *line, int argc, char **argv, gs_parsed_args *args) {
    memset(args, 0, sizeof *args);
    if (!gs_options_check(line->command, line->options, line->n_options)) return 2;
    /* --config and --set first: they become options read before the typed ones. */
    if (line->takes_config || line->sets_to_command) {
        int expanded = gs_config_expand(line, argc, argv, args, &argc);
        if (expanded) return expanded;
        argv = args->expanded_argv;
    }
    /* The table plus --help and --quiet, built for each call: the tables are
     * the commands' locals, holding pointers to their locals. */
    struct option *longs = calloc((size_t)line->n_options + 3, sizeof *longs);
    if (!longs) {
        fprintf(stderr, "geossl %s: out of memory\n", line->command);
        return 2;
    }
    for (int i = 0; i < line->n_options; i++)
        longs[i] = (struct option){line->options[i].name,
                                   line->options[i].type == GS_OPT_FLAG ? no_argument : required_argument, NULL,
                                   TABLE_VAL + i};
    longs[line->n_options] = (struct option){"help", no_argument, NULL, 'h'};
    longs[line->n_options + 1] = (struct option){"quiet", no_argument, NULL, 'q'};
    /* getopt keeps its own state in globals: optind = 0 starts it afresh
     * (commands run more than once in a process, as the tests do), and
     * opterr = 0 leaves the messages to us.  "-" returns operands in order
     * (code 1) whatever POSIXLY_CORRECT says; ":" reports a missing value. */
    optind = 0;
    opterr = 0;
    int result = 0;
    while (result == 0) {
        int index = -1;
        optarg = NULL; /* option_element compares with it */
        int code = getopt_long(argc, argv, "-:hq", longs, &index);
        if (code == -1) break;
        result = take_one(line, argv, code, index, longs, args);
    }
    /* After "--": operands all. */
    for (int i = optind; result == 0 && i < argc; i++) {
        optarg = argv[i];
        result = take_one(line, argv, 1, -1, longs, args);
    }
    free(longs);
    if (result == 0 && args->n_operands < line->min_operands) result = refuse_operands(line, NULL);
    return result;
}

int gs_options_parse(const char *command, const char *summary, const gs_option *options, int n_options, int argc,
                     char **argv) {
    gs_command_line line = {.command = command, .summary = summary, .options = options, .n_options = n_options};
    gs_parsed_args args;
    return gs_command_line_parse(&line, argc, argv, &args);
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
