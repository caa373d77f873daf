/*
 * Winograd convolution for float32 stride-1 convs with 5x5 or 3x3 filters whose channel
 * counts are whole vectors: F(2x2, 5x5) and F(4x4, 3x3) (the MNIST model's second conv
 * and its gradients; a ResNet stage's 3x3 convs).
 *
 * Each m x m block of output pixels (a tile) reads a 6x6 window d of the input
 * (m + r - 1 = 6 for an r x r filter). With the transforms below, out = A^T [ (G f G^T) (.)
 * (B^T d B) ] A per (input, output) channel pair, summed over input channels: 36 products
 * per tile where the direct kernel makes m^2 r^2 (100 for 5x5, 144 for 3x3). So the kernel
 * is three steps per chunk of WINO_CHUNK tiles:
 *   U[p][t][ci] = (B^T d B)[p]          input transform, channels in vectors
 *   M[p][t][co] = sum_ci U[p][t][ci] V[p][ci][co]   36 small products, V = G f G^T
 *   out = A^T M A                        output transform, written once per pixel
 * The points are 0, 1, -1, 2, -2 and infinity (derived by Toom-Cook with exact fractions),
 * which give every F(m, 7 - m) the same B^T, with small integer entries; G carries the
 * fractions, so the filter, transformed once a call, absorbs the rounding of 1/6 and 1/24.
 * NOTE: against float64, the largest difference was 3.6e-6 of the output's largest value
 * on the MNIST model's second conv (the direct kernel: 1.2e-6); a float32 model of both
 * filter sizes gave 2.6-2.8e-6 on average.
 *
 * Tiles are numbered over all images (image, tile row, tile column), so chunks cross
 * images and only the last chunk is short. A tile's result does not depend on which thread
 * or chunk computes it: the same bits for any thread count.
 *
 * NOTE: an infinity or NaN in the filter, the input or dy sends the call back to the direct
 * kernels (the entry points return 0). The transforms mix a window's values, so here an
 * infinity would become NaN, a NaN would reach outputs whose windows never read it, and a
 * non-finite filter tap that meets only padding would no longer be skipped; the direct
 * kernels give TensorFlow's results. The filter is checked as it is transformed; the input
 * and dy through the results: a non-finite value read makes at least one of the products
 * it enters non-finite (x * 0 is NaN for x infinite), hence at least one computed output
 * (in range or not) or filter-gradient tap, and those are all checked. An overflow to
 * infinity in the transforms takes the direct kernels too. Checking the outputs instead of
 * the inputs, which every tile's window re-reads, kept the forward pass at its speed.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "internal.h"

#define LANES 16        /* floats per 64-byte vector */
#define WINO_SIDE 6     /* input tile side: m outputs + r taps - 1 */
#define WINO_POINTS 36  /* WINO_SIDE squared: the positions p of the transformed tile */
#define WINO_CHUNK 16   /* tiles one thread transforms together */
/* Register blocks of the products: tiles x vectors of output channels (forward) and input
 * channels x vectors (filter gradient). 8 x 2 fill AVX-512's 32 registers; on AVX2 and below,
 * where a 64-byte vector takes two registers, 4 x 1 keeps the accumulators in registers.
 * NOTE: measured at v3 on one thread, best of 31 (8 x 2 -> 4 x 1): MNIST conv2 forward
 * 13.6 -> 9.1 ms, input gradient 14.2 -> 10.2 ms, filter gradient 15.1 -> 10.3 ms, ResNet 3x3
 * forward 9.5 -> 7.1 ms (v4: 8.6, 10.6, 10.1, 6.8); 8 x 2 spilled to the stack. */
#if defined(__AVX512F__)
#define WINO_BLOCK 8
#define WINO_MAX_NV 2
#define WINO_GRAD_CHANNELS 8 /* input channels per register block of the gradient products */
#else
#define WINO_BLOCK 4
#define WINO_MAX_NV 1
#define WINO_GRAD_CHANNELS 4
#endif
/* Transformed filters larger than this are left to the direct kernels (the products
 * stream V once per block of tiles, so it should stay in L2). */
#define WINO_MAX_FILTER_BYTES ((int64_t)2 << 20)

typedef float vec __attribute__((vector_size(64)));

/* Forced inline, so that a transform called with a constant size unrolls. */
#define INLINE static inline __attribute__((always_inline))

INLINE vec load(const float *p) {
  vec v;
  memcpy(&v, p, sizeof v);
  return v;
}

INLINE void store(float *p, vec v) { memcpy(p, &v, sizeof v); }

/* Whether every lane of `zeros`, a sum of values times 0, is still 0: false when one of
 * the values was infinite or NaN. */
INLINE int all_finite(vec zeros) {
  float lanes[LANES];
  memcpy(lanes, &zeros, sizeof lanes);
  int finite = 1;
  for (int i = 0; i < LANES; i++) finite &= lanes[i] == 0;
  return finite;
}

/* The three transforms, one line of values at a time (the 2-D transform is a pass over
 * rows, then one over columns). For points 0, 1, -1, 2, -2 and infinity:
 *   A^T row i (i < count):  [i == 0, 1, (-1)^i, 2^i, (-2)^i, i == count - 1]
 *   G row j, column k:      [k == 0] / 4, 1 / 6, (-1)^k / 6, 2^k / 24, (-2)^k / 24, k == count - 1
 *   B^T:                    input_line, the same for every F(m, r) with m + r = 7. */

/* u = B^T d for one line of 6 values. */
INLINE void input_line(const vec d[WINO_SIDE], vec u[WINO_SIDE]) {
  vec four = {0};
  four += 4.0f;
  u[0] = four * d[0] - 5.0f * d[2] + d[4];
  u[1] = four * (d[1] + d[2]) - (d[3] + d[4]);
  u[2] = four * (d[2] - d[1]) + (d[3] - d[4]);
  u[3] = 2.0f * (d[3] - d[1]) + (d[4] - d[2]);
  u[4] = 2.0f * (d[1] - d[3]) + (d[4] - d[2]);
  u[5] = four * d[1] - 5.0f * d[3] + d[5];
}

/* y = A^T m for one line of 6 values: `count` outputs (the tile side, or the filter's). */
INLINE void output_line(const vec m[WINO_SIDE], vec *y, int count) {
  vec plus = m[1] + m[2], minus = m[1] - m[2], plus2 = m[3] + m[4], minus2 = m[3] - m[4];
  float power = 1;
  for (int i = 0; i < count; i++, power *= 2)
    y[i] = i % 2 == 0 ? plus + power * plus2 : minus + power * minus2;
  y[0] += m[0];
  y[count - 1] += m[5];
}

/* v = G e for one line of `count` values (a filter's taps, or a tile of dy). */
INLINE void weight_line(const vec *e, int count, vec v[WINO_SIDE]) {
  vec ones = {0}, alternating = {0}, twos = {0}, alternating_twos = {0};
  float power = 1;
  for (int k = 0; k < count; k++, power *= 2) {
    float sign = k % 2 == 0 ? 1.0f : -1.0f;
    ones += e[k];
    alternating += sign * e[k];
    twos += power * e[k];
    alternating_twos += sign * power * e[k];
  }
  v[0] = e[0] * (1.0f / 4);
  v[1] = ones * (1.0f / 6);
  v[2] = alternating * (1.0f / 6);
  v[3] = twos * (1.0f / 24);
  v[4] = alternating_twos * (1.0f / 24);
  v[5] = e[count - 1];
}

typedef struct {
  const geometry *g;
  const float *filter;
  float *v;
  _Atomic int nonfinite;
} filter_job;

/* Input channels [begin, end) of transform_filter. */
static void filter_task(void *arg, int ith, int nth) {
  filter_job *job = arg;
  const geometry *g = job->g;
  int64_t c = g->c, oc = g->oc, r = g->kh, begin, end;
  eager_split(c, ith, nth, &begin, &end);
  const float *filter = job->filter;
  float *v = job->v;
  vec zeros = {0};
  for (int64_t ci = begin; ci < end; ci++)
    for (int64_t j = 0; j < oc; j += LANES) {
      vec f[WINO_SIDE], half[WINO_SIDE][WINO_SIDE], line[WINO_SIDE], out[WINO_SIDE];
      for (int64_t a = 0; a < r; a++) {
        for (int64_t b = 0; b < r; b++) {
          f[b] = load(filter + ((a * r + b) * c + ci) * oc + j);
          zeros += f[b] * 0.0f;
        }
        weight_line(f, (int)r, half[a]);
      }
      for (int q = 0; q < WINO_SIDE; q++) {
        for (int64_t a = 0; a < r; a++) line[a] = half[a][q];
        weight_line(line, (int)r, out);
        for (int p = 0; p < WINO_SIDE; p++)
          store(v + ((p * WINO_SIDE + q) * c + ci) * oc + j, out[p]);
      }
    }
  if (!all_finite(zeros)) atomic_store(&job->nonfinite, 1);
}

/* V[p][ci][co] = (G f G^T)[p] for every channel pair, f = filter[:, :, ci, co] (r x r),
 * split over the pool by input channel. Returns 0 when the filter holds an infinity or NaN. */
static int transform_filter(const geometry *g, const float *filter, float *v) {
  filter_job job = {g, filter, v, 0};
  eager_parallel(filter_task, &job,
                 eager_threads_for(WINO_POINTS * g->c * g->oc, EAGER_GRAIN_CHEAP));
  return !atomic_load(&job.nonfinite);
}

typedef struct {
  const geometry *g;
  int m;               /* outputs per tile side: 2 (5x5 filters) or 4 (3x3) */
  const float *x;      /* the input */
  const float *v;      /* forward: the transformed filter [36][C][OC] */
  float *out;          /* forward: the output; filter gradient: dfilter */
  const float *dy;     /* filter gradient: [N, OH, OW, OC] */
  float *sums;         /* filter gradient: [pieces][36][C][OC], one partial sum a piece */
  float *scratch;      /* per thread: see the tasks */
  int64_t scratch_floats, tiles_h, tiles_w, tiles;
  int64_t piece_tiles; /* filter gradient: tiles per piece, whole chunks */
  _Atomic int nonfinite; /* set when a computed output is infinite or NaN */
} wino_job;

/* The tiling of g's output into m x m tiles, numbered over all images. */
static void tile_grid(wino_job *job, const geometry *g) {
  job->g = g;
  job->m = g->kh == 5 ? 2 : 4;
  job->tiles_h = (g->oh + job->m - 1) / job->m;
  job->tiles_w = (g->ow + job->m - 1) / job->m;
  job->tiles = g->n * job->tiles_h * job->tiles_w;
}

/* Tile t's image and its first output pixel (oy, ox). */
static void tile_origin(const wino_job *job, int64_t t, int64_t *n, int64_t *oy, int64_t *ox) {
  int64_t per_image = job->tiles_h * job->tiles_w;
  *n = t / per_image;
  *oy = job->m * (t % per_image / job->tiles_w);
  *ox = job->m * (t % job->tiles_w);
}

/* U[p][slot][:] = the transformed 6x6 input window of tile t (zero outside the image), for
 * U of `slots` rows per point. */
static void transform_input(const wino_job *job, int64_t t, int64_t slot, int64_t slots,
                            float *u) {
  const geometry *g = job->g;
  int64_t c = g->c, n, y0, x0;
  tile_origin(job, t, &n, &y0, &x0);
  y0 -= g->pt;
  x0 -= g->pl;
  const float *image = job->x + n * g->h * g->w * c;
  int inside = y0 >= 0 && x0 >= 0 && y0 + WINO_SIDE <= g->h && x0 + WINO_SIDE <= g->w;
  for (int64_t ch = 0; ch < c; ch += LANES) {
    vec rows[WINO_SIDE][WINO_SIDE], d[WINO_SIDE], col[WINO_SIDE], out[WINO_SIDE];
    for (int i = 0; i < WINO_SIDE; i++) {
      for (int j = 0; j < WINO_SIDE; j++) {
        int64_t iy = y0 + i, ix = x0 + j;
        vec zero = {0};
        d[j] = inside || (iy >= 0 && iy < g->h && ix >= 0 && ix < g->w)
                   ? load(image + (iy * g->w + ix) * c + ch)
                   : zero;
      }
      input_line(d, rows[i]);
    }
    for (int j = 0; j < WINO_SIDE; j++) {
      for (int i = 0; i < WINO_SIDE; i++) col[i] = rows[i][j];
      input_line(col, out);
      for (int i = 0; i < WINO_SIDE; i++)
        store(u + ((i * WINO_SIDE + j) * slots + slot) * c + ch, out[i]);
    }
  }
}

/* ---- forward: F(2x2, 5x5) and F(4x4, 3x3) ---------------------------------------------- */

/* M[p][i][:] = sum_ci U[p][first + i][ci] V[p][ci][j0, j0 + NV * LANES) for the block's
 * WINO_BLOCK tiles, at every position p. */
#define PRODUCTS(NV)                                                                         \
  static void products_##NV(const float *u, const float *v, int64_t c, int64_t oc,           \
                            int64_t first, int64_t j0, float *m) {                           \
    for (int p = 0; p < WINO_POINTS; p++) {                                                  \
      const float *up = u + (p * WINO_CHUNK + first) * c;                                    \
      const float *vp = v + p * c * oc + j0;                                                 \
      vec acc[WINO_BLOCK][NV];                                                               \
      memset(acc, 0, sizeof acc);                                                            \
      for (int64_t ci = 0; ci < c; ci++) {                                                   \
        vec w[NV];                                                                           \
        for (int k = 0; k < NV; k++) w[k] = load(vp + ci * oc + k * LANES);                  \
        for (int i = 0; i < WINO_BLOCK; i++) {                                               \
          const float s = up[i * c + ci];                                                    \
          for (int k = 0; k < NV; k++) acc[i][k] += s * w[k];                                \
        }                                                                                    \
      }                                                                                      \
      for (int i = 0; i < WINO_BLOCK; i++)                                                   \
        for (int k = 0; k < NV; k++)                                                         \
          store(m + (p * WINO_BLOCK + i) * 2 * LANES + k * LANES, acc[i][k]);                \
    }                                                                                        \
  }
PRODUCTS(1)
PRODUCTS(2)

/* Writes the M x M output pixels of tile t inside the output, channels
 * [j0, j0 + nv * LANES), from m, where point p's vector k is at m + p * point_stride +
 * k * LANES. Returns 0 when one of the M x M (stored or not) is infinite or NaN. */
INLINE int transform_output(const wino_job *job, int64_t t, const float *m,
                             int64_t point_stride, int64_t j0, int nv, const int M) {
  const geometry *g = job->g;
  int64_t n, oy, ox;
  tile_origin(job, t, &n, &oy, &ox);
  float *image = job->out + n * g->oh * g->ow * g->oc;
  vec zeros = {0};
  for (int k = 0; k < nv; k++) {
    vec rows[WINO_SIDE][4], line[WINO_SIDE], y[4];
    for (int p = 0; p < WINO_SIDE; p++) {
      for (int q = 0; q < WINO_SIDE; q++)
        line[q] = load(m + (p * WINO_SIDE + q) * point_stride + k * LANES);
      output_line(line, rows[p], M);
    }
    for (int b = 0; b < M; b++) {
      for (int p = 0; p < WINO_SIDE; p++) line[p] = rows[p][b];
      output_line(line, y, M);
      for (int a = 0; a < M; a++) {
        zeros += y[a] * 0.0f;
        if (oy + a < g->oh && ox + b < g->ow)
          store(image + ((oy + a) * g->ow + ox + b) * g->oc + j0 + k * LANES, y[a]);
      }
    }
  }
  return all_finite(zeros);
}

/* transform_output for the job's tile side, each side compiled with its constant. */
static int transform_tile_output(const wino_job *job, int64_t t, const float *m,
                                 int64_t point_stride, int64_t j0, int nv) {
  return job->m == 2 ? transform_output(job, t, m, point_stride, j0, nv, 2)
                     : transform_output(job, t, m, point_stride, j0, nv, 4);
}

/* Thread ith: whole chunks of tiles. Scratch: U [36][WINO_CHUNK][C], then M
 * [36][WINO_BLOCK][2 * LANES]. */
static void forward_task(void *arg, int ith, int nth) {
  wino_job *job = arg;
  const geometry *g = job->g;
  float *u = job->scratch + ith * job->scratch_floats;
  float *m = u + WINO_POINTS * WINO_CHUNK * g->c;
  int64_t chunks = (job->tiles + WINO_CHUNK - 1) / WINO_CHUNK, begin, end;
  eager_split(chunks, ith, nth, &begin, &end);
  int finite = 1;
  for (int64_t chunk = begin; chunk < end; chunk++) {
    int64_t t0 = chunk * WINO_CHUNK;
    int64_t count = job->tiles - t0 < WINO_CHUNK ? job->tiles - t0 : WINO_CHUNK;
    /* A short chunk's unused slots hold zeros: the products read whole blocks. */
    for (int64_t s = 0; s < WINO_CHUNK; s++) {
      if (s < count) {
        transform_input(job, t0 + s, s, WINO_CHUNK, u);
        continue;
      }
      for (int p = 0; p < WINO_POINTS; p++)
        memset(u + (p * WINO_CHUNK + s) * g->c, 0, (size_t)g->c * sizeof(float));
    }
    for (int64_t first = 0; first < count; first += WINO_BLOCK)
      for (int64_t j0 = 0; j0 < g->oc;) {
        int nv = WINO_MAX_NV == 2 && g->oc - j0 >= 2 * LANES ? 2 : 1;
        if (nv == 2) products_2(u, job->v, g->c, g->oc, first, j0, m);
        else products_1(u, job->v, g->c, g->oc, first, j0, m);
        for (int i = 0; i < WINO_BLOCK && first + i < count; i++)
          finite &= transform_tile_output(job, t0 + first + i, m + i * 2 * LANES,
                                          WINO_BLOCK * 2 * LANES, j0, nv);
        j0 += nv * LANES;
      }
  }
  if (!finite) atomic_store(&job->nonfinite, 1);
}

/* The products (per channel pair) that the direct kernels make along one dimension: the
 * taps of each output position that read the input rather than padding, which they skip. */
static int64_t direct_taps(int64_t out, int64_t in, int64_t pad, int64_t r) {
  int64_t total = 0;
  for (int64_t o = 0; o < out; o++) {
    int64_t lo = pad - o > 0 ? pad - o : 0, hi = in + pad - o < r ? in + pad - o : r;
    total += hi > lo ? hi - lo : 0;
  }
  return total;
}

/* Whether the Winograd kernels take this geometry: a 5x5 or 3x3 filter at stride 1,
 * undilated, channels in whole vectors, a transformed filter that fits in L2, and at most
 * half the direct kernels' products. NOTE: measured against the direct kernels, with
 * products in the ratio direct / Winograd: MNIST conv2 (14x14 under 5x5, 2.3) 1.8x faster,
 * a 4x4 image under 3x3 (2.8) 1.7x, 32x32 images of 16 channels under 5x5 (2.6) 1.2x, but a
 * 7x7 image under 5x5 (1.5) 0.85x and a 2x2 image under 3x3 (0.44) 0.9x. */
static int wino_shape_fits(const geometry *g) {
  if (!((g->kh == 5 || g->kh == 3) && g->kw == g->kh && g->sh == 1 && g->sw == 1 &&
        g->dh == 1 && g->dw == 1 && g->c % LANES == 0 && g->oc % LANES == 0 && g->c > 0 &&
        g->oc > 0 && g->oh > 0 && g->ow > 0))
    return 0;
  int64_t m = g->kh == 5 ? 2 : 4, tiles = ((g->oh + m - 1) / m) * ((g->ow + m - 1) / m);
  int64_t direct = direct_taps(g->oh, g->h, g->pt, g->kh) * direct_taps(g->ow, g->w, g->pl, g->kw);
  return 2 * WINO_POINTS * tiles <= direct;
}

/* Whether the transformed filter stays in L2, as the per-chunk kernels need. */
static int wino_filter_small(const geometry *g) {
  return (int64_t)WINO_POINTS * g->c * g->oc * (int64_t)sizeof(float) <= WINO_MAX_FILTER_BYTES;
}

static int wino_fits(const geometry *g) { return wino_shape_fits(g) && wino_filter_small(g); }

/* ---- forward with a large transformed filter: the 36 products as GEMMs -----------------
 *
 * Past WINO_MAX_FILTER_BYTES (from 128 x 128 channels under 3x3) the per-chunk products
 * above would stream the whole transformed filter from memory for every 16 tiles. Here a
 * group of tiles is transformed at once into U [36][tiles][C], then each point's product
 * M[p] = U[p] V[p] ([tiles, C] by [C, OC]) is one GEMM (eager_gemm: oneDNN where
 * installed), then the outputs are transformed back. A group holds at most WINO_GROUP_FLOATS
 * floats of U (and of M), so memory stays bounded whatever the batch. The GEMM library
 * splits each product over its threads, so the bits may depend on the thread count, as for
 * the im2col path this replaces. */
#define WINO_GROUP_FLOATS ((int64_t)2 << 20)
/* Below this many tiles the filter's transform (36 C OC floats written per call) outweighs
 * the saving. NOTE: 3x3 SAME convs, ms (im2col GEMMs -> here), AVX2 EPYC, 2 threads:
 * 8x7x7x512 (32 tiles) 12.0 -> 18.3, 16x7x7x512 (64) 23.8 -> 23.2, 32x7x7x512 (128) 46.8 ->
 * 31.3; 1x14x14x256 (16) 1.5 -> 2.7, 2x14x14x256 (32) 3.0 -> 2.2, 8x14x14x256 (128) 12.7 ->
 * 5.5; 1x28x28x128 (49) 1.7 -> 1.6, 8x28x28x128 (392) 12.3 -> 5.5; 100x7x7x128 (400) 10.5 ->
 * 5.4; 8x56x56x128 (1568) 105 -> 21. */
#define WINO_GEMM_MIN_TILES 64

typedef struct {
  wino_job *job;
  float *u, *m; /* [36][count][C] and [36][count][OC] */
  int64_t first, count;
} wino_group;

static void group_input_task(void *arg, int ith, int nth) {
  const wino_group *group = arg;
  int64_t begin, end;
  eager_split(group->count, ith, nth, &begin, &end);
  for (int64_t s = begin; s < end; s++)
    transform_input(group->job, group->first + s, s, group->count, group->u);
}

static void group_output_task(void *arg, int ith, int nth) {
  const wino_group *group = arg;
  wino_job *job = group->job;
  int64_t oc = job->g->oc, stride = group->count * oc, begin, end;
  eager_split(group->count, ith, nth, &begin, &end);
  int finite = 1;
  for (int64_t s = begin; s < end; s++)
    for (int64_t j0 = 0; j0 < oc;) {
      int nv = WINO_MAX_NV == 2 && oc - j0 >= 2 * LANES ? 2 : 1;
      const float *m = group->m + s * oc + j0;
      finite &= transform_tile_output(job, group->first + s, m, stride, j0, nv);
      j0 += nv * LANES;
    }
  if (!finite) atomic_store(&job->nonfinite, 1);
}

static int winograd_gemm_conv(const geometry *g, const float *x, const float *filter,
                              float *out) {
  wino_job job = {.x = x, .out = out};
  tile_grid(&job, g);
  if (job.tiles == 0) return 1;
  if (job.tiles < WINO_GEMM_MIN_TILES) return 0;
  int64_t widest = g->c > g->oc ? g->c : g->oc;
  int64_t per_group = WINO_GROUP_FLOATS / (WINO_POINTS * widest);
  if (per_group < WINO_CHUNK) per_group = WINO_CHUNK;
  if (per_group > job.tiles) per_group = job.tiles;
  float *v = eager_scratch_take((size_t)(WINO_POINTS * g->c * g->oc) * sizeof(float));
  float *u = eager_scratch_take((size_t)(WINO_POINTS * per_group * g->c) * sizeof(float));
  float *m = eager_scratch_take((size_t)(WINO_POINTS * per_group * g->oc) * sizeof(float));
  int status = v && u && m ? transform_filter(g, filter, v) : -1;
  for (int64_t first = 0; status == 1 && first < job.tiles; first += per_group) {
    wino_group group = {&job, u, m, first, job.tiles - first};
    if (group.count > per_group) group.count = per_group;
    int nth = eager_threads_for(group.count * WINO_POINTS * widest, EAGER_GRAIN_CHEAP);
    eager_parallel(group_input_task, &group, nth);
    for (int p = 0; p < WINO_POINTS; p++)
      eager_gemm(EAGER_F32, 0, 0, group.count, g->oc, g->c, u + p * group.count * g->c, g->c,
                 v + p * g->c * g->oc, g->oc, 0.0, m + p * group.count * g->oc, g->oc);
    eager_parallel(group_output_task, &group, nth);
    if (atomic_load(&job.nonfinite)) status = 0;
  }
  eager_scratch_give(v);
  eager_scratch_give(u);
  eager_scratch_give(m);
  return status;
}

int eager_winograd_large_takes(const geometry *g) {
  if (!wino_shape_fits(g) || wino_filter_small(g)) return 0;
  wino_job job;
  tile_grid(&job, g);
  return job.tiles >= WINO_GEMM_MIN_TILES;
}

int eager_winograd_conv(const geometry *g, const float *x, const float *filter, float *out) {
  if (!wino_shape_fits(g)) return 0;
  if (!wino_filter_small(g)) return winograd_gemm_conv(g, x, filter, out);
  wino_job job = {.x = x, .out = out};
  tile_grid(&job, g);
  if (job.tiles == 0) return 1;
  int nth = eager_threads_for(job.tiles * WINO_POINTS * g->c * g->oc, EAGER_GRAIN_CHEAP);
  /* Per thread: U, then M; a whole number of 64-byte lines each. */
  job.scratch_floats = WINO_POINTS * (WINO_CHUNK * g->c + WINO_BLOCK * 2 * LANES);
  size_t filter_bytes = (size_t)(WINO_POINTS * g->c * g->oc) * sizeof(float);
  float *v = eager_scratch_take(filter_bytes);
  job.scratch = eager_scratch_take((size_t)(nth * job.scratch_floats) * sizeof(float));
  if (!v || !job.scratch) {
    eager_scratch_give(v);
    eager_scratch_give(job.scratch);
    return -1;
  }
  job.v = v;
  int finite = transform_filter(g, filter, v);
  if (finite) eager_parallel(forward_task, &job, nth);
  eager_scratch_give(v);
  eager_scratch_give(job.scratch);
  return finite && !atomic_load(&job.nonfinite);
}

/* ---- filter gradient: F(5x5, 2x2) and F(3x3, 4x4) ---------------------------------------
 *
 * The filter gradient is the correlation of each 6x6 input window d with the tile's m x m
 * block e of dy, summed over tiles: dW = A^T [ sum_t (G e G^T) (.) (B^T d B) ] A, with the
 * same points, hence the same B^T. The sum over tiles runs per piece of piece_tiles tiles
 * into its own partial sum, and the pieces are added in order at the end: pieces depend on
 * the shapes only, so any thread count gives the same bits, and no float32 running sum is
 * longer than a piece. NOTE: on the MNIST model's second conv the largest difference from
 * float64 was 6e-6 of the largest gradient (the direct kernel: 4e-7); with one running sum
 * per piece instead of per chunk it was 1.5e-5.
 *
 * NOTE: at most 4 pieces, which bounds the partial sums (4 x 36 x C x OC floats, freed at
 * the end) and the threads this pass can use (4). With 16 pieces the MNIST training loop's
 * peak resident memory was 7-9 MB higher (4.7 MB of sums against 1.2 MB, allocated in the
 * backward pass, near the loop's peak), at the same speed on 2 cores.
 */
/* NOTE: 32, not 256: an 8x7x7x32 batch under a 5x5 filter has 128 tiles, which as one
 * piece ran on one thread (0.23 ms against the direct kernel's 0.12). */
#define WINO_PIECE_MIN_TILES 32
#define WINO_MAX_PIECES 4

/* E[p][slot][:] = (G e G^T)[p] for tile t's M x M block of dy (zero outside it). */
INLINE void transform_gradient(const wino_job *job, int64_t t, int64_t slot, float *e,
                               const int M) {
  const geometry *g = job->g;
  int64_t oc = g->oc, n, oy, ox;
  tile_origin(job, t, &n, &oy, &ox);
  const float *image = job->dy + n * g->oh * g->ow * oc;
  for (int64_t ch = 0; ch < oc; ch += LANES) {
    vec block[4], half[4][WINO_SIDE], line[4], out[WINO_SIDE];
    for (int a = 0; a < M; a++) {
      for (int b = 0; b < M; b++) {
        vec zero = {0};
        block[b] = oy + a < g->oh && ox + b < g->ow
                       ? load(image + ((oy + a) * g->ow + ox + b) * oc + ch)
                       : zero;
      }
      weight_line(block, M, half[a]);
    }
    for (int q = 0; q < WINO_SIDE; q++) {
      for (int a = 0; a < M; a++) line[a] = half[a][q];
      weight_line(line, M, out);
      for (int p = 0; p < WINO_SIDE; p++)
        store(e + ((p * WINO_SIDE + q) * WINO_CHUNK + slot) * oc + ch, out[p]);
    }
  }
}

static void transform_gradient_2(const wino_job *job, int64_t t, int64_t slot, float *e) {
  transform_gradient(job, t, slot, e, 2);
}

static void transform_gradient_4(const wino_job *job, int64_t t, int64_t slot, float *e) {
  transform_gradient(job, t, slot, e, 4);
}

/* sums[p][ci][j0, j0 + NV * LANES) (+)= sum over the chunk's `count` tiles of
 * U[p][s][ci] E[p][s][:], in blocks of WINO_GRAD_CHANNELS input channels; `fresh` starts the
 * piece. Each chunk sums from zero and then adds into the piece's sum, so no running sum is
 * long. */
#define GRADIENT_PRODUCTS(NV)                                                                \
  static void gradient_products_##NV(const float *u, const float *e, int64_t c, int64_t oc,  \
                                     int64_t count, int64_t j0, int fresh, float *sums) {    \
    for (int p = 0; p < WINO_POINTS; p++)                                                    \
      for (int64_t ci0 = 0; ci0 < c; ci0 += WINO_GRAD_CHANNELS) {                            \
        float *m = sums + (p * c + ci0) * oc + j0;                                           \
        vec acc[WINO_GRAD_CHANNELS][NV];                                                     \
        memset(acc, 0, sizeof acc);                                                          \
        for (int64_t s = 0; s < count; s++) {                                                \
          const float *up = u + (p * WINO_CHUNK + s) * c + ci0;                              \
          const float *ep = e + (p * WINO_CHUNK + s) * oc + j0;                              \
          vec w[NV];                                                                         \
          for (int k = 0; k < NV; k++) w[k] = load(ep + k * LANES);                          \
          for (int i = 0; i < WINO_GRAD_CHANNELS; i++)                                       \
            for (int k = 0; k < NV; k++) acc[i][k] += up[i] * w[k];                          \
        }                                                                                    \
        for (int i = 0; i < WINO_GRAD_CHANNELS; i++)                                         \
          for (int k = 0; k < NV; k++) {                                                     \
            float *to = m + i * oc + k * LANES;                                              \
            store(to, fresh ? acc[i][k] : load(to) + acc[i][k]);                             \
          }                                                                                  \
      }                                                                                      \
  }
GRADIENT_PRODUCTS(1)
GRADIENT_PRODUCTS(2)

/* Thread ith: whole pieces, each summed chunk by chunk into its own sums. Scratch: U
 * [36][WINO_CHUNK][C], then E [36][WINO_CHUNK][OC]. */
static void gradient_piece_task(void *arg, int ith, int nth) {
  const wino_job *job = arg;
  const geometry *g = job->g;
  float *u = job->scratch + ith * job->scratch_floats;
  float *e = u + WINO_POINTS * WINO_CHUNK * g->c;
  int64_t pieces = (job->tiles + job->piece_tiles - 1) / job->piece_tiles, begin, end;
  eager_split(pieces, ith, nth, &begin, &end);
  for (int64_t piece = begin; piece < end; piece++) {
    float *sums = job->sums + piece * WINO_POINTS * g->c * g->oc;
    int64_t first = piece * job->piece_tiles;
    int64_t last = first + job->piece_tiles < job->tiles ? first + job->piece_tiles : job->tiles;
    for (int64_t t0 = first; t0 < last; t0 += WINO_CHUNK) {
      int64_t count = last - t0 < WINO_CHUNK ? last - t0 : WINO_CHUNK;
      for (int64_t s = 0; s < count; s++) {
        transform_input(job, t0 + s, s, WINO_CHUNK, u);
        if (job->m == 2) transform_gradient_2(job, t0 + s, s, e);
        else transform_gradient_4(job, t0 + s, s, e);
      }
      for (int64_t j0 = 0; j0 < g->oc;) {
        int nv = WINO_MAX_NV == 2 && g->oc - j0 >= 2 * LANES ? 2 : 1;
        if (nv == 2) gradient_products_2(u, e, g->c, g->oc, count, j0, t0 == first, sums);
        else gradient_products_1(u, e, g->c, g->oc, count, j0, t0 == first, sums);
        j0 += nv * LANES;
      }
    }
  }
}

/* Thread ith: input channels [begin, end): the pieces' sums added in order, then A^T M A
 * (R x R taps) into the filter gradient [R, R, C, OC]. */
INLINE void gradient_finish(wino_job *job, int ith, int nth, const int R) {
  const geometry *g = job->g;
  int64_t c = g->c, oc = g->oc, begin, end;
  int64_t pieces = (job->tiles + job->piece_tiles - 1) / job->piece_tiles;
  eager_split(c, ith, nth, &begin, &end);
  vec zeros = {0};
  for (int64_t ci = begin; ci < end; ci++)
    for (int64_t j = 0; j < oc; j += LANES) {
      vec m[WINO_SIDE][WINO_SIDE], rows[WINO_SIDE][5], line[WINO_SIDE], y[5];
      for (int p = 0; p < WINO_POINTS; p++) {
        const float *sum = job->sums + (p * c + ci) * oc + j;
        vec total = load(sum);
        for (int64_t piece = 1; piece < pieces; piece++)
          total += load(sum + piece * WINO_POINTS * c * oc);
        m[p / WINO_SIDE][p % WINO_SIDE] = total;
      }
      for (int p = 0; p < WINO_SIDE; p++) output_line(m[p], rows[p], R);
      for (int b = 0; b < R; b++) {
        for (int p = 0; p < WINO_SIDE; p++) line[p] = rows[p][b];
        output_line(line, y, R);
        for (int a = 0; a < R; a++) {
          zeros += y[a] * 0.0f;
          store(job->out + ((a * R + b) * c + ci) * oc + j, y[a]);
        }
      }
    }
  if (!all_finite(zeros)) atomic_store(&job->nonfinite, 1);
}

static void gradient_finish_task(void *arg, int ith, int nth) {
  wino_job *job = arg;
  if (job->m == 2) gradient_finish(job, ith, nth, 5);
  else gradient_finish(job, ith, nth, 3);
}

int eager_winograd_filter_grad(const geometry *g, const float *x, const float *dy,
                               float *dfilter) {
  if (!wino_fits(g)) return 0;
  wino_job job = {.x = x, .dy = dy, .out = dfilter};
  tile_grid(&job, g);
  if (job.tiles == 0) return 0; /* the caller's zeros are the gradient */
  int64_t piece_tiles = (job.tiles + WINO_MAX_PIECES - 1) / WINO_MAX_PIECES;
  piece_tiles = (piece_tiles + WINO_CHUNK - 1) / WINO_CHUNK * WINO_CHUNK;
  job.piece_tiles = piece_tiles < WINO_PIECE_MIN_TILES ? WINO_PIECE_MIN_TILES : piece_tiles;
  int64_t pieces = (job.tiles + job.piece_tiles - 1) / job.piece_tiles;
  job.scratch_floats = WINO_POINTS * WINO_CHUNK * (g->c + g->oc);
  int nth = eager_threads_for(pieces, 1);
  size_t sums_bytes = (size_t)(pieces * WINO_POINTS * g->c * g->oc) * sizeof(float);
  job.sums = eager_scratch_take(sums_bytes);
  job.scratch = eager_scratch_take((size_t)(nth * job.scratch_floats) * sizeof(float));
  if (!job.sums || !job.scratch) {
    eager_scratch_give(job.sums);
    eager_scratch_give(job.scratch);
    return -1;
  }
  eager_parallel(gradient_piece_task, &job, nth);
  eager_parallel(gradient_finish_task, &job, eager_threads_for(g->c * g->oc, 512));
  eager_scratch_give(job.sums);
  eager_scratch_give(job.scratch);
  if (!atomic_load(&job.nonfinite)) return 1;
  memset(dfilter, 0, (size_t)(g->kh * g->kw * g->c * g->oc) * sizeof(float));
  return 0;
}
