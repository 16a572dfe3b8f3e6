/* libFuzzer target: the published reference numbers (results/reference.c,
 * results/reference.csv's reader).
 *
 * Invariants: a malformed file is a format error; every accepted row has its
 * setting, paper, table and citation, and a label fraction in (0, 1]. */
#include <string.h>

#include "common.h"
#include "reference.h"

#define TARGET "fuzz_reference"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[FUZZ_PATH_MAX];
    fuzz_write_file(NULL, ".csv", data, size, path);
    gs_reference ref;
    gs_error err = {0};
    gs_status s = gs_reference_load(path, &ref, &err);
    if (s == GS_OK) {
        for (size_t i = 0; i < ref.n_rows; i++) {
            const gs_reference_row *r = &ref.rows[i];
            if (!r->method[0] || !r->backbone[0] || !r->eval_data[0] || !r->protocol[0] || !r->metric[0] ||
                !r->paper[0] || !r->table[0] || !r->citation[0] || !r->notes || !r->pretrain_data)
                fuzz_fail(TARGET, "row %zu accepted without its setting or citation", i);
            if (!(r->label_fraction > 0 && r->label_fraction <= 1))
                fuzz_fail(TARGET, "row %zu accepted with label fraction %g", i, r->label_fraction);
            if (r->line < 2) fuzz_fail(TARGET, "row %zu is on line %zu, at or before the header", i, r->line);
        }
        gs_reference_free(&ref);
    } else if (s != GS_ERR_FORMAT) {
        fuzz_fail(TARGET, "a malformed file is status %d, not a format error: %s", (int)s, err.message);
    }
    fuzz_remove(path);
    return 0;
}
