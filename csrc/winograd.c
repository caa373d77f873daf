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
  const float *x;       /* the input */
  const float *v;       /* forward: the transformed filter [36][C][OC] */
  float *out;           /* forward: the output */
  const float *dy;      /* filter gradient: [N, OH, OW, OC] */
  float *sums;          /* filter gradient: [pieces][36][C][OC], one partial sum a piece */
  float *scratch;       /* per thread: see the two tasks */
  int64_t scratch_floats, tiles_h, tiles_w, tiles;
  int64_t piece_tiles;  /* filter gradient: tiles per piece, whole chunks */
} wino_job;

/* Tile t's image and its first output pixel (oy, ox). */
static void tile_origin(const wino_job *job, int64_t t, int64_t *n, int64_t *oy, int64_t *ox) {
  int64_t per_image = job->tiles_h * job->tiles_w;
  *n = t / per_image;
  *oy = 2 * (t % per_image / job->tiles_w);
  *ox = 2 * (t % job->tiles_w);
}

/* U[p][slot][:] = the transformed window of tile t (zero outside the image). */
static void transform_input(const wino_job *job, int64_t t, int64_t slot, float *u) {
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
  int64_t n, oy, ox;
  tile_origin(job, t, &n, &oy, &ox);
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
  wino_job job = {g, x, v, out, NULL, NULL, scratch, scratch_floats, tiles_h, tiles_w, tiles, 0};
  eager_parallel(wino_task, &job, nth);
  free(v);
  free(scratch);
  return 1;
}

/* ---- filter gradient: F(5x5, 2x2) ----------------------------------------------------
 *
 * The filter gradient is the correlation of each 6x6 input window d with the tile's 2x2
 * block e of dy, summed over tiles: dW = A5^T [ sum_t (G2 e G2^T) (.) (B^T d B) ] A5, with
 * the same points, hence the same B^T (input_line). The sum over tiles runs per piece of
 * piece_tiles tiles into its own partial sum, and the pieces are added in order at the end:
 * pieces depend on the shapes only, so any thread count gives the same bits, and no float32
 * running sum is longer than a piece. NOTE: on the MNIST model's second conv the largest
 * difference from float64 was 6e-6 of the largest gradient (the direct kernel: 4e-7); with
 * one running sum per piece instead of per chunk it was 1.5e-5.
 */
#define WINO_PIECE_MIN_TILES 256
#define WINO_MAX_PIECES 16

/* v = G2 e for one line of 2 values. */
static inline void gradient_line(vec e0, vec e1, vec v[WINO_SIDE]) {
  v[0] = e0 * (1.0f / 4);
  v[1] = (e0 + e1) * (1.0f / 6);
  v[2] = (e0 - e1) * (1.0f / 6);
  v[3] = e0 * (1.0f / 24) + e1 * (1.0f / 12);
  v[4] = e0 * (1.0f / 24) - e1 * (1.0f / 12);
  v[5] = e1;
}

/* y = A5^T m for one line of 6 values: the five filter taps. */
static inline void filter_line(const vec m[WINO_SIDE], vec y[5]) {
  vec plus = m[1] + m[2], minus = m[1] - m[2], plus2 = m[3] + m[4], minus2 = m[3] - m[4];
  y[0] = m[0] + plus + plus2;
  y[1] = minus + 2.0f * minus2;
  y[2] = plus + 4.0f * plus2;
  y[3] = minus + 8.0f * minus2;
  y[4] = plus + 16.0f * plus2 + m[5];
}

/* E[p][slot][:] = (G2 e G2^T)[p] for tile t's 2x2 block of dy (zero outside it). */
static void transform_gradient(const wino_job *job, int64_t t, int64_t slot, float *e) {
  const geometry *g = job->g;
  int64_t oc = g->oc, n, oy, ox;
  tile_origin(job, t, &n, &oy, &ox);
  const float *image = job->dy + n * g->oh * g->ow * oc;
  for (int64_t ch = 0; ch < oc; ch += LANES) {
    vec block[2][2], half[2][WINO_SIDE], out[WINO_SIDE];
    for (int a = 0; a < 2; a++)
      for (int b = 0; b < 2; b++) {
        vec zero = {0};
        block[a][b] = oy + a < g->oh && ox + b < g->ow
                          ? load(image + ((oy + a) * g->ow + ox + b) * oc + ch)
                          : zero;
      }
    for (int a = 0; a < 2; a++) gradient_line(block[a][0], block[a][1], half[a]);
    for (int q = 0; q < WINO_SIDE; q++) {
      gradient_line(half[0][q], half[1][q], out);
      for (int p = 0; p < WINO_SIDE; p++)
        store(e + ((p * WINO_SIDE + q) * WINO_CHUNK + slot) * oc + ch, out[p]);
    }
  }
}

/* sums[p][ci][j0, j0 + NV * LANES) (+)= sum over the chunk's `count` tiles of
 * U[p][s][ci] E[p][s][:], blocks of 8 input channels; `fresh` starts the piece. Each chunk
 * sums from zero and then adds into the piece's sum, so no running sum is long. */
#define GRADIENT_PRODUCTS(NV)                                                                \
  static void gradient_products_##NV(const float *u, const float *e, int64_t c, int64_t oc,  \
                                     int64_t count, int64_t j0, int fresh, float *sums) {    \
    for (int p = 0; p < WINO_POINTS; p++)                                                    \
      for (int64_t ci0 = 0; ci0 < c; ci0 += 8) {                                             \
        float *m = sums + (p * c + ci0) * oc + j0;                                           \
        vec acc[8][NV];                                                                      \
        memset(acc, 0, sizeof acc);                                                          \
        for (int64_t s = 0; s < count; s++) {                                                \
          const float *up = u + (p * WINO_CHUNK + s) * c + ci0;                              \
          const float *ep = e + (p * WINO_CHUNK + s) * oc + j0;                              \
          vec w[NV];                                                                         \
          for (int k = 0; k < NV; k++) w[k] = load(ep + k * LANES);                          \
          for (int i = 0; i < 8; i++)                                                        \
            for (int k = 0; k < NV; k++) acc[i][k] += up[i] * w[k];                          \
        }                                                                                    \
        for (int i = 0; i < 8; i++)                                                          \
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
    int64_t last = (piece + 1) * job->piece_tiles < job->tiles ? (piece + 1) * job->piece_tiles
                                                                 : job->tiles;
    for (int64_t t0 = piece * job->piece_tiles; t0 < last; t0 += WINO_CHUNK) {
      int64_t count = last - t0 < WINO_CHUNK ? last - t0 : WINO_CHUNK;
      for (int64_t s = 0; s < count; s++) {
        transform_input(job, t0 + s, s, u);
        transform_gradient(job, t0 + s, s, e);
      }
      int fresh = t0 == piece * job->piece_tiles;
      for (int64_t j0 = 0; j0 < g->oc;) {
        int nv = g->oc - j0 >= 2 * LANES ? 2 : 1;
        if (nv == 2) gradient_products_2(u, e, g->c, g->oc, count, j0, fresh, sums);
        else gradient_products_1(u, e, g->c, g->oc, count, j0, fresh, sums);
        j0 += nv * LANES;
      }
    }
  }
}

/* Thread ith: input channels [begin, end): the pieces' sums added in order, then A5^T M A5
 * into the filter gradient [5, 5, C, OC]. */
static void gradient_finish_task(void *arg, int ith, int nth) {
  const wino_job *job = arg;
  const geometry *g = job->g;
  int64_t c = g->c, oc = g->oc, begin, end;
  int64_t pieces = (job->tiles + job->piece_tiles - 1) / job->piece_tiles;
  eager_split(c, ith, nth, &begin, &end);
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
      for (int p = 0; p < WINO_SIDE; p++) filter_line(m[p], rows[p]);
      for (int b = 0; b < 5; b++) {
        for (int p = 0; p < WINO_SIDE; p++) line[p] = rows[p][b];
        filter_line(line, y);
        for (int a = 0; a < 5; a++) store(job->out + ((a * 5 + b) * c + ci) * oc + j, y[a]);
      }
    }
}

int eager_winograd_filter_grad5x5(const geometry *g, const float *x, const float *dy,
                                  float *dfilter) {
  if (!wino_fits(g)) return 0;
  int64_t tiles_h = (g->oh + 1) / 2, tiles_w = (g->ow + 1) / 2;
  int64_t tiles = g->n * tiles_h * tiles_w;
  if (tiles == 0) return 0; /* the caller's zeros are the gradient */
  int64_t piece_tiles = (tiles + WINO_MAX_PIECES - 1) / WINO_MAX_PIECES;
  piece_tiles = (piece_tiles + WINO_CHUNK - 1) / WINO_CHUNK * WINO_CHUNK;
  if (piece_tiles < WINO_PIECE_MIN_TILES) piece_tiles = WINO_PIECE_MIN_TILES;
  int64_t pieces = (tiles + piece_tiles - 1) / piece_tiles;
  int64_t scratch_floats = WINO_POINTS * WINO_CHUNK * (g->c + g->oc);
  int nth = eager_threads_for(pieces, 1);
  size_t sums_bytes = (size_t)(pieces * WINO_POINTS * g->c * g->oc) * sizeof(float);
  float *sums = aligned_alloc(64, sums_bytes);
  float *scratch = aligned_alloc(64, (size_t)(nth * scratch_floats) * sizeof(float));
  if (!sums || !scratch) {
    free(sums);
    free(scratch);
    return -1;
  }
  wino_job job = {g,       x,     NULL,      dfilter, dy,         sums,
                  scratch, scratch_floats, tiles_h, tiles_w, tiles, piece_tiles};
  eager_parallel(gradient_piece_task, &job, nth);
  eager_parallel(gradient_finish_task, &job, eager_threads_for(g->c * g->oc, 512));
  free(sums);
  free(scratch);
  return 1;
}
