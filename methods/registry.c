/* The methods geossl trains, by the name `--method` takes.  Adding a method
 * is one new file and one line here. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "method.h"

extern const gs_method_ops gs_method_simclr; /* simclr.c */
extern const gs_method_ops gs_method_byol;   /* byol.c */
extern const gs_method_ops gs_method_moco;   /* moco.c */
extern const gs_method_ops gs_method_dino;   /* dino.c */
extern const gs_method_ops gs_method_false;  /* false.c */
extern const gs_method_ops gs_method_satmae; /* satmae.c */
extern const gs_method_ops gs_method_seco;   /* seco.c */
extern const gs_method_ops gs_method_glcnet; /* glcnet.c */

static const gs_method_ops *const METHODS[] = {&gs_method_simclr, &gs_method_moco, &gs_method_byol, &gs_method_dino,
                                             &gs_method_seco, &gs_method_satmae, &gs_method_false,
                                             &gs_method_glcnet};

/* Older names still accepted on input; results, checkpoints and reports
 * always carry the canonical name (the one results/reference.csv uses). */
static const struct {
    const char *alias, *canonical;
} ALIASES[] = {{"moco", "mocov2"}};

const gs_method_ops *gs_method_find(const char *name) {
    if (!name) return NULL;
    for (size_t a = 0; a < sizeof ALIASES / sizeof *ALIASES; a++)
        if (!strcmp(ALIASES[a].alias, name)) name = ALIASES[a].canonical;
    for (size_t i = 0; i < sizeof METHODS / sizeof *METHODS; i++)
        if (!strcmp(METHODS[i]->name, name)) return METHODS[i];
    return NULL;
}

const gs_method_ops *gs_method_at(int i) {
    return i >= 0 && (size_t)i < sizeof METHODS / sizeof *METHODS ? METHODS[i] : NULL;
}

const char *gs_method_names_with_aliases(char *buf, size_t size) {
    gs_method_names(buf, size);
    size_t used = strlen(buf);
    for (size_t a = 0; a < sizeof ALIASES / sizeof *ALIASES && used < size; a++) {
        int n = snprintf(buf + used, size - used, ", %s", ALIASES[a].alias);
        if (n < 0) break;
        used += (size_t)n;
    }
    return buf;
}

const char *gs_method_names(char *buf, size_t size) {
    size_t used = 0;
    if (size) buf[0] = '\0';
    for (size_t i = 0; i < sizeof METHODS / sizeof *METHODS && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", METHODS[i]->name);
        if (n < 0) break;
        used += (size_t)n;
    }
    return buf;
}

const char *gs_method_data_parallel_names(char *buf, size_t size) {
    size_t used = 0;
    if (size) buf[0] = '\0';
    for (size_t i = 0; i < sizeof METHODS / sizeof *METHODS && used < size; i++) {
        if (!METHODS[i]->data_parallel) continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", METHODS[i]->name);
        if (n < 0) break;
        used += (size_t)n;
    }
    return buf;
}

gs_status gs_method_settings_check(const gs_method_ops *ops, const gs_method_config *cfg, gs_error *err) {
    static const struct {
        unsigned flag;
        const char *option, *what;
    } SETTINGS[] = {
        {GS_METHOD_USES_TEMPERATURE, "--temperature", "temperature"},
        {GS_METHOD_USES_QUEUE, "--queue", "queue of negatives"},
        {GS_METHOD_USES_EMA, "--ema-momentum", "momentum-averaged target network"},
        {GS_METHOD_USES_HEAD, "--head-hidden / --head-dim", "projection head of settable width"},
        {GS_METHOD_USES_LOCAL_CROPS, "--local-crops", "local crops"},
    };
    const bool given[] = {cfg->temperature > 0, cfg->queue_size > 0, cfg->momentum > 0,
                          cfg->proj_hidden > 0 || cfg->proj_dim > 0, cfg->local_crops > 0};
    for (size_t s = 0; s < sizeof SETTINGS / sizeof *SETTINGS; s++) {
        if (!given[s] || (ops->settings & SETTINGS[s].flag)) continue;
        char users[160] = "";
        size_t used = 0;
        for (size_t i = 0; i < sizeof METHODS / sizeof *METHODS && used < sizeof users; i++)
            if (METHODS[i]->settings & SETTINGS[s].flag)
                used += (size_t)snprintf(users + used, sizeof users - used, "%s%s", used ? ", " : "",
                                         METHODS[i]->name);
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s has no %s: %s would change nothing (it applies to %s)",
                            ops->name, SETTINGS[s].what, SETTINGS[s].option, users);
    }
    return GS_OK;
}
