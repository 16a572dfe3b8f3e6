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
    cr_expect(!strncmp(names, "simclr, mocov2, byol, dino", 26) && !strstr(names, "moco,"),
              "messages list canonical names only: %s", names);
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

/* --method-options: declared keys only, typed values checked, the last
 * occurrence wins, absent keys keep the default. */
Test(methods_registry, method_options_are_checked_and_typed) {
    static const gs_method_option_info KEYS[] = {{"alpha", "a number"}, {"mode", "a|b"}, {NULL, NULL}};
    gs_method_ops ops = {.name = "fake", .options = KEYS};
    gs_error err = {0};
    cr_expect_eq(gs_method_options_check(&ops, "alpha=0.5,mode=b", &err), GS_OK, "%s", err.message);
    cr_expect_eq(gs_method_options_check(&ops, NULL, &err), GS_OK);
    cr_expect_eq(gs_method_options_check(&ops, "beta=1", &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "'beta'") && strstr(err.message, "alpha, mode"), "%s", err.message);
    gs_error err2 = {0};
    cr_expect_eq(gs_method_options_check(&ops, "alpha", &err2), GS_ERR_ARGUMENT, "a key without a value");
    gs_method_ops bare = {.name = "plain"};
    gs_error err3 = {0};
    cr_expect_eq(gs_method_options_check(&bare, "alpha=1", &err3), GS_ERR_ARGUMENT);
    cr_expect(strstr(err3.message, "takes none"), "%s", err3.message);

    gs_context ctx;
    gs_context_init(&ctx, NULL);
    gs_method_config cfg = {.options = "alpha=0.25,mode=b,alpha=0.75"};
    float alpha = 1.0f, missing = 3.0f;
    int mode = 0;
    cr_expect_eq(gs_method_option_float(&ctx, &cfg, "alpha", 0, 1, &alpha), GS_OK);
    cr_expect_float_eq(alpha, 0.75f, 1e-7, "the last occurrence wins");
    cr_expect_eq(gs_method_option_float(&ctx, &cfg, "gamma", 0, 1, &missing), GS_OK);
    cr_expect_float_eq(missing, 3.0f, 1e-7, "an absent key keeps the default");
    cr_expect_eq(gs_method_option_choice(&ctx, &cfg, "mode", "a|b", &mode), GS_OK);
    cr_expect_eq(mode, 1);
    cr_expect_eq(gs_method_option_float(&ctx, &cfg, "alpha", 0, 0.5, &alpha), GS_ERR_ARGUMENT, "out of range");
    gs_context_free(&ctx);
    gs_context_init(&ctx, NULL);
    gs_method_config bad = {.options = "mode=c"};
    cr_expect_eq(gs_method_option_choice(&ctx, &bad, "mode", "a|b", &mode), GS_ERR_ARGUMENT);
    cr_expect(strstr(ctx.error, "mode=c"), "%s", ctx.error);
    gs_context_free(&ctx);
}
