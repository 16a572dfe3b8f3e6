/* Importing PyTorch weights from safetensors into our backbones and
 * exporting them back.  Fixtures (tools/reference/safetensors_reference.py):
 * a torchvision ResNet-18 (width 8, 4 bands) saved with DataParallel's
 * "module." prefix and int64 num_batches_tracked, and a timm-style ViT saved
 * as F16; their eval-mode outputs must be reproduced within 1e-4.
 *
 * With GEOSSL_SAFETENSORS_EXPORT=DIR the export test also leaves its files in
 * DIR for `safetensors_reference.py --check DIR` (PyTorch loads them). */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "io/safetensors.h"
#include "io/weights_import.h"
#include "nn/resnet.h"
#include "nn/vit.h"
#include "reference_model.h"
#include "test_paths.h"

#define RESNET_FILE "st_resnet18_module.safetensors"
#define VIT_FILE "st_vit_f16.safetensors"

/* Collects warnings, so tests can see what the importer reported. */
typedef struct log_capture {
    char text[2048];
    int warnings;
} log_capture;

static void capture_sink(void *user, gs_log_level level, const char *line) {
    log_capture *cap = user;
    if (level < GS_LOG_WARN) return;
    cap->warnings++;
    size_t used = strlen(cap->text);
    snprintf(cap->text + used, sizeof cap->text - used, "%s\n", line);
}

typedef struct import_case {
    gs_context ctx;
    log_capture log;
    fixture *io;
    char dir[256];
} import_case;

static void setup(import_case *c) {
    memset(c, 0, sizeof *c);
    gs_context_options options = {.n_threads = 2, .seed = 11,
                                  .log = {.sink = capture_sink, .user = &c->log, .min_level = GS_LOG_WARN}};
    cr_assert_eq(gs_context_init(&c->ctx, &options), GS_OK);
    char path[512];
    c->io = fixture_load(test_fixture_path("st_reference.gsfx", path, sizeof path));
    cr_assert_not_null(c->io, "missing fixture %s", path);
    test_temp_dir(c->dir, sizeof c->dir);
    cr_assert(c->dir[0]);
}

static void teardown(import_case *c) {
    rmdir(c->dir);
    fixture_free(c->io);
    gs_context_free(&c->ctx);
}

static gs_resnet_config resnet_config(int bands, int classes) {
    return (gs_resnet_config){.depth = 18, .in_bands = bands, .width = 8, .stem = GS_STEM_IMAGENET,
                              .num_classes = classes};
}

static gs_vit_config vit_config(int img_size, int classes) {
    return (gs_vit_config){.img_size = img_size, .patch = 8, .in_bands = 4, .dim = 48, .depth = 2, .heads = 3,
                           .mlp_dim = 192, .pos = GS_POS_LEARNED, .num_classes = classes, .ln_eps = 1e-6f};
}

static gs_status import(import_case *c, const char *name, const gs_param_list *params,
                        const gs_weights_import_options *o, gs_weights_import_report *r) {
    char path[512];
    return gs_weights_import(&c->ctx, test_fixture_path(name, path, sizeof path), params, o, r);
}

static double compare_output(import_case *c, gs_tensor *out, const char *ref_name) {
    const fixture_tensor *ref = fixture_get(c->io, ref_name);
    cr_assert_not_null(out, "%s", c->ctx.error);
    cr_assert_eq(out->numel, ref->numel);
    int64_t worst;
    double err = fixture_max_rel_error(out->data, ref->data, ref->numel, fixture_output_floor(ref), &worst);
    cr_expect_leq(err, 1e-4, "%s: relative error %.3g at %lld (%g vs %g)", ref_name, err, (long long)worst,
                  (double)out->data[worst], (double)ref->data[worst]);
    return err;
}

static gs_tensor *resnet_eval(import_case *c, gs_resnet *net) {
    gs_step_begin(&c->ctx);
    bool previous = gs_set_grad_enabled(&c->ctx, false);
    gs_tensor *out = gs_resnet_forward(&c->ctx, net, reference_tensor(&c->ctx, c->io, "resnet/input"), false);
    gs_set_grad_enabled(&c->ctx, previous);
    return out;
}

static gs_tensor *vit_eval(import_case *c, gs_vit *vit) {
    gs_step_begin(&c->ctx);
    bool previous = gs_set_grad_enabled(&c->ctx, false);
    gs_tensor *out = gs_vit_forward(&c->ctx, vit, reference_tensor(&c->ctx, c->io, "vit/input"));
    gs_set_grad_enabled(&c->ctx, previous);
    return out;
}

Test(io_weights_import, torchvision_resnet_with_module_prefix_matches_pytorch) {
    import_case c;
    setup(&c);
    gs_resnet net;
    gs_resnet_config cfg = resnet_config(4, 10);
    cr_assert_eq(gs_resnet_init(&c.ctx, &net, &cfg), GS_OK, "%s", c.ctx.error);
    gs_weights_import_report r;
    cr_assert_eq(import(&c, RESNET_FILE, &net.params, NULL, &r), GS_OK, "%s", c.ctx.error);
    cr_expect_eq(r.loaded, net.params.count, "every tensor, buffers included, comes from the file");
    cr_expect_eq(r.ignored, 20, "torchvision's 20 num_batches_tracked buffers are ignored");
    cr_expect_eq(r.unused, 0);
    cr_expect_eq(r.head_kept, 0);
    cr_expect_str_eq(r.stripped, "module.");
    cr_expect_eq(c.log.warnings, 0, "%s", c.log.text);
    double err = compare_output(&c, resnet_eval(&c, &net), "resnet/output");
    fprintf(stderr, "resnet18 imported from %s: eval logits relative error %.2g\n", RESNET_FILE, err);
    gs_resnet_free(&net);
    teardown(&c);
}

Test(io_weights_import, timm_vit_in_f16_matches_pytorch) {
    import_case c;
    setup(&c);
    gs_vit vit;
    gs_vit_config cfg = vit_config(32, 10);
    cr_assert_eq(gs_vit_init(&c.ctx, &vit, &cfg), GS_OK, "%s", c.ctx.error);
    gs_weights_import_report r;
    cr_assert_eq(import(&c, VIT_FILE, &vit.params, NULL, &r), GS_OK, "%s", c.ctx.error);
    cr_expect_eq(r.loaded, vit.params.count);
    cr_expect_eq(r.unused + r.ignored + r.head_kept, 0);
    cr_expect_str_eq(r.stripped, "");
    double err = compare_output(&c, vit_eval(&c, &vit), "vit/output");
    fprintf(stderr, "timm-style ViT imported from F16 %s: logits relative error %.2g\n", VIT_FILE, err);
    gs_vit_free(&vit);
    teardown(&c);
}

static bool same_bits(const gs_param_list *a, const gs_param_list *b) {
    if (a->count != b->count) return false;
    for (int i = 0; i < a->count; i++) {
        const gs_tensor *x = a->items[i].tensor, *y = b->items[i].tensor;
        if (strcmp(x->name, y->name) || x->numel != y->numel ||
            memcmp(x->data, y->data, (size_t)x->numel * sizeof(float)))
            return false;
    }
    return true;
}

/* Where the export test writes: GEOSSL_SAFETENSORS_EXPORT (kept) or the temp dir. */
static const char *export_path(import_case *c, const char *name, char *buf, size_t size, bool *keep) {
    const char *dir = getenv("GEOSSL_SAFETENSORS_EXPORT");
    *keep = dir && *dir;
    snprintf(buf, size, "%s/%s", *keep ? dir : c->dir, name);
    return buf;
}

Test(io_weights_import, export_then_import_is_bit_identical) {
    import_case c;
    setup(&c);
    gs_resnet a, b;
    gs_resnet_config cfg = resnet_config(4, 10);
    cr_assert_eq(gs_resnet_init(&c.ctx, &a, &cfg), GS_OK);
    cr_assert_eq(gs_resnet_init(&c.ctx, &b, &cfg), GS_OK);
    cr_assert_eq(import(&c, RESNET_FILE, &a.params, NULL, NULL), GS_OK, "%s", c.ctx.error);
    char path[512];
    bool keep;
    export_path(&c, "resnet18_export.safetensors", path, sizeof path, &keep);
    cr_assert_eq(gs_weights_export(&c.ctx, path, &a.params, a.arch), GS_OK, "%s", c.ctx.error);
    gs_weights_import_options strict = {.require_head = true, .unused_is_error = true};
    gs_weights_import_report r;
    cr_assert_eq(gs_weights_import(&c.ctx, path, &b.params, &strict, &r), GS_OK, "%s", c.ctx.error);
    cr_expect(same_bits(&a.params, &b.params), "re-imported parameters differ");
    cr_expect_str_eq(r.architecture, a.arch);
    cr_expect_eq(r.ignored + r.unused + r.head_kept, 0);
    if (!keep) unlink(path);

    gs_vit v, w;
    gs_vit_config vcfg = vit_config(32, 10);
    cr_assert_eq(gs_vit_init(&c.ctx, &v, &vcfg), GS_OK);
    cr_assert_eq(gs_vit_init(&c.ctx, &w, &vcfg), GS_OK);
    cr_assert_eq(import(&c, VIT_FILE, &v.params, NULL, NULL), GS_OK, "%s", c.ctx.error);
    export_path(&c, "vit_export.safetensors", path, sizeof path, &keep);
    cr_assert_eq(gs_weights_export(&c.ctx, path, &v.params, v.arch), GS_OK, "%s", c.ctx.error);
    cr_assert_eq(gs_weights_import(&c.ctx, path, &w.params, &strict, NULL), GS_OK, "%s", c.ctx.error);
    cr_expect(same_bits(&v.params, &w.params), "re-imported ViT parameters differ");
    compare_output(&c, vit_eval(&c, &w), "vit/output");
    if (!keep) unlink(path);
    gs_vit_free(&v);
    gs_vit_free(&w);
    gs_resnet_free(&a);
    gs_resnet_free(&b);
    teardown(&c);
}

/* A copy of every value, to prove a failed import modified nothing. */
static float *snapshot(const gs_param_list *list) {
    size_t total = 0;
    for (int i = 0; i < list->count; i++) total += (size_t)list->items[i].tensor->numel;
    float *copy = malloc(total * sizeof *copy), *p = copy;
    for (int i = 0; i < list->count; i++) {
        memcpy(p, list->items[i].tensor->data, (size_t)list->items[i].tensor->numel * sizeof *p);
        p += list->items[i].tensor->numel;
    }
    return copy;
}

static bool unchanged(const gs_param_list *list, float *copy) {
    const float *p = copy;
    bool same = true;
    for (int i = 0; i < list->count; i++) {
        same = same && !memcmp(p, list->items[i].tensor->data, (size_t)list->items[i].tensor->numel * sizeof *p);
        p += list->items[i].tensor->numel;
    }
    free(copy);
    return same;
}

#define EXPECT_MESSAGE(c, fragment) cr_expect(strstr((c)->ctx.error, fragment), "message '%s' lacks '%s'", (c)->ctx.error, fragment)

Test(io_weights_import, classifier_heads_are_optional) {
    import_case c;
    setup(&c);
    /* A feature backbone: the file's fc is ignored quietly. */
    gs_resnet features;
    gs_resnet_config cfg = resnet_config(4, 0);
    cr_assert_eq(gs_resnet_init(&c.ctx, &features, &cfg), GS_OK);
    gs_weights_import_options strict = {.unused_is_error = true};
    gs_weights_import_report r;
    cr_assert_eq(import(&c, RESNET_FILE, &features.params, &strict, &r), GS_OK, "%s", c.ctx.error);
    cr_expect_eq(r.ignored, 22, "20 num_batches_tracked and fc.weight, fc.bias");
    cr_expect_eq(r.loaded, features.params.count);
    cr_expect_eq(c.log.warnings, 0, "%s", c.log.text);

    /* Another class count: the model keeps its head, with a warning. */
    gs_resnet five;
    cfg = resnet_config(4, 5);
    cr_assert_eq(gs_resnet_init(&c.ctx, &five, &cfg), GS_OK);
    gs_tensor *fc = gs_param_find(&five.params, "fc.weight");
    float before = fc->data[7];
    cr_assert_eq(import(&c, RESNET_FILE, &five.params, NULL, &r), GS_OK, "%s", c.ctx.error);
    cr_expect_eq(r.head_kept, 2);
    cr_expect_eq(r.loaded, five.params.count - 2);
    cr_expect_eq(fc->data[7], before);
    cr_expect(strstr(c.log.text, "fc.weight") && strstr(c.log.text, "(10, 64)"), "%s", c.log.text);
    gs_weights_import_options need_head = {.require_head = true};
    float *copy = snapshot(&five.params);
    cr_expect_eq(import(&c, RESNET_FILE, &five.params, &need_head, NULL), GS_ERR_MISMATCH);
    EXPECT_MESSAGE(&c, "'fc.weight' has shape (10, 64) in the file but (5, 64) in this model");
    cr_expect(unchanged(&five.params, copy), "a failed import modified parameters");
    gs_clear_error(&c.ctx);

    /* A file without a head (exported from the feature backbone). */
    char path[512];
    snprintf(path, sizeof path, "%s/features.safetensors", c.dir);
    cr_assert_eq(gs_weights_export(&c.ctx, path, &features.params, features.arch), GS_OK, "%s", c.ctx.error);
    before = fc->data[7];
    cr_assert_eq(gs_weights_import(&c.ctx, path, &five.params, NULL, &r), GS_OK, "%s", c.ctx.error);
    cr_expect_eq(r.head_kept, 2);
    cr_expect_eq(fc->data[7], before);
    cr_expect_eq(gs_weights_import(&c.ctx, path, &five.params, &need_head, NULL), GS_ERR_MISMATCH);
    EXPECT_MESSAGE(&c, "has no tensor 'fc.weight' (shape (5, 64) in this model)");
    unlink(path);
    gs_resnet_free(&features);
    gs_resnet_free(&five);
    teardown(&c);
}

Test(io_weights_import, leftover_tensors_warn_or_fail_by_option) {
    import_case c;
    setup(&c);
    gs_resnet net;
    gs_resnet_config cfg = resnet_config(4, 10);
    cr_assert_eq(gs_resnet_init(&c.ctx, &net, &cfg), GS_OK);
    /* The model's tensors plus a projector a method would have added. */
    const gs_tensor *tensors[128];
    int n = 0;
    for (int i = 0; i < net.params.count; i++) tensors[n++] = net.params.items[i].tensor;
    gs_tensor *extra = gs_tensor_zeros(&c.ctx, &c.ctx.params, GS_DIMS(3, 2));
    extra->name = "projector.0.weight";
    tensors[n++] = extra;
    char path[512];
    snprintf(path, sizeof path, "%s/extra.safetensors", c.dir);
    cr_assert_eq(gs_safetensors_write(&c.ctx, path, tensors, n, NULL, 0), GS_OK, "%s", c.ctx.error);
    gs_weights_import_report r;
    cr_assert_eq(gs_weights_import(&c.ctx, path, &net.params, NULL, &r), GS_OK, "%s", c.ctx.error);
    cr_expect_eq(r.unused, 1);
    cr_expect_str_eq(r.unused_names, "projector.0.weight");
    cr_expect_eq(c.log.warnings, 1);
    cr_expect(strstr(c.log.text, "1 tensors match nothing") && strstr(c.log.text, "projector.0.weight"), "%s",
              c.log.text);
    gs_weights_import_options strict = {.unused_is_error = true};
    cr_expect_eq(gs_weights_import(&c.ctx, path, &net.params, &strict, NULL), GS_ERR_MISMATCH);
    EXPECT_MESSAGE(&c, "holds 1 tensors this model lacks (projector.0.weight)");
    unlink(path);
    gs_resnet_free(&net);
    teardown(&c);
}

Test(io_weights_import, other_band_counts_and_position_tables_are_clear_mismatches) {
    import_case c;
    setup(&c);
    gs_resnet net;
    gs_resnet_config cfg = resnet_config(13, 10);
    cr_assert_eq(gs_resnet_init(&c.ctx, &net, &cfg), GS_OK);
    float *copy = snapshot(&net.params);
    cr_expect_eq(import(&c, RESNET_FILE, &net.params, NULL, NULL), GS_ERR_MISMATCH);
    EXPECT_MESSAGE(&c, RESNET_FILE ": 'conv1.weight' has shape (8, 4, 7, 7) in the file but (8, 13, 7, 7)");
    EXPECT_MESSAGE(&c, "takes 4 input bands, this one 13 (build the backbone with bands=4");
    /* The option of geossl eval that picks the bands, by name. */
    EXPECT_MESSAGE(&c, "geossl eval --bands chooses 4 of the data's bands by name");
    cr_expect(unchanged(&net.params, copy));
    gs_clear_error(&c.ctx);
    gs_resnet_free(&net);

    gs_vit vit;
    gs_vit_config vcfg = vit_config(48, 10);
    cr_assert_eq(gs_vit_init(&c.ctx, &vit, &vcfg), GS_OK);
    cr_expect_eq(import(&c, VIT_FILE, &vit.params, NULL, NULL), GS_ERR_MISMATCH);
    EXPECT_MESSAGE(&c, "'pos_embed' has shape (1, 17, 48) in the file but (1, 37, 48) in this model");
    EXPECT_MESSAGE(&c, "holds 17 tokens, this model's 37");
    EXPECT_MESSAGE(&c, "interpolating position embeddings is not supported");
    gs_clear_error(&c.ctx);
    gs_vit_free(&vit);

    vcfg = vit_config(32, 10);
    vcfg.in_bands = 3;
    cr_assert_eq(gs_vit_init(&c.ctx, &vit, &vcfg), GS_OK);
    cr_expect_eq(import(&c, VIT_FILE, &vit.params, NULL, NULL), GS_ERR_MISMATCH);
    EXPECT_MESSAGE(&c, "'patch_embed.proj.weight' has shape (48, 4, 8, 8) in the file but (48, 3, 8, 8)");
    EXPECT_MESSAGE(&c, "takes 4 input bands, this one 3");
    EXPECT_MESSAGE(&c, "needs data with 4 bands, all taken with --bands all");
    gs_clear_error(&c.ctx);
    gs_vit_free(&vit);
    teardown(&c);
}

Test(io_weights_import, prefix_lists_are_configurable_and_collisions_refused) {
    import_case c;
    setup(&c);
    gs_resnet net;
    gs_resnet_config cfg = resnet_config(4, 10);
    cr_assert_eq(gs_resnet_init(&c.ctx, &net, &cfg), GS_OK);
    const char *none[] = {""};
    gs_weights_import_options keep_names = {.strip_prefixes = none, .n_strip_prefixes = 0};
    cr_expect_eq(import(&c, RESNET_FILE, &net.params, &keep_names, NULL), GS_ERR_MISMATCH);
    /* The tool that writes the file without the prefix, with the prefix to give it. */
    EXPECT_MESSAGE(&c, "has no tensor 'conv1.weight' (shape (8, 4, 7, 7) in this model) but has "
                       "'module.conv1.weight': write a copy without the prefix with tools/convert-weights.py "
                       "--prefix module. ");
    EXPECT_MESSAGE(&c, RESNET_FILE " OUT.safetensors");
    gs_clear_error(&c.ctx);
    const char *only_module[] = {"module."};
    gs_weights_import_options custom = {.strip_prefixes = only_module, .n_strip_prefixes = 1};
    gs_weights_import_report r;
    cr_expect_eq(import(&c, RESNET_FILE, &net.params, &custom, &r), GS_OK, "%s", c.ctx.error);
    cr_expect_eq(r.loaded, net.params.count);

    /* "model.conv1.weight" and "conv1.weight" both become "conv1.weight". */
    const gs_tensor *tensors[128];
    int n = 0;
    for (int i = 0; i < net.params.count; i++) tensors[n++] = net.params.items[i].tensor;
    gs_tensor *twin = gs_tensor_zeros(&c.ctx, &c.ctx.params, GS_DIMS(8, 4, 7, 7));
    twin->name = "model.conv1.weight";
    tensors[n++] = twin;
    char path[512];
    snprintf(path, sizeof path, "%s/twin.safetensors", c.dir);
    cr_assert_eq(gs_safetensors_write(&c.ctx, path, tensors, n, NULL, 0), GS_OK, "%s", c.ctx.error);
    cr_expect_eq(gs_weights_import(&c.ctx, path, &net.params, NULL, NULL), GS_ERR_MISMATCH);
    EXPECT_MESSAGE(&c, "both map to 'conv1.weight'");
    gs_clear_error(&c.ctx);
    unlink(path);
    gs_resnet_free(&net);
    teardown(&c);
}

Test(io_weights_import, bad_values_and_dtypes_are_refused_without_side_effects) {
    import_case c;
    setup(&c);
    gs_param_list list = {0};
    gs_tensor *w = gs_param_add(&c.ctx, &list, "w", GS_PARAM_WEIGHT, GS_DIMS(2));
    cr_assert_not_null(w);
    w->data[0] = 1.0f;
    w->data[1] = NAN;
    char path[512];
    snprintf(path, sizeof path, "%s/nan.safetensors", c.dir);
    cr_expect_eq(gs_weights_export(&c.ctx, path, &list, NULL), GS_ERR_NONFINITE);
    EXPECT_MESSAGE(&c, "tensor 'w' holds a non-finite value at index 1");
    cr_expect_neq(access(path, F_OK), 0, "a refused export left a file");
    gs_clear_error(&c.ctx);
    const gs_tensor *tensors[] = {w};
    cr_assert_eq(gs_safetensors_write(&c.ctx, path, tensors, 1, NULL, 0), GS_OK);
    w->data[0] = 5.0f;
    w->data[1] = 6.0f;
    cr_expect_eq(gs_weights_import(&c.ctx, path, &list, NULL, NULL), GS_ERR_NONFINITE);
    EXPECT_MESSAGE(&c, "'w' holds a non-finite value at index 1");
    cr_expect(w->data[0] == 5.0f && w->data[1] == 6.0f, "a failed import modified the parameter");
    gs_clear_error(&c.ctx);

    /* The same tensor stored as F64: listed by the reader, refused by the import. */
    FILE *f = fopen(path, "wb");
    const char header[] = "{\"w\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}";
    unsigned char prefix[8] = {(unsigned char)(sizeof header - 1)};
    double values[2] = {1.0, 2.0};
    fwrite(prefix, 1, 8, f);
    fwrite(header, 1, sizeof header - 1, f);
    fwrite(values, sizeof values[0], 2, f);
    fclose(f);
    cr_expect_eq(gs_weights_import(&c.ctx, path, &list, NULL, NULL), GS_ERR_FORMAT);
    EXPECT_MESSAGE(&c, "tensor 'w' in");
    EXPECT_MESSAGE(&c, "is F64; geossl reads F32, F16 and BF16");
    gs_clear_error(&c.ctx);
    unlink(path);

    /* What torch.save writes (a zip archive; a bare pickle before PyTorch
     * 1.6) is named as such, with the converter that reads it. */
    const unsigned char zip[] = {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, pickle[] = {0x80, 2, '}', 'q'};
    const unsigned char *torch_files[] = {zip, pickle};
    size_t torch_sizes[] = {sizeof zip, sizeof pickle};
    for (int i = 0; i < 2; i++) {
        f = fopen(path, "wb");
        fwrite(torch_files[i], 1, torch_sizes[i], f);
        fclose(f);
        cr_expect_eq(gs_weights_import(&c.ctx, path, &list, NULL, NULL), GS_ERR_FORMAT);
        EXPECT_MESSAGE(&c, "is a PyTorch file (torch.save), not safetensors: convert it with tools/convert-weights.py");
        gs_clear_error(&c.ctx);
    }
    unlink(path);

    cr_expect_eq(gs_weights_import(&c.ctx, path, &list, NULL, NULL), GS_ERR_IO);
    EXPECT_MESSAGE(&c, "cannot open weights file");
    gs_param_list_free(&list);
    teardown(&c);
}
