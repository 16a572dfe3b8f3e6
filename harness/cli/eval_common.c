#include "eval_common.h"

#include <stdio.h>
#include <stdlib.h>

#include "io/checkpoint.h"
#include "io/weights_import.h"
#include "provenance.h"
#include "results_store.h"

gs_status gs_cli_load_encoder(gs_context *ctx, gs_backbone *bb, const gs_backbone_config *config,
                              const char *checkpoint, const char *weights) {
    gs_backbone_config bc = *config;
    bc.num_classes = 0;
    if (gs_backbone_init(ctx, bb, &bc) != GS_OK) return ctx->status;
    if (checkpoint) {
        gs_checkpoint_group group = {"model", bb->params};
        gs_checkpoint_load_options options = {.architecture = NULL, .allow_unused = true};
        return gs_checkpoint_load(ctx, checkpoint, &group, 1, NULL, &options);
    }
    if (weights) {
        gs_weights_import_report report;
        return gs_weights_import(ctx, weights, bb->params, NULL, &report);
    }
    return GS_OK;
}

gs_status gs_cli_append_results(const char *path, const gs_eval_identity *id, const gs_eval_result *r, int threads,
                                double wall_s, gs_error *err) {
    /* The store says "segmentation" where the CLI says "segment". */
    const char *protocol = id->protocol == GS_PROTOCOL_SEGMENT ? "segmentation" : gs_protocol_name(id->protocol);
    char config[512], run_id[256];
    snprintf(config, sizeof config, "eval method=%s backbone=%s data=%s protocol=%s labels=%g seed=%llu", id->method,
             id->backbone, id->eval_data, protocol, id->label_fraction, (unsigned long long)id->seed);
    gs_provenance prov;
    gs_provenance_collect(&prov, config, threads, wall_s);
    snprintf(run_id, sizeof run_id, "%s-%s-%s-%s-%g-s%llu-%s", id->method, id->backbone, id->eval_data, protocol,
             id->label_fraction, (unsigned long long)id->seed, prov.date);
    gs_result_row *rows = calloc((size_t)(r->n_metrics > 0 ? r->n_metrics : 1), sizeof *rows);
    if (!rows) return gs_error_set(err, GS_ERR_MEMORY, "out of memory for %d result rows", r->n_metrics);
    for (int i = 0; i < r->n_metrics; i++) {
        rows[i] = (gs_result_row){.run_id = run_id, .method = id->method, .backbone = id->backbone,
                                  .pretrain_data = id->pretrain_data ? id->pretrain_data : "none",
                                  .eval_data = id->eval_data, .protocol = protocol,
                                  .label_fraction = id->label_fraction, .seed = (long long)id->seed,
                                  .metric = r->metrics[i].name, .value = r->metrics[i].value};
        gs_result_row_set_provenance(&rows[i], &prov);
    }
    gs_status status = gs_results_append(path, rows, (size_t)r->n_metrics, err);
    free(rows);
    return status;
}
