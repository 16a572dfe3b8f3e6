/* libFuzzer target: the results CSV (results/results_store.c), parsed from
 * memory and from a file, checked for appending, then appended to.
 *
 * Invariants: parsing the bytes and loading the file agree; a file that
 * gs_results_check_appendable accepts takes an append (replacing a row with
 * the same key), which leaves a file that loads again with the new row and
 * every other row; a file it refuses is refused by the append too, and left
 * byte for byte as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "results_store.h"

#define TARGET "fuzz_results"

static const gs_result_row NEW_ROW = {
    .run_id = "fuzz",   .method = "simclr",   .backbone = "resnet18",
    .pretrain_data = "eurosat-rgb",           .eval_data = "eurosat-rgb",
    .protocol = "knn",  .label_fraction = 0.1, .seed = 3,
    .metric = "top1",   .value = 12.5,         .git_commit = "0123456789ab",
    .config_hash = "ff", .threads = 2,         .date = "2024-01-01T00:00:00Z",
    .wall_time_s = 1.5, .cpu = "fuzz cpu",     .settings = "k=20;knn_temperature=0.07"};

/* The file's bytes (malloc'd, *size set); NULL when it cannot be read. */
static char *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    *size = n;
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gs_results parsed, loaded;
    gs_error perr = {0}, lerr = {0};
    gs_status ps = gs_results_parse((const char *)data, size, "fuzz.csv", &parsed, &perr);

    char path[FUZZ_PATH_MAX];
    fuzz_write_file(NULL, ".csv", data, size, path);
    gs_status ls = gs_results_load(path, &loaded, &lerr);
    if ((ps == GS_OK) != (ls == GS_OK))
        fuzz_fail(TARGET, "parse says %d (%s) but load says %d (%s)", (int)ps, perr.message, (int)ls, lerr.message);
    if (ps == GS_OK) {
        if (parsed.n_rows != loaded.n_rows) fuzz_fail(TARGET, "parse %zu rows, load %zu", parsed.n_rows, loaded.n_rows);
        for (size_t i = 0; i < loaded.n_rows; i++) {
            const gs_result_row *r = &loaded.rows[i];
            const gs_result_row *found = gs_results_find_key(&loaded, r);
            if (!found || !gs_result_same_key(found, r)) fuzz_fail(TARGET, "row %zu is not found by its own key", i);
            gs_result_cell cell = {r->method, r->backbone, r->pretrain_data, r->eval_data, r->protocol,
                                   r->label_fraction, r->seed};
            if (!gs_results_has_cell(&loaded, &cell)) fuzz_fail(TARGET, "row %zu's cell is not found", i);
        }
    }
    size_t before = ls == GS_OK ? loaded.n_rows : 0, kept_old = 0;
    for (size_t i = 0; ls == GS_OK && i < loaded.n_rows; i++) kept_old += !gs_result_same_key(&loaded.rows[i], &NEW_ROW);
    gs_results_free(&parsed);
    gs_results_free(&loaded);

    gs_error cerr = {0}, aerr = {0};
    gs_status cs = gs_results_check_appendable(path, &cerr);
    if (cs == GS_OK && size > 0 && ps != GS_OK)
        fuzz_fail(TARGET, "appendable but does not parse: %s", perr.message);
    gs_results_append_options opt = {.replace = true};
    gs_status as = gs_results_append_ex(path, &NEW_ROW, 1, &opt, &aerr);
    if (cs == GS_OK) {
        if (as != GS_OK) fuzz_fail(TARGET, "appendable, but the append failed: %s", aerr.message);
        gs_results after;
        gs_error err = {0};
        if (gs_results_load(path, &after, &err) != GS_OK) fuzz_fail(TARGET, "unreadable after an append: %s", err.message);
        const gs_result_row *found = gs_results_find_key(&after, &NEW_ROW);
        if (!found || found->value != NEW_ROW.value || strcmp(found->cpu, NEW_ROW.cpu) ||
            strcmp(found->settings, NEW_ROW.settings))
            fuzz_fail(TARGET, "the appended row does not read back");
        if (after.n_rows != kept_old + 1 || opt.replaced != before - kept_old)
            fuzz_fail(TARGET, "%zu rows, %zu replaced, then %zu rows after appending one", before, opt.replaced,
                      after.n_rows);
        gs_results_free(&after);
    } else {
        if (as == GS_OK) fuzz_fail(TARGET, "not appendable (%s), but the append succeeded", cerr.message);
        size_t now_size = 0;
        char *now = slurp(path, &now_size);
        if (!now || now_size != size || (size && memcmp(now, data, size)))
            fuzz_fail(TARGET, "a refused append changed the file");
        free(now);
    }
    fuzz_remove(path);
    return 0;
}
