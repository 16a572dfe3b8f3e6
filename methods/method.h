/* The interface every self-supervised method implements, one file each
 * (simclr.c, byol.c, ...) and one line in registry.c.
 *
 * A method owns an online encoder (the backbone exported for evaluation),
 * its heads, and any state that is not trained by gradients (target
 * networks, queues, centers).  Each training step the loader provides the
 * views the method asks for (n_views augmentation recipes: two for SimCLR /
 * BYOL / MoCo, 2 global + N local for DINO; several dates of one location
 * for seasonal methods arrive as the dates of a multi-date dataset); the
 * method returns the loss of that batch, recorded on the tape; after the
 * optimizer step it updates its non-gradient state (EMA, queue, center). */
#ifndef GS_METHODS_METHOD_H
#define GS_METHODS_METHOD_H

#include "augment.h"
#include "loader.h"
#include "nn/backbone.h"
#include "nn/params.h"
#include "optim/optimizer.h"

#include <stddef.h>

#define GS_METHOD_MAX_VIEWS 12

typedef struct gs_method_config {
    gs_backbone_config backbone; /* num_classes is ignored (the encoder outputs features) */
    int image_size;              /* global view size */
    int bands;
    int64_t total_steps;         /* for momentum / temperature schedules */
    int64_t steps_per_epoch;     /* DINO: the last layer is frozen for the first epoch */
    int64_t dataset_size;        /* training images (MoCo: its queue holds at most one epoch of keys) */
    int batch;                   /* images per step */
    /* Method hyperparameters; 0 takes the method's paper default. */
    int proj_hidden, proj_dim;
    float temperature;
    float momentum;              /* target-network EMA base */
    int queue_size;              /* MoCo */
    int local_crops;             /* DINO: small crops besides the 2 global ones */
    /* The method's own settings as "KEY=VALUE,..." (SeCo's date sampling,
     * SatMAE's variant, ...), each key one of ops->option_keys; NULL or ""
     * takes every default.  Read with gs_method_option_*; gs_method_init
     * refuses a key the method does not declare. */
    const char *options;
} gs_method_config;

/* One setting a method reads from gs_method_config.options. */
typedef struct gs_method_option_info {
    const char *key;
    const char *help; /* what it does, the values it takes and its default */
} gs_method_option_info;

typedef struct gs_method gs_method;

/* The general settings of gs_method_config a method reads (ops->settings):
 * a value given for one it does not read would change nothing, so the
 * command line refuses it instead of recording it as if it had applied. */
enum {
    GS_METHOD_USES_TEMPERATURE = 1 << 0, /* temperature */
    GS_METHOD_USES_QUEUE = 1 << 1,       /* queue_size */
    GS_METHOD_USES_EMA = 1 << 2,         /* momentum: a target network's EMA base */
    GS_METHOD_USES_HEAD = 1 << 3,        /* proj_hidden, proj_dim */
    GS_METHOD_USES_LOCAL_CROPS = 1 << 4, /* local_crops */
};

typedef struct gs_method_ops {
    const char *name;
    const char *summary;
    /* The paper's optimizer, learning rate (for batch 256) and weight decay. */
    gs_optimizer_kind optimizer;
    float lr, weight_decay;
    /* Takes multi-date data (SeCo): each view is then (N, dates, C, H, W),
     * the dates of one location.  Single-date methods refuse such data. */
    bool multi_date;
    unsigned settings; /* GS_METHOD_USES_* */
    /* Runs across the ranks of a data-parallel job (harness/dist) as its
     * paper's multi-GPU code does: its cross-sample parts (a contrastive
     * loss over the global batch, queues, centers) see every rank's samples.
     * False: pretraining refuses several ranks rather than train it on
     * per-rank batches without saying so. */
    bool data_parallel;
    /* The augmentation recipe of each view for images of `bands` bands. */
    gs_status (*views)(const gs_method_config *cfg, gs_augment_config *views, int *n_views, gs_error *err);
    gs_status (*init)(gs_context *ctx, gs_method *m);
    /* views[v]: (N, C, H, W).  Returns the scalar loss, recorded on the tape. */
    gs_tensor *(*loss)(gs_context *ctx, gs_method *m, gs_tensor *const *views, int n_views, int64_t step);
    /* Between backward and the optimizer step (gradient clipping, weight
     * decay schedules); may be NULL. */
    gs_status (*before_update)(gs_context *ctx, gs_method *m, gs_optimizer *opt, int64_t step);
    /* After the optimizer step (EMA updates, queues, centers); may be NULL. */
    gs_status (*after_step)(gs_context *ctx, gs_method *m, int64_t step);
    void (*free)(gs_method *m); /* frees m->impl; may be NULL */
    /* The learning rate at `step` of `total_steps` for a peak `base`, when
     * the method's recipe has its own schedule (FALSE's warm restarts);
     * NULL: the pretraining loop's 10% linear warm-up, then cosine to 0. */
    double (*lr_at)(double base, int64_t step, int64_t total_steps);
    const char *schedule; /* what lr_at does, for --print-config; NULL with lr_at NULL */
    /* The keys gs_method_config.options may set, ending with {NULL}; NULL: none. */
    const gs_method_option_info *options;
    /* Evaluation (kNN, linear probe, fine-tuning) on features the way the
     * method's authors compute them, when that is not the exported encoder's
     * own forward:
     * x (N, C, H, W), normalized, -> (N, encoder width), on a method built
     * from its checkpoint (gs_method_load_pretrained).  NULL: the encoder's
     * forward.  features_name labels the results' settings column
     * (features=<name>); describe_features says in words what is pooled. */
    gs_tensor *(*features)(gs_context *ctx, gs_method *m, gs_tensor *x);
    const char *features_name;
    const char *(*describe_features)(const gs_method *m);
    /* The parameters features reads outside m->encoder (SatMAE's group patch
     * embeddings, kept in m->heads), appended to `out` so that fine-tuning
     * on those features trains them with the encoder.  NULL: none. */
    gs_status (*feature_params)(gs_context *ctx, gs_method *m, gs_param_list *out);
    /* Fine-tuning the exported ViT: the authors' layer-wise lr decay
     * (protocols/finetune.h), e.g. SatMAE's 0.75; 0: none. */
    float finetune_layer_decay;
    /* A picture of what the method learned to do, from its last step (SatMAE:
     * masked input | reconstruction | target): RGB bytes, malloc'd.  The
     * pretraining loop writes it into the run folder as picture_name after
     * the last step.  NULL: none. */
    gs_status (*picture)(gs_context *ctx, gs_method *m, uint8_t **rgb, int *width, int *height);
    const char *picture_name;
} gs_method_ops;

/* GS_ERR_ARGUMENT naming the first setting of cfg that is given (> 0) but
 * that `ops` does not read, with the methods that do read it. */
gs_status gs_method_settings_check(const gs_method_ops *ops, const gs_method_config *cfg, gs_error *err);

struct gs_method {
    const gs_method_ops *ops;
    gs_method_config config;
    gs_backbone encoder;     /* online encoder: what evaluation uses */
    gs_param_list heads;     /* projector / predictor parameters */
    gs_param_list trainable; /* encoder + heads: what the optimizer updates */
    gs_param_list state;     /* checkpointed, not trained: targets, queues, centers */
    float embedding_std;     /* collapse monitor: mean per-dimension std of the normalized embeddings */
    /* This step's batch during pretraining: each view's crop boxes and flips
     * (region correspondences for GLCNet-style losses), sample indices,
     * labels when present.  NULL when the views come from elsewhere (tests). */
    const gs_batch *batch;
    /* The data bands the encoder takes when the method picks some itself
     * (SeCo's B4, B3, B2 out of 13), so the checkpoint records their names;
     * NULL: every band of the data. */
    const int *input_bands;
    int n_input_bands;
    void *impl;
};

/* By canonical name or an accepted alias ("moco" finds "mocov2"). */
const gs_method_ops *gs_method_find(const char *name);
/* The default length of a queue of keys (MoCo v2, SeCo): the paper's
 * `paper` keys, capped on a small dataset at half an epoch in whole batches
 * so the queue does not hold several of an image's own older keys. */
int64_t gs_method_queue_default(const gs_method_config *cfg, int64_t paper);

/* The i-th registered method, NULL past the last: for listings. */
const gs_method_ops *gs_method_at(int i);
/* "simclr, mocov2, ..." (every canonical name) into buf, for messages; returns buf. */
const char *gs_method_names(char *buf, size_t size);
/* The methods that run across processes (ops->data_parallel), for messages. */
const char *gs_method_data_parallel_names(char *buf, size_t size);
/* The canonical names, then the aliases: what --method accepts. */
const char *gs_method_names_with_aliases(char *buf, size_t size);

/* A momentum-averaged copy of the online network: BYOL's target, MoCo's key
 * encoder, DINO's teacher. */
typedef struct gs_method_target {
    gs_backbone encoder;
    gs_param_list network; /* target encoder + heads, gradient-free; also appended to m->state */
    gs_param_list online;  /* the online parameters they follow, entry by entry */
} gs_method_target;

/* Builds t->encoder like m->encoder and pairs it and `heads` (the target's
 * heads, built like the first heads->count entries of m->heads) with their
 * online counterparts, then copies the online values in. */
gs_status gs_method_target_init(gs_context *ctx, gs_method *m, const gs_param_list *heads, gs_method_target *t);
/* target = momentum * target + (1 - momentum) * online (gs_ema_update). */
gs_status gs_method_target_update(gs_context *ctx, gs_method_target *t, double momentum);
void gs_method_target_free(gs_method_target *t);
/* The value of `key` in cfg->options copied into buf (NULL when absent). */
const char *gs_method_option(const gs_method_config *cfg, const char *key, char *buf, size_t size);
/* Typed readers: *out keeps the default when the key is absent; a value
 * that does not parse, or is out of [lo, hi] / not among `choices`
 * ("a|b|c"; *out is then the index), is GS_ERR_ARGUMENT naming the key. */
gs_status gs_method_option_float(gs_context *ctx, const gs_method_config *cfg, const char *key, double lo, double hi,
                                 float *out);
gs_status gs_method_option_int(gs_context *ctx, const gs_method_config *cfg, const char *key, long lo, long hi,
                               int *out);
gs_status gs_method_option_choice(gs_context *ctx, const gs_method_config *cfg, const char *key, const char *choices,
                                  int *out);
/* Checks that every key in `options` is one of ops->options (an error lists
 * them) and that the text is KEY=VALUE pairs. */
gs_status gs_method_options_check(const gs_method_ops *ops, const char *options, gs_error *err);

/* Builds the encoder, then the method's own parts (ops->init). */
gs_status gs_method_init(gs_context *ctx, gs_method *m, const gs_method_ops *ops, const gs_method_config *cfg);
/* After gs_method_init with the configuration the checkpoint was trained
 * with: its "model" and "heads" groups into the encoder and the heads (the
 * optimizer and method state in the file are not needed to compute
 * features).  For ops->features at evaluation. */
gs_status gs_method_load_pretrained(gs_context *ctx, gs_method *m, const char *checkpoint);
void gs_method_free(gs_method *m);

/* One training step on views already in the step's arena (call
 * gs_step_begin before making them): zero the gradients, the method's loss,
 * backward, before_update, the optimizer step at learning rate lr,
 * after_step.  Returns the loss (valid until the next gs_step_begin), or
 * NULL with the error in the context. */
gs_tensor *gs_method_step(gs_context *ctx, gs_method *m, gs_optimizer *opt, gs_tensor *const *views, int n_views,
                          int64_t step, float lr);

/* The collapse monitor: mean over dimensions of the std over the batch of
 * the L2-normalized rows of z (N, D).  Collapse drives it to 0; healthy
 * embeddings sit near 1/sqrt(D). */
float gs_embedding_std(const gs_tensor *z);

#endif
