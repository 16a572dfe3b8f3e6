/* The configuration file of `geossl run SUITE`: which grid of methods x
 * evaluation datasets x protocols x label fractions x seeds to run, and how
 * to pretrain.
 *
 * The format is one `key = value` per line; '#' starts a comment (to the end
 * of the line); lists are comma-separated.  For example:
 *
 *   name = EuroSAT sample
 *   backbone = resnet18
 *   methods = random, simclr, byol       # random: the random-init baseline
 *   pretrain_data = eurosat-rgb:../shared/data/eurosat-rgb
 *   epochs = 20
 *   eval_data = eurosat-rgb:../shared/data/eurosat-rgb
 *   protocols = knn, linear
 *   label_fractions = 100%
 *   seeds = 0, 1, 2
 *
 * Paths are relative to the working directory, as on the command line.
 * Every error names the file and line ("suite.conf:7: unknown key 'epoch'
 * (did you mean 'epochs'?)"); a missing required key names the file. */
#ifndef GS_CLI_SUITE_CONFIG_H
#define GS_CLI_SUITE_CONFIG_H

#include "config_file.h"
#include <stdbool.h>

#include "core/error.h"
#include "evaluate.h"

#define GS_SUITE_MAX_ITEMS 16 /* per list */
#define GS_SUITE_MAX_PATH 1024

typedef struct gs_suite_config {
    char name[128];                 /* report title [the file's name without folder and extension] */
    char out[GS_SUITE_MAX_PATH];    /* run folder [runs/<file name without extension>] */
    /* The encoder. */
    char backbone[32];              /* resnet18 | resnet50 | vit-tiny | vit-small [resnet18] */
    int width;                      /* 0: standard */
    int patch;                      /* ViT patch size [8] */
    bool small_stem;                /* stem = small | imagenet [imagenet] */
    /* Pretraining: one run per method but "random". */
    char methods[GS_SUITE_MAX_ITEMS][32];
    int n_methods;
    char pretrain_data[GS_SUITE_MAX_PATH]; /* FORMAT:PATH; required when a method pretrains */
    int epochs, batch, size;               /* [20], [64], [0: the dataset's] */
    /* Evaluation cells. */
    char eval_data[GS_SUITE_MAX_ITEMS][GS_SUITE_MAX_PATH];
    int n_eval_data;
    gs_protocol protocols[GS_SUITE_MAX_ITEMS];
    int n_protocols;
    double label_fractions[GS_SUITE_MAX_ITEMS]; /* (0, 1] [100%] */
    int n_label_fractions;
    long long seeds[GS_SUITE_MAX_ITEMS];        /* [0] */
    int n_seeds;
    int finetune_epochs;                        /* [0: the protocol's default, 10] */
    int eval_batch;                             /* [0: the protocol's default] */
    int threads, workers;                       /* [0: all cores], [2] */
} gs_suite_config;

/* Reads and checks `path`.  Errors are GS_ERR_ARGUMENT ("PATH:LINE: what")
 * or GS_ERR_IO when the file cannot be read. */
gs_status gs_suite_config_load(const char *path, gs_suite_config *out, gs_error *err);
/* The same with --set KEY=VALUE overrides applied over the file (NULL: none);
 * an unknown key or bad value is an error naming it. */
gs_status gs_suite_config_load_with(const char *path, const gs_config_pairs *overrides, gs_suite_config *out,
                                    gs_error *err);
/* Data paths under "../shared/data" (the suites' spelling, relative to the
 * checkout) are taken from shared_dir instead when it is set and not empty
 * ($GEOSSL_SHARED_DATA, as the tests read it).  GS_ERR_ARGUMENT when a path
 * would not fit. */
gs_status gs_suite_config_resolve_shared(gs_suite_config *c, const char *shared_dir, gs_error *err);
gs_status gs_suite_config_parse_with(const char *text, const char *path, const gs_config_pairs *overrides,
                                     gs_suite_config *out, gs_error *err);
/* The same for text in memory; `path` names it in errors and gives the
 * defaults of `name` and `out`. */
gs_status gs_suite_config_parse(const char *text, const char *path, gs_suite_config *out, gs_error *err);

/* A summary of the format for `geossl run --help`. */
extern const char GS_SUITE_CONFIG_HELP[];

#endif
