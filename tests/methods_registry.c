/* Method names: one canonical name per method, the one published numbers in
 * results/reference.csv use, so geossl's rows and the papers' meet in the
 * report; older names are accepted on input and never written. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "method.h"

Test(methods_registry, moco_is_an_alias_of_the_canonical_mocov2) {
    const gs_method_ops *canonical = gs_method_find("mocov2");
    cr_assert_not_null(canonical);
    cr_expect_str_eq(canonical->name, "mocov2");
    cr_expect_eq(gs_method_find("moco"), canonical, "the alias finds the same method");
    char names[256];
    gs_method_names(names, sizeof names);
    cr_expect_str_eq(names, "simclr, mocov2, byol, dino", "messages list canonical names only");
    gs_method_names_with_aliases(names, sizeof names);
    cr_expect(strstr(names, "moco,") == NULL && strstr(names, ", moco") != NULL, "%s", names);
    cr_expect_null(gs_method_find("mocov3"));
}

/* Every published row whose method geossl implements (under any accepted
 * name) must spell it canonically, or it never meets geossl's rows. */
Test(methods_registry, reference_rows_use_canonical_names) {
    FILE *f = fopen(GEOSSL_FIXTURE_DIR "/../../results/reference.csv", "r");
    cr_assert_not_null(f, "results/reference.csv is missing");
    char line[8192];
    cr_assert_not_null(fgets(line, sizeof line, f));
    cr_assert(!strncmp(line, "method,", 7), "header '%.40s'", line);
    int rows = 0, implemented = 0;
    while (fgets(line, sizeof line, f)) {
        char method[64];
        if (sscanf(line, "%63[^,]", method) != 1) continue;
        rows++;
        const gs_method_ops *ops = gs_method_find(method);
        if (!ops) continue;
        implemented++;
        cr_expect_str_eq(method, ops->name, "reference row %d says '%s', geossl writes '%s'", rows, method, ops->name);
    }
    fclose(f);
    cr_expect_gt(implemented, 0, "no reference row of an implemented method among %d", rows);
}
