/* geossl export --checkpoint RUN --out FILE.safetensors: the encoder of a
 * pretraining run as safetensors under torchvision's (ResNet) or timm's
 * (ViT) tensor names, so the weights leave geossl for PyTorch:
 *
 *   model = torchvision.models.resnet18()
 *   model.load_state_dict(safetensors.torch.load_file(FILE), strict=False)
 *
 * Only the encoder is written: the heads a method trains (projectors,
 * predictors, decoders) and the classifier (fc / head) are not in it, so a
 * strict load into a classifier reports fc.weight and fc.bias missing and
 * nothing else.  The metadata say which network the tensors fit
 * ("architecture"), the bands it takes in order ("band_names"), the method
 * and the pretraining data. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "eval_common.h"
#include "io/checkpoint.h"
#include "io/weights_import.h"
#include "method.h"
#include "nn/backbone.h"
#include "options.h"

/* Trained values only, as PyTorch counts parameters (batchnorm's running
 * statistics are buffers there too), so the number matches what a user
 * sees on the other side. */
static int64_t count_parameters(const gs_param_list *params) {
    int64_t n = 0;
    for (int i = 0; i < params->count; i++)
        if (params->items[i].kind != GS_PARAM_BUFFER) n += params->items[i].tensor->numel;
    return n;
}

/* The network the checkpoint's "model" group was saved from. */
static gs_backbone_config checkpoint_backbone(const gs_cli_checkpoint *c) {
    int stem = gs_option_choice(GS_STEM_NAMES, c->stem);
    return (gs_backbone_config){.name = c->backbone, .bands = c->bands, .img_size = c->size, .width = c->width,
                                .stem = (gs_stem)(stem >= 0 ? stem : 0), .patch = c->patch,
                                .pos = GS_POS_LEARNED, .num_classes = 0};
}

int gs_cmd_export(int argc, char **argv) {
    const char *checkpoint = NULL, *out = NULL;
    bool force = false;
    const gs_option options[] = {
        {"checkpoint", GS_OPT_STRING, &checkpoint, "PATH", "a pretrain run folder or its checkpoint file (required)",
         GS_ANY_TEXT},
        {"out", GS_OPT_STRING, &out, "FILE", "the safetensors file to write (required)", GS_ANY_TEXT},
        {"force", GS_OPT_FLAG, &force, "", "replace FILE when it exists", GS_NO_VALUE},
    };
    const char *summary =
        "Writes the encoder of a pretraining run as safetensors with torchvision (ResNet) or timm (ViT)\n"
        "tensor names, loadable in PyTorch with safetensors.torch.load_file and load_state_dict.  Only the\n"
        "encoder: no classifier (fc / head) and none of the method's heads.  The metadata name the\n"
        "architecture, the bands in order, the method and the pretraining data.";
    int parsed = gs_options_parse("export", summary, options, (int)(sizeof options / sizeof *options), argc, argv);
    if (parsed) return parsed == 1 ? 0 : 2;
    if (!checkpoint || !out) {
        fprintf(stderr, "geossl export: give --checkpoint RUN and --out FILE.safetensors\n");
        return 2;
    }
    if (!force && access(out, F_OK) == 0) {
        fprintf(stderr, "geossl export: %s exists: pass --force to replace it\n", out);
        return 2;
    }
    gs_cli_checkpoint ck;
    if (!gs_cli_checkpoint_read("export", checkpoint, &ck)) return 1;
    if (!ck.has_backbone || ck.bands <= 0) {
        fprintf(stderr, "geossl export: %s does not record its backbone and bands (a checkpoint written before geossl "
                        "recorded them): the network to export cannot be rebuilt\n", ck.path);
        return 1;
    }
    gs_context ctx;
    gs_context_init(&ctx, NULL);
    gs_backbone bb = {0};
    gs_backbone_config config = checkpoint_backbone(&ck);
    /* Strict: every tensor of the model group must be a tensor of this
     * encoder and the other way round, so the file is the whole encoder. */
    gs_checkpoint_group group = {"model", NULL};
    gs_checkpoint_load_options load = {.architecture = NULL, .allow_unused = false};
    char parameters[32], bands[8];
    if (gs_backbone_init(&ctx, &bb, &config) == GS_OK) {
        group.params = bb.params;
        if (gs_checkpoint_load(&ctx, ck.path, &group, 1, NULL, &load) == GS_OK) {
            snprintf(parameters, sizeof parameters, "%lld", (long long)count_parameters(bb.params));
            snprintf(bands, sizeof bands, "%d", ck.bands);
            const gs_st_meta extra[] = {
                {"band_names", ck.band_names},
                {"bands", bands},
                {"method", ck.method},
                {"pretrain_data", ck.pretrain_data},
                {"checkpoint", ck.path},
            };
            gs_weights_export_meta(&ctx, out, bb.params, bb.arch, extra, (int)(sizeof extra / sizeof *extra));
        }
    }
    int code = 0;
    if (gs_failed(&ctx)) {
        fprintf(stderr, "geossl export: %s\n", ctx.error);
        code = 1;
    } else {
        printf("wrote %s: the %s encoder of %s (%s, %d band%s%s%s), %d tensors, %s parameters\n", out, ck.backbone,
               ck.path, ck.method, ck.bands, ck.bands == 1 ? "" : "s", ck.band_names[0] ? " " : "", ck.band_names,
               bb.params->count, parameters);
        const gs_method_ops *ops = gs_method_find(ck.method);
        if (ops && ops->features)
            fprintf(stderr, "geossl export: note: %s evaluates on its own features (%s), which need its heads; the file "
                            "holds the encoder alone\n", ops->name, ops->features_name);
    }
    gs_backbone_free(&bb);
    gs_context_free(&ctx);
    return code;
}
