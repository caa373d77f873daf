/*
 * Direct convolution over a zero-padded copy of each image: the forward pass and the
 * filter gradient when channels fill whole vectors, and the narrow kernel (few output
 * channels, input channels in vectors), which the input gradient of a conv with few input
 * channels becomes (conv.c).
 */
#include <stdlib.h>
#include <string.h>

#include "conv.h"

/* The kernels of conv_direct.c gather each receptive field with eager_im2col_row, whose
 * per-row memcpy/memset calls dominate when K is small (the MNIST model's first conv: K =
 * 25). These kernels instead copy one image at a time into a zero-padded buffer of
 * PH x PW x C (a thread's own, so it stays in cache), after which tap p = (a, b, ci) of
 * output pixel (oh, ow) is pad[base(oh, ow) + off[p]] with no bounds checks:
 * base = (oh*sh*PW + ow*sw)*C and off[p] = (a*dh*PW + b*dw)*C + ci. They take channel
 * counts that are whole vectors (oc a multiple of 64 bytes); others take other paths. */
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
#define PAD_CONV_TILE(SFX, T, NV, R)                                                        \
  static inline void pad_conv_tile_##SFX##_##NV##_##R(const T *const *base,                 \
                                                      const pad_tap *taps, int64_t n,       \
                                                      const T *restrict f, int64_t j0,      \
                                                      T *const *out) {                      \
    typedef T vec __attribute__((vector_size(64)));                                         \
    const T *b[R];                                                                          \
    memcpy(b, base, sizeof b);                                                              \
    vec acc[R][NV];                                                                         \
    memset(acc, 0, sizeof acc);                                                             \
    for (int64_t t = 0; t < n; t++) {                                                       \
      vec w[NV];                                                                            \
      memcpy(w, f + taps[t].row, sizeof w);                                                 \
      const int32_t q = taps[t].off;                                                        \
      for (int i = 0; i < R; i++) {                                                         \
        const T v = b[i][q];                                                                \
        for (int u = 0; u < NV; u++) acc[i][u] += v * w[u];                                 \
      }                                                                                     \
    }                                                                                       \
    for (int i = 0; i < R; i++) memcpy(out[i] + j0, acc[i], sizeof acc[i]);                 \
  }

/* dfilter[t + i][j0, j0 + NV*LANES) for taps i < G += the products over output pixels
 * [oh0, oh1) x [w0, w1) of one image (pad, dy: that image's). */
#define PAD_DFILTER_TILE(SFX, T, G, NV)                                                     \
  static inline void pad_dfilter_tile_##SFX##_##G##_##NV(                                   \
      const geometry *g, int64_t pw, const T *pad, const int32_t *off, const T *dy,         \
      int64_t oh0, int64_t oh1, int64_t w0, int64_t w1, int64_t j0, T *restrict dw) {       \
    typedef T vec __attribute__((vector_size(64)));                                         \
    int64_t oc = g->oc, step = g->sw * g->c;                                                \
    int32_t q[G];                                                                           \
    memcpy(q, off, sizeof q);                                                               \
    vec acc[G][NV];                                                                         \
    memset(acc, 0, sizeof acc);                                                             \
    for (int64_t oh = oh0; oh < oh1; oh++) {                                                \
      const T *row = pad + (oh * g->sh * pw + w0 * g->sw) * g->c;                           \
      const T *d = dy + (oh * g->ow + w0) * oc + j0;                                        \
      for (int64_t ow = w0; ow < w1; ow++, row += step, d += oc) {                          \
        vec dv[NV];                                                                         \
        memcpy(dv, d, sizeof dv);                                                           \
        for (int i = 0; i < G; i++) {                                                       \
          const T v = row[q[i]];                                                            \
          for (int u = 0; u < NV; u++) acc[i][u] += v * dv[u];                              \
        }                                                                                   \
      }                                                                                     \
    }                                                                                       \
    for (int i = 0; i < G; i++)                                                             \
      for (int u = 0; u < NV; u++) {                                                        \
        vec s;                                                                              \
        memcpy(&s, dw + i * oc + j0 + u * (64 / sizeof(T)), sizeof s);                      \
        s += acc[i][u];                                                                     \
        memcpy(dw + i * oc + j0 + u * (64 / sizeof(T)), &s, sizeof s);                      \
      }                                                                                     \
  }

/* Taps [t, t + G) over output rows [oh0, oh1), all output channels (vectors in pairs when
 * PAD_NV is 2, then one). When `skip`, the G taps share one filter position (a, b) and only
 * the pixels
 * where it reads the image are visited; otherwise all of them. */
#define PAD_DFILTER_GROUP(SFX, T, G)                                                        \
  PAD_DFILTER_TILE(SFX, T, G, 2)                                                            \
  PAD_DFILTER_TILE(SFX, T, G, 1)                                                            \
  static void pad_dfilter_group_##SFX##_##G(const geometry *g, int64_t pw, const T *pad,    \
                                            const int32_t *off, const T *dy, int64_t t,     \
                                            int64_t oh0, int64_t oh1, int skip, T *dw) {    \
    enum { LANES = 64 / sizeof(T) };                                                        \
    int64_t h0 = oh0, h1 = oh1, w0 = 0, w1 = g->ow;                                         \
    if (skip) {                                                                             \
      int64_t a = t / (g->kw * g->c), b = t / g->c % g->kw;                                 \
      in_image(a * g->dh - g->pt, g->sh, g->h, g->oh, &h0, &h1);                            \
      in_image(b * g->dw - g->pl, g->sw, g->w, g->ow, &w0, &w1);                            \
      if (h0 < oh0) h0 = oh0;                                                               \
      if (h1 > oh1) h1 = oh1;                                                               \
      if (h0 >= h1 || w0 >= w1) return;                                                     \
    }                                                                                       \
    int64_t j0 = 0;                                                                         \
    for (; PAD_NV == 2 && j0 + 2 * LANES <= g->oc; j0 += 2 * LANES)                         \
      pad_dfilter_tile_##SFX##_##G##_2(g, pw, pad, off + t, dy, h0, h1, w0, w1, j0,         \
                                       dw + t * g->oc);                                     \
    for (; j0 < g->oc; j0 += LANES)                                                         \
      pad_dfilter_tile_##SFX##_##G##_1(g, pw, pad, off + t, dy, h0, h1, w0, w1, j0,         \
                                       dw + t * g->oc);                                     \
  }

/* NOTE: which products a kernel skips (padding x a value) must not depend on the thread
 * count, or a non-finite value would give NaN or not depending on it (0 * inf). So the
 * forward pass works in blocks of pixels fixed within each image, and the filter gradient
 * skips only when C is a multiple of PAD_TAPS, splitting the taps between threads in
 * units of PAD_TAPS so that no group straddles two filter positions. */
static int64_t pad_dfilter_unit(const geometry *g) { return g->c % PAD_TAPS == 0 ? PAD_TAPS : 1; }

/* The forward tiles of block height R over all output channels (vectors in pairs when PAD_NV
 * is 2, then one). */
#define PAD_CONV_TILES(SFX, R)                                                              \
  for (; PAD_NV == 2 && j0 + 2 * LANES <= oc; j0 += 2 * LANES)                              \
    pad_conv_tile_##SFX##_2_##R(base, taps, ntaps, f + j0, j0, out);                        \
  for (; j0 < oc; j0 += LANES) pad_conv_tile_##SFX##_1_##R(base, taps, ntaps, f + j0, j0, out);

/* The forward pass with blocks of R pixels (NAME: tall or short). */
#define PAD_FORWARD(SFX, T, NAME, R)                                                        \
  PAD_CONV_TILE(SFX, T, 2, R)                                                               \
  PAD_CONV_TILE(SFX, T, 1, R)                                                               \
  /* Walks its share of the blocks in order, keeping image, run and pixel position as it    \
   * goes (no divisions per block). */                                                      \
  static void padded_conv_##SFX##_##NAME(void *arg, int ith, int nth) {                     \
    const padded_job *job = arg;                                                            \
    const geometry *g = job->g;                                                             \
    enum { LANES = 64 / sizeof(T) };                                                        \
    T *pad = (T *)(job->pads + ith * job->pad_bytes);                                       \
    int64_t pixels = g->oh * g->ow, oc = g->oc, begin, end, height = R;                     \
    eager_split(g->n * job->blocks, ith, nth, &begin, &end);                                \
    if (begin == end) return;                                                               \
    int64_t n = begin / job->blocks, block = begin % job->blocks;                           \
    const column_run *run = job->runs;                                                      \
    while (block >= run[1].block0) run++;                                                   \
    int64_t first = (block - run->block0) * height; /* the block's first pixel in the run */ \
    int64_t oh = first / run->width, col = first % run->width;                              \
    pad_image(g, sizeof(T), job->x + (size_t)(n * g->h * g->w * g->c) * sizeof(T),          \
              (char *)pad, job->ph, job->pw);                                               \
    for (int64_t u = begin; u < end; u++) {                                                 \
      int64_t count = g->oh * run->width, top = oh;                                         \
      int rows = count - first < height ? (int)(count - first) : (int)height;               \
      const T *base[PAD_ROWS];                                                              \
      T *out[PAD_ROWS];                                                                     \
      for (int i = 0; i < rows; i++) {                                                      \
        int64_t ow = run->ow0 + col;                                                        \
        base[i] = pad + (oh * g->sh * job->pw + ow * g->sw) * g->c;                         \
        out[i] = (T *)job->out + (n * pixels + oh * g->ow + ow) * oc;                       \
        if (++col == run->width) {                                                          \
          col = 0;                                                                          \
          oh++;                                                                             \
        }                                                                                   \
      }                                                                                     \
      for (int i = rows; i < height; i++) { /* unused: repeat pixel 0 */                    \
        base[i] = base[0];                                                                  \
        out[i] = out[0];                                                                    \
      }                                                                                     \
      /* Filter rows [a0, a1): those that read the image for some output row of the block. */ \
      int64_t a0 = g->kh, a1 = 0;                                                           \
      for (int64_t r = top; r <= (col == 0 ? oh - 1 : oh); r++) {                           \
        int64_t lo = job->rows[2 * r], hi = job->rows[2 * r + 1];                           \
        if (lo < hi && lo < a0) a0 = lo;                                                    \
        if (lo < hi && hi > a1) a1 = hi;                                                    \
      }                                                                                     \
      if (a1 < a0) a1 = a0;                                                                 \
      const pad_tap *taps = job->taps + run->tap0 + a0 * (run->q1 - run->q0);               \
      int64_t j0 = 0, ntaps = (a1 - a0) * (run->q1 - run->q0);                              \
      const T *f = job->filter;                                                             \
      PAD_CONV_TILES(SFX, R)                                                                \
      first += height;                                                                      \
      if (first < count) continue;                                                          \
      first = oh = col = 0; /* on to the next run, or the next image's first */             \
      if ((++run)->block0 < job->blocks) continue;                                          \
      run = job->runs;                                                                      \
      if (++n < g->n && u + 1 < end)                                                        \
        pad_image(g, sizeof(T), job->x + (size_t)(n * g->h * g->w * g->c) * sizeof(T),      \
                  (char *)pad, job->ph, job->pw);                                           \
    }                                                                                       \
  }

#define PADDED_CONV(SFX, T)                                                                 \
  PAD_FORWARD(SFX, T, tall, PAD_ROWS)                                                       \
  PAD_FORWARD(SFX, T, short, PAD_ROWS_SHORT)                                                \
  PAD_DFILTER_GROUP(SFX, T, 8)                                                              \
  PAD_DFILTER_GROUP(SFX, T, 4)                                                              \
  PAD_DFILTER_GROUP(SFX, T, 2)                                                              \
  PAD_DFILTER_GROUP(SFX, T, 1)                                                              \
  static void (*const pad_dfilter_groups_##SFX[PAD_TAPS + 1])(                              \
      const geometry *, int64_t, const T *, const int32_t *, const T *, int64_t, int64_t,   \
      int64_t, int, T *) = {[1] = pad_dfilter_group_##SFX##_1, [2] = pad_dfilter_group_##SFX##_2, \
                            [4] = pad_dfilter_group_##SFX##_4, [8] = pad_dfilter_group_##SFX##_8}; \
  /* Thread ith owns taps [t0, t1) and sums each over every pixel in the same order, so the \
   * result does not depend on the thread count. */                                         \
  static void padded_dfilter_##SFX(void *arg, int ith, int nth) {                           \
    const padded_job *job = arg;                                                            \
    const geometry *g = job->g;                                                             \
    T *pad = (T *)(job->pads + ith * job->pad_bytes), *dw = job->out;                       \
    int64_t t0, t1, pixels = g->oh * g->ow;                                                 \
    int64_t band = PAD_BAND_PIXELS / g->ow > 1 ? PAD_BAND_PIXELS / g->ow : 1;               \
    int64_t unit = pad_dfilter_unit(g);                                                     \
    eager_split(g->k / unit, ith, nth, &t0, &t1);                                           \
    t0 *= unit;                                                                             \
    t1 *= unit;                                                                             \
    if (t0 == t1) return;                                                                   \
    for (int64_t n = 0; n < g->n; n++) {                                                    \
      pad_image(g, sizeof(T), job->x + (size_t)(n * g->h * g->w * g->c) * sizeof(T),        \
                (char *)pad, job->ph, job->pw);                                             \
      const T *dy = (const T *)job->dy + n * pixels * g->oc;                                \
      for (int64_t oh0 = 0; oh0 < g->oh; oh0 += band) {                                     \
        int64_t oh1 = oh0 + band < g->oh ? oh0 + band : g->oh;                              \
        for (int64_t t = t0; t < t1;) {                                                     \
          int64_t taps = PAD_GROUP;                                                         \
          while (taps > t1 - t) taps /= 2;                                                  \
          pad_dfilter_groups_##SFX[taps](g, job->pw, pad, job->off, dy, t, oh0, oh1,        \
                                         unit == PAD_TAPS, dw);                             \
          t += taps;                                                                        \
        }                                                                                   \
      }                                                                                     \
    }                                                                                       \
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
 * 8 and 7 pixels): the 8-pixel tile does more per tap (16 FMAs to 14), so it stays where the
 * two pack alike: 7 slowed the MNIST model's first conv (28 x 28, 1 channel) by 4-8%. On its
 * second
 * (14 x 14, SAME 5 x 5: runs of 1, 1, 10, 1 and 1 columns) 8 computes 92.3% useful products
 * and 7 computes 95.9%: batch 100, forward 8.23-8.69 -> 7.90-7.95 ms (3 of 4 runs; one
 * slow run of each), input gradient 8.31-8.70 -> 7.99-8.03 ms, alternating the builds. */
static int64_t choose_block_rows(const geometry *g, const column_run *runs, const int64_t *rows) {
  int64_t tall = block_products(g, runs, rows, PAD_ROWS);
  int64_t short_ = block_products(g, runs, rows, PAD_ROWS_SHORT);
  return short_ * 100 <= tall * 98 ? PAD_ROWS_SHORT : PAD_ROWS;
}

int eager_padded_conv(int32_t dtype, const geometry *g, const char *x, const char *filter,
                      const char *dy, void *out) {
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

/* ---- the narrow kernel: reducing over channel vectors ---- */

/* With few output channels there is no vector of them to fill, but when the input channels
 * are whole vectors (the input gradient of a conv with few input channels, e.g. the MNIST
 * model's first: dy has 32 channels, dx one) the sum over them vectorises instead: each of
 * PAD_ROWS pixels keeps one vector of partial sums, lane l summing channels l, l + LANES,
 * ..., added up (in a fixed order) at the end. The filter is [KH, KW, OC, C] here, so each
 * tap's channels are contiguous; off[a * KW + b] is filter position (a, b)'s offset in the
 * padded image. */
#define NARROW_CONV(SFX, T)                                                                 \
  static void narrow_conv_##SFX(void *arg, int ith, int nth) {                              \
    const padded_job *job = arg;                                                            \
    const geometry *g = job->g;                                                             \
    typedef T vec __attribute__((vector_size(64)));                                         \
    enum { LANES = 64 / sizeof(T) };                                                        \
    T *pad = (T *)(job->pads + ith * job->pad_bytes);                                       \
    const T *f = job->filter;                                                               \
    int64_t pixels = g->oh * g->ow, blocks = (pixels + PAD_ROWS - 1) / PAD_ROWS;            \
    int64_t taps = g->kh * g->kw, chunks = g->c / LANES, begin, end, image = -1;            \
    eager_split(g->n * blocks, ith, nth, &begin, &end);                                     \
    for (int64_t u = begin; u < end; u++) {                                                 \
      int64_t n = u / blocks, first = u % blocks * PAD_ROWS;                                \
      int rows = pixels - first < PAD_ROWS ? (int)(pixels - first) : PAD_ROWS;              \
      if (n != image) {                                                                     \
        pad_image(g, sizeof(T), job->x + (size_t)(n * g->h * g->w * g->c) * sizeof(T),      \
                  (char *)pad, job->ph, job->pw);                                           \
        image = n;                                                                          \
      }                                                                                     \
      const T *b[PAD_ROWS];                                                                 \
      T *o[PAD_ROWS];                                                                       \
      int64_t oh = first / g->ow, ow = first % g->ow;                                       \
      for (int i = 0; i < PAD_ROWS; i++) {                                                  \
        b[i] = i < rows ? pad + (oh * g->sh * job->pw + ow * g->sw) * g->c : b[0];          \
        o[i] = i < rows ? (T *)job->out + (n * pixels + oh * g->ow + ow) * g->oc : o[0];    \
        if (++ow == g->ow) {                                                                \
          ow = 0;                                                                           \
          oh++;                                                                             \
        }                                                                                   \
      }                                                                                     \
      for (int64_t j = 0; j < g->oc; j++) {                                                 \
        vec acc[PAD_ROWS];                                                                  \
        memset(acc, 0, sizeof acc);                                                         \
        for (int64_t t = 0; t < taps; t++) {                                                \
          const T *w = f + (t * g->oc + j) * g->c;                                          \
          const int32_t q = job->off[t];                                                    \
          for (int64_t k = 0; k < chunks; k++) {                                            \
            vec wv;                                                                         \
            memcpy(&wv, w + k * LANES, sizeof wv);                                          \
            for (int i = 0; i < PAD_ROWS; i++) {                                            \
              vec xv;                                                                       \
              memcpy(&xv, b[i] + q + k * LANES, sizeof xv);                                 \
              acc[i] += xv * wv;                                                            \
            }                                                                               \
          }                                                                                 \
        }                                                                                   \
        /* Lanes summed pairwise, halves first. Unused rows repeat pixel 0 and write its    \
         * value again. */                                                                  \
        for (int i = 0; i < PAD_ROWS; i++) {                                                \
          typedef T half __attribute__((vector_size(32)));                                  \
          typedef T quarter __attribute__((vector_size(16)));                               \
          half h[2];                                                                        \
          quarter q[2];                                                                     \
          memcpy(h, &acc[i], sizeof h);                                                     \
          h[0] += h[1];                                                                     \
          memcpy(q, &h[0], sizeof q);                                                       \
          q[0] += q[1];                                                                     \
          T sum = q[0][0];                                                                  \
          for (int l = 1; l < (int)(16 / sizeof(T)); l++) sum += q[0][l];                   \
          o[i][j] = sum;                                                                    \
        }                                                                                   \
      }                                                                                     \
    }                                                                                       \
  }
NARROW_CONV(f32, float)
NARROW_CONV(f64, double)

int eager_narrow_conv(int32_t dtype, const geometry *g, const char *x, const char *filter,
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
