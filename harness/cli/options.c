#include "options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void gs_options_usage(FILE *out, const char *command, const char *summary, const gs_option *options,
                      int n_options) {
    fprintf(out, "usage: geossl %s [options]\n\n%s\n\noptions:\n", command, summary);
    for (int i = 0; i < n_options; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", options[i].name, options[i].type == GS_OPT_FLAG ? "" : " ",
                 options[i].type == GS_OPT_FLAG ? "" : options[i].metavar);
        fprintf(out, "  %-24s %s\n", left, options[i].help);
    }
    fprintf(out, "  %-24s %s\n", "--help", "show this help");
}

static int bad_value(const char *command, const gs_option *o, const char *text) {
    fprintf(stderr, "geossl %s: --%s expects %s, got '%s'\n", command, o->name,
            o->type == GS_OPT_INT ? "an integer" : "a number", text);
    return 2;
}

int gs_options_parse(const char *command, const char *summary, const gs_option *options, int n_options, int argc,
                     char **argv) {
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
            fprintf(stderr, "geossl %s: --%s needs a value (%s)\n", command, o->name, o->metavar);
            return 2;
        }
        const char *text = argv[++i];
        char *end = NULL;
        errno = 0;
        switch (o->type) {
        case GS_OPT_STRING: *(const char **)o->value = text; break;
        case GS_OPT_INT:
            *(long long *)o->value = strtoll(text, &end, 10);
            if (errno || !*text || *end) return bad_value(command, o, text);
            break;
        case GS_OPT_FLOAT:
            *(double *)o->value = strtod(text, &end);
            if (errno || !*text || *end) return bad_value(command, o, text);
            break;
        case GS_OPT_FLAG: break;
        }
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
