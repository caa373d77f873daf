/*
 * 2-D convolution and pooling over NHWC tensors, with the kernels their gradients use.
 *
 * Convolution is im2col + GEMM: each output pixel's receptive field becomes one row of
 * K = KH*KW*C values, so with HWIO filters the output [N*OH*OW, OC] is one row-major
 * GEMM, cols [rows, K] x filter [K, OC]. Rows are processed in chunks whose im2col
 * buffer stays under CONV_CHUNK_BYTES; chunking depends only on the shapes, never on
 * the thread count, so results are reproducible. A 1x1, stride-1, unpadded conv needs
 * no im2col: the input already is the cols matrix. Convs with a cache-sized filter skip
 * both the buffer and BLAS (the direct kernel below).
 *
 * Backprop w.r.t. the input is the transpose: dcols = dy x filter^T, then col2im adds
 * each row back into its receptive field. Backprop w.r.t. the filter is
 * cols^T x dy, accumulated over chunks.
 *
 * Pooling loops run over channels innermost (NHWC), so they vectorise; gradient kernels
 * scatter into dx split by (image, channel block), which never overlap.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The im2col buffer of one chunk stays under this size (unless one row is larger). */
#define CONV_CHUNK_BYTES ((int64_t)4 << 20)
/* GEMM dimensions must fit BLAS's int. */
#define BLAS_MAX_DIM ((int64_t)INT32_MAX)

typedef struct {
  int64_t n, h, w, c;      /* input */
  int64_t kh, kw, oc;      /* filter (kh, kw, c, oc) or pooling window (kh, kw) */
  int64_t oh, ow;          /* output spatial size */
  int64_t sh, sw, dh, dw;  /* strides, dilations */
  int64_t pt, pb, pl, pr;  /* padding */
  int64_t k;               /* kh * kw * c: the length of one im2col row */
} geometry;

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

/* x_shape [N,H,W,C], filter_shape [KH,KW,C,OC], out_shape [N,OH,OW,OC],
 * params {sh, sw, dh, dw, pt, pb, pl, pr}. */
static int conv_geometry(geometry *g, const int64_t *x_shape, const int64_t *filter_shape,
                         const int64_t *out_shape, const int64_t *params) {
  *g = (geometry){.n = x_shape[0], .h = x_shape[1], .w = x_shape[2], .c = x_shape[3],
                  .kh = filter_shape[0], .kw = filter_shape[1], .oc = filter_shape[3],
                  .oh = out_shape[1], .ow = out_shape[2], .sh = params[0], .sw = params[1],
                  .dh = params[2], .dw = params[3], .pt = params[4], .pb = params[5],
                  .pl = params[6], .pr = params[7]};
  if (filter_shape[2] != g->c || out_shape[0] != g->n || out_shape[3] != g->oc ||
      !geometry_valid(g))
    return 0;
  g->k = g->kh * g->kw * g->c;
  return g->k <= BLAS_MAX_DIM && g->oc <= BLAS_MAX_DIM;
}

/* x_shape [N,H,W,C], out_shape [N,OH,OW,C], params {kh, kw, sh, sw, pt, pb, pl, pr}. */
static int pool_geometry(geometry *g, const int64_t *x_shape, const int64_t *out_shape,
                         const int64_t *params) {
  *g = (geometry){.n = x_shape[0], .h = x_shape[1], .w = x_shape[2], .c = x_shape[3],
                  .kh = params[0], .kw = params[1], .oc = x_shape[3], .oh = out_shape[1],
                  .ow = out_shape[2], .sh = params[2], .sw = params[3], .dh = 1, .dw = 1,
                  .pt = params[4], .pb = params[5], .pl = params[6], .pr = params[7]};
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

/* ---- GEMM -------------------------------------------------------------------------- */

/* c[m, n] = op(a) . op(b) + beta * c, row-major, float32 or float64. */
static void gemm(int dtype, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                 const void *a, int64_t lda, const void *b, int64_t ldb, double beta, void *c,
                 int64_t ldc) {
  enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  enum CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
  if (dtype == EAGER_F32)
    cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb,
                (float)beta, c, (int)ldc);
  else
    cblas_dgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, 1.0, a, (int)lda, b, (int)ldb,
                beta, c, (int)ldc);
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

/* Whether the direct kernel takes this geometry: a cache-sized filter and short rows. */
static int direct_fits(const geometry *g, size_t size) {
  return g->k <= DIRECT_MAX_K && g->k * g->oc * (int64_t)size <= DIRECT_MAX_FILTER_BYTES;
}

static void direct_conv(int32_t dtype, const geometry *g, const void *x, const void *filter,
                        void *out) {
  direct_job job = {g, x, filter, out};
  eager_parallel(dtype == EAGER_F32 ? direct_conv_f32 : direct_conv_f64, &job,
                 eager_threads_for(g->n * g->oh * g->ow * g->k * g->oc, EAGER_GRAIN_CHEAP));
}

/* The gradient of a stride-1, undilated conv w.r.t. its input is itself a convolution: of
 * dy with the filter rotated by 180 degrees and its channel axes swapped, padded by
 * k - 1 - pad on each side. Returns 0 when that does not apply or the direct kernel
 * would not take it (the caller then uses GEMM + col2im), else runs it: 1 on success,
 * -1 when the rotated filter cannot be allocated. NOTE: on the MNIST model's second conv
 * (dx [100,14,14,32]) this ran in 11.7-12.5 ms where GEMM + col2im took 14.6-15.0; with one
 * input channel (its first conv) it was 4x slower, hence the 16-channel minimum. */
static int backprop_input_direct(int32_t dtype, const geometry *g, size_t size,
                                 const char *filter, const char *dy, void *dx) {
  if (g->sh != 1 || g->sw != 1 || g->dh != 1 || g->dw != 1) return 0;
  if (g->pt > g->kh - 1 || g->pb > g->kh - 1 || g->pl > g->kw - 1 || g->pr > g->kw - 1) return 0;
  geometry t = {.n = g->n, .h = g->oh, .w = g->ow, .c = g->oc, .kh = g->kh, .kw = g->kw,
                .oc = g->c, .oh = g->h, .ow = g->w, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                .pt = g->kh - 1 - g->pt, .pb = g->kh - 1 - g->pb, .pl = g->kw - 1 - g->pl,
                .pr = g->kw - 1 - g->pr, .k = g->kh * g->kw * g->oc};
  /* Narrow outputs (a few input channels) run on the scalar tile: GEMM wins there. */
  if (t.oc < 16 || !geometry_valid(&t) || !direct_fits(&t, size)) return 0;
  char *rotated = malloc((size_t)(t.k * t.oc) * size);
  if (!rotated) return -1;
  for (int64_t a = 0; a < g->kh; a++)
    for (int64_t b = 0; b < g->kw; b++)
      for (int64_t ci = 0; ci < g->c; ci++)
        for (int64_t o = 0; o < g->oc; o++) {
          int64_t from = (((g->kh - 1 - a) * g->kw + (g->kw - 1 - b)) * g->c + ci) * g->oc + o;
          int64_t to = ((a * g->kw + b) * g->oc + o) * g->c + ci;
          memcpy(rotated + to * (int64_t)size, filter + from * (int64_t)size, size);
        }
  direct_conv(dtype, &t, dy, rotated, dx);
  free(rotated);
  return 1;
}

/* ---- convolution ------------------------------------------------------------------- */

EAGER_API int32_t eager_conv2d(int32_t dtype, const int64_t *x_shape,
                               const int64_t *filter_shape, const int64_t *out_shape,
                               const int64_t *params, void *out, const void *x,
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
      gemm(dtype, 0, 0, m, g.oc, g.k, xp + (size_t)(r0 * g.c) * size, g.c, fp, g.oc, 0.0,
           (char *)out + (size_t)(r0 * g.oc) * size, g.oc);
    }
    return EAGER_OK;
  }
  if (direct_fits(&g, size)) {
    direct_conv(dtype, &g, xp, fp, out);
    return EAGER_OK;
  }
  int64_t chunk = chunk_rows(&g, size, rows);
  char *cols = malloc((size_t)(chunk * g.k) * size);
  if (!cols) return EAGER_ERR_NO_MEMORY;
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    int64_t m = rows - r0 < chunk ? rows - r0 : chunk;
    im2col(&g, size, xp, cols, r0, m);
    gemm(dtype, 0, 0, m, g.oc, g.k, cols, g.k, fp, g.oc, 0.0,
         (char *)out + (size_t)(r0 * g.oc) * size, g.oc);
  }
  free(cols);
  return EAGER_OK;
}

EAGER_API int32_t eager_conv2d_backprop_input(int32_t dtype, const int64_t *x_shape,
                                              const int64_t *filter_shape,
                                              const int64_t *out_shape, const int64_t *params,
                                              void *dx, const void *filter,
                                              int64_t filter_offset, const void *dy,
                                              int64_t dy_offset) {
  geometry g;
  if (!float_dtype(dtype)) return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  if (!conv_geometry(&g, x_shape, filter_shape, out_shape, params)) return EAGER_ERR_ARGUMENT;
  size_t size = eager_dtype_size(dtype);
  int64_t rows = g.n * g.oh * g.ow;
  memset(dx, 0, (size_t)(g.n * g.h * g.w * g.c) * size);
  if (rows == 0 || g.oc == 0 || g.k == 0) return EAGER_OK;
  const char *fp = (const char *)filter + (size_t)filter_offset * size;
  const char *dyp = (const char *)dy + (size_t)dy_offset * size;
  int direct = is_pointwise(&g) ? 0 : backprop_input_direct(dtype, &g, size, fp, dyp, dx);
  if (direct != 0) return direct > 0 ? EAGER_OK : EAGER_ERR_NO_MEMORY;
  if (is_pointwise(&g)) {
    for (int64_t r0 = 0; r0 < rows; r0 += BLAS_MAX_DIM) {
      int64_t m = rows - r0 < BLAS_MAX_DIM ? rows - r0 : BLAS_MAX_DIM;
      gemm(dtype, 0, 1, m, g.c, g.oc, dyp + (size_t)(r0 * g.oc) * size, g.oc, fp, g.oc, 0.0,
           (char *)dx + (size_t)(r0 * g.c) * size, g.c);
    }
    return EAGER_OK;
  }
  int64_t chunk = chunk_rows(&g, size, rows), pixels = g.oh * g.ow;
  char *dcols = malloc((size_t)(chunk * g.k) * size);
  if (!dcols) return EAGER_ERR_NO_MEMORY;
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    int64_t m = rows - r0 < chunk ? rows - r0 : chunk;
    gemm(dtype, 0, 1, m, g.k, g.oc, dyp + (size_t)(r0 * g.oc) * size, g.oc, fp, g.oc, 0.0,
         dcols, g.k);
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
                                               const int64_t *out_shape, const int64_t *params,
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
  int small = is_pointwise(&g) ? 0 : small_dfilter(dtype, &g, size, xp, dyp, dfilter);
  if (small != 0) return small > 0 ? EAGER_OK : EAGER_ERR_NO_MEMORY;
  if (is_pointwise(&g)) {
    for (int64_t r0 = 0; r0 < rows; r0 += BLAS_MAX_DIM) {
      int64_t m = rows - r0 < BLAS_MAX_DIM ? rows - r0 : BLAS_MAX_DIM;
      gemm(dtype, 1, 0, g.c, g.oc, m, xp + (size_t)(r0 * g.c) * size, g.c,
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
    gemm(dtype, 1, 0, g.k, g.oc, m, cols, g.k, dyp + (size_t)(r0 * g.oc) * size, g.oc, 1.0,
         dfilter, g.oc);
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
                            const int64_t *out_shape, const int64_t *params, void *out,
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
                             const int64_t *out_shape, const int64_t *params, void *dx,
                             const void *x, int64_t x_offset, const void *dy,
                             int64_t dy_offset) {
  geometry g;
  if (!float_dtype(dtype)) return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  if (!pool_geometry(&g, x_shape, out_shape, params)) return EAGER_ERR_ARGUMENT;
  size_t size = eager_dtype_size(dtype);
  memset(dx, 0, (size_t)(g.n * g.h * g.w * g.c) * size);
  if (g.n * g.oh * g.ow * g.c == 0) return EAGER_OK;
  int nth = pool_threads(&g);
  pool_grad_job job = {&g, x ? (const char *)x + (size_t)x_offset * size : NULL,
                       (const char *)dy + (size_t)dy_offset * size, dx,
                       scatter_units(0, g.n, g.c, nth)};
  eager_task_fn fn = dtype == EAGER_F32
                         ? (max ? max_pool_grad_task_f32 : avg_pool_grad_task_f32)
                         : (max ? max_pool_grad_task_f64 : avg_pool_grad_task_f64);
  eager_parallel(fn, &job, nth);
  return EAGER_OK;
}

EAGER_API int32_t eager_max_pool2d(int32_t dtype, const int64_t *x_shape,
                                   const int64_t *out_shape, const int64_t *params, void *out,
                                   const void *x, int64_t x_offset) {
  return pool_forward(1, dtype, x_shape, out_shape, params, out, x, x_offset);
}

EAGER_API int32_t eager_avg_pool2d(int32_t dtype, const int64_t *x_shape,
                                   const int64_t *out_shape, const int64_t *params, void *out,
                                   const void *x, int64_t x_offset) {
  return pool_forward(0, dtype, x_shape, out_shape, params, out, x, x_offset);
}

EAGER_API int32_t eager_max_pool2d_grad(int32_t dtype, const int64_t *x_shape,
                                        const int64_t *out_shape, const int64_t *params,
                                        void *dx, const void *x, int64_t x_offset,
                                        const void *dy, int64_t dy_offset) {
  return pool_backward(1, dtype, x_shape, out_shape, params, dx, x, x_offset, dy, dy_offset);
}

EAGER_API int32_t eager_avg_pool2d_grad(int32_t dtype, const int64_t *x_shape,
                                        const int64_t *out_shape, const int64_t *params,
                                        void *dx, const void *dy, int64_t dy_offset) {
  return pool_backward(0, dtype, x_shape, out_shape, params, dx, NULL, 0, dy, dy_offset);
}

EAGER_API int32_t eager_max_pool2d_grad_grad(int32_t dtype, const int64_t *x_shape,
                                             const int64_t *out_shape, const int64_t *params,
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
