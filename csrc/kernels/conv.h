/*
 * The geometry of a 2-D convolution or pooling window, shared by conv.c and the
 * Winograd kernel (winograd.c). Not exported.
 */
#ifndef EAGER_CONV_H
#define EAGER_CONV_H

#include <stdint.h>

#include "internal.h" /* first: it renames the functions below per CPU level */

typedef struct {
  int64_t n, h, w, c;      /* input */
  int64_t kh, kw, oc;      /* filter (kh, kw, c, oc) or pooling window (kh, kw) */
  int64_t oh, ow;          /* output spatial size */
  int64_t sh, sw, dh, dw;  /* strides, dilations */
  int64_t pt, pb, pl, pr;  /* padding */
  int64_t k;               /* kh * kw * c: the length of one im2col row */
} geometry;

/* A float32 5x5 or 3x3 stride-1 conv by Winograd F(2x2, 5x5) or F(4x4, 3x3) (winograd.c):
 * x [N,H,W,C], filter [R,R,C,OC], out [N,OH,OW,OC], every element written. Returns 1 when
 * done; 0 when the geometry is not one it takes, or a value is infinite or NaN (then out
 * holds garbage, for the direct kernels to overwrite); -1 when out of memory. */
int eager_winograd_conv(const geometry *g, const float *x, const float *filter, float *out);

/* The filter gradient of such a conv by Winograd F(5x5, 2x2) or F(3x3, 4x4): x [N,H,W,C],
 * dy [N,OH,OW,OC], dfilter [R,R,C,OC], every element written. Returns as above, but with
 * dfilter all zeros when it returns 0. */
int eager_winograd_filter_grad(const geometry *g, const float *x, const float *dy,
                               float *dfilter);

#endif /* EAGER_CONV_H */
