/*
 * Max and average pooling over NHWC tensors and their gradients. Loops run over channels
 * innermost, so they vectorise; gradient kernels scatter into dx split by (image, channel
 * block) units, which never overlap (conv.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"

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
#define POOL_TASKS(SFX, T)                                                                  \
  static void max_pool_task_##SFX(void *arg, int ith, int nth) {                            \
    pool_job *job = arg;                                                                    \
    const geometry *g = job->g;                                                             \
    int64_t begin, end, c = g->c;                                                           \
    eager_split(g->n * g->oh, ith, nth, &begin, &end);                                      \
    for (int64_t row = begin; row < end; row++) {                                           \
      int64_t n = row / g->oh, oh = row % g->oh;                                            \
      const T *image = (const T *)job->x + n * g->h * g->w * c;                             \
      for (int64_t ow = 0; ow < g->ow; ow++) {                                              \
        T *restrict o = (T *)job->out + (row * g->ow + ow) * c;                             \
        int64_t h0, h1, w0, w1;                                                             \
        pool_window(g, oh, ow, &h0, &h1, &w0, &w1);                                         \
        for (int64_t ch = 0; ch < c; ch++) o[ch] = (T)-INFINITY;                            \
        for (int64_t ih = h0; ih < h1; ih++)                                                \
          for (int64_t iw = w0; iw < w1; iw++) {                                            \
            const T *restrict v = image + (ih * g->w + iw) * c;                             \
            for (int64_t ch = 0; ch < c; ch++)                                              \
              o[ch] = (v[ch] > o[ch] || v[ch] != v[ch]) && o[ch] == o[ch] ? v[ch] : o[ch];  \
          }                                                                                 \
      }                                                                                     \
    }                                                                                       \
  }                                                                                         \
  static void avg_pool_task_##SFX(void *arg, int ith, int nth) {                            \
    pool_job *job = arg;                                                                    \
    const geometry *g = job->g;                                                             \
    int64_t begin, end, c = g->c;                                                           \
    eager_split(g->n * g->oh, ith, nth, &begin, &end);                                      \
    for (int64_t row = begin; row < end; row++) {                                           \
      int64_t n = row / g->oh, oh = row % g->oh;                                            \
      const T *image = (const T *)job->x + n * g->h * g->w * c;                             \
      for (int64_t ow = 0; ow < g->ow; ow++) {                                              \
        T *restrict o = (T *)job->out + (row * g->ow + ow) * c;                             \
        int64_t h0, h1, w0, w1;                                                             \
        pool_window(g, oh, ow, &h0, &h1, &w0, &w1);                                         \
        for (int64_t ch = 0; ch < c; ch++) o[ch] = 0;                                       \
        for (int64_t ih = h0; ih < h1; ih++)                                                \
          for (int64_t iw = w0; iw < w1; iw++) {                                            \
            const T *restrict v = image + (ih * g->w + iw) * c;                             \
            for (int64_t ch = 0; ch < c; ch++) o[ch] += v[ch];                              \
          }                                                                                 \
        int64_t count = (h1 - h0) * (w1 - w0);                                              \
        if (count > 0) {                                                                    \
          T scale = (T)1 / (T)count;                                                        \
          for (int64_t ch = 0; ch < c; ch++) o[ch] *= scale;                                \
        }                                                                                   \
      }                                                                                     \
    }                                                                                       \
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
#define POOL_ARGMAX(SFX, T)                                                                 \
  static void pool_argmax_##SFX(const geometry *g, const T *image, int64_t h0, int64_t h1,  \
                                int64_t w0, int64_t w1, int64_t t0, int64_t t1,             \
                                int64_t *where) {                                           \
    T best[POOL_TILE];                                                                      \
    int64_t c = g->c, first = h0 * g->w + w0;                                               \
    for (int64_t ch = t0; ch < t1; ch++) {                                                  \
      best[ch - t0] = image[first * c + ch];                                                \
      where[ch - t0] = first;                                                               \
    }                                                                                       \
    for (int64_t ih = h0; ih < h1; ih++)                                                    \
      for (int64_t iw = w0; iw < w1; iw++) {                                                \
        int64_t p = ih * g->w + iw;                                                         \
        const T *v = image + p * c;                                                         \
        for (int64_t ch = t0; ch < t1; ch++) {                                              \
          T b = best[ch - t0], x = v[ch];                                                   \
          if (b == b && (x > b || x != x)) {                                                \
            best[ch - t0] = x;                                                              \
            where[ch - t0] = p;                                                             \
          }                                                                                 \
        }                                                                                   \
      }                                                                                     \
  }
POOL_ARGMAX(f32, float)
POOL_ARGMAX(f64, double)

#define POOL_GRAD_TASKS(SFX, T)                                                             \
  static void max_pool_grad_task_##SFX(void *arg, int ith, int nth) {                       \
    pool_grad_job *job = arg;                                                               \
    const geometry *g = job->g;                                                             \
    int64_t begin, end, c = g->c, image_size = g->h * g->w * c;                             \
    eager_split(job->split.images * job->split.blocks, ith, nth, &begin, &end);             \
    int64_t where[POOL_TILE];                                                               \
    for (int64_t u = begin; u < end; u++) {                                                 \
      int64_t n, c0, c1;                                                                    \
      eager_scatter_unit(&job->split, u, c, &n, &c0, &c1);                                  \
      const T *image = (const T *)job->x + n * image_size;                                  \
      T *dx = (T *)job->dx + n * image_size;                                                \
      const T *dy = (const T *)job->dy + n * g->oh * g->ow * c;                             \
      for (int64_t oh = 0; oh < g->oh; oh++)                                                \
        for (int64_t ow = 0; ow < g->ow; ow++) {                                            \
          int64_t h0, h1, w0, w1;                                                           \
          pool_window(g, oh, ow, &h0, &h1, &w0, &w1);                                       \
          if (h0 >= h1 || w0 >= w1) continue;                                               \
          const T *grad = dy + (oh * g->ow + ow) * c;                                       \
          for (int64_t t0 = c0; t0 < c1; t0 += POOL_TILE) {                                 \
            int64_t t1 = t0 + POOL_TILE < c1 ? t0 + POOL_TILE : c1;                         \
            pool_argmax_##SFX(g, image, h0, h1, w0, w1, t0, t1, where);                     \
            for (int64_t ch = t0; ch < t1; ch++) dx[where[ch - t0] * c + ch] += grad[ch];   \
          }                                                                                 \
        }                                                                                   \
    }                                                                                       \
  }                                                                                         \
  static void avg_pool_grad_task_##SFX(void *arg, int ith, int nth) {                       \
    pool_grad_job *job = arg;                                                               \
    const geometry *g = job->g;                                                             \
    int64_t begin, end, c = g->c, image_size = g->h * g->w * c;                             \
    eager_split(job->split.images * job->split.blocks, ith, nth, &begin, &end);             \
    for (int64_t u = begin; u < end; u++) {                                                 \
      int64_t n, c0, c1;                                                                    \
      eager_scatter_unit(&job->split, u, c, &n, &c0, &c1);                                  \
      T *dx = (T *)job->dx + n * image_size;                                                \
      const T *dy = (const T *)job->dy + n * g->oh * g->ow * c;                             \
      for (int64_t oh = 0; oh < g->oh; oh++)                                                \
        for (int64_t ow = 0; ow < g->ow; ow++) {                                            \
          int64_t h0, h1, w0, w1;                                                           \
          pool_window(g, oh, ow, &h0, &h1, &w0, &w1);                                       \
          if (h0 >= h1 || w0 >= w1) continue;                                               \
          T scale = (T)1 / (T)((h1 - h0) * (w1 - w0));                                      \
          const T *grad = dy + (oh * g->ow + ow) * c;                                       \
          for (int64_t ih = h0; ih < h1; ih++)                                              \
            for (int64_t iw = w0; iw < w1; iw++) {                                          \
              T *restrict d = dx + (ih * g->w + iw) * c;                                    \
              for (int64_t ch = c0; ch < c1; ch++) d[ch] += grad[ch] * scale;               \
            }                                                                               \
        }                                                                                   \
    }                                                                                       \
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
#define POOL_GRAD_TILED(SFX, T)                                                             \
  static void max_pool_grad_tiled_##SFX(void *arg, int ith, int nth) {                      \
    pool_grad_job *job = arg;                                                               \
    const geometry *g = job->g;                                                             \
    int64_t c = g->c, k = g->kh * g->kw, begin, end;                                        \
    eager_split(g->n * g->oh, ith, nth, &begin, &end);                                      \
    for (int64_t u = begin; u < end; u++) {                                                 \
      int64_t n = u / g->oh, oh = u % g->oh;                                                \
      const T *image = (const T *)job->x + n * g->h * g->w * c;                             \
      T *dx = (T *)job->dx + n * g->h * g->w * c;                                           \
      const T *dy = (const T *)job->dy + u * g->ow * c;                                     \
      for (int64_t ow = 0; ow < g->ow; ow++)                                                \
        for (int64_t t0 = 0; t0 < c; t0 += POOL_TILE) {                                     \
          int64_t len = c - t0 < POOL_TILE ? c - t0 : POOL_TILE;                            \
          T best[POOL_TILE];                                                                \
          int32_t win[POOL_TILE];                                                           \
          const T *first = image + tile_offset(g, oh, ow, 0) + t0;                          \
          for (int64_t j = 0; j < len; j++) {                                               \
            best[j] = first[j];                                                             \
            win[j] = 0;                                                                     \
          }                                                                                 \
          for (int32_t p = 1; p < k; p++) {                                                 \
            const T *v = image + tile_offset(g, oh, ow, p) + t0;                            \
            for (int64_t j = 0; j < len; j++) {                                             \
              T b = best[j], x = v[j];                                                      \
              int take = (b == b) & ((x > b) | (x != x));                                   \
              best[j] = take ? x : b;                                                       \
              win[j] = take ? p : win[j];                                                   \
            }                                                                               \
          }                                                                                 \
          const T *grad = dy + ow * c + t0;                                                 \
          for (int32_t p = 0; p < k; p++) {                                                 \
            T *d = dx + tile_offset(g, oh, ow, p) + t0;                                     \
            for (int64_t j = 0; j < len; j++) d[j] = win[j] == p ? grad[j] : (T)0;          \
          }                                                                                 \
        }                                                                                   \
    }                                                                                       \
  }
POOL_GRAD_TILED(f32, float)
POOL_GRAD_TILED(f64, double)

/* out [N,OH,OW,C] = ddx [N,H,W,C] read at each window's argmax in x: the gradient of
 * max_pool_grad w.r.t. dy. A gather, so outputs are split by rows and never overlap. */
#define POOL_GRAD_GRAD_TASK(SFX, T)                                                         \
  static void max_pool_grad_grad_task_##SFX(void *arg, int ith, int nth) {                  \
    pool_job *job = arg;                                                                    \
    const geometry *g = job->g;                                                             \
    int64_t begin, end, c = g->c, image_size = g->h * g->w * c;                             \
    int64_t where[POOL_TILE];                                                               \
    eager_split(g->n * g->oh, ith, nth, &begin, &end);                                      \
    for (int64_t row = begin; row < end; row++) {                                           \
      int64_t n = row / g->oh, oh = row % g->oh;                                            \
      const T *image = (const T *)job->x + n * image_size;                                  \
      const T *ddx = (const T *)job->ddx + n * image_size;                                  \
      for (int64_t ow = 0; ow < g->ow; ow++) {                                              \
        T *restrict o = (T *)job->out + (row * g->ow + ow) * c;                             \
        int64_t h0, h1, w0, w1;                                                             \
        pool_window(g, oh, ow, &h0, &h1, &w0, &w1);                                         \
        if (h0 >= h1 || w0 >= w1) {                                                         \
          for (int64_t ch = 0; ch < c; ch++) o[ch] = 0;                                     \
          continue;                                                                         \
        }                                                                                   \
        for (int64_t t0 = 0; t0 < c; t0 += POOL_TILE) {                                     \
          int64_t t1 = t0 + POOL_TILE < c ? t0 + POOL_TILE : c;                             \
          pool_argmax_##SFX(g, image, h0, h1, w0, w1, t0, t1, where);                       \
          for (int64_t ch = t0; ch < t1; ch++) o[ch] = ddx[where[ch - t0] * c + ch];        \
        }                                                                                   \
      }                                                                                     \
    }                                                                                       \
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
  if (!eager_float_dtype(dtype))
    return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  if (!eager_pool_geometry(&g, x_shape, out_shape, params)) return EAGER_ERR_ARGUMENT;
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
  if (!eager_float_dtype(dtype))
    return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  if (!eager_pool_geometry(&g, x_shape, out_shape, params)) return EAGER_ERR_ARGUMENT;
  size_t size = eager_dtype_size(dtype);
  int tiled = max && pool_tiles(&g) && g.n * g.oh * g.ow * g.c > 0;
  if (!tiled) eager_zero(dx, (size_t)(g.n * g.h * g.w * g.c) * size);
  if (g.n * g.oh * g.ow * g.c == 0) return EAGER_OK;
  int nth = pool_threads(&g);
  pool_grad_job job = {&g, x ? (const char *)x + (size_t)x_offset * size : NULL,
                       (const char *)dy + (size_t)dy_offset * size, dx,
                       eager_scatter_units(0, g.n, g.c, nth)};
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
                                   const int64_t *out_shape, const eager_pool_params *params,
                                   void *out, const void *x, int64_t x_offset) {
  return pool_forward(1, dtype, x_shape, out_shape, params, out, x, x_offset);
}

EAGER_API int32_t eager_avg_pool2d(int32_t dtype, const int64_t *x_shape,
                                   const int64_t *out_shape, const eager_pool_params *params,
                                   void *out, const void *x, int64_t x_offset) {
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
                                             const int64_t *out_shape,
                                             const eager_pool_params *params, void *out,
                                             const void *x, int64_t x_offset,
                                             const void *ddx, int64_t ddx_offset) {
  geometry g;
  if (!eager_float_dtype(dtype))
    return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  if (!eager_pool_geometry(&g, x_shape, out_shape, params)) return EAGER_ERR_ARGUMENT;
  if (g.n * g.oh * g.ow * g.c == 0) return EAGER_OK;
  size_t size = eager_dtype_size(dtype);
  pool_job job = {&g, (const char *)x + (size_t)x_offset * size, out,
                  (const char *)ddx + (size_t)ddx_offset * size};
  eager_parallel(dtype == EAGER_F32 ? max_pool_grad_grad_task_f32 : max_pool_grad_grad_task_f64,
                 &job, pool_threads(&g));
  return EAGER_OK;
}
