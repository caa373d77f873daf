/*
 * The three convolution entry points of eager.h (NHWC x HWIO): each checks its geometry,
 * asks `choose` for the plan of its pass (the algorithms to try, best first; conv.h lists
 * them) and runs it. Every algorithm but the last of a plan may decline a call, and only
 * Winograd does so after looking at the values (an infinite or NaN one).
 */
#include <stdlib.h>
#include <string.h>

#include "conv.h"

typedef enum { FORWARD, INPUT_GRAD, FILTER_GRAD } conv_pass;

typedef enum {
  WINOGRAD,   /* winograd.c */
  PADDED,     /* conv_padded.c */
  DIRECT,     /* conv_direct.c: gathered receptive fields; never declines */
  SMALL,      /* conv_direct.c: the filter gradient of a small filter */
  TRANSPOSED, /* the input gradient as a forward conv of dy (transposed_input_grad) */
  GEMM,       /* conv_gemm.c: takes every geometry */
} conv_algorithm;

typedef struct {
  int count;
  conv_algorithm steps[4];
} conv_plan;

/* One call's operands: forward (a = x, b = filter, out), input gradient (a = filter,
 * b = dy, out = dx), filter gradient (a = x, b = dy, out = dfilter, zeroed). */
typedef struct {
  int32_t dtype;
  const geometry *g;
  const char *a, *b;
  void *out;
} conv_call;

/* The algorithms a pass tries on this geometry, best first. NOTE: the direct kernels beat
 * OpenBLAS on every conv tried while the filter stays cache-sized (conv_direct.c), Winograd
 * beats them where it applies (winograd.c), and the padded kernels beat gathering the
 * receptive fields when channels fill whole vectors (conv_padded.c). */
static conv_plan choose(conv_pass pass, int32_t dtype, const geometry *g) {
  conv_plan plan = {0};
  int pointwise = eager_conv_pointwise(g), f32 = dtype == EAGER_F32;
  switch (pass) {
  case FORWARD:
    if (!pointwise && eager_direct_fits(g, eager_dtype_size(dtype))) {
      if (f32) plan.steps[plan.count++] = WINOGRAD;
      plan.steps[plan.count++] = PADDED;
      plan.steps[plan.count++] = DIRECT;
      return plan;
    }
    if (f32 && eager_winograd_large_takes(g)) plan.steps[plan.count++] = WINOGRAD;
    break;
  case INPUT_GRAD:
    if (!pointwise) plan.steps[plan.count++] = TRANSPOSED;
    break;
  case FILTER_GRAD:
    if (f32) plan.steps[plan.count++] = WINOGRAD;
    if (!pointwise) {
      plan.steps[plan.count++] = PADDED;
      plan.steps[plan.count++] = SMALL;
    }
    break;
  }
  plan.steps[plan.count++] = GEMM;
  return plan;
}

static int run_plan(conv_pass pass, const conv_call *call);

/* The gradient of a stride-1, undilated conv w.r.t. its input is itself a convolution: of
 * dy with the filter rotated by 180 degrees and its channel axes swapped, padded by
 * k - 1 - pad on each side. Returns 0 when that does not apply or the direct kernels
 * would not take it (GEMM + col2im then runs), else runs it: 1 on success, -1 when out of
 * memory. NOTE: on the MNIST model's second conv (dx [100,14,14,32]) this ran in 11.7-12.5
 * ms where GEMM + col2im took 14.6-15.0; with one input channel (its first conv) the
 * output-channel tiles were 4x slower, hence the 16-channel minimum for them and the narrow
 * kernel below it. */
static int transposed_input_grad(const conv_call *call) {
  const geometry *g = call->g;
  size_t size = eager_dtype_size(call->dtype);
  if (g->sh != 1 || g->sw != 1 || g->dh != 1 || g->dw != 1) return 0;
  if (g->pt > g->kh - 1 || g->pb > g->kh - 1 || g->pl > g->kw - 1 || g->pr > g->kw - 1) return 0;
  geometry t = {.n = g->n, .h = g->oh, .w = g->ow, .c = g->oc, .kh = g->kh, .kw = g->kw,
                .oc = g->c, .oh = g->h, .ow = g->w, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                .pt = g->kh - 1 - g->pt, .pb = g->kh - 1 - g->pb, .pl = g->kw - 1 - g->pl,
                .pr = g->kw - 1 - g->pr, .k = g->kh * g->kw * g->oc};
  if (!eager_geometry_valid(&t)) return 0;
  /* Taken when its forward pass has a kernel of its own: the direct kernels, or Winograd's
   * for large filters (ResNet-50's 3x3 convs of 128-512 channels). */
  int forward_fits = eager_direct_fits(&t, size) ||
                     (call->dtype == EAGER_F32 && eager_winograd_large_takes(&t));
  if (t.oc >= 16 && !forward_fits) return 0;
  const char *filter = call->a;
  char *rotated = malloc((size_t)(t.k * t.oc) * size);
  if (!rotated) return -1;
  /* Few input channels: the narrow kernel, with the filter only flipped ([KH, KW, C, OC]
   * is its [KH, KW, OC, C] for t). NOTE: on the MNIST model's first conv (dx [100,28,28,1])
   * GEMM + col2im took 8-9 ms. */
  if (t.oc < 16) {
    size_t span = (size_t)(g->c * g->oc) * size;
    for (int64_t a = 0; a < g->kh; a++)
      for (int64_t b = 0; b < g->kw; b++)
        memcpy(rotated + (size_t)(a * g->kw + b) * span,
               filter + (size_t)((g->kh - 1 - a) * g->kw + (g->kw - 1 - b)) * span, span);
    int status = eager_narrow_conv(call->dtype, &t, call->b, rotated, call->out);
    free(rotated);
    return status;
  }
  for (int64_t a = 0; a < g->kh; a++)
    for (int64_t b = 0; b < g->kw; b++)
      for (int64_t ci = 0; ci < g->c; ci++)
        for (int64_t o = 0; o < g->oc; o++) {
          int64_t from = (((g->kh - 1 - a) * g->kw + (g->kw - 1 - b)) * g->c + ci) * g->oc + o;
          int64_t to = ((a * g->kw + b) * g->oc + o) * g->c + ci;
          if (call->dtype == EAGER_F32) ((float *)rotated)[to] = ((const float *)filter)[from];
          else ((double *)rotated)[to] = ((const double *)filter)[from];
        }
  conv_call forward = {call->dtype, &t, call->b, rotated, call->out};
  int status = run_plan(FORWARD, &forward);
  free(rotated);
  return status;
}

/* Runs one algorithm: 1 done, 0 declined, -1 out of memory. */
static int run(conv_pass pass, conv_algorithm algorithm, const conv_call *c) {
  switch (algorithm) {
  case WINOGRAD:
    return pass == FORWARD ? eager_winograd_conv(c->g, (const float *)c->a,
                                                 (const float *)c->b, c->out)
                           : eager_winograd_filter_grad(c->g, (const float *)c->a,
                                                        (const float *)c->b, c->out);
  case PADDED:
    return pass == FORWARD ? eager_padded_conv(c->dtype, c->g, c->a, c->b, NULL, c->out)
                           : eager_padded_conv(c->dtype, c->g, c->a, NULL, c->b, c->out);
  case DIRECT:
    return eager_direct_conv(c->dtype, c->g, c->a, c->b, c->out);
  case SMALL:
    return eager_small_dfilter(c->dtype, c->g, c->a, c->b, c->out);
  case TRANSPOSED:
    return transposed_input_grad(c);
  case GEMM:
    return pass == FORWARD      ? eager_conv_gemm_forward(c->dtype, c->g, c->a, c->b, c->out)
           : pass == INPUT_GRAD ? eager_conv_gemm_input_grad(c->dtype, c->g, c->a, c->b, c->out)
                                : eager_conv_gemm_filter_grad(c->dtype, c->g, c->a, c->b, c->out);
  }
  return 0;
}

/* Runs the plan of `pass` for this call: 1 done, -1 out of memory. */
static int run_plan(conv_pass pass, const conv_call *call) {
  conv_plan plan = choose(pass, call->dtype, call->g);
  for (int i = 0; i < plan.count; i++) {
    int status = run(pass, plan.steps[i], call);
    if (status != 0) return status;
  }
  return -1; /* unreachable: a plan ends with GEMM, which never declines */
}

/* The checks every entry point makes: a float dtype and a consistent geometry. */
static int32_t prepare(int32_t dtype, geometry *g, const int64_t *x_shape,
                       const int64_t *filter_shape, const int64_t *out_shape,
                       const eager_conv_params *params) {
  if (!eager_float_dtype(dtype)) {
    return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  }
  if (!eager_conv_geometry(g, x_shape, filter_shape, out_shape, params)) {
    return EAGER_ERR_ARGUMENT;
  }
  return EAGER_OK;
}

static int32_t status_of(int result) { return result > 0 ? EAGER_OK : EAGER_ERR_NO_MEMORY; }

EAGER_API int32_t eager_conv2d(int32_t dtype, const int64_t *x_shape,
                               const int64_t *filter_shape, const int64_t *out_shape,
                               const eager_conv_params *params, void *out, const void *x,
                               int64_t x_offset, const void *filter, int64_t filter_offset) {
  geometry g;
  int32_t status = prepare(dtype, &g, x_shape, filter_shape, out_shape, params);
  if (status != EAGER_OK) return status;
  size_t size = eager_dtype_size(dtype);
  if (g.n * g.oh * g.ow == 0 || g.oc == 0) return EAGER_OK;
  if (g.k == 0) {
    memset(out, 0, (size_t)(g.n * g.oh * g.ow * g.oc) * size);
    return EAGER_OK;
  }
  conv_call call = {dtype, &g, (const char *)x + (size_t)x_offset * size,
                    (const char *)filter + (size_t)filter_offset * size, out};
  return status_of(run_plan(FORWARD, &call));
}

EAGER_API int32_t eager_conv2d_backprop_input(int32_t dtype, const int64_t *x_shape,
                                              const int64_t *filter_shape,
                                              const int64_t *out_shape,
                                              const eager_conv_params *params, void *dx,
                                              const void *filter, int64_t filter_offset,
                                              const void *dy, int64_t dy_offset) {
  geometry g;
  int32_t status = prepare(dtype, &g, x_shape, filter_shape, out_shape, params);
  if (status != EAGER_OK) return status;
  size_t size = eager_dtype_size(dtype);
  if (g.n * g.oh * g.ow == 0 || g.oc == 0 || g.k == 0) {
    memset(dx, 0, (size_t)(g.n * g.h * g.w * g.c) * size);
    return EAGER_OK;
  }
  conv_call call = {dtype, &g, (const char *)filter + (size_t)filter_offset * size,
                    (const char *)dy + (size_t)dy_offset * size, dx};
  return status_of(run_plan(INPUT_GRAD, &call));
}

EAGER_API int32_t eager_conv2d_backprop_filter(int32_t dtype, const int64_t *x_shape,
                                               const int64_t *filter_shape,
                                               const int64_t *out_shape,
                                               const eager_conv_params *params, void *dfilter,
                                               const void *x, int64_t x_offset, const void *dy,
                                               int64_t dy_offset) {
  geometry g;
  int32_t status = prepare(dtype, &g, x_shape, filter_shape, out_shape, params);
  if (status != EAGER_OK) return status;
  size_t size = eager_dtype_size(dtype);
  memset(dfilter, 0, (size_t)(g.k * g.oc) * size); /* the padded and GEMM paths add into it */
  if (g.n * g.oh * g.ow == 0 || g.oc == 0 || g.k == 0) return EAGER_OK;
  conv_call call = {dtype, &g, (const char *)x + (size_t)x_offset * size,
                    (const char *)dy + (size_t)dy_offset * size, dfilter};
  return status_of(run_plan(FILTER_GRAD, &call));
}
