/* The command-line parser the subcommands share; it also prints their --help.
 *
 * Every option says what it accepts (the `allowed` field, built with the
 * macros below): a numeric option its range, an enumerated one its list of
 * choices.  The parser checks each value as it reads it, so a bad value is
 * one line naming the option, the value and what is allowed, and exit 2,
 * before any work starts; --help prints the same ranges and choices.  The
 * table is the one place both come from.
 *
 * The reading itself is glibc's getopt_long, with a struct option array
 * built from the table at each call, so the usual conventions hold
 * everywhere: options and operands (FORMAT:PATH, SUITE, ...) mix in any
 * order, "--name=value" is "--name value", and "--" ends the options (what
 * follows is an operand even when it starts with a dash).
 *
 * Abbreviations are refused: getopt_long would take "--epo" for "--epochs",
 * but then adding an option (say --epoch-scale) would silently change or
 * break what a script's abbreviation means.  Suites and scripts should keep
 * working as options are added, so an option is typed in full, and a prefix
 * gets "did you mean --epochs?" instead.
 *
 * Every command also takes --help (-h) and --quiet (-q: no progress lines,
 * only errors and results); the parser handles both. */
#ifndef GS_CLI_OPTIONS_H
#define GS_CLI_OPTIONS_H

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config_file.h"

typedef enum gs_option_type { GS_OPT_STRING, GS_OPT_INT, GS_OPT_FLOAT, GS_OPT_FLAG } gs_option_type;

/* Which macro built an option's `allowed`; it must fit the option's type. */
typedef enum gs_allowed_kind {
    GS_ALLOWED_UNSTATED, /* a table entry that says nothing: refused as a bug */
    GS_ALLOWED_INTS,
    GS_ALLOWED_NUMBERS,
    GS_ALLOWED_CHOICES,
    GS_ALLOWED_TEXT,
    GS_ALLOWED_FLAG,
} gs_allowed_kind;

typedef struct gs_option_allowed {
    gs_allowed_kind kind;
    long long int_min, int_max;        /* GS_OPT_INT: inclusive bounds */
    double min, max;                   /* GS_OPT_FLOAT: bounds; NaN and inf are never accepted */
    bool min_exclusive, max_exclusive; /* GS_OPT_FLOAT: "> min" rather than ">= min" (and "< max") */
    const char *const *choices;        /* GS_OPT_STRING: NULL-terminated list; NULL: any text (paths, names) */
} gs_option_allowed;

/* An integer in [lo, hi]. */
#define GS_RANGE(lo, hi) {.kind = GS_ALLOWED_INTS, .int_min = (lo), .int_max = (hi)}
/* A finite number > lo, >= lo, or in [lo, hi]. */
#define GS_ABOVE(lo) {.kind = GS_ALLOWED_NUMBERS, .min = (lo), .max = INFINITY, .min_exclusive = true}
#define GS_AT_LEAST(lo) {.kind = GS_ALLOWED_NUMBERS, .min = (lo), .max = INFINITY}
#define GS_BETWEEN(lo, hi) {.kind = GS_ALLOWED_NUMBERS, .min = (lo), .max = (hi)}
/* One of a NULL-terminated list of names. */
#define GS_CHOICES(list) {.kind = GS_ALLOWED_CHOICES, .choices = (list)}
/* Free text (a path, a FORMAT:PATH, a name for the results), or a flag. */
#define GS_ANY_TEXT {.kind = GS_ALLOWED_TEXT}
#define GS_NO_VALUE {.kind = GS_ALLOWED_FLAG}

/* Ranges the commands share, so an option means the same everywhere.
 * Seeds are 0 .. 2^63-1: never negative, so "-1" cannot wrap to 2^64-1.
 * 0 means "the default" only for threads (all cores), width (the standard
 * one) and size (the data's); everywhere else the default is unset. */
#define GS_SEED_RANGE GS_RANGE(0, LLONG_MAX)
#define GS_THREADS_RANGE GS_RANGE(0, 1024)
#define GS_WORKERS_RANGE GS_RANGE(1, 256)
#define GS_WIDTH_RANGE GS_RANGE(0, 4096)
#define GS_SIZE_RANGE GS_RANGE(0, 16384)
#define GS_PATCH_RANGE GS_RANGE(1, 1024)
#define GS_BATCH_RANGE GS_RANGE(1, 65536)
#define GS_EPOCHS_RANGE GS_RANGE(1, 100000)

/* The starting value of an option whose default is decided later (the
 * method's, the format's, the protocol's): outside every range, so a user
 * can never type it.  The command maps it with gs_option_int_or/_float_or. */
#define GS_UNSET_INT LLONG_MIN
#define GS_UNSET_FLOAT ((double)NAN)
static inline long long gs_option_int_or(long long value, long long when_unset) {
    return value == GS_UNSET_INT ? when_unset : value;
}
static inline double gs_option_float_or(double value, double when_unset) { return isnan(value) ? when_unset : value; }

typedef struct gs_option {
    const char *name;  /* without the leading dashes */
    gs_option_type type;
    void *value;       /* const char **, long long *, double * or bool * */
    const char *metavar;
    const char *help;  /* ends with the default in brackets where there is one */
    gs_option_allowed allowed;
} gs_option;

/* What a command is called and takes: its operands (the arguments that are
 * not options, in order) and its options. */
#define GS_MAX_OPERANDS 8
typedef struct gs_command_line {
    const char *command;  /* "data check": messages begin "geossl data check: " */
    const char *operands; /* as the usage line names them ("FORMAT:PATH", "FORMAT DIR"); NULL: none */
    int min_operands, max_operands; /* at most GS_MAX_OPERANDS */
    const char *summary;
    const gs_option *options;
    int n_options;
    /* --config FILE and --set KEY=VALUE (config_file.h).  takes_config: the
     * pairs become options: every value option is a key by its own name,
     * config_keys adds config.json's paths.  sets_to_command: the command
     * reads the pairs itself from gs_parsed_args.config (suite keys). */
    bool takes_config, sets_to_command;
    const gs_config_key *config_keys;
    int n_config_keys;
} gs_command_line;

/* What the parser hands back besides the option values it stored. */
typedef struct gs_parsed_args {
    char *operands[GS_MAX_OPERANDS]; /* in the order typed, pointing into argv */
    int n_operands;
    bool quiet; /* --quiet / -q: no progress lines */
    /* Commands that take --config / --set: the pairs read (sets_to_command)
     * and the option texts made from them, which option values point into:
     * release with gs_parsed_args_free once the values are no longer used. */
    gs_config_pairs *config;
    char **expanded_argv;
    char *expanded_text;
} gs_parsed_args;

void gs_parsed_args_free(gs_parsed_args *args);

/* Parses argv[1..argc) (argv[0] is the command's name; argv may be
 * reordered).  Returns 0 on success, 1 when --help was printed, 2 on an
 * error (one line on stderr naming the command, the option or operand that
 * is wrong and what would do).  A value is stored only once it is allowed;
 * an unset option keeps its starting value.  The table itself is checked
 * first (gs_options_check). */
int gs_command_line_parse(const gs_command_line *line, int argc, char **argv, gs_parsed_args *args);
/* Checks `text` as option o's value without storing it; 2 after a message
 * that starts with `label` ("--lr", "optimizer.lr (config.json)"). */
int gs_option_check_value(const char *command, const gs_option *o, const char *label, const char *text);

/* Insertions, deletions and substitutions between a[0..la) and b ("did you mean"). */
int gs_option_edit_distance(const char *a, size_t la, const char *b);

/* The --help text: exactly one usage line, the summary, the options. */
void gs_command_line_usage(FILE *out, const gs_command_line *line);

/* gs_command_line_parse for a command that takes no operands and ignores
 * --quiet (it prints no progress). */
int gs_options_parse(const char *command, const char *summary, const gs_option *options, int n_options, int argc,
                     char **argv);

/* False, after a message naming the entry, when the table is wrong: an
 * option that states nothing it accepts, a GS_RANGE on a float option, an
 * empty range, a default not among the choices, a name the parser keeps
 * for itself (help, quiet).  A bug in geossl, caught
 * by any test that runs the command (--help included). */
bool gs_options_check(const char *command, const gs_option *options, int n_options);

/* What an option accepts, as --help and the errors print it ("1 to 100",
 * "> 0", "imagenet, small"); "" for free text and flags. */
void gs_option_describe_allowed(const gs_option *option, char *out, size_t size);

/* Index of `value` in a NULL-terminated list of names, or -1. */
int gs_option_choice(const char *const *choices, const char *value);

/* Splits "a, b, c" in place into at most max-1 names and a NULL after them
 * (a list of choices read from a registry's message text); returns the count. */
int gs_option_split_choices(char *list, const char **choices, int max);

/* Creates `dir` and its missing parents; false (after a message naming it)
 * when it can be neither created nor written. */
bool gs_cli_make_folder(const char *command, const char *dir);

#endif
