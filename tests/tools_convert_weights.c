/* tools/convert-weights.py turns a MoCo-style checkpoint (the encoder behind
 * "module.encoder_q.", a momentum encoder, a queue, a projection head) into
 * the safetensors file geossl imports strictly: the encoder's tensors,
 * unchanged, under torchvision's names, the rest dropped and listed.  A
 * .safetensors input needs Python only; a .pth pickle needs PyTorch too.
 * Each test skips, saying why, where /usr/bin/python3 (or $GEOSSL_PYTHON)
 * or its torch is missing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/context.h"
#include "io/safetensors.h"
#include "io/weights_import.h"
#include "nn/resnet.h"
#include "test_paths.h"

#define SCRIPT GEOSSL_TOOLS_DIR "/convert-weights.py"

static const char *python(void) {
    const char *env = getenv("GEOSSL_PYTHON");
    return env && *env ? env : "/usr/bin/python3";
}

/* Runs `python args` with stdout and stderr into out; the exit status. */
static int run_python(const char *args, char *out, size_t size) {
    char command[4096];
    snprintf(command, sizeof command, "'%s' %s 2>&1", python(), args);
    FILE *p = popen(command, "r");
    cr_assert_not_null(p, "cannot run %s", command);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void require_python(bool with_torch) {
    if (access(python(), X_OK) != 0) cr_skip_test("%s is absent: tools/convert-weights.py was not run", python());
    char out[512];
    if (with_torch && run_python("-c 'import torch'", out, sizeof out) != 0)
        cr_skip_test("%s has no torch (Debian: python3-torch): the .pth conversion was not run", python());
}

typedef struct scene {
    gs_context ctx;
    char dir[256], plain[320], moco[320], out[320];
    gs_resnet net; /* the encoder whose tensors go in and must come out */
} scene;

static void setup(scene *s) {
    memset(s, 0, sizeof *s);
    gs_context_options co = {.n_threads = 1, .seed = 5};
    cr_assert_eq(gs_context_init(&s->ctx, &co), GS_OK);
    cr_assert(test_temp_dir(s->dir, sizeof s->dir)[0]);
    snprintf(s->plain, sizeof s->plain, "%s/plain.safetensors", s->dir);
    snprintf(s->out, sizeof s->out, "%s/converted.safetensors", s->dir);
    gs_resnet_config cfg = {.depth = 18, .in_bands = 3, .width = 8, .stem = GS_STEM_IMAGENET, .num_classes = 0};
    cr_assert_eq(gs_resnet_init(&s->ctx, &s->net, &cfg), GS_OK, "%s", s->ctx.error);
    /* Running statistics that differ from their init, so a buffer mixed up is seen. */
    for (int i = 0; i < s->net.params.count; i++) {
        gs_tensor *t = s->net.params.items[i].tensor;
        for (int64_t k = 0; k < t->numel; k++) t->data[k] += 0.001f * (float)(k % 13) + 0.01f * (float)i;
    }
}

static void teardown(scene *s) {
    gs_resnet_free(&s->net);
    gs_context_free(&s->ctx);
    test_remove_tree(s->dir);
}

/* The converted file imports with no prefix stripped, nothing unused, every
 * tensor equal to the encoder's. */
static void expect_same_encoder(scene *s) {
    gs_resnet back;
    gs_resnet_config cfg = {.depth = 18, .in_bands = 3, .width = 8, .stem = GS_STEM_IMAGENET, .num_classes = 0};
    cr_assert_eq(gs_resnet_init(&s->ctx, &back, &cfg), GS_OK);
    const char *none[] = {""};
    gs_weights_import_options strict = {.strip_prefixes = none, .n_strip_prefixes = 0, .unused_is_error = true};
    gs_weights_import_report r;
    cr_assert_eq(gs_weights_import(&s->ctx, s->out, &back.params, &strict, &r), GS_OK, "%s", s->ctx.error);
    cr_expect_eq(r.loaded, back.params.count);
    for (int i = 0; i < back.params.count; i++) {
        const gs_tensor *a = s->net.params.items[i].tensor, *b = back.params.items[i].tensor;
        cr_expect_eq(memcmp(a->data, b->data, (size_t)a->numel * sizeof(float)), 0, "%s differs", a->name);
    }
    gs_resnet_free(&back);
}

/* The encoder's tensors under `prefix`, a momentum copy under "encoder_k.",
 * a queue and an MLP head "encoder_q.fc.0.weight", in safetensors. */
static void write_moco_safetensors(scene *s, const char *path) {
    int n = s->net.params.count;
    const gs_tensor **tensors = calloc((size_t)(2 * n + 2), sizeof *tensors);
    gs_tensor *copies = calloc((size_t)(2 * n + 2), sizeof *copies);
    char (*names)[128] = calloc((size_t)(2 * n + 2), sizeof *names);
    cr_assert(tensors && copies && names);
    for (int i = 0; i < 2 * n; i++) {
        copies[i] = *s->net.params.items[i % n].tensor;
        snprintf(names[i], sizeof names[i], "%s%s", i < n ? "encoder_q." : "encoder_k.", copies[i].name);
        copies[i].name = names[i];
        tensors[i] = &copies[i];
    }
    gs_tensor *queue = gs_tensor_zeros(&s->ctx, &s->ctx.params, GS_DIMS(16, 4));
    gs_tensor *head = gs_tensor_zeros(&s->ctx, &s->ctx.params, GS_DIMS(4, 64));
    queue->name = "queue";
    head->name = "encoder_q.fc.0.weight";
    tensors[2 * n] = queue;
    tensors[2 * n + 1] = head;
    cr_assert_eq(gs_safetensors_write(&s->ctx, path, tensors, 2 * n + 2, NULL, 0), GS_OK, "%s", s->ctx.error);
    free(tensors);
    free(copies);
    free(names);
}

Test(tools_convert_weights, a_safetensors_file_loses_its_prefix_without_torch) {
    require_python(false);
    scene s;
    setup(&s);
    char moco[320], args[2048], out[8192];
    snprintf(moco, sizeof moco, "%s/moco.safetensors", s.dir);
    write_moco_safetensors(&s, moco);
    /* Without the encoder's prefix nothing is the encoder: refused, naming --prefix. */
    snprintf(args, sizeof args, "'%s' '%s' '%s'", SCRIPT, moco, s.out);
    cr_expect_eq(run_python(args, out, sizeof out), 1, "%s", out);
    cr_expect(strstr(out, "--prefix") && strstr(out, "encoder_q.*"), "%s", out);
    cr_expect_neq(access(s.out, F_OK), 0, "a failed conversion left %s", s.out);
    snprintf(args, sizeof args, "'%s' --prefix encoder_q. '%s' '%s'", SCRIPT, moco, s.out);
    cr_assert_eq(run_python(args, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "encoder_k.*") && strstr(out, "queue") && strstr(out, "fc.*"), "the dropped: %s", out);
    expect_same_encoder(&s);
    /* An existing output is kept unless --force. */
    cr_expect_eq(run_python(args, out, sizeof out), 1, "%s", out);
    cr_expect(strstr(out, "--force"), "%s", out);
    teardown(&s);
}

Test(tools_convert_weights, a_moco_pth_checkpoint_becomes_the_encoder) {
    require_python(true);
    scene s;
    setup(&s);
    cr_assert_eq(gs_weights_export(&s.ctx, s.plain, &s.net.params, s.net.arch), GS_OK, "%s", s.ctx.error);
    /* The checkpoint a MoCo v2 training script saves: {'epoch', 'arch',
     * 'state_dict': {'module.encoder_q.*', 'module.encoder_k.*',
     * 'module.queue', 'module.queue_ptr'}}, its tensors read from the plain file. */
    char pth[320], code[2048], args[4096], out[8192];
    snprintf(pth, sizeof pth, "%s/moco.pth.tar", s.dir);
    snprintf(code, sizeof code,
             "import json, struct, torch\n"
             "raw = open('%s', 'rb').read()\n"
             "n = struct.unpack('<Q', raw[:8])[0]\n"
             "header = json.loads(raw[8:8 + n]); header.pop('__metadata__')\n"
             "sd = {}\n"
             "for k, v in header.items():\n"
             "    b, e = v['data_offsets']\n"
             "    t = torch.frombuffer(bytearray(raw[8 + n + b:8 + n + e]), dtype=torch.float32).reshape(v['shape'])\n"
             "    sd['module.encoder_q.' + k] = t\n"
             "    sd['module.encoder_k.' + k] = t.clone()\n"
             "sd['module.encoder_q.fc.0.weight'] = torch.zeros(4, 64)\n"
             "sd['module.queue'] = torch.randn(16, 4)\n"
             "sd['module.queue_ptr'] = torch.zeros(1, dtype=torch.long)\n"
             "torch.save({'epoch': 200, 'arch': 'resnet18', 'state_dict': sd}, '%s')\n",
             s.plain, pth);
    char script_file[400];
    snprintf(script_file, sizeof script_file, "%s/make_pth.py", s.dir);
    FILE *f = fopen(script_file, "w");
    cr_assert_not_null(f);
    fputs(code, f);
    fclose(f);
    snprintf(args, sizeof args, "'%s'", script_file);
    cr_assert_eq(run_python(args, out, sizeof out), 0, "%s", out);
    snprintf(args, sizeof args, "'%s' --prefix encoder_q. '%s' '%s'", SCRIPT, pth, s.out);
    cr_assert_eq(run_python(args, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "module.") && strstr(out, "encoder_q."), "the stripped prefixes: %s", out);
    cr_expect(strstr(out, "encoder_k.*") && strstr(out, "queue_ptr"), "the dropped: %s", out);
    expect_same_encoder(&s);
    teardown(&s);
}
