/* Runs the 5 optimizer steps of a reference fixture (the hyperparameters
 * of tools/reference/ (resnet_ and vit_reference.py)) and compares the losses. */
#ifndef GS_TEST_REFERENCE_STEPS_H
#define GS_TEST_REFERENCE_STEPS_H

#include "fixture.h"
#include "nn/params.h"
#include "optim/optimizer.h"

/* Builds the loss of one batch (training mode). */
typedef gs_tensor *(*reference_loss_fn)(gs_context *ctx, void *model, gs_tensor *x, const int32_t *labels);

/* SGD: lr 0.002, momentum 0.9, weight decay 5e-4; AdamW: lr 5e-4, betas
 * (0.9, 0.999), eps 1e-8, weight decay 0.05; weight decay on WEIGHT kinds. */
void reference_run_steps(gs_context *ctx, const gs_param_list *params, reference_loss_fn loss_fn, void *model,
                         const fixture *fx, const int32_t *labels, gs_optimizer_kind kind, float losses[5]);
/* Criterion expectations: each loss within 1e-4 relative of the fixture's. */
void reference_expect_losses(const fixture *fx, gs_optimizer_kind kind, const float losses[5]);

#endif
