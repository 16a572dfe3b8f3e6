/* Every op of the engine in one include. */
#ifndef GS_OPS_H
#define GS_OPS_H

#include "activation.h"
#include "attention.h"
#include "batchnorm.h"
#include "box_pool.h"
#include "channel_stats.h"
#include "conv2d.h"
#include "elementwise.h"
#include "layernorm.h"
#include "loss.h"
#include "matmul.h"
#include "normalize.h"
#include "pool.h"
#include "reduce.h"
#include "shape.h"
#include "softmax.h"
#include "tokens.h"
#include "upsample.h"

#endif
