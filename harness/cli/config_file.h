/* Recipes from a file: --config FILE and --set KEY=VALUE.
 *
 * A researcher repeating a paper sets every hyperparameter of its recipe,
 * and repeats a run exactly from the config.json its folder holds.  So the
 * commands that train take their options from a file too:
 *
 *   --config FILE   a JSON object (a run folder's config.json, nested
 *                   objects read as dotted keys: "optimizer.lr") or
 *                   `key = value` lines ('#' starts a comment);
 *   --set KEY=VALUE one key, on top of the file.
 *
 * A key is an option's own name with '_' for '-' ("weight_decay" sets
 * --weight-decay), or one of the command's table entries below: a dotted
 * path of config.json that sets an option, a path that config.json writes
 * for the record only (the resolved architecture, step counts: accepted and
 * not used, as they follow from the rest), or a prefix such as "augment."
 * whose keys become NAME=VALUE items of one list option (--augment).
 *
 * Precedence: the file, then each --set in order, then the options typed on
 * the command line, which win.  Everything becomes ordinary options before
 * the parser reads them, so a value is checked exactly as the option's is; a
 * message names the key and where it came from (the file and its line, or
 * --set), and an unknown key is an error with "did you mean". */
#ifndef GS_CLI_CONFIG_FILE_H
#define GS_CLI_CONFIG_FILE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum gs_config_key_kind {
    GS_KEY_OPTION,  /* the value is the option's */
    GS_KEY_RECORD,  /* written for the record (derived from other keys): accepted, not used */
    GS_KEY_ITEMS,   /* "prefix.NAME = V" appends "NAME=V" to the option's comma-separated list;
                       a value's commas become ':' (ranges: "0.2,1" is "0.2:1") */
    GS_KEY_LIST,    /* the value is appended to the option's comma-separated list as it is */
} gs_config_key_kind;

typedef struct gs_config_key {
    const char *key;    /* "optimizer.lr"; for GS_KEY_ITEMS the prefix, ending in '.' ("augment.") */
    const char *option; /* the option it sets (without dashes); NULL for GS_KEY_RECORD */
    gs_config_key_kind kind;
    bool unset_when_zero; /* config.json writes 0 for "the method's default": 0 leaves the option unset */
} gs_config_key;

/* One KEY=VALUE as read, and where from (for messages). */
typedef struct gs_config_pair {
    char *key, *value;
    char origin[160]; /* "--set", "FILE:LINE" or "FILE" */
} gs_config_pair;

#define GS_CONFIG_MAX_PAIRS 256
typedef struct gs_config_pairs {
    gs_config_pair items[GS_CONFIG_MAX_PAIRS];
    int count;
} gs_config_pairs;

/* Reads FILE (JSON object or key = value lines) into pairs, appended in file
 * order.  False after one line on stderr naming the command and the file. */
bool gs_config_read_file(const char *command, const char *path, gs_config_pairs *pairs);

/* Adds "KEY=VALUE" as typed after --set.  False after a message. */
bool gs_config_add_set(const char *command, const char *text, gs_config_pairs *pairs);

void gs_config_pairs_free(gs_config_pairs *pairs);

/* s without leading and trailing white space (in place: the end is cut). */
char *gs_config_trim(char *s);

struct gs_command_line;
struct gs_parsed_args;
/* The parser's first pass for commands that take --config / --set: takes
 * them (and their values) out of argv, reads the pairs and, for
 * takes_config, turns them into option elements placed before the rest of
 * the command line, in args->expanded_argv.  0, or 2 after a message (an
 * unreadable file, an unknown key, a bad value, naming the key and where
 * it came from). */
int gs_config_expand(const struct gs_command_line *line, int argc, char **argv, struct gs_parsed_args *args,
                     int *expanded_argc);

#endif
