/* libFuzzer target: suite files (`geossl run SUITE`, harness/cli/
 * suite_config.c), read from a file as the command does.
 *
 * Invariants: a malformed file is GS_ERR_ARGUMENT (or GS_ERR_IO for a file
 * that cannot be read), never anything else; an accepted one has lists
 * within their capacity, at least one method, eval dataset and protocol,
 * label fractions in (0, 1], known protocols and NUL-terminated strings. */
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "suite_config.h"

#define TARGET "fuzz_suite"

#define TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

static void check_config(const gs_suite_config *c) {
    if (!TERMINATED(c->name) || !TERMINATED(c->out) || !TERMINATED(c->backbone) || !TERMINATED(c->pretrain_data))
        fuzz_fail(TARGET, "a string field is not terminated");
    if (c->n_methods < 1 || c->n_methods > GS_SUITE_MAX_ITEMS || c->n_eval_data < 1 ||
        c->n_eval_data > GS_SUITE_MAX_ITEMS || c->n_protocols < 1 || c->n_protocols > GS_SUITE_MAX_ITEMS ||
        c->n_label_fractions < 0 || c->n_label_fractions > GS_SUITE_MAX_ITEMS || c->n_seeds < 0 ||
        c->n_seeds > GS_SUITE_MAX_ITEMS)
        fuzz_fail(TARGET, "list counts out of range: %d methods, %d eval_data, %d protocols, %d fractions, %d seeds",
                  c->n_methods, c->n_eval_data, c->n_protocols, c->n_label_fractions, c->n_seeds);
    for (int i = 0; i < c->n_methods; i++)
        if (!TERMINATED(c->methods[i]) || !c->methods[i][0]) fuzz_fail(TARGET, "method %d is empty or unterminated", i);
    for (int i = 0; i < c->n_eval_data; i++)
        if (!TERMINATED(c->eval_data[i]) || !c->eval_data[i][0]) fuzz_fail(TARGET, "eval_data %d is empty or unterminated", i);
    for (int i = 0; i < c->n_protocols; i++)
        if ((int)c->protocols[i] < GS_PROTOCOL_KNN || (int)c->protocols[i] > GS_PROTOCOL_SEGMENT)
            fuzz_fail(TARGET, "protocol %d is %d", i, (int)c->protocols[i]);
    for (int i = 0; i < c->n_label_fractions; i++)
        if (!(c->label_fractions[i] > 0 && c->label_fractions[i] <= 1))
            fuzz_fail(TARGET, "label fraction %d is %g", i, c->label_fractions[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[FUZZ_PATH_MAX];
    fuzz_write_file(NULL, ".conf", data, size, path);
    gs_suite_config config;
    gs_error err = {0};
    gs_status s = gs_suite_config_load(path, &config, &err);
    if (s == GS_OK)
        check_config(&config);
    else if (s != GS_ERR_ARGUMENT)
        fuzz_fail(TARGET, "a malformed suite is status %d, not an argument error: %s", (int)s, err.message);
    fuzz_remove(path);
    return 0;
}
