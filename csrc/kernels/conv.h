/*
 * The geometry of a 2-D convolution or pooling window, and the convolution algorithms that
 * csrc/kernels/conv.c chooses between, one file each:
 *
 *   conv_gemm.c     im2col (col2im) + GEMM: takes every geometry
 *   conv_direct.c   register-blocked products over gathered receptive fields, for
 *                   cache-sized filters; the filter gradient of small filters
 *   conv_padded.c   direct products over a zero-padded copy of each image, for channels in
 *                   whole vectors; the narrow kernel for few output channels
 *   winograd.c      float32 5x5 and 3x3 stride-1 convolutions and their filter gradients
 *
 * Each algorithm but GEMM says whether it takes a geometry; their functions return 1 when
 * done, 0 when they decline (nothing written that the next algorithm relies on) and -1
 * when out of memory. Pooling (pooling.c) shares the geometry. Not exported.
 */
#ifndef EAGER_CONV_H
#define EAGER_CONV_H

#include <stddef.h>
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

/* ---- geometry (conv_geometry.c) ---- */

/* GEMM dimensions must fit BLAS's int. */
#define BLAS_MAX_DIM ((int64_t)INT32_MAX)

/* Whether the output size follows from input, window, strides, dilations and padding as
 * TensorFlow's explicit-padding formula gives it, every count being in range. */
int eager_geometry_valid(const geometry *g);
/* Fills g from a convolution's shapes (x [N,H,W,C], filter [KH,KW,C,OC], out
 * [N,OH,OW,OC]) and parameters; 0 when they do not agree. */
int eager_conv_geometry(geometry *g, const int64_t *x_shape, const int64_t *filter_shape,
                        const int64_t *out_shape, const eager_conv_params *params);
/* Fills g from a pooling's shapes (x [N,H,W,C], out [N,OH,OW,C]) and parameters; 0 when
 * they do not agree. */
int eager_pool_geometry(geometry *g, const int64_t *x_shape, const int64_t *out_shape,
                        const eager_pool_params *params);

static inline int eager_float_dtype(int32_t dtype) {
  return dtype == EAGER_F32 || dtype == EAGER_F64;
}

/* A 1x1, stride-1, unpadded convolution: the input already is the im2col matrix. */
static inline int eager_conv_pointwise(const geometry *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pb == 0 &&
         g->pl == 0 && g->pr == 0;
}

/* Work split for kernels that scatter into dx (col2im, the pooling gradients): units are
 * (image, channel block) pairs, which write disjoint parts of dx. */
typedef struct {
  int64_t images, first_image, blocks, block;
} scatter_split;

static inline scatter_split eager_scatter_units(int64_t first_image, int64_t images, int64_t c,
                                                int nth) {
  int64_t blocks = images >= nth ? 1 : (nth + images - 1) / images;
  if (blocks > c) blocks = c > 0 ? c : 1;
  return (scatter_split){images, first_image, blocks, (c + blocks - 1) / blocks};
}

/* The image and channel range [*c0, *c1) of unit u. */
static inline void eager_scatter_unit(const scatter_split *s, int64_t u, int64_t c, int64_t *n,
                                      int64_t *c0, int64_t *c1) {
  *n = s->first_image + u / s->blocks;
  *c0 = (u % s->blocks) * s->block;
  *c1 = *c0 + s->block < c ? *c0 + s->block : c;
}

/* ---- im2col + GEMM (conv_gemm.c) ---- */

/* Writes the receptive field of output pixel r (flat over N*OH*OW) as K values of `size`
 * bytes, zeros where it falls into the padding. */
void eager_im2col_row(const geometry *g, size_t size, const char *x, int64_t r, char *dst);
/* out [N*OH*OW, OC] = conv(x, filter). Returns 1, or -1 when out of memory. */
int eager_conv_gemm_forward(int32_t dtype, const geometry *g, const char *x, const char *filter,
                            void *out);
/* dx [N,H,W,C] = the input gradient, written whole. Returns 1, or -1 when out of memory. */
int eager_conv_gemm_input_grad(int32_t dtype, const geometry *g, const char *filter,
                               const char *dy, void *dx);
/* dfilter [K, OC] += the filter gradient (the caller zeroes it). Returns 1, or -1. */
int eager_conv_gemm_filter_grad(int32_t dtype, const geometry *g, const char *x,
                                const char *dy, void *dfilter);

/* ---- direct kernels (conv_direct.c, conv_padded.c) ---- */

/* The longest receptive field (K) the direct kernels take, and the largest filter (bytes)
 * that the forward ones read straight from memory while it stays in cache. */
#define DIRECT_MAX_K 1600
#define DIRECT_MAX_FILTER_BYTES ((int64_t)1 << 20)

/* Whether the direct kernels take this forward geometry: a cache-sized filter and short
 * receptive fields. */
static inline int eager_direct_fits(const geometry *g, size_t size) {
  return g->k <= DIRECT_MAX_K && g->k * g->oc * (int64_t)size <= DIRECT_MAX_FILTER_BYTES;
}

/* The forward pass over gathered receptive fields; takes what eager_direct_fits takes. */
int eager_direct_conv(int32_t dtype, const geometry *g, const char *x, const char *filter,
                      void *out);
/* The filter gradient of a small filter (written whole), or 0 when it is not small. */
int eager_small_dfilter(int32_t dtype, const geometry *g, const char *x, const char *dy,
                        void *dfilter);
/* The forward pass (dy NULL) or the filter gradient (into `out`, zeroed by the caller)
 * over zero-padded images; 0 when output channels are not whole vectors or the padded
 * image or filter are too large. */
int eager_padded_conv(int32_t dtype, const geometry *g, const char *x, const char *filter,
                      const char *dy, void *out);
/* The forward pass with the filter as [KH, KW, OC, C], summing over input channels in
 * vectors: for few output channels; 0 when input channels are not whole vectors. */
int eager_narrow_conv(int32_t dtype, const geometry *g, const char *x, const char *filter,
                      void *out);

/* ---- Winograd (winograd.c) ---- */

/* A float32 5x5 or 3x3 stride-1 conv by Winograd F(2x2, 5x5) or F(4x4, 3x3): x [N,H,W,C],
 * filter [R,R,C,OC], out [N,OH,OW,OC], every element written. Returns 1 when done; 0 when
 * the geometry is not one it takes, or a value is infinite or NaN (then out holds garbage,
 * for the direct kernels to overwrite); -1 when out of memory. */
int eager_winograd_conv(const geometry *g, const float *x, const float *filter, float *out);
/* Whether eager_winograd_conv takes a float32 forward pass of this geometry with a large
 * transformed filter, by GEMMs over groups of tiles (it may still decline one over an
 * infinity or NaN). Convs with a small one are taken only where the direct kernels fit. */
int eager_winograd_large_takes(const geometry *g);

/* The filter gradient of such a conv by Winograd F(5x5, 2x2) or F(3x3, 4x4): x [N,H,W,C],
 * dy [N,OH,OW,OC], dfilter [R,R,C,OC], every element written. Returns as above, but with
 * dfilter all zeros when it returns 0. */
int eager_winograd_filter_grad(const geometry *g, const float *x, const float *dy,
                               float *dfilter);

#endif /* EAGER_CONV_H */
