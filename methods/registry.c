/* The methods geossl trains, by the name `--method` takes.  Adding a method
 * is one new file and one line here. */
#include <string.h>

#include "method.h"

extern const gs_method_ops gs_method_simclr; /* simclr.c */
extern const gs_method_ops gs_method_byol;   /* byol.c */
extern const gs_method_ops gs_method_moco;   /* moco.c */
extern const gs_method_ops gs_method_dino;   /* dino.c */

static const gs_method_ops *const METHODS[] = {&gs_method_simclr, &gs_method_moco, &gs_method_byol, &gs_method_dino};

const gs_method_ops *gs_method_find(const char *name) {
    for (size_t i = 0; i < sizeof METHODS / sizeof *METHODS; i++)
        if (name && !strcmp(METHODS[i]->name, name)) return METHODS[i];
    return NULL;
}

const char *gs_method_names(void) { return "simclr, moco, byol, dino"; }
