/*
 * Convolution as im2col + GEMM: each output pixel's receptive field becomes one row of
 * K = KH*KW*C values, so with HWIO filters the output [N*OH*OW, OC] is one row-major GEMM,
 * cols [rows, K] x filter [K, OC]. Rows are processed in chunks whose im2col buffer stays
 * under CONV_CHUNK_BYTES; chunking depends only on the shapes, never on the thread count,
 * so results are reproducible. A pointwise conv (1x1, stride 1, unpadded) needs no im2col:
 * the input already is the cols matrix.
 *
 * Backprop w.r.t. the input is the transpose: dcols = dy x filter^T, then col2im adds
 * each row back into its receptive field. Backprop w.r.t. the filter is cols^T x dy,
 * accumulated over chunks. This path takes every geometry: conv.c falls back on it.
 */
#include <stdlib.h>
#include <string.h>

#include "conv.h"

/* The im2col buffer of one chunk stays under this size (unless one row is larger). */
#define CONV_CHUNK_BYTES ((int64_t)4 << 20)

/* Works on bytes, so one version serves every dtype. */
void eager_im2col_row(const geometry *g, size_t size, const char *x, int64_t r, char *dst) {
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
    eager_im2col_row(job->g, job->size, job->x, job->r0 + i, job->cols + (size_t)i * row_bytes);
}

static void im2col(const geometry *g, size_t size, const char *x, char *cols, int64_t r0,
                   int64_t rows) {
  im2col_job job = {g, size, x, cols, r0, rows};
  eager_parallel(im2col_task, &job, eager_threads_for(rows * g->k, EAGER_GRAIN_CHEAP));
}

/* Adds channels [c0, c1) of the K values of output pixel (oh, ow) into its receptive
 * field in `image` (one image of dx). */
#define COL2IM_ROW(NAME, T)                                                                 \
  static void NAME(const geometry *g, const T *src, T *image, int64_t oh, int64_t ow,       \
                   int64_t c0, int64_t c1) {                                                \
    int64_t h0 = oh * g->sh - g->pt, w0 = ow * g->sw - g->pl;                               \
    for (int64_t kh = 0; kh < g->kh; kh++) {                                                \
      int64_t ih = h0 + kh * g->dh;                                                         \
      if (ih < 0 || ih >= g->h) continue;                                                   \
      for (int64_t kw = 0; kw < g->kw; kw++) {                                              \
        int64_t iw = w0 + kw * g->dw;                                                       \
        if (iw < 0 || iw >= g->w) continue;                                                 \
        T *restrict d = image + (ih * g->w + iw) * g->c;                                    \
        const T *restrict s = src + (kh * g->kw + kw) * g->c;                               \
        for (int64_t c = c0; c < c1; c++) d[c] += s[c];                                     \
      }                                                                                     \
    }                                                                                       \
  }
COL2IM_ROW(col2im_row_f32, float)
COL2IM_ROW(col2im_row_f64, double)

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
    eager_scatter_unit(&job->split, u, g->c, &n, &c0, &c1);
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

/* Output rows per GEMM: a pointwise conv's input already is the cols matrix, taken in
 * slices BLAS's int can address; otherwise rows of im2col at least one at a time and under
 * CONV_CHUNK_BYTES. */
static int64_t chunk_rows(const geometry *g, size_t size, int64_t rows) {
  int64_t per = eager_conv_pointwise(g) ? BLAS_MAX_DIM : CONV_CHUNK_BYTES / (g->k * (int64_t)size);
  if (per < 1) per = 1;
  return per < rows ? per : rows;
}

/* The cols buffer of one chunk: NULL for a pointwise conv, which needs none. *ok is 0 when
 * it was needed but could not be had. */
static char *cols_buffer(const geometry *g, size_t size, int64_t chunk, int *ok) {
  char *cols = eager_conv_pointwise(g) ? NULL : malloc((size_t)(chunk * g->k) * size);
  *ok = cols != NULL || eager_conv_pointwise(g);
  return cols;
}

/* Rows [r0, r0 + m) of the cols matrix: x itself for a pointwise conv (K = C), else
 * gathered into `cols`. */
static const char *cols_rows(const geometry *g, size_t size, const char *x, char *cols,
                             int64_t r0, int64_t m) {
  if (!cols) return x + (size_t)(r0 * g->k) * size;
  im2col(g, size, x, cols, r0, m);
  return cols;
}

int eager_conv_gemm_forward(int32_t dtype, const geometry *g, const char *x, const char *filter,
                            void *out) {
  size_t size = eager_dtype_size(dtype);
  int64_t rows = g->n * g->oh * g->ow, chunk = chunk_rows(g, size, rows);
  int ok;
  char *cols = cols_buffer(g, size, chunk, &ok);
  if (!ok) return -1;
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    int64_t m = rows - r0 < chunk ? rows - r0 : chunk;
    eager_gemm(dtype, 0, 0, m, g->oc, g->k, cols_rows(g, size, x, cols, r0, m), g->k, filter,
               g->oc, 0.0, (char *)out + (size_t)(r0 * g->oc) * size, g->oc);
  }
  free(cols);
  return 1;
}

int eager_conv_gemm_input_grad(int32_t dtype, const geometry *g, const char *filter,
                               const char *dy, void *dx) {
  size_t size = eager_dtype_size(dtype);
  int64_t rows = g->n * g->oh * g->ow, chunk = chunk_rows(g, size, rows), pixels = g->oh * g->ow;
  eager_zero(dx, (size_t)(g->n * g->h * g->w * g->c) * size); /* col2im adds into dx */
  int ok;
  char *dcols = cols_buffer(g, size, chunk, &ok);
  if (!ok) return -1;
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    int64_t m = rows - r0 < chunk ? rows - r0 : chunk;
    /* Pointwise: dcols rows are dx rows (K = C), written in place. */
    char *target = dcols ? dcols : (char *)dx + (size_t)(r0 * g->k) * size;
    eager_gemm(dtype, 0, 1, m, g->k, g->oc, dy + (size_t)(r0 * g->oc) * size, g->oc, filter,
               g->oc, 0.0, target, g->k);
    if (!dcols) continue;
    int64_t first = r0 / pixels, images = (r0 + m - 1) / pixels - first + 1;
    int nth = eager_threads_for(m * g->k, EAGER_GRAIN_CHEAP);
    col2im_job job = {g, dtype, dcols, dx, r0, r0 + m,
                      eager_scatter_units(first, images, g->c, nth)};
    eager_parallel(col2im_task, &job, nth);
  }
  free(dcols);
  return 1;
}

int eager_conv_gemm_filter_grad(int32_t dtype, const geometry *g, const char *x,
                                const char *dy, void *dfilter) {
  size_t size = eager_dtype_size(dtype);
  int64_t rows = g->n * g->oh * g->ow, chunk = chunk_rows(g, size, rows);
  int ok;
  char *cols = cols_buffer(g, size, chunk, &ok);
  if (!ok) return -1;
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    int64_t m = rows - r0 < chunk ? rows - r0 : chunk;
    eager_gemm(dtype, 1, 0, g->k, g->oc, m, cols_rows(g, size, x, cols, r0, m), g->k,
               dy + (size_t)(r0 * g->oc) * size, g->oc, 1.0, dfilter, g->oc);
  }
  free(cols);
  return 1;
}
