/* A small model and optimizer state saved and loaded as checkpoints, for
 * the checkpoint tests (checkpoint_io.c: round trips and mismatches;
 * checkpoint_hostile.c: damaged files and full disks). */
#ifndef GS_TESTS_CHECKPOINT_FIXTURE_H
#define GS_TESTS_CHECKPOINT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/checkpoint.h"

#define ARCH "resnet18 bands=3 width=64 stem=imagenet"
#define CONFIG "method = \"byol\"\n[optim]\nlr = 0.2\nnote = \"bändë, ☃\"\n"

typedef struct checkpoint_fixture {
    gs_context ctx;
    gs_param_list model, optim;
    gs_checkpoint_group groups[2];
} checkpoint_fixture;

/* build: odd shapes, a 0-d tensor, dotted names; last_cols sets the last
 * tensor's shape.  fill_values: random plus -0, denormals, extremes.
 * temp_file / remove_temp: a file in its own temporary folder.  reseal: a
 * new digest after changing the file with libhdf5. */
void checkpoint_fixture_build(checkpoint_fixture *f, uint64_t seed, int64_t last_cols);
void checkpoint_fixture_free(checkpoint_fixture *f);
void checkpoint_fixture_fill_values(checkpoint_fixture *f);
void checkpoint_fixture_fill_constant(checkpoint_fixture *f, float value);
bool checkpoint_lists_same_bits(const gs_param_list *a, const gs_param_list *b);
bool checkpoint_list_all_equal(const gs_param_list *list, float value);
const char *checkpoint_temp_file(char *buf, size_t size, const char *name);
void checkpoint_remove_temp(const char *path);
void checkpoint_reseal(const char *path);
void checkpoint_fixture_save(checkpoint_fixture *f, const char *path, int64_t step);
/* Loads path into a fresh fixture g filled with 7.0: the load fails with
 * `expected`, changes nothing and names the path. */
void checkpoint_expect_failed_load(const char *path, int64_t last_cols, const gs_checkpoint_load_options *options,
                                   gs_status expected, checkpoint_fixture *g);

#endif
