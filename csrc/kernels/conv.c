/*
 * 2-D convolution and pooling over NHWC tensors, with the kernels their gradients use.
 *
 * Convolution is im2col + GEMM: each output pixel's receptive field becomes one row of
 * K = KH*KW*C values, so with HWIO filters the output [N*OH*OW, OC] is one row-major
 * GEMM, cols [rows, K] x filter [K, OC]. Rows are processed in chunks whose im2col
 * buffer stays under CONV_CHUNK_BYTES; chunking depends only on the shapes, never on
 * the thread count, so results are reproducible. A 1x1, stride-1, unpadded conv needs
 * no im2col: the input already is the cols matrix. Convs with a cache-sized filter skip
 * both the buffer and BLAS (the direct kernels below); when the output channels fill whole
 * vectors they read a zero-padded copy of each image instead of gathering receptive
 * fields, and skip the taps that fall into the padding. Before all of these, float32 5x5 and
 * 3x3 stride-1 convs with whole vectors of channels go to the Winograd kernels (winograd.c).
 *
 * Backprop w.r.t. the input is the transpose: dcols = dy x filter^T, then col2im adds
 * each row back into its receptive field (or, at stride 1, a direct conv of dy). Backprop
 * w.r.t. the filter is cols^T x dy, accumulated over chunks, or for filters of whole
 * vectors of output channels accumulated directly from the padded images.
 *
 * Pooling loops run over channels innermost (NHWC), so they vectorise; gradient kernels
 * scatter into dx split by (image, channel block), which never overlap.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "internal.h"

/* The im2col buffer of one chunk stays under this size (unless one row is larger). */
#define CONV_CHUNK_BYTES ((int64_t)4 << 20)
/* GEMM dimensions must fit BLAS's int. */
#define BLAS_MAX_DIM ((int64_t)INT32_MAX)

/* An output size as TensorFlow's explicit-padding formula gives it; -1 when invalid. */
static int64_t windowed_size(int64_t in, int64_t k, int64_t stride, int64_t dilation,
                             int64_t before, int64_t after) {
  int64_t effective = (k - 1) * dilation + 1, padded = in + before + after;
  if (padded < effective) return -1;
  return (padded - effective) / stride + 1;
}

static int geometry_valid(const geometry *g) {
  if (g->n < 0 || g->h < 0 || g->w < 0 || g->c < 0 || g->oc < 0 || g->oh < 0 || g->ow < 0 ||
      g->pt < 0 || g->pb < 0 || g->pl < 0 || g->pr < 0)
    return 0;
  if (g->kh < 1 || g->kw < 1 || g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1) return 0;
  return windowed_size(g->h, g->kh, g->sh, g->dh, g->pt, g->pb) == g->oh &&
         windowed_size(g->w, g->kw, g->sw, g->dw, g->pl, g->pr) == g->ow;
}

/* x_shape [N,H,W,C], filter_shape [KH,KW,C,OC], out_shape [N,OH,OW,OC]. */
static int conv_geometry(geometry *g, const int64_t *x_shape, const int64_t *filter_shape,
                         const int64_t *out_shape, const eager_conv_params *params) {
  *g = (geometry){.n = x_shape[0], .h = x_shape[1], .w = x_shape[2], .c = x_shape[3],
                  .kh = filter_shape[0], .kw = filter_shape[1], .oc = filter_shape[3],
                  .oh = out_shape[1], .ow = out_shape[2], .sh = params->stride_h,
                  .sw = params->stride_w, .dh = params->dilation_h, .dw = params->dilation_w,
                  .pt = params->pad_top, .pb = params->pad_bottom, .pl = params->pad_left,
                  .pr = params->pad_right};
  if (filter_shape[2] != g->c || out_shape[0] != g->n || out_shape[3] != g->oc ||
      !geometry_valid(g))
    return 0;
  g->k = g->kh * g->kw * g->c;
  return g->k <= BLAS_MAX_DIM && g->oc <= BLAS_MAX_DIM;
}

/* x_shape [N,H,W,C], out_shape [N,OH,OW,C]. */
static int pool_geometry(geometry *g, const int64_t *x_shape, const int64_t *out_shape,
                         const eager_pool_params *params) {
  *g = (geometry){.n = x_shape[0], .h = x_shape[1], .w = x_shape[2], .c = x_shape[3],
                  .kh = params->window_h, .kw = params->window_w, .oc = x_shape[3],
                  .oh = out_shape[1], .ow = out_shape[2], .sh = params->stride_h,
                  .sw = params->stride_w, .dh = 1, .dw = 1, .pt = params->pad_top,
                  .pb = params->pad_bottom, .pl = params->pad_left, .pr = params->pad_right};
  return out_shape[0] == g->n && out_shape[3] == g->c && geometry_valid(g);
}

static int float_dtype(int32_t dtype) { return dtype == EAGER_F32 || dtype == EAGER_F64; }

/* ---- im2col / col2im ---------------------------------------------------------------- */

/* Writes the receptive field of output pixel r (flat over N*OH*OW) as K values, zeros
 * where it falls into the padding. Works on bytes, so one version serves every dtype. */
static void im2col_row(const geometry *g, size_t size, const char *x, int64_t r, char *dst) {
  int64_t ow = r % g->ow, t = r / g->ow, oh = t % g->oh, n = t / g->oh;
  const char *image = x + (size_t)(n * g->h * g->w * g->c) * size;
  int64_t h0 = oh * g->sh - g->pt, w0 = ow * g->sw - g->pl;
  size_t pixel = (size_t)g->c * size, span = (size_t)g->kw * pixel;
  for (int64_t kh = 0; kh < g->kh; kh++, dst += span) {
    int64_t ih = h0 + kh * g->dh;
    if (ih < 0 || ih >= g->h) {
      memset(dst, 0, span);
      continue;
    }
    const char *row = image + (size_t)(ih * g->w) * pixel;
    if (g->dw == 1) {
      /* The in-bounds taps [lo, hi) are contiguous in the input row. */
      int64_t lo = w0 < 0 ? -w0 : 0, hi = g->w - w0;
      if (lo > g->kw) lo = g->kw;
      if (hi > g->kw) hi = g->kw;
      if (hi < lo) hi = lo;
      if (lo > 0) memset(dst, 0, (size_t)lo * pixel);
      if (hi > lo) memcpy(dst + (size_t)lo * pixel, row + (size_t)(w0 + lo) * pixel,
                          (size_t)(hi - lo) * pixel);
      if (hi < g->kw) memset(dst + (size_t)hi * pixel, 0, (size_t)(g->kw - hi) * pixel);
    } else {
      for (int64_t kw = 0; kw < g->kw; kw++) {
        int64_t iw = w0 + kw * g->dw;
        if (iw < 0 || iw >= g->w) memset(dst + (size_t)kw * pixel, 0, pixel);
        else memcpy(dst + (size_t)kw * pixel, row + (size_t)iw * pixel, pixel);
      }
    }
  }
}

typedef struct {
  const geometry *g;
  size_t size;
  const char *x;
  char *cols;
  int64_t r0, rows;
} im2col_job;

static void im2col_task(void *arg, int ith, int nth) {
  im2col_job *job = arg;
  int64_t begin, end;
  eager_split(job->rows, ith, nth, &begin, &end);
  size_t row_bytes = (size_t)job->g->k * job->size;
  for (int64_t i = begin; i < end; i++)
    im2col_row(job->g, job->size, job->x, job->r0 + i, job->cols + (size_t)i * row_bytes);
}

static void im2col(const geometry *g, size_t size, const char *x, char *cols, int64_t r0,
                   int64_t rows) {
  im2col_job job = {g, size, x, cols, r0, rows};
  eager_parallel(im2col_task, &job, eager_threads_for(rows * g->k, EAGER_GRAIN_CHEAP));
}

/* Adds channels [c0, c1) of the K values of output pixel (oh, ow) into its receptive
 * field in `image` (one image of dx). */
#define COL2IM_ROW(NAME, T)                                                                 \
  static void NAME(const geometry *g, const T *src, T *image, int64_t oh, int64_t ow,      \
                   int64_t c0, int64_t c1) {                                               \
    int64_t h0 = oh * g->sh - g->pt, w0 = ow * g->sw - g->pl;                              \
    for (int64_t kh = 0; kh < g->kh; kh++) {                                               \
      int64_t ih = h0 + kh * g->dh;                                                        \
      if (ih < 0 || ih >= g->h) continue;                                                  \
      for (int64_t kw = 0; kw < g->kw; kw++) {                                             \
        int64_t iw = w0 + kw * g->dw;                                                      \
        if (iw < 0 || iw >= g->w) continue;                                                \
        T *restrict d = image + (ih * g->w + iw) * g->c;                                   \
        const T *restrict s = src + (kh * g->kw + kw) * g->c;                              \
        for (int64_t c = c0; c < c1; c++) d[c] += s[c];                                    \
      }                                                                                    \
    }                                                                                      \
  }
COL2IM_ROW(col2im_row_f32, float)
COL2IM_ROW(col2im_row_f64, double)

/* Work split for kernels that scatter into dx: units are (image, channel block) pairs,
 * which write disjoint parts of dx. */
typedef struct {
  int64_t images, first_image, blocks, block;
} scatter_split;

static scatter_split scatter_units(int64_t first_image, int64_t images, int64_t c, int nth) {
  int64_t blocks = images >= nth ? 1 : (nth + images - 1) / images;
  if (blocks > c) blocks = c > 0 ? c : 1;
  return (scatter_split){images, first_image, blocks, (c + blocks - 1) / blocks};
}

/* The image and channel range of unit u. */
static void scatter_unit(const scatter_split *s, int64_t u, int64_t c, int64_t *n, int64_t *c0,
                         int64_t *c1) {
  *n = s->first_image + u / s->blocks;
  *c0 = (u % s->blocks) * s->block;
  *c1 = *c0 + s->block < c ? *c0 + s->block : c;
}

typedef struct {
  const geometry *g;
  int dtype;
  const char *dcols;
  char *dx;
  int64_t r0, r1;
  scatter_split split;
} col2im_job;

static void col2im_task(void *arg, int ith, int nth) {
  col2im_job *job = arg;
  const geometry *g = job->g;
  int64_t begin, end, pixels = g->oh * g->ow, image_size = g->h * g->w * g->c;
  size_t size = eager_dtype_size(job->dtype);
  eager_split(job->split.images * job->split.blocks, ith, nth, &begin, &end);
  for (int64_t u = begin; u < end; u++) {
    int64_t n, c0, c1;
    scatter_unit(&job->split, u, g->c, &n, &c0, &c1);
    int64_t lo = n * pixels > job->r0 ? n * pixels : job->r0;
    int64_t hi = (n + 1) * pixels < job->r1 ? (n + 1) * pixels : job->r1;
    for (int64_t r = lo; r < hi; r++) {
      const char *src = job->dcols + (size_t)((r - job->r0) * g->k) * size;
      int64_t p = r - n * pixels;
      if (job->dtype == EAGER_F32)
        col2im_row_f32(g, (const float *)src, (float *)job->dx + n * image_size, p / g->ow,
                       p % g->ow, c0, c1);
      else
        col2im_row_f64(g, (const double *)src, (double *)job->dx + n * image_size, p / g->ow,
                       p % g->ow, c0, c1);
    }
  }
}

static int is_pointwise(const geometry *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pb == 0 &&
         g->pl == 0 && g->pr == 0;
}

/* Rows of im2col per chunk: at least one, otherwise under CONV_CHUNK_BYTES. */
static int64_t chunk_rows(const geometry *g, size_t size, int64_t rows) {
  int64_t per = CONV_CHUNK_BYTES / (g->k * (int64_t)size);
  if (per < 1) per = 1;
  return per < rows ? per : rows;
}

/* ---- direct convolution for short rows ----------------------------------------------- */

/* A register-blocked product without im2col buffer or packing: each thread gathers
 * DIRECT_ROWS receptive fields at a time into a stack buffer and keeps a DIRECT_ROWS x W
 * block of outputs in registers while it walks the K taps, reading the filter straight
 * from memory. NOTE: measured on 2 cores (AVX-512) it beat OpenBLAS on every conv tried
 * up to a 2.4 MB filter, by 2-4x when K is small (OpenBLAS's GEMM is slow for K = 25);
 * it is used while the filter stays cache-sized, and OpenBLAS beyond, where packing and
 * many cores should pay off. */
#define DIRECT_MAX_K 1600
#define DIRECT_MAX_FILTER_BYTES ((int64_t)1 << 20)
#define DIRECT_ROWS 4

typedef struct {
  const geometry *g;
  const char *x;
  const void *filter;
  void *out;
} direct_job;

/* Output channels [j0, j0 + W) of `rows` (<= DIRECT_ROWS) output pixels; W = 0 means
 * the remaining oc - j0 (< 8) channels. Unused patch rows are zeros. */
#define DIRECT_TILE(SFX, T, W)                                                              \
  static inline void direct_tile_##SFX##_##W(const T (*patch)[DIRECT_MAX_K],                \
                                             const T *restrict f, int64_t k, int64_t oc,    \
                                             int64_t j0, T *restrict o, int rows) {         \
    enum { WIDTH = W ? W : 8 };                                                             \
    const int64_t width = W ? W : oc - j0;                                                  \
    T acc[DIRECT_ROWS][WIDTH] = {{0}};                                                      \
    for (int64_t p = 0; p < k; p++) {                                                       \
      const T *restrict w = f + p * oc + j0;                                                \
      for (int i = 0; i < DIRECT_ROWS; i++) {                                               \
        const T v = patch[i][p];                                                            \
        for (int j = 0; j < (W ? W : width); j++) acc[i][j] += v * w[j];                    \
      }                                                                                     \
    }                                                                                       \
    for (int i = 0; i < rows; i++)                                                          \
      for (int j = 0; j < width; j++) o[i * oc + j0 + j] = acc[i][j];                       \
  }

/* The W = 16 and 32 tiles with explicit 64-byte vectors (GCC/Clang vector extensions):
 * the 4 x W accumulators stay in registers. NOTE: measured on conv2 of the MNIST model
 * (k = 800, oc = 64), the plain loop above kept them on the stack and ran 1.6x slower. */
#define DIRECT_VECTOR_TILE(SFX, T, W)                                                       \
  static inline void direct_tile_##SFX##_##W(const T (*patch)[DIRECT_MAX_K],                \
                                             const T *restrict f, int64_t k, int64_t oc,    \
                                             int64_t j0, T *restrict o, int rows) {         \
    typedef T vec __attribute__((vector_size(64)));                                         \
    enum { LANES = 64 / sizeof(T), NV = W / LANES };                                        \
    vec acc[DIRECT_ROWS][NV];                                                               \
    memset(acc, 0, sizeof acc);                                                             \
    for (int64_t p = 0; p < k; p++) {                                                       \
      vec w[NV];                                                                            \
      memcpy(w, f + p * oc + j0, sizeof w);                                                 \
      for (int i = 0; i < DIRECT_ROWS; i++)                                                 \
        for (int v = 0; v < NV; v++) acc[i][v] += patch[i][p] * w[v];                       \
    }                                                                                       \
    for (int i = 0; i < rows; i++) memcpy(o + i * oc + j0, acc[i], sizeof acc[i]);          \
  }

#define DIRECT_CONV(SFX, T)                                                                 \
  DIRECT_VECTOR_TILE(SFX, T, 32)                                                            \
  DIRECT_VECTOR_TILE(SFX, T, 16)                                                            \
  DIRECT_TILE(SFX, T, 8)                                                                    \
  DIRECT_TILE(SFX, T, 0)                                                                    \
  static void direct_conv_##SFX(void *arg, int ith, int nth) {                              \
    direct_job *job = arg;                                                                  \
    const geometry *g = job->g;                                                             \
    const T *f = job->filter;                                                               \
    int64_t begin, end, k = g->k, oc = g->oc;                                               \
    T patch[DIRECT_ROWS][DIRECT_MAX_K];                                                     \
    eager_split(g->n * g->oh * g->ow, ith, nth, &begin, &end);                              \
    for (int64_t r = begin; r < end; r += DIRECT_ROWS) {                                    \
      int rows = end - r < DIRECT_ROWS ? (int)(end - r) : DIRECT_ROWS;                      \
      for (int i = 0; i < DIRECT_ROWS; i++) {                                               \
        if (i < rows) im2col_row(g, sizeof(T), job->x, r + i, (char *)patch[i]);            \
        else memset(patch[i], 0, sizeof patch[i]);                                          \
      }                                                                                     \
      T *o = (T *)job->out + r * oc;                                                        \
      int64_t j0 = 0;                                                                       \
      for (; j0 + 32 <= oc; j0 += 32) direct_tile_##SFX##_32(patch, f, k, oc, j0, o, rows); \
      for (; j0 + 16 <= oc; j0 += 16) direct_tile_##SFX##_16(patch, f, k, oc, j0, o, rows); \
      for (; j0 + 8 <= oc; j0 += 8) direct_tile_##SFX##_8(patch, f, k, oc, j0, o, rows);    \
      if (j0 < oc) direct_tile_##SFX##_0(patch, f, k, oc, j0, o, rows);                     \
    }                                                                                       \
  }
DIRECT_CONV(f32, float)
DIRECT_CONV(f64, double)

/* ---- direct convolution over a padded image ------------------------------------------- */

/* The direct kernels above gather each receptive field with im2col_row, whose per-row
 * memcpy/memset calls dominate when K is small (the MNIST model's first conv: K = 25).
 * These kernels instead copy one image at a time into a zero-padded buffer of
 * PH x PW x C (a thread's own, so it stays in cache), after which tap p = (a, b, ci) of
 * output pixel (oh, ow) is pad[base(oh, ow) + off[p]] with no bounds checks:
 * base = (oh*sh*PW + ow*sw)*C and off[p] = (a*dh*PW + b*dw)*C + ci. They take channel
 * counts that are whole vectors (oc a multiple of 64 bytes); others keep the paths above. */
#define PAD_MAX_BYTES ((int64_t)1 << 20) /* per thread; 64-byte aligned, as rows of vectors */
#define PAD_TAPS 8 /* the filter gradient's unit of taps (see pad_dfilter_unit) */
/* The register tiles, sized by the level's registers (EAGER_REG_BYTES): the forward pass's
 * PAD_ROWS output pixels x PAD_NV vectors (PAD_ROWS_SHORT: its other block height, see
 * choose_block_rows), the filter gradient's PAD_GROUP taps x PAD_NV vectors. AVX-512: 8 x 2
 * and 8 x 2 = 16 of its 32 zmm; AVX2 and NEON: 6 x 1 and 4 x 1 (12 and 8 of 16 ymm, a
 * 64-byte vector being two); SSE: 3 x 1 and 2 x 1 (12 and 8 of 16 xmm). */
#if EAGER_REG_BYTES >= 2048
#define PAD_ROWS 8
#define PAD_ROWS_SHORT 7
#define PAD_NV 2
#define PAD_GROUP 8
#elif EAGER_REG_BYTES >= 512
#define PAD_ROWS 6
#define PAD_ROWS_SHORT 5
#define PAD_NV 1
#define PAD_GROUP 4
#else
#define PAD_ROWS 3
#define PAD_ROWS_SHORT 2
#define PAD_NV 1
#define PAD_GROUP 2
#endif
/* Output pixels per filter-gradient partial sum (whole output rows, at least one): each
 * tile sums this many products in registers, then adds that into the filter gradient,
 * so a sum over N*OH*OW pixels is not one long float32 running sum. NOTE: 256 rather than
 * 64, because each partial sum costs a load and a store of 16 vectors: the MNIST model's
 * second conv (196 pixels an image, now one band) 8.14-8.15 -> 7.66-8.01 ms, the ResNet
 * stage 8.83-9.16 -> 8.39-8.63 ms (fastest of 5-call samples, alternating builds). */
#define PAD_BAND_PIXELS 256

typedef struct {
  const geometry *g;
  const char *x;      /* the input, N images */
  const void *filter; /* forward: [k, oc] (narrow_conv: [KH, KW, OC, C]) */
  const void *dy;     /* filter gradient: [N*OH*OW, oc] */
  void *out;          /* forward: [N*OH*OW, oc]; filter gradient: [k, oc], zeroed */
  const int32_t *off; /* off[p] for the k taps (narrow_conv: per filter position) */
  char *pads;         /* pad_bytes per thread */
  int64_t ph, pw, pad_bytes;
  const struct column_run *runs; /* forward: the column runs, then a sentinel */
  const struct pad_tap *taps;    /* forward: the runs' tap lists */
  const int64_t *rows;           /* forward: output row oh reads filter rows [2oh], [2oh+1] */
  int64_t blocks;                /* forward: blocks per image */
  int64_t block_rows;            /* forward: pixels per block, PAD_ROWS or PAD_ROWS_SHORT */
} padded_job;

/* Forward: output columns [ow0, ow0 + width) whose windows read the image at the same
 * filter columns, taps b*C + [q0, q1) of each filter row; its OH x width pixels, row-major,
 * form blocks [block0, block0 + ceil(OH * width / R)) of each image (R: the block height).
 * Its taps, filter row by filter row, are taps[tap0 + a * (q1 - q0) + i]. */
typedef struct column_run {
  int64_t ow0, width, q0, q1, block0, tap0;
} column_run;

/* Tap p as the forward tile reads it: off[p] and p * oc, the filter row's offset. */
typedef struct pad_tap {
  int32_t off, row;
} pad_tap;

/* The padded size of one image: just what the output pixels read (PH x PW x C). */
static void padded_size(const geometry *g, int64_t *ph, int64_t *pw) {
  *ph = (g->oh - 1) * g->sh + (g->kh - 1) * g->dh + 1;
  *pw = (g->ow - 1) * g->sw + (g->kw - 1) * g->dw + 1;
}

/* Copies image (H x W x C) into dst (PH x PW x C): dst row r, column q hold pixel
 * (r - pt, q - pl), zero where that is outside the image. */
static void pad_image(const geometry *g, size_t size, const char *image, char *dst, int64_t ph,
                      int64_t pw) {
  size_t pixel = (size_t)g->c * size, row = (size_t)pw * pixel;
  int64_t lo = g->pl < pw ? g->pl : pw, hi = g->pl + g->w < pw ? g->pl + g->w : pw;
  if (hi < lo) hi = lo;
  for (int64_t r = 0; r < ph; r++, dst += row) {
    int64_t ih = r - g->pt;
    if (ih < 0 || ih >= g->h) {
      memset(dst, 0, row);
      continue;
    }
    memset(dst, 0, (size_t)lo * pixel);
    memcpy(dst + (size_t)lo * pixel, image + (size_t)(ih * g->w + lo - g->pl) * pixel,
           (size_t)(hi - lo) * pixel);
    memset(dst + (size_t)hi * pixel, 0, (size_t)(pw - hi) * pixel);
  }
}

/* The indices i in [*lo, *hi) of [0, count) for which pos + i * step lies in [0, size):
 * which taps of a window, or which output pixels of a tap, read the image rather than
 * padding. The padded kernels skip what they can of the rest: products with zero. */
static void in_image(int64_t pos, int64_t step, int64_t size, int64_t count, int64_t *lo,
                     int64_t *hi) {
  int64_t a = -pos, b = size - pos; /* i * step in [a, b) */
  *lo = a <= 0 ? 0 : (a + step - 1) / step;
  *hi = b <= 0 ? 0 : (b + step - 1) / step;
  if (*hi > count) *hi = count;
  if (*lo > *hi) *lo = *hi;
}

/* out[i][j0, j0 + NV*LANES) for the R pixels whose padded bases are base[i], summing
 * taps[0, n); f is the filter from column j0. A block of fewer pixels repeats pixel 0 in
 * the unused rows, which then write its value again: NOTE: storing all rows, a constant
 * count, keeps the accumulators in registers (a variable count spilled them to the stack,
 * measured 6% slower with K = 25). */
#define PAD_CONV_TILE(SFX, T, NV, R)                                                         \
  static inline void pad_conv_tile_##SFX##_##NV##_##R(const T *const *base,                  \
                                                      const pad_tap *taps, int64_t n,        \
                                                      const T *restrict f, int64_t j0,       \
                                                      T *const *out) {                       \
    typedef T vec __attribute__((vector_size(64)));                                          \
    const T *b[R];                                                                           \
    memcpy(b, base, sizeof b);                                                               \
    vec acc[R][NV];                                                                          \
    memset(acc, 0, sizeof acc);                                                              \
    for (int64_t t = 0; t < n; t++) {                                                        \
      vec w[NV];                                                                             \
      memcpy(w, f + taps[t].row, sizeof w);                                                  \
      const int32_t q = taps[t].off;                                                         \
      for (int i = 0; i < R; i++) {                                                          \
        const T v = b[i][q];                                                                 \
        for (int u = 0; u < NV; u++) acc[i][u] += v * w[u];                                  \
      }                                                                                      \
    }                                                                                        \
    for (int i = 0; i < R; i++) memcpy(out[i] + j0, acc[i], sizeof acc[i]);                 \
  }

/* dfilter[t + i][j0, j0 + NV*LANES) for taps i < G += the products over output pixels
 * [oh0, oh1) x [w0, w1) of one image (pad, dy: that image's). */
#define PAD_DFILTER_TILE(SFX, T, G, NV)                                                      \
  static inline void pad_dfilter_tile_##SFX##_##G##_##NV(                                    \
      const geometry *g, int64_t pw, const T *pad, const int32_t *off, const T *dy,          \
      int64_t oh0, int64_t oh1, int64_t w0, int64_t w1, int64_t j0, T *restrict dw) {        \
    typedef T vec __attribute__((vector_size(64)));                                          \
    int64_t oc = g->oc, step = g->sw * g->c;                                                 \
    int32_t q[G];                                                                            \
    memcpy(q, off, sizeof q);                                                                \
    vec acc[G][NV];                                                                          \
    memset(acc, 0, sizeof acc);                                                              \
    for (int64_t oh = oh0; oh < oh1; oh++) {                                                 \
      const T *row = pad + (oh * g->sh * pw + w0 * g->sw) * g->c;                            \
      const T *d = dy + (oh * g->ow + w0) * oc + j0;                                         \
      for (int64_t ow = w0; ow < w1; ow++, row += step, d += oc) {                           \
        vec dv[NV];                                                                          \
        memcpy(dv, d, sizeof dv);                                                            \
        for (int i = 0; i < G; i++) {                                                        \
          const T v = row[q[i]];                                                             \
          for (int u = 0; u < NV; u++) acc[i][u] += v * dv[u];                               \
        }                                                                                    \
      }                                                                                      \
    }                                                                                        \
    for (int i = 0; i < G; i++)                                                              \
      for (int u = 0; u < NV; u++) {                                                         \
        vec s;                                                                               \
        memcpy(&s, dw + i * oc + j0 + u * (64 / sizeof(T)), sizeof s);                      \
        s += acc[i][u];                                                                      \
        memcpy(dw + i * oc + j0 + u * (64 / sizeof(T)), &s, sizeof s);                      \
      }                                                                                      \
  }

/* Taps [t, t + G) over output rows [oh0, oh1), all output channels (vectors in pairs when
 * PAD_NV is 2, then one). When `skip`, the G taps share one filter position (a, b) and only the pixels
 * where it reads the image are visited; otherwise all of them. */
#define PAD_DFILTER_GROUP(SFX, T, G)                                                         \
  PAD_DFILTER_TILE(SFX, T, G, 2)                                                             \
  PAD_DFILTER_TILE(SFX, T, G, 1)                                                             \
  static void pad_dfilter_group_##SFX##_##G(const geometry *g, int64_t pw, const T *pad,     \
                                            const int32_t *off, const T *dy, int64_t t,      \
                                            int64_t oh0, int64_t oh1, int skip, T *dw) {     \
    enum { LANES = 64 / sizeof(T) };                                                         \
    int64_t h0 = oh0, h1 = oh1, w0 = 0, w1 = g->ow;                                          \
    if (skip) {                                                                              \
      int64_t a = t / (g->kw * g->c), b = t / g->c % g->kw;                                  \
      in_image(a * g->dh - g->pt, g->sh, g->h, g->oh, &h0, &h1);                             \
      in_image(b * g->dw - g->pl, g->sw, g->w, g->ow, &w0, &w1);                             \
      if (h0 < oh0) h0 = oh0;                                                                \
      if (h1 > oh1) h1 = oh1;                                                                \
      if (h0 >= h1 || w0 >= w1) return;                                                      \
    }                                                                                        \
    int64_t j0 = 0;                                                                          \
    for (; PAD_NV == 2 && j0 + 2 * LANES <= g->oc; j0 += 2 * LANES)                          \
      pad_dfilter_tile_##SFX##_##G##_2(g, pw, pad, off + t, dy, h0, h1, w0, w1, j0,          \
                                       dw + t * g->oc);                                      \
    for (; j0 < g->oc; j0 += LANES)                                                          \
      pad_dfilter_tile_##SFX##_##G##_1(g, pw, pad, off + t, dy, h0, h1, w0, w1, j0,          \
                                       dw + t * g->oc);                                      \
  }

/* NOTE: which products a kernel skips (padding x a value) must not depend on the thread
 * count, or a non-finite value would give NaN or not depending on it (0 * inf). So the
 * forward pass works in blocks of pixels fixed within each image, and the filter gradient
 * skips only when C is a multiple of PAD_TAPS, splitting the taps between threads in
 * units of PAD_TAPS so that no group straddles two filter positions. */
static int64_t pad_dfilter_unit(const geometry *g) { return g->c % PAD_TAPS == 0 ? PAD_TAPS : 1; }

/* The forward tiles of block height R over all output channels (vectors in pairs when PAD_NV
 * is 2, then one). */
#define PAD_CONV_TILES(SFX, R)                                                               \
  for (; PAD_NV == 2 && j0 + 2 * LANES <= oc; j0 += 2 * LANES)                               \
    pad_conv_tile_##SFX##_2_##R(base, taps, ntaps, f + j0, j0, out);                         \
  for (; j0 < oc; j0 += LANES) pad_conv_tile_##SFX##_1_##R(base, taps, ntaps, f + j0, j0, out);

/* The forward pass with blocks of R pixels (NAME: tall or short). */
#define PAD_FORWARD(SFX, T, NAME, R)                                                         \
  PAD_CONV_TILE(SFX, T, 2, R)                                                                \
  PAD_CONV_TILE(SFX, T, 1, R)                                                                \
  /* Walks its share of the blocks in order, keeping image, run and pixel position as it   \
   * goes (no divisions per block). */                                                      \
  static void padded_conv_##SFX##_##NAME(void *arg, int ith, int nth) {                     \
    const padded_job *job = arg;                                                             \
    const geometry *g = job->g;                                                              \
    enum { LANES = 64 / sizeof(T) };                                                         \
    T *pad = (T *)(job->pads + ith * job->pad_bytes);                                        \
    int64_t pixels = g->oh * g->ow, oc = g->oc, begin, end, height = R;                       \
    eager_split(g->n * job->blocks, ith, nth, &begin, &end);                                 \
    if (begin == end) return;                                                                \
    int64_t n = begin / job->blocks, block = begin % job->blocks;                            \
    const column_run *run = job->runs;                                                       \
    while (block >= run[1].block0) run++;                                                    \
    int64_t first = (block - run->block0) * height; /* the block's first pixel in the run */ \
    int64_t oh = first / run->width, col = first % run->width;                               \
    pad_image(g, sizeof(T), job->x + (size_t)(n * g->h * g->w * g->c) * sizeof(T),          \
              (char *)pad, job->ph, job->pw);                                                \
    for (int64_t u = begin; u < end; u++) {                                                  \
      int64_t count = g->oh * run->width, top = oh;                                          \
      int rows = count - first < height ? (int)(count - first) : (int)height;                \
      const T *base[PAD_ROWS];                                                               \
      T *out[PAD_ROWS];                                                                      \
      for (int i = 0; i < rows; i++) {                                                       \
        int64_t ow = run->ow0 + col;                                                         \
        base[i] = pad + (oh * g->sh * job->pw + ow * g->sw) * g->c;                          \
        out[i] = (T *)job->out + (n * pixels + oh * g->ow + ow) * oc;                        \
        if (++col == run->width) {                                                           \
          col = 0;                                                                           \
          oh++;                                                                              \
        }                                                                                    \
      }                                                                                      \
      for (int i = rows; i < height; i++) { /* unused: repeat pixel 0 */                     \
        base[i] = base[0];                                                                   \
        out[i] = out[0];                                                                     \
      }                                                                                      \
      /* Filter rows [a0, a1): those that read the image for some output row of the block. */ \
      int64_t a0 = g->kh, a1 = 0;                                                            \
      for (int64_t r = top; r <= (col == 0 ? oh - 1 : oh); r++) {                            \
        int64_t lo = job->rows[2 * r], hi = job->rows[2 * r + 1];                            \
        if (lo < hi && lo < a0) a0 = lo;                                                     \
        if (lo < hi && hi > a1) a1 = hi;                                                     \
      }                                                                                      \
      if (a1 < a0) a1 = a0;                                                                  \
      const pad_tap *taps = job->taps + run->tap0 + a0 * (run->q1 - run->q0);               \
      int64_t j0 = 0, ntaps = (a1 - a0) * (run->q1 - run->q0);                               \
      const T *f = job->filter;                                                              \
      PAD_CONV_TILES(SFX, R)                                                                 \
      first += height;                                                                       \
      if (first < count) continue;                                                           \
      first = oh = col = 0; /* on to the next run, or the next image's first */              \
      if ((++run)->block0 < job->blocks) continue;                                           \
      run = job->runs;                                                                       \
      if (++n < g->n && u + 1 < end)                                                         \
        pad_image(g, sizeof(T), job->x + (size_t)(n * g->h * g->w * g->c) * sizeof(T),      \
                  (char *)pad, job->ph, job->pw);                                            \
    }                                                                                        \
  }

#define PADDED_CONV(SFX, T)                                                                  \
  PAD_FORWARD(SFX, T, tall, PAD_ROWS)                                                        \
  PAD_FORWARD(SFX, T, short, PAD_ROWS_SHORT)                                                 \
  PAD_DFILTER_GROUP(SFX, T, 8)                                                               \
  PAD_DFILTER_GROUP(SFX, T, 4)                                                               \
  PAD_DFILTER_GROUP(SFX, T, 2)                                                               \
  PAD_DFILTER_GROUP(SFX, T, 1)                                                               \
  static void (*const pad_dfilter_groups_##SFX[PAD_TAPS + 1])(                               \
      const geometry *, int64_t, const T *, const int32_t *, const T *, int64_t, int64_t,    \
      int64_t, int, T *) = {[1] = pad_dfilter_group_##SFX##_1, [2] = pad_dfilter_group_##SFX##_2, \
                            [4] = pad_dfilter_group_##SFX##_4, [8] = pad_dfilter_group_##SFX##_8}; \
  /* Thread ith owns taps [t0, t1) and sums each over every pixel in the same order, so the \
   * result does not depend on the thread count. */                                         \
  static void padded_dfilter_##SFX(void *arg, int ith, int nth) {                            \
    const padded_job *job = arg;                                                             \
    const geometry *g = job->g;                                                              \
    T *pad = (T *)(job->pads + ith * job->pad_bytes), *dw = job->out;                        \
    int64_t t0, t1, pixels = g->oh * g->ow;                                                  \
    int64_t band = PAD_BAND_PIXELS / g->ow > 1 ? PAD_BAND_PIXELS / g->ow : 1;                \
    int64_t unit = pad_dfilter_unit(g);                                                      \
    eager_split(g->k / unit, ith, nth, &t0, &t1);                                            \
    t0 *= unit;                                                                              \
    t1 *= unit;                                                                              \
    if (t0 == t1) return;                                                                    \
    for (int64_t n = 0; n < g->n; n++) {                                                     \
      pad_image(g, sizeof(T), job->x + (size_t)(n * g->h * g->w * g->c) * sizeof(T),        \
                (char *)pad, job->ph, job->pw);                                              \
      const T *dy = (const T *)job->dy + n * pixels * g->oc;                                 \
      for (int64_t oh0 = 0; oh0 < g->oh; oh0 += band) {                                      \
        int64_t oh1 = oh0 + band < g->oh ? oh0 + band : g->oh;                               \
        for (int64_t t = t0; t < t1;) {                                                      \
          int64_t taps = PAD_GROUP;                                                          \
          while (taps > t1 - t) taps /= 2;                                                   \
          pad_dfilter_groups_##SFX[taps](g, job->pw, pad, job->off, dy, t, oh0, oh1,        \
                                         unit == PAD_TAPS, dw);                              \
          t += taps;                                                                         \
        }                                                                                    \
      }                                                                                      \
    }                                                                                        \
  }
PADDED_CONV(f32, float)
PADDED_CONV(f64, double)

/* Forward: splits the output columns into runs (at most OW, then a sentinel whose block0
 * is the blocks per image) and returns the length of their tap lists. */
static int64_t plan_runs(const geometry *g, int64_t height, column_run *runs) {
  /* NOTE: with fewer than PAD_TAPS channels the skipped taps are too few to pay for the
   * extra blocks (the MNIST model's first conv, C = 1, ran 2-4% slower), so all columns
   * then form one run. */
  int columns = g->c >= PAD_TAPS;
  int64_t nruns = 0, blocks = 0, taps = 0;
  for (int64_t ow = 0; ow < g->ow; ow++) {
    int64_t lo = 0, hi = g->kw;
    if (columns) in_image(ow * g->sw - g->pl, g->dw, g->w, g->kw, &lo, &hi);
    column_run *last = nruns > 0 ? &runs[nruns - 1] : NULL;
    if (last && last->q0 == lo * g->c && last->q1 == hi * g->c) {
      last->width++;
      continue;
    }
    if (last) {
      blocks += (g->oh * last->width + height - 1) / height;
      taps += g->kh * (last->q1 - last->q0);
    }
    runs[nruns++] = (column_run){ow, 1, lo * g->c, hi * g->c, blocks, taps};
  }
  column_run *last = &runs[nruns - 1];
  blocks += (g->oh * last->width + height - 1) / height;
  taps += g->kh * (last->q1 - last->q0);
  runs[nruns] = (column_run){g->ow, 0, 0, 0, blocks, taps};
  return taps;
}

/* Products (tap x pixel, per output channel) one image's forward blocks of `height` pixels
 * compute: each block computes all its filter rows that any of its pixels reads (rows[]),
 * for `height` pixels, however few are left in its run. */
static int64_t block_products(const geometry *g, const column_run *runs, const int64_t *rows,
                              int64_t height) {
  int64_t products = 0;
  for (const column_run *run = runs; run->width > 0; run++)
    for (int64_t first = 0; first < g->oh * run->width; first += height) {
      int64_t last = first + height - 1 < g->oh * run->width ? first + height - 1
                                                             : g->oh * run->width - 1;
      int64_t a0 = g->kh, a1 = 0;
      for (int64_t r = first / run->width; r <= last / run->width; r++) {
        int64_t lo = rows[2 * r], hi = rows[2 * r + 1];
        if (lo < hi && lo < a0) a0 = lo;
        if (lo < hi && hi > a1) a1 = hi;
      }
      if (a1 > a0) products += height * (a1 - a0) * (run->q1 - run->q0);
    }
  return products;
}

/* The forward block height: PAD_ROWS, unless blocks of PAD_ROWS_SHORT waste at least 2%
 * fewer products on padding and on the unused pixels of a run's last block. NOTE (AVX-512,
 * 8 and 7 pixels): the 8-pixel tile does more per tap (16 FMAs to 14), so it stays where the two pack alike:
 * 7 slowed the MNIST model's first conv (28 x 28, 1 channel) by 4-8%. On its second
 * (14 x 14, SAME 5 x 5: runs of 1, 1, 10, 1 and 1 columns) 8 computes 92.3% useful products
 * and 7 computes 95.9%: batch 100, forward 8.23-8.69 -> 7.90-7.95 ms (3 of 4 runs; one
 * slow run of each), input gradient 8.31-8.70 -> 7.99-8.03 ms, alternating the builds. */
static int64_t choose_block_rows(const geometry *g, const column_run *runs, const int64_t *rows) {
  int64_t tall = block_products(g, runs, rows, PAD_ROWS);
  int64_t short_ = block_products(g, runs, rows, PAD_ROWS_SHORT);
  return short_ * 100 <= tall * 98 ? PAD_ROWS_SHORT : PAD_ROWS;
}

/* Runs the padded kernel (forward when dy is NULL, else the filter gradient into `out`,
 * which must be zeroed). Returns 0 when the geometry does not fit it (the caller takes
 * another path), 1 when done, -1 when out of memory. */
static int padded_conv(int32_t dtype, const geometry *g, const char *x, const void *filter,
                       const void *dy, void *out) {
  size_t size = eager_dtype_size(dtype);
  int64_t lanes = 64 / (int64_t)size, ph, pw;
  padded_size(g, &ph, &pw);
  int64_t pad_bytes = (ph * pw * g->c * (int64_t)size + 63) / 64 * 64;
  if (g->oc % lanes != 0 || g->k > DIRECT_MAX_K || pad_bytes > PAD_MAX_BYTES) return 0;
  if (!dy && g->k * g->oc * (int64_t)size > DIRECT_MAX_FILTER_BYTES) return 0;
  int32_t off[DIRECT_MAX_K];
  for (int64_t a = 0, p = 0; a < g->kh; a++)
    for (int64_t b = 0; b < g->kw; b++)
      for (int64_t ci = 0; ci < g->c; ci++)
        off[p++] = (int32_t)((a * g->dh * pw + b * g->dw) * g->c + ci);
  int64_t work = g->n * g->oh * g->ow * g->k * g->oc;
  int nth = eager_threads_for(work, EAGER_GRAIN_CHEAP);
  if (dy && nth > g->k / pad_dfilter_unit(g)) nth = (int)(g->k / pad_dfilter_unit(g));
  padded_job job = {.g = g, .x = x, .filter = filter, .dy = dy, .out = out, .off = off,
                    .ph = ph, .pw = pw, .pad_bytes = pad_bytes};
  column_run *runs = NULL;
  pad_tap *taps = NULL;
  int64_t *rows = NULL;
  int ok = (job.pads = aligned_alloc(64, (size_t)(nth * pad_bytes))) != NULL;
  if (ok && !dy) { /* the forward pass's plan: column runs, their taps, each row's taps */
    ok = (runs = malloc((size_t)(g->ow + 1) * sizeof *runs)) &&
         (taps = malloc((size_t)plan_runs(g, PAD_ROWS, runs) * sizeof *taps + 1)) &&
         (rows = malloc((size_t)(2 * g->oh) * sizeof *rows));
    for (int64_t oh = 0; ok && oh < g->oh; oh++)
      in_image(oh * g->sh - g->pt, g->dh, g->h, g->kh, &rows[2 * oh], &rows[2 * oh + 1]);
    job.block_rows = ok ? choose_block_rows(g, runs, rows) : PAD_ROWS;
    if (job.block_rows != PAD_ROWS) plan_runs(g, job.block_rows, runs); /* same runs, taps */
    const column_run *run = runs;
    for (; ok && run->width > 0; run++)
      for (int64_t a = 0, i = run->tap0; a < g->kh; a++)
        for (int64_t p = a * g->kw * g->c + run->q0; p < a * g->kw * g->c + run->q1; p++)
          taps[i++] = (pad_tap){off[p], (int32_t)(p * g->oc)};
    job.runs = runs;
    job.taps = taps;
    job.rows = rows;
    job.blocks = ok ? run->block0 : 0; /* the sentinel's */
  }
  if (ok) {
    int f32 = dtype == EAGER_F32;
    int tall = job.block_rows == PAD_ROWS;
    eager_task_fn fn = dy    ? (f32 ? padded_dfilter_f32 : padded_dfilter_f64)
                       : f32 ? (tall ? padded_conv_f32_tall : padded_conv_f32_short)
                             : (tall ? padded_conv_f64_tall : padded_conv_f64_short);
    eager_parallel(fn, &job, nth);
  }
  free(job.pads);
  free(runs);
  free(taps);
  free(rows);
  return ok ? 1 : -1;
}

/* ---- direct convolution reducing over channel vectors ------------------------------- */

/* With few output channels there is no vector of them to fill, but when the input channels
 * are whole vectors (the input gradient of a conv with few input channels, e.g. the MNIST
 * model's first: dy has 32 channels, dx one) the sum over them vectorises instead: each of
 * PAD_ROWS pixels keeps one vector of partial sums, lane l summing channels l, l + LANES,
 * ..., added up (in a fixed order) at the end. The filter is [KH, KW, OC, C] here, so each
 * tap's channels are contiguous; off[a * KW + b] is filter position (a, b)'s offset in the
 * padded image. */
#define NARROW_CONV(SFX, T)                                                                  \
  static void narrow_conv_##SFX(void *arg, int ith, int nth) {                               \
    const padded_job *job = arg;                                                             \
    const geometry *g = job->g;                                                              \
    typedef T vec __attribute__((vector_size(64)));                                          \
    enum { LANES = 64 / sizeof(T) };                                                         \
    T *pad = (T *)(job->pads + ith * job->pad_bytes);                                        \
    const T *f = job->filter;                                                                \
    int64_t pixels = g->oh * g->ow, blocks = (pixels + PAD_ROWS - 1) / PAD_ROWS;             \
    int64_t taps = g->kh * g->kw, chunks = g->c / LANES, begin, end, image = -1;             \
    eager_split(g->n * blocks, ith, nth, &begin, &end);                                      \
    for (int64_t u = begin; u < end; u++) {                                                  \
      int64_t n = u / blocks, first = u % blocks * PAD_ROWS;                                 \
      int rows = pixels - first < PAD_ROWS ? (int)(pixels - first) : PAD_ROWS;               \
      if (n != image) {                                                                      \
        pad_image(g, sizeof(T), job->x + (size_t)(n * g->h * g->w * g->c) * sizeof(T),      \
                  (char *)pad, job->ph, job->pw);                                            \
        image = n;                                                                           \
      }                                                                                      \
      const T *b[PAD_ROWS];                                                                  \
      T *o[PAD_ROWS];                                                                        \
      int64_t oh = first / g->ow, ow = first % g->ow;                                        \
      for (int i = 0; i < PAD_ROWS; i++) {                                                   \
        b[i] = i < rows ? pad + (oh * g->sh * job->pw + ow * g->sw) * g->c : b[0];           \
        o[i] = i < rows ? (T *)job->out + (n * pixels + oh * g->ow + ow) * g->oc : o[0];     \
        if (++ow == g->ow) {                                                                 \
          ow = 0;                                                                            \
          oh++;                                                                              \
        }                                                                                    \
      }                                                                                      \
      for (int64_t j = 0; j < g->oc; j++) {                                                  \
        vec acc[PAD_ROWS];                                                                   \
        memset(acc, 0, sizeof acc);                                                          \
        for (int64_t t = 0; t < taps; t++) {                                                 \
          const T *w = f + (t * g->oc + j) * g->c;                                           \
          const int32_t q = job->off[t];                                                     \
          for (int64_t k = 0; k < chunks; k++) {                                             \
            vec wv;                                                                          \
            memcpy(&wv, w + k * LANES, sizeof wv);                                           \
            for (int i = 0; i < PAD_ROWS; i++) {                                             \
              vec xv;                                                                        \
              memcpy(&xv, b[i] + q + k * LANES, sizeof xv);                                  \
              acc[i] += xv * wv;                                                             \
            }                                                                                \
          }                                                                                  \
        }                                                                                    \
        /* Lanes summed pairwise, halves first. Unused rows repeat pixel 0 and write its     \
         * value again. */                                                                   \
        for (int i = 0; i < PAD_ROWS; i++) {                                                 \
          typedef T half __attribute__((vector_size(32)));                                   \
          typedef T quarter __attribute__((vector_size(16)));                                \
          half h[2];                                                                         \
          quarter q[2];                                                                      \
          memcpy(h, &acc[i], sizeof h);                                                      \
          h[0] += h[1];                                                                      \
          memcpy(q, &h[0], sizeof q);                                                        \
          q[0] += q[1];                                                                      \
          T sum = q[0][0];                                                                   \
          for (int l = 1; l < (int)(16 / sizeof(T)); l++) sum += q[0][l];                    \
          o[i][j] = sum;                                                                     \
        }                                                                                    \
      }                                                                                      \
    }                                                                                        \
  }
NARROW_CONV(f32, float)
NARROW_CONV(f64, double)

/* Runs the narrow kernel (filter [KH, KW, OC, C]). Returns 0 when the geometry does not fit
 * it, 1 when done, -1 when out of memory. */
static int narrow_conv(int32_t dtype, const geometry *g, const char *x, const void *filter,
                       void *out) {
  size_t size = eager_dtype_size(dtype);
  int64_t ph, pw;
  padded_size(g, &ph, &pw);
  int64_t pad_bytes = (ph * pw * g->c * (int64_t)size + 63) / 64 * 64;
  if (g->c % (64 / (int64_t)size) != 0 || g->kh * g->kw > DIRECT_MAX_K ||
      pad_bytes > PAD_MAX_BYTES)
    return 0;
  int32_t off[DIRECT_MAX_K];
  for (int64_t a = 0; a < g->kh; a++)
    for (int64_t b = 0; b < g->kw; b++)
      off[a * g->kw + b] = (int32_t)((a * g->dh * pw + b * g->dw) * g->c);
  int nth = eager_threads_for(g->n * g->oh * g->ow * g->k * g->oc, EAGER_GRAIN_CHEAP);
  padded_job job = {.g = g, .x = x, .filter = filter, .out = out, .off = off, .ph = ph,
                    .pw = pw, .pad_bytes = pad_bytes,
                    .pads = aligned_alloc(64, (size_t)(nth * pad_bytes))};
  if (!job.pads) return -1;
  eager_parallel(dtype == EAGER_F32 ? narrow_conv_f32 : narrow_conv_f64, &job, nth);
  free(job.pads);
  return 1;
}

/* Whether the direct kernel takes this geometry: a cache-sized filter and short rows. */
static int direct_fits(const geometry *g, size_t size) {
  return g->k <= DIRECT_MAX_K && g->k * g->oc * (int64_t)size <= DIRECT_MAX_FILTER_BYTES;
}

/* The padded kernel where it applies, else the im2col_row one. Returns 0, or -1 when out
 * of memory. */
static int direct_conv(int32_t dtype, const geometry *g, const void *x, const void *filter,
                       void *out) {
  if (dtype == EAGER_F32) {
    int winograd = eager_winograd_conv(g, x, filter, out);
    if (winograd != 0) return winograd > 0 ? 0 : -1;
  }
  int padded = padded_conv(dtype, g, x, filter, NULL, out);
  if (padded != 0) return padded > 0 ? 0 : -1;
  direct_job job = {g, x, filter, out};
  eager_parallel(dtype == EAGER_F32 ? direct_conv_f32 : direct_conv_f64, &job,
                 eager_threads_for(g->n * g->oh * g->ow * g->k * g->oc, EAGER_GRAIN_CHEAP));
  return 0;
}

/* The gradient of a stride-1, undilated conv w.r.t. its input is itself a convolution: of
 * dy with the filter rotated by 180 degrees and its channel axes swapped, padded by
 * k - 1 - pad on each side. Returns 0 when that does not apply or the direct kernels
 * would not take it (the caller then uses GEMM + col2im), else runs it: 1 on success,
 * -1 when out of memory. NOTE: on the MNIST model's second conv (dx [100,14,14,32]) this
 * ran in 11.7-12.5 ms where GEMM + col2im took 14.6-15.0; with one input channel (its first
 * conv) the output-channel tiles were 4x slower, hence the 16-channel minimum for them and
 * the narrow kernel below it. */
static int backprop_input_direct(int32_t dtype, const geometry *g, size_t size,
                                 const char *filter, const char *dy, void *dx) {
  if (g->sh != 1 || g->sw != 1 || g->dh != 1 || g->dw != 1) return 0;
  if (g->pt > g->kh - 1 || g->pb > g->kh - 1 || g->pl > g->kw - 1 || g->pr > g->kw - 1) return 0;
  geometry t = {.n = g->n, .h = g->oh, .w = g->ow, .c = g->oc, .kh = g->kh, .kw = g->kw,
                .oc = g->c, .oh = g->h, .ow = g->w, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                .pt = g->kh - 1 - g->pt, .pb = g->kh - 1 - g->pb, .pl = g->kw - 1 - g->pl,
                .pr = g->kw - 1 - g->pr, .k = g->kh * g->kw * g->oc};
  if (!geometry_valid(&t) || (t.oc >= 16 && !direct_fits(&t, size))) return 0;
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
    int status = narrow_conv(dtype, &t, dy, rotated, dx);
    free(rotated);
    return status;
  }
  for (int64_t a = 0; a < g->kh; a++)
    for (int64_t b = 0; b < g->kw; b++)
      for (int64_t ci = 0; ci < g->c; ci++)
        for (int64_t o = 0; o < g->oc; o++) {
          int64_t from = (((g->kh - 1 - a) * g->kw + (g->kw - 1 - b)) * g->c + ci) * g->oc + o;
          int64_t to = ((a * g->kw + b) * g->oc + o) * g->c + ci;
          if (dtype == EAGER_F32) ((float *)rotated)[to] = ((const float *)filter)[from];
          else ((double *)rotated)[to] = ((const double *)filter)[from];
        }
  int status = direct_conv(dtype, &t, dy, rotated, dx);
  free(rotated);
  return status == 0 ? 1 : -1;
}

/* ---- convolution ------------------------------------------------------------------- */

EAGER_API int32_t eager_conv2d(int32_t dtype, const int64_t *x_shape,
                               const int64_t *filter_shape, const int64_t *out_shape,
                               const eager_conv_params *params, void *out, const void *x,
                               int64_t x_offset, const void *filter, int64_t filter_offset) {
  geometry g;
  if (!float_dtype(dtype)) return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  if (!conv_geometry(&g, x_shape, filter_shape, out_shape, params)) return EAGER_ERR_ARGUMENT;
  size_t size = eager_dtype_size(dtype);
  int64_t rows = g.n * g.oh * g.ow;
  if (rows == 0 || g.oc == 0) return EAGER_OK;
  if (g.k == 0) {
    memset(out, 0, (size_t)(rows * g.oc) * size);
    return EAGER_OK;
  }
  const char *xp = (const char *)x + (size_t)x_offset * size;
  const char *fp = (const char *)filter + (size_t)filter_offset * size;
  if (is_pointwise(&g)) {
    for (int64_t r0 = 0; r0 < rows; r0 += BLAS_MAX_DIM) {
      int64_t m = rows - r0 < BLAS_MAX_DIM ? rows - r0 : BLAS_MAX_DIM;
      eager_gemm(dtype, 0, 0, m, g.oc, g.k, xp + (size_t)(r0 * g.c) * size, g.c, fp, g.oc, 0.0,
                 (char *)out + (size_t)(r0 * g.oc) * size, g.oc);
    }
    return EAGER_OK;
  }
  if (direct_fits(&g, size))
    return direct_conv(dtype, &g, xp, fp, out) == 0 ? EAGER_OK : EAGER_ERR_NO_MEMORY;
  int64_t chunk = chunk_rows(&g, size, rows);
  char *cols = malloc((size_t)(chunk * g.k) * size);
  if (!cols) return EAGER_ERR_NO_MEMORY;
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    int64_t m = rows - r0 < chunk ? rows - r0 : chunk;
    im2col(&g, size, xp, cols, r0, m);
    eager_gemm(dtype, 0, 0, m, g.oc, g.k, cols, g.k, fp, g.oc, 0.0,
               (char *)out + (size_t)(r0 * g.oc) * size, g.oc);
  }
  free(cols);
  return EAGER_OK;
}

EAGER_API int32_t eager_conv2d_backprop_input(int32_t dtype, const int64_t *x_shape,
                                              const int64_t *filter_shape,
                                              const int64_t *out_shape, const eager_conv_params *params,
                                              void *dx, const void *filter,
                                              int64_t filter_offset, const void *dy,
                                              int64_t dy_offset) {
  geometry g;
  if (!float_dtype(dtype)) return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  if (!conv_geometry(&g, x_shape, filter_shape, out_shape, params)) return EAGER_ERR_ARGUMENT;
  size_t size = eager_dtype_size(dtype);
  int64_t rows = g.n * g.oh * g.ow;
  size_t dx_bytes = (size_t)(g.n * g.h * g.w * g.c) * size;
  if (rows == 0 || g.oc == 0 || g.k == 0) {
    memset(dx, 0, dx_bytes);
    return EAGER_OK;
  }
  const char *fp = (const char *)filter + (size_t)filter_offset * size;
  const char *dyp = (const char *)dy + (size_t)dy_offset * size;
  /* The direct conv writes every element of dx; the other paths add into zeros. */
  int direct = is_pointwise(&g) ? 0 : backprop_input_direct(dtype, &g, size, fp, dyp, dx);
  if (direct != 0) return direct > 0 ? EAGER_OK : EAGER_ERR_NO_MEMORY;
  eager_zero(dx, dx_bytes);
  if (is_pointwise(&g)) {
    for (int64_t r0 = 0; r0 < rows; r0 += BLAS_MAX_DIM) {
      int64_t m = rows - r0 < BLAS_MAX_DIM ? rows - r0 : BLAS_MAX_DIM;
      eager_gemm(dtype, 0, 1, m, g.c, g.oc, dyp + (size_t)(r0 * g.oc) * size, g.oc, fp, g.oc,
                 0.0, (char *)dx + (size_t)(r0 * g.c) * size, g.c);
    }
    return EAGER_OK;
  }
  int64_t chunk = chunk_rows(&g, size, rows), pixels = g.oh * g.ow;
  char *dcols = malloc((size_t)(chunk * g.k) * size);
  if (!dcols) return EAGER_ERR_NO_MEMORY;
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    int64_t m = rows - r0 < chunk ? rows - r0 : chunk;
    eager_gemm(dtype, 0, 1, m, g.k, g.oc, dyp + (size_t)(r0 * g.oc) * size, g.oc, fp, g.oc,
               0.0, dcols, g.k);
    int64_t first = r0 / pixels, images = (r0 + m - 1) / pixels - first + 1;
    int nth = eager_threads_for(m * g.k, EAGER_GRAIN_CHEAP);
    col2im_job job = {&g, dtype, dcols, dx, r0, r0 + m, scatter_units(first, images, g.c, nth)};
    eager_parallel(col2im_task, &job, nth);
  }
  free(dcols);
  return EAGER_OK;
}

/* ---- filter gradient for small filters ------------------------------------------------ */

/* A filter gradient of at most this many bytes is accumulated directly (no im2col buffer,
 * no GEMM with two tiny dimensions and a huge inner one). NOTE: for the MNIST model's first
 * conv (k = 25, oc = 32, 78,400 rows) GEMM took 5.4 ms where TensorFlow takes 0.8. */
#define SMALL_DFILTER_BYTES ((int64_t)16 << 10)
/* Rows per partial sum: fixed, so the summation order depends on the shapes only, never on
 * the thread count (results are reproducible). */
#define DFILTER_BLOCK_ROWS 512

typedef struct {
  const geometry *g;
  const char *x, *dy;
  void *partials; /* one k x oc partial per block of rows */
  void *dfilter;
  int64_t blocks;
} dfilter_job;

#define SMALL_DFILTER(SFX, T)                                                             \
  static void dfilter_blocks_##SFX(void *arg, int ith, int nth) {                         \
    const dfilter_job *job = arg;                                                         \
    const geometry *g = job->g;                                                           \
    int64_t begin, end, k = g->k, oc = g->oc, rows = g->n * g->oh * g->ow;                \
    T patch[DIRECT_MAX_K];                                                                \
    eager_split(job->blocks, ith, nth, &begin, &end);                                     \
    for (int64_t b = begin; b < end; b++) {                                               \
      T *acc = (T *)job->partials + b * k * oc;                                           \
      memset(acc, 0, (size_t)(k * oc) * sizeof(T));                                       \
      int64_t r1 = (b + 1) * DFILTER_BLOCK_ROWS;                                          \
      if (r1 > rows) r1 = rows;                                                           \
      for (int64_t r = b * DFILTER_BLOCK_ROWS; r < r1; r++) {                             \
        im2col_row(g, sizeof(T), job->x, r, (char *)patch);                               \
        const T *restrict d = (const T *)job->dy + r * oc;                                \
        for (int64_t p = 0; p < k; p++) {                                                 \
          const T v = patch[p];                                                           \
          T *restrict a = acc + p * oc;                                                   \
          for (int64_t o = 0; o < oc; o++) a[o] += v * d[o];                              \
        }                                                                                 \
      }                                                                                   \
    }                                                                                     \
  }                                                                                       \
  static void dfilter_sum_##SFX(void *arg, int ith, int nth) {                            \
    const dfilter_job *job = arg;                                                         \
    int64_t begin, end, n = job->g->k * job->g->oc;                                       \
    eager_split(n, ith, nth, &begin, &end);                                               \
    const T *parts = job->partials;                                                       \
    T *out = job->dfilter;                                                                \
    for (int64_t i = begin; i < end; i++) {                                               \
      T sum = 0;                                                                          \
      for (int64_t b = 0; b < job->blocks; b++) sum += parts[b * n + i];                  \
      out[i] = sum;                                                                       \
    }                                                                                     \
  }
SMALL_DFILTER(f32, float)
SMALL_DFILTER(f64, double)

/* The filter gradient by direct accumulation when the filter is small; 0 when it is not
 * (the caller uses im2col + GEMM), 1 when done, -1 when out of memory. */
static int small_dfilter(int32_t dtype, const geometry *g, size_t size, const char *x,
                         const char *dy, void *dfilter) {
  if (g->k > DIRECT_MAX_K || g->k * g->oc * (int64_t)size > SMALL_DFILTER_BYTES) return 0;
  int64_t rows = g->n * g->oh * g->ow;
  int64_t blocks = (rows + DFILTER_BLOCK_ROWS - 1) / DFILTER_BLOCK_ROWS;
  void *partials = malloc((size_t)(blocks * g->k * g->oc) * size);
  if (!partials) return -1;
  dfilter_job job = {g, x, dy, partials, dfilter, blocks};
  int f32 = dtype == EAGER_F32;
  eager_parallel(f32 ? dfilter_blocks_f32 : dfilter_blocks_f64, &job,
                 eager_threads_for(rows * g->k * g->oc, EAGER_GRAIN_CHEAP));
  eager_parallel(f32 ? dfilter_sum_f32 : dfilter_sum_f64, &job,
                 eager_threads_for(blocks * g->k * g->oc, EAGER_GRAIN_CHEAP));
  free(partials);
  return 1;
}

EAGER_API int32_t eager_conv2d_backprop_filter(int32_t dtype, const int64_t *x_shape,
                                               const int64_t *filter_shape,
                                               const int64_t *out_shape, const eager_conv_params *params,
                                               void *dfilter, const void *x, int64_t x_offset,
                                               const void *dy, int64_t dy_offset) {
  geometry g;
  if (!float_dtype(dtype)) return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  if (!conv_geometry(&g, x_shape, filter_shape, out_shape, params)) return EAGER_ERR_ARGUMENT;
  size_t size = eager_dtype_size(dtype);
  int64_t rows = g.n * g.oh * g.ow;
  memset(dfilter, 0, (size_t)(g.k * g.oc) * size);
  if (rows == 0 || g.oc == 0 || g.k == 0) return EAGER_OK;
  const char *xp = (const char *)x + (size_t)x_offset * size;
  const char *dyp = (const char *)dy + (size_t)dy_offset * size;
  if (dtype == EAGER_F32) {
    int winograd = eager_winograd_filter_grad(&g, (const float *)xp, (const float *)dyp,
                                              dfilter);
    if (winograd != 0) return winograd > 0 ? EAGER_OK : EAGER_ERR_NO_MEMORY;
  }
  int small = is_pointwise(&g) ? 0 : padded_conv(dtype, &g, xp, NULL, dyp, dfilter);
  if (small == 0 && !is_pointwise(&g)) small = small_dfilter(dtype, &g, size, xp, dyp, dfilter);
  if (small != 0) return small > 0 ? EAGER_OK : EAGER_ERR_NO_MEMORY;
  if (is_pointwise(&g)) {
    for (int64_t r0 = 0; r0 < rows; r0 += BLAS_MAX_DIM) {
      int64_t m = rows - r0 < BLAS_MAX_DIM ? rows - r0 : BLAS_MAX_DIM;
      eager_gemm(dtype, 1, 0, g.c, g.oc, m, xp + (size_t)(r0 * g.c) * size, g.c,
                 dyp + (size_t)(r0 * g.oc) * size, g.oc, 1.0, dfilter, g.oc);
    }
    return EAGER_OK;
  }
  int64_t chunk = chunk_rows(&g, size, rows);
  char *cols = malloc((size_t)(chunk * g.k) * size);
  if (!cols) return EAGER_ERR_NO_MEMORY;
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    int64_t m = rows - r0 < chunk ? rows - r0 : chunk;
    im2col(&g, size, xp, cols, r0, m);
    eager_gemm(dtype, 1, 0, g.k, g.oc, m, cols, g.k, dyp + (size_t)(r0 * g.oc) * size, g.oc,
               1.0, dfilter, g.oc);
  }
  free(cols);
  return EAGER_OK;
}

/* ---- pooling ----------------------------------------------------------------------- */

/* The in-bounds window [*h0, *h1) x [*w0, *w1) of output pixel (oh, ow). */
static void pool_window(const geometry *g, int64_t oh, int64_t ow, int64_t *h0, int64_t *h1,
                        int64_t *w0, int64_t *w1) {
  int64_t hs = oh * g->sh - g->pt, ws = ow * g->sw - g->pl;
  *h0 = hs > 0 ? hs : 0;
  *h1 = hs + g->kh < g->h ? hs + g->kh : g->h;
  *w0 = ws > 0 ? ws : 0;
  *w1 = ws + g->kw < g->w ? ws + g->kw : g->w;
}

typedef struct {
  const geometry *g;
  const void *x;
  void *out;
  const void *ddx; /* max_pool_grad_grad only */
} pool_job;

/* Max: NaN wins (the first NaN of the window is the argmax); an empty window gives -inf.
 * Average: divided by the number of in-bounds elements; an empty window gives 0. */
#define POOL_TASKS(SFX, T)                                                                   \
  static void max_pool_task_##SFX(void *arg, int ith, int nth) {                             \
    pool_job *job = arg;                                                                     \
    const geometry *g = job->g;                                                              \
    int64_t begin, end, c = g->c;                                                            \
    eager_split(g->n * g->oh, ith, nth, &begin, &end);                                       \
    for (int64_t row = begin; row < end; row++) {                                            \
      int64_t n = row / g->oh, oh = row % g->oh;                                             \
      const T *image = (const T *)job->x + n * g->h * g->w * c;                              \
      for (int64_t ow = 0; ow < g->ow; ow++) {                                               \
        T *restrict o = (T *)job->out + (row * g->ow + ow) * c;                              \
        int64_t h0, h1, w0, w1;                                                              \
        pool_window(g, oh, ow, &h0, &h1, &w0, &w1);                                          \
        for (int64_t ch = 0; ch < c; ch++) o[ch] = (T)-INFINITY;                             \
        for (int64_t ih = h0; ih < h1; ih++)                                                 \
          for (int64_t iw = w0; iw < w1; iw++) {                                             \
            const T *restrict v = image + (ih * g->w + iw) * c;                              \
            for (int64_t ch = 0; ch < c; ch++)                                               \
              o[ch] = (v[ch] > o[ch] || v[ch] != v[ch]) && o[ch] == o[ch] ? v[ch] : o[ch];   \
          }                                                                                  \
      }                                                                                      \
    }                                                                                        \
  }                                                                                          \
  static void avg_pool_task_##SFX(void *arg, int ith, int nth) {                             \
    pool_job *job = arg;                                                                     \
    const geometry *g = job->g;                                                              \
    int64_t begin, end, c = g->c;                                                            \
    eager_split(g->n * g->oh, ith, nth, &begin, &end);                                       \
    for (int64_t row = begin; row < end; row++) {                                            \
      int64_t n = row / g->oh, oh = row % g->oh;                                             \
      const T *image = (const T *)job->x + n * g->h * g->w * c;                              \
      for (int64_t ow = 0; ow < g->ow; ow++) {                                               \
        T *restrict o = (T *)job->out + (row * g->ow + ow) * c;                              \
        int64_t h0, h1, w0, w1;                                                              \
        pool_window(g, oh, ow, &h0, &h1, &w0, &w1);                                          \
        for (int64_t ch = 0; ch < c; ch++) o[ch] = 0;                                        \
        for (int64_t ih = h0; ih < h1; ih++)                                                 \
          for (int64_t iw = w0; iw < w1; iw++) {                                             \
            const T *restrict v = image + (ih * g->w + iw) * c;                              \
            for (int64_t ch = 0; ch < c; ch++) o[ch] += v[ch];                               \
          }                                                                                  \
        int64_t count = (h1 - h0) * (w1 - w0);                                               \
        if (count > 0) {                                                                     \
          T scale = (T)1 / (T)count;                                                         \
          for (int64_t ch = 0; ch < c; ch++) o[ch] *= scale;                                 \
        }                                                                                    \
      }                                                                                      \
    }                                                                                        \
  }
POOL_TASKS(f32, float)
POOL_TASKS(f64, double)

typedef struct {
  const geometry *g;
  const void *x, *dy;
  void *dx;
  scatter_split split;
} pool_grad_job;

/* Channels of one unit are handled in tiles so the running argmax lives on the stack. */
#define POOL_TILE 64

/* where[ch - t0] = the argmax over the non-empty window [h0, h1) x [w0, w1) of channel
 * ch in [t0, t1) of image: the first maximum in row-major window order, or the first
 * NaN, as max pooling picks it. The max pooling gradients share it, so the gradient and
 * its gradient always agree on the winner. */
#define POOL_ARGMAX(SFX, T)                                                                  \
  static void pool_argmax_##SFX(const geometry *g, const T *image, int64_t h0, int64_t h1,   \
                                int64_t w0, int64_t w1, int64_t t0, int64_t t1,              \
                                int64_t *where) {                                            \
    T best[POOL_TILE];                                                                       \
    int64_t c = g->c, first = h0 * g->w + w0;                                                \
    for (int64_t ch = t0; ch < t1; ch++) {                                                   \
      best[ch - t0] = image[first * c + ch];                                                 \
      where[ch - t0] = first;                                                                \
    }                                                                                        \
    for (int64_t ih = h0; ih < h1; ih++)                                                     \
      for (int64_t iw = w0; iw < w1; iw++) {                                                 \
        int64_t p = ih * g->w + iw;                                                          \
        const T *v = image + p * c;                                                          \
        for (int64_t ch = t0; ch < t1; ch++) {                                               \
          T b = best[ch - t0], x = v[ch];                                                    \
          if (b == b && (x > b || x != x)) {                                                 \
            best[ch - t0] = x;                                                               \
            where[ch - t0] = p;                                                              \
          }                                                                                  \
        }                                                                                    \
      }                                                                                      \
  }
POOL_ARGMAX(f32, float)
POOL_ARGMAX(f64, double)

#define POOL_GRAD_TASKS(SFX, T)                                                              \
  static void max_pool_grad_task_##SFX(void *arg, int ith, int nth) {                        \
    pool_grad_job *job = arg;                                                                \
    const geometry *g = job->g;                                                              \
    int64_t begin, end, c = g->c, image_size = g->h * g->w * c;                              \
    eager_split(job->split.images * job->split.blocks, ith, nth, &begin, &end);              \
    int64_t where[POOL_TILE];                                                                \
    for (int64_t u = begin; u < end; u++) {                                                  \
      int64_t n, c0, c1;                                                                     \
      scatter_unit(&job->split, u, c, &n, &c0, &c1);                                         \
      const T *image = (const T *)job->x + n * image_size;                                   \
      T *dx = (T *)job->dx + n * image_size;                                                 \
      const T *dy = (const T *)job->dy + n * g->oh * g->ow * c;                              \
      for (int64_t oh = 0; oh < g->oh; oh++)                                                 \
        for (int64_t ow = 0; ow < g->ow; ow++) {                                             \
          int64_t h0, h1, w0, w1;                                                            \
          pool_window(g, oh, ow, &h0, &h1, &w0, &w1);                                        \
          if (h0 >= h1 || w0 >= w1) continue;                                                \
          const T *grad = dy + (oh * g->ow + ow) * c;                                        \
          for (int64_t t0 = c0; t0 < c1; t0 += POOL_TILE) {                                  \
            int64_t t1 = t0 + POOL_TILE < c1 ? t0 + POOL_TILE : c1;                          \
            pool_argmax_##SFX(g, image, h0, h1, w0, w1, t0, t1, where);                      \
            for (int64_t ch = t0; ch < t1; ch++) dx[where[ch - t0] * c + ch] += grad[ch];    \
          }                                                                                  \
        }                                                                                    \
    }                                                                                        \
  }                                                                                          \
  static void avg_pool_grad_task_##SFX(void *arg, int ith, int nth) {                        \
    pool_grad_job *job = arg;                                                                \
    const geometry *g = job->g;                                                              \
    int64_t begin, end, c = g->c, image_size = g->h * g->w * c;                              \
    eager_split(job->split.images * job->split.blocks, ith, nth, &begin, &end);              \
    for (int64_t u = begin; u < end; u++) {                                                  \
      int64_t n, c0, c1;                                                                     \
      scatter_unit(&job->split, u, c, &n, &c0, &c1);                                         \
      T *dx = (T *)job->dx + n * image_size;                                                 \
      const T *dy = (const T *)job->dy + n * g->oh * g->ow * c;                              \
      for (int64_t oh = 0; oh < g->oh; oh++)                                                 \
        for (int64_t ow = 0; ow < g->ow; ow++) {                                             \
          int64_t h0, h1, w0, w1;                                                            \
          pool_window(g, oh, ow, &h0, &h1, &w0, &w1);                                        \
          if (h0 >= h1 || w0 >= w1) continue;                                                \
          T scale = (T)1 / (T)((h1 - h0) * (w1 - w0));                                       \
          const T *grad = dy + (oh * g->ow + ow) * c;                                        \
          for (int64_t ih = h0; ih < h1; ih++)                                               \
            for (int64_t iw = w0; iw < w1; iw++) {                                           \
              T *restrict d = dx + (ih * g->w + iw) * c;                                     \
              for (int64_t ch = c0; ch < c1; ch++) d[ch] += grad[ch] * scale;                \
            }                                                                                \
        }                                                                                    \
    }                                                                                        \
  }
POOL_GRAD_TASKS(f32, float)
POOL_GRAD_TASKS(f64, double)

/* Whether the windows tile the input exactly (stride = window, no padding, the sizes whole
 * multiples of it: 2x2 windows with stride 2 on even sizes): then each input pixel is in
 * exactly one window. */
static int pool_tiles(const geometry *g) {
  return g->sh == g->kh && g->sw == g->kw && g->pt == 0 && g->pl == 0 &&
         g->h == g->oh * g->kh && g->w == g->ow * g->kw;
}

/* Element offset, in an image, of channel 0 of position p (row-major) of the window of
 * output pixel (oh, ow), for windows that tile the input. */
static int64_t tile_offset(const geometry *g, int64_t oh, int64_t ow, int64_t p) {
  return ((oh * g->kh + p / g->kw) * g->w + ow * g->kw + p % g->kw) * g->c;
}

/* Max pooling's gradient over tiling windows: dx is written once, window by window, with
 * no clearing pass and no scatter, choosing the winner as pool_argmax does (the first
 * maximum in row-major order, or the first NaN) without branches, so the channel loops
 * vectorise. Thread ith takes whole output rows. */
#define POOL_GRAD_TILED(SFX, T)                                                              \
  static void max_pool_grad_tiled_##SFX(void *arg, int ith, int nth) {                       \
    pool_grad_job *job = arg;                                                                \
    const geometry *g = job->g;                                                              \
    int64_t c = g->c, k = g->kh * g->kw, begin, end;                                         \
    eager_split(g->n * g->oh, ith, nth, &begin, &end);                                       \
    for (int64_t u = begin; u < end; u++) {                                                  \
      int64_t n = u / g->oh, oh = u % g->oh;                                                 \
      const T *image = (const T *)job->x + n * g->h * g->w * c;                              \
      T *dx = (T *)job->dx + n * g->h * g->w * c;                                            \
      const T *dy = (const T *)job->dy + u * g->ow * c;                                      \
      for (int64_t ow = 0; ow < g->ow; ow++)                                                 \
        for (int64_t t0 = 0; t0 < c; t0 += POOL_TILE) {                                      \
          int64_t len = c - t0 < POOL_TILE ? c - t0 : POOL_TILE;                             \
          T best[POOL_TILE];                                                                 \
          int32_t win[POOL_TILE];                                                            \
          const T *first = image + tile_offset(g, oh, ow, 0) + t0;                           \
          for (int64_t j = 0; j < len; j++) {                                                \
            best[j] = first[j];                                                              \
            win[j] = 0;                                                                      \
          }                                                                                  \
          for (int32_t p = 1; p < k; p++) {                                                  \
            const T *v = image + tile_offset(g, oh, ow, p) + t0;                             \
            for (int64_t j = 0; j < len; j++) {                                              \
              T b = best[j], x = v[j];                                                       \
              int take = (b == b) & ((x > b) | (x != x));                                    \
              best[j] = take ? x : b;                                                        \
              win[j] = take ? p : win[j];                                                    \
            }                                                                                \
          }                                                                                  \
          const T *grad = dy + ow * c + t0;                                                  \
          for (int32_t p = 0; p < k; p++) {                                                  \
            T *d = dx + tile_offset(g, oh, ow, p) + t0;                                      \
            for (int64_t j = 0; j < len; j++) d[j] = win[j] == p ? grad[j] : (T)0;           \
          }                                                                                  \
        }                                                                                    \
    }                                                                                        \
  }
POOL_GRAD_TILED(f32, float)
POOL_GRAD_TILED(f64, double)

/* out [N,OH,OW,C] = ddx [N,H,W,C] read at each window's argmax in x: the gradient of
 * max_pool_grad w.r.t. dy. A gather, so outputs are split by rows and never overlap. */
#define POOL_GRAD_GRAD_TASK(SFX, T)                                                          \
  static void max_pool_grad_grad_task_##SFX(void *arg, int ith, int nth) {                   \
    pool_job *job = arg;                                                                     \
    const geometry *g = job->g;                                                              \
    int64_t begin, end, c = g->c, image_size = g->h * g->w * c;                              \
    int64_t where[POOL_TILE];                                                                \
    eager_split(g->n * g->oh, ith, nth, &begin, &end);                                       \
    for (int64_t row = begin; row < end; row++) {                                            \
      int64_t n = row / g->oh, oh = row % g->oh;                                             \
      const T *image = (const T *)job->x + n * image_size;                                   \
      const T *ddx = (const T *)job->ddx + n * image_size;                                   \
      for (int64_t ow = 0; ow < g->ow; ow++) {                                               \
        T *restrict o = (T *)job->out + (row * g->ow + ow) * c;                              \
        int64_t h0, h1, w0, w1;                                                              \
        pool_window(g, oh, ow, &h0, &h1, &w0, &w1);                                          \
        if (h0 >= h1 || w0 >= w1) {                                                          \
          for (int64_t ch = 0; ch < c; ch++) o[ch] = 0;                                      \
          continue;                                                                          \
        }                                                                                    \
        for (int64_t t0 = 0; t0 < c; t0 += POOL_TILE) {                                      \
          int64_t t1 = t0 + POOL_TILE < c ? t0 + POOL_TILE : c;                              \
          pool_argmax_##SFX(g, image, h0, h1, w0, w1, t0, t1, where);                        \
          for (int64_t ch = t0; ch < t1; ch++) o[ch] = ddx[where[ch - t0] * c + ch];         \
        }                                                                                    \
      }                                                                                      \
    }                                                                                        \
  }
POOL_GRAD_GRAD_TASK(f32, float)
POOL_GRAD_GRAD_TASK(f64, double)

static int pool_threads(const geometry *g) {
  return eager_threads_for(g->n * g->oh * g->ow * g->c * g->kh * g->kw, EAGER_GRAIN_CHEAP);
}

static int32_t pool_forward(int max, int32_t dtype, const int64_t *x_shape,
                            const int64_t *out_shape, const eager_pool_params *params, void *out,
                            const void *x, int64_t x_offset) {
  geometry g;
  if (!float_dtype(dtype)) return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  if (!pool_geometry(&g, x_shape, out_shape, params)) return EAGER_ERR_ARGUMENT;
  if (g.n * g.oh * g.ow * g.c == 0) return EAGER_OK;
  pool_job job = {&g, (const char *)x + (size_t)x_offset * eager_dtype_size(dtype), out, NULL};
  eager_task_fn fn = dtype == EAGER_F32 ? (max ? max_pool_task_f32 : avg_pool_task_f32)
                                        : (max ? max_pool_task_f64 : avg_pool_task_f64);
  eager_parallel(fn, &job, pool_threads(&g));
  return EAGER_OK;
}

static int32_t pool_backward(int max, int32_t dtype, const int64_t *x_shape,
                             const int64_t *out_shape, const eager_pool_params *params, void *dx,
                             const void *x, int64_t x_offset, const void *dy,
                             int64_t dy_offset) {
  geometry g;
  if (!float_dtype(dtype)) return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  if (!pool_geometry(&g, x_shape, out_shape, params)) return EAGER_ERR_ARGUMENT;
  size_t size = eager_dtype_size(dtype);
  int tiled = max && pool_tiles(&g) && g.n * g.oh * g.ow * g.c > 0;
  if (!tiled) eager_zero(dx, (size_t)(g.n * g.h * g.w * g.c) * size);
  if (g.n * g.oh * g.ow * g.c == 0) return EAGER_OK;
  int nth = pool_threads(&g);
  pool_grad_job job = {&g, x ? (const char *)x + (size_t)x_offset * size : NULL,
                       (const char *)dy + (size_t)dy_offset * size, dx,
                       scatter_units(0, g.n, g.c, nth)};
  if (tiled) {
    eager_parallel(dtype == EAGER_F32 ? max_pool_grad_tiled_f32 : max_pool_grad_tiled_f64, &job,
                   nth);
    return EAGER_OK;
  }
  eager_task_fn fn = dtype == EAGER_F32
                         ? (max ? max_pool_grad_task_f32 : avg_pool_grad_task_f32)
                         : (max ? max_pool_grad_task_f64 : avg_pool_grad_task_f64);
  eager_parallel(fn, &job, nth);
  return EAGER_OK;
}

EAGER_API int32_t eager_max_pool2d(int32_t dtype, const int64_t *x_shape,
                                   const int64_t *out_shape, const eager_pool_params *params, void *out,
                                   const void *x, int64_t x_offset) {
  return pool_forward(1, dtype, x_shape, out_shape, params, out, x, x_offset);
}

EAGER_API int32_t eager_avg_pool2d(int32_t dtype, const int64_t *x_shape,
                                   const int64_t *out_shape, const eager_pool_params *params, void *out,
                                   const void *x, int64_t x_offset) {
  return pool_forward(0, dtype, x_shape, out_shape, params, out, x, x_offset);
}

EAGER_API int32_t eager_max_pool2d_grad(int32_t dtype, const int64_t *x_shape,
                                        const int64_t *out_shape, const eager_pool_params *params,
                                        void *dx, const void *x, int64_t x_offset,
                                        const void *dy, int64_t dy_offset) {
  return pool_backward(1, dtype, x_shape, out_shape, params, dx, x, x_offset, dy, dy_offset);
}

EAGER_API int32_t eager_avg_pool2d_grad(int32_t dtype, const int64_t *x_shape,
                                        const int64_t *out_shape, const eager_pool_params *params,
                                        void *dx, const void *dy, int64_t dy_offset) {
  return pool_backward(0, dtype, x_shape, out_shape, params, dx, NULL, 0, dy, dy_offset);
}

EAGER_API int32_t eager_max_pool2d_grad_grad(int32_t dtype, const int64_t *x_shape,
                                             const int64_t *out_shape, const eager_pool_params *params,
                                             void *out, const void *x, int64_t x_offset,
                                             const void *ddx, int64_t ddx_offset) {
  geometry g;
  if (!float_dtype(dtype)) return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  if (!pool_geometry(&g, x_shape, out_shape, params)) return EAGER_ERR_ARGUMENT;
  if (g.n * g.oh * g.ow * g.c == 0) return EAGER_OK;
  size_t size = eager_dtype_size(dtype);
  pool_job job = {&g, (const char *)x + (size_t)x_offset * size, out,
                  (const char *)ddx + (size_t)ddx_offset * size};
  eager_parallel(dtype == EAGER_F32 ? max_pool_grad_grad_task_f32 : max_pool_grad_grad_task_f64,
                 &job, pool_threads(&g));
  return EAGER_OK;
}
