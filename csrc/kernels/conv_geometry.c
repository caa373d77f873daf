/*
 * The geometry of a convolution or pooling: shapes and parameters checked against each
 * other once, at the entry points (conv.c, pooling.c).
 */
#include "conv.h"

/* An output size as TensorFlow's explicit-padding formula gives it; -1 when invalid. */
static int64_t windowed_size(int64_t in, int64_t k, int64_t stride, int64_t dilation,
                             int64_t before, int64_t after) {
  int64_t effective = (k - 1) * dilation + 1, padded = in + before + after;
  if (padded < effective) return -1;
  return (padded - effective) / stride + 1;
}

int eager_geometry_valid(const geometry *g) {
  if (g->n < 0 || g->h < 0 || g->w < 0 || g->c < 0 || g->oc < 0 || g->oh < 0 || g->ow < 0 ||
      g->pt < 0 || g->pb < 0 || g->pl < 0 || g->pr < 0)
    return 0;
  if (g->kh < 1 || g->kw < 1 || g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1) return 0;
  return windowed_size(g->h, g->kh, g->sh, g->dh, g->pt, g->pb) == g->oh &&
         windowed_size(g->w, g->kw, g->sw, g->dw, g->pl, g->pr) == g->ow;
}

int eager_conv_geometry(geometry *g, const int64_t *x_shape, const int64_t *filter_shape,
                        const int64_t *out_shape, const eager_conv_params *params) {
  *g = (geometry){.n = x_shape[0], .h = x_shape[1], .w = x_shape[2], .c = x_shape[3],
                  .kh = filter_shape[0], .kw = filter_shape[1], .oc = filter_shape[3],
                  .oh = out_shape[1], .ow = out_shape[2], .sh = params->stride_h,
                  .sw = params->stride_w, .dh = params->dilation_h, .dw = params->dilation_w,
                  .pt = params->pad_top, .pb = params->pad_bottom, .pl = params->pad_left,
                  .pr = params->pad_right};
  if (filter_shape[2] != g->c || out_shape[0] != g->n || out_shape[3] != g->oc ||
      !eager_geometry_valid(g))
    return 0;
  g->k = g->kh * g->kw * g->c;
  return g->k <= BLAS_MAX_DIM && g->oc <= BLAS_MAX_DIM;
}

int eager_pool_geometry(geometry *g, const int64_t *x_shape, const int64_t *out_shape,
                        const eager_pool_params *params) {
  *g = (geometry){.n = x_shape[0], .h = x_shape[1], .w = x_shape[2], .c = x_shape[3],
                  .kh = params->window_h, .kw = params->window_w, .oc = x_shape[3],
                  .oh = out_shape[1], .ow = out_shape[2], .sh = params->stride_h,
                  .sw = params->stride_w, .dh = 1, .dw = 1, .pt = params->pad_top,
                  .pb = params->pad_bottom, .pl = params->pad_left, .pr = params->pad_right};
  return out_shape[0] == g->n && out_shape[3] == g->c && eager_geometry_valid(g);
}
