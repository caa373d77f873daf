/*
 * Winograd convolution F(2x2, 5x5) for float32 5x5 stride-1 convs whose channel counts
 * are whole vectors (the MNIST model's second conv, and its input gradient).
 *
 * Each 2x2 block of output pixels (a tile) reads a 6x6 window d of the input. With the
 * transforms below, out = A^T [ (G f G^T) (.) (B^T d B) ] A per (input, output) channel
 * pair, summed over input channels: 36 products per tile where the direct kernel makes
 * 100. So the kernel is three steps per chunk of WINO_CHUNK tiles:
 *   U[p][t][ci] = (B^T d B)[p]          input transform, channels in vectors
 *   M[p][t][co] = sum_ci U[p][t][ci] V[p][ci][co]   36 small products, V = G f G^T
 *   out = A^T M A                        output transform, written once per pixel
 * The points are 0, 1, -1, 2, -2 and infinity (derived by Toom-Cook with exact fractions);
 * B^T's entries are small integers and G carries the fractions, so the filter, transformed
 * once a call, absorbs the rounding of 1/6 and 1/24. NOTE: measured against the direct
 * kernel on random inputs the largest difference was about 1e-6 of the output's scale.
 *
 * Tiles are numbered over all images (image, tile row, tile column), so chunks cross
 * images and only the last chunk is short. A tile's result does not depend on which thread
 * or chunk computes it: the same bits for any thread count.
 */
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "internal.h"

#define LANES 16        /* floats per 64-byte vector */
#define WINO_SIDE 6     /* input tile side: 2 outputs + 5 taps - 1 */
#define WINO_POINTS 36  /* WINO_SIDE squared: the positions p of the transformed tile */
#define WINO_CHUNK 16   /* tiles one thread transforms together */
#define WINO_BLOCK 8    /* tiles per register block of the products (x 2 vectors) */
/* Transformed filters larger than this are left to the direct kernels (the products
 * stream V once per block of tiles, so it should stay in L2). */
#define WINO_MAX_FILTER_BYTES ((int64_t)2 << 20)

typedef float vec __attribute__((vector_size(64)));

static inline vec load(const float *p) {
  vec v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void store(float *p, vec v) { memcpy(p, &v, sizeof v); }

/* The filter transform's matrix G (6x5). */
static const float wino_g[WINO_SIDE][5] = {
    {1.0f / 4, 0, 0, 0, 0},
    {1.0f / 6, 1.0f / 6, 1.0f / 6, 1.0f / 6, 1.0f / 6},
    {1.0f / 6, -1.0f / 6, 1.0f / 6, -1.0f / 6, 1.0f / 6},
    {1.0f / 24, 1.0f / 12, 1.0f / 6, 1.0f / 3, 2.0f / 3},
    {1.0f / 24, -1.0f / 12, 1.0f / 6, -1.0f / 3, 2.0f / 3},
    {0, 0, 0, 0, 1},
};

/* u = B^T d for one line of 6 values (B^T's rows, written out). */
static inline void input_line(const vec d[WINO_SIDE], vec u[WINO_SIDE]) {
  vec four = {0};
  four += 4.0f;
  u[0] = four * d[0] - 5.0f * d[2] + d[4];
  u[1] = four * (d[1] + d[2]) - (d[3] + d[4]);
  u[2] = four * (d[2] - d[1]) + (d[3] - d[4]);
  u[3] = 2.0f * (d[3] - d[1]) + (d[4] - d[2]);
  u[4] = 2.0f * (d[1] - d[3]) + (d[4] - d[2]);
  u[5] = four * d[1] - 5.0f * d[3] + d[5];
}

/* y = A^T m for one line of 6 values: the two outputs. */
static inline void output_line(const vec m[WINO_SIDE], vec y[2]) {
  y[0] = m[0] + m[1] + m[2] + m[3] + m[4];
  y[1] = m[1] - m[2] + 2.0f * (m[3] - m[4]) + m[5];
}

/* V[p][ci][co] = (G f G^T)[p] for every channel pair, f = filter[:, :, ci, co]. */
static void transform_filter(const geometry *g, const float *filter, float *v) {
  int64_t c = g->c, oc = g->oc;
  for (int64_t ci = 0; ci < c; ci++)
    for (int64_t j = 0; j < oc; j += LANES) {
      vec f[5][5], half[WINO_SIDE][5];
      for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++) f[a][b] = load(filter + ((a * 5 + b) * c + ci) * oc + j);
      for (int p = 0; p < WINO_SIDE; p++)
        for (int b = 0; b < 5; b++) {
          vec sum = {0};
          for (int a = 0; a < 5; a++) sum += wino_g[p][a] * f[a][b];
          half[p][b] = sum;
        }
      for (int p = 0; p < WINO_SIDE; p++)
        for (int q = 0; q < WINO_SIDE; q++) {
          vec sum = {0};
          for (int b = 0; b < 5; b++) sum += wino_g[q][b] * half[p][b];
          store(v + ((p * WINO_SIDE + q) * c + ci) * oc + j, sum);
        }
    }
}

typedef struct {
  const geometry *g;
  const float *x, *v; /* the input; the transformed filter [36][C][OC] */
  float *out;
  float *scratch; /* per thread: U [36][WINO_CHUNK][C], then M [36][WINO_BLOCK][2 * LANES] */
  int64_t scratch_floats, tiles_h, tiles_w, tiles;
} wino_job;

/* U[p][slot][:] = the transformed window of tile t (zero outside the image). */
static void transform_input(const wino_job *job, int64_t t, int64_t slot, float *u) {
  const geometry *g = job->g;
  int64_t c = g->c, per_image = job->tiles_h * job->tiles_w;
  int64_t n = t / per_image, ty = t % per_image / job->tiles_w, tx = t % job->tiles_w;
  int64_t y0 = 2 * ty - g->pt, x0 = 2 * tx - g->pl;
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
        store(u + ((i * WINO_SIDE + j) * WINO_CHUNK + slot) * c + ch, out[i]);
    }
  }
}

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

/* Writes the output pixels of tile t, channels [j0, j0 + nv * LANES), from M slot i. */
static void transform_output(const wino_job *job, int64_t t, const float *m, int i, int64_t j0,
                             int nv) {
  const geometry *g = job->g;
  int64_t per_image = job->tiles_h * job->tiles_w;
  int64_t n = t / per_image, oy = 2 * (t % per_image / job->tiles_w), ox = 2 * (t % job->tiles_w);
  float *image = job->out + n * g->oh * g->ow * g->oc;
  for (int k = 0; k < nv; k++) {
    vec rows[WINO_SIDE][2], line[WINO_SIDE], y[2];
    for (int p = 0; p < WINO_SIDE; p++) {
      for (int q = 0; q < WINO_SIDE; q++)
        line[q] = load(m + ((p * WINO_SIDE + q) * WINO_BLOCK + i) * 2 * LANES + k * LANES);
      output_line(line, rows[p]);
    }
    for (int b = 0; b < 2; b++) {
      for (int p = 0; p < WINO_SIDE; p++) line[p] = rows[p][b];
      output_line(line, y);
      for (int a = 0; a < 2; a++)
        if (oy + a < g->oh && ox + b < g->ow)
          store(image + ((oy + a) * g->ow + ox + b) * g->oc + j0 + k * LANES, y[a]);
    }
  }
}

static void wino_task(void *arg, int ith, int nth) {
  const wino_job *job = arg;
  const geometry *g = job->g;
  float *u = job->scratch + ith * job->scratch_floats;
  float *m = u + WINO_POINTS * WINO_CHUNK * g->c;
  int64_t chunks = (job->tiles + WINO_CHUNK - 1) / WINO_CHUNK, begin, end;
  eager_split(chunks, ith, nth, &begin, &end);
  for (int64_t chunk = begin; chunk < end; chunk++) {
    int64_t t0 = chunk * WINO_CHUNK;
    int64_t count = job->tiles - t0 < WINO_CHUNK ? job->tiles - t0 : WINO_CHUNK;
    /* A short chunk's unused slots hold zeros: the products read whole blocks. */
    for (int64_t s = 0; s < WINO_CHUNK; s++) {
      if (s < count) {
        transform_input(job, t0 + s, s, u);
        continue;
      }
      for (int p = 0; p < WINO_POINTS; p++)
        memset(u + (p * WINO_CHUNK + s) * g->c, 0, (size_t)g->c * sizeof(float));
    }
    for (int64_t first = 0; first < count; first += WINO_BLOCK)
      for (int64_t j0 = 0; j0 < g->oc;) {
        int nv = g->oc - j0 >= 2 * LANES ? 2 : 1;
        if (nv == 2) products_2(u, job->v, g->c, g->oc, first, j0, m);
        else products_1(u, job->v, g->c, g->oc, first, j0, m);
        for (int i = 0; i < WINO_BLOCK && first + i < count; i++)
          transform_output(job, t0 + first + i, m, i, j0, nv);
        j0 += nv * LANES;
      }
  }
}

/* Whether the Winograd kernel takes this geometry. */
static int wino_fits(const geometry *g) {
  return g->kh == 5 && g->kw == 5 && g->sh == 1 && g->sw == 1 && g->dh == 1 && g->dw == 1 &&
         g->c % LANES == 0 && g->oc % LANES == 0 && g->c > 0 && g->oc > 0 && g->oh >= 2 &&
         g->ow >= 2 &&
         (int64_t)WINO_POINTS * g->c * g->oc * (int64_t)sizeof(float) <= WINO_MAX_FILTER_BYTES;
}

int eager_winograd_conv5x5(const geometry *g, const float *x, const float *filter, float *out) {
  if (!wino_fits(g)) return 0;
  int64_t tiles_h = (g->oh + 1) / 2, tiles_w = (g->ow + 1) / 2;
  int64_t tiles = g->n * tiles_h * tiles_w;
  if (tiles == 0) return 1;
  int nth = eager_threads_for(tiles * WINO_POINTS * g->c * g->oc, EAGER_GRAIN_CHEAP);
  /* Per thread: U, then M; a whole number of 64-byte lines each. */
  int64_t scratch_floats = WINO_POINTS * (WINO_CHUNK * g->c + WINO_BLOCK * 2 * LANES);
  size_t filter_bytes = (size_t)(WINO_POINTS * g->c * g->oc) * sizeof(float);
  size_t scratch_bytes = (size_t)(nth * scratch_floats) * sizeof(float);
  float *v = aligned_alloc(64, filter_bytes);
  float *scratch = aligned_alloc(64, scratch_bytes);
  if (!v || !scratch) {
    free(v);
    free(scratch);
    return -1;
  }
  transform_filter(g, filter, v);
  wino_job job = {g, x, v, out, scratch, scratch_floats, tiles_h, tiles_w, tiles};
  eager_parallel(wino_task, &job, nth);
  free(v);
  free(scratch);
  return 1;
}
