/*
 * Random numbers from Philox 4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random
 * numbers: as easy as 1, 2, 3", SC 2011), the counter-based generator TensorFlow and
 * JAX use. A block is philox(counter, key) -> four 32-bit words, with
 *
 *   key     = (seed low word, seed high word)
 *   counter = (block, attempt, stream low word, stream high word)
 *
 * Output element i belongs to block i / G (G = elements per block, fixed per
 * distribution and dtype, see eager.h) and reads the words of slot i % G. A value that
 * must be drawn again (an integer rejected by Lemire's method, a truncated normal
 * outside two standard deviations) reads the same slot of block (block, attempt + 1).
 * So element i depends only on (seed, stream, i): threads split the blocks freely.
 */
#include <math.h>

#include "internal.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static inline void philox4x32_10(const uint32_t counter[4], const uint32_t key[2],
                                 uint32_t out[4]) {
  uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; round++) {
    uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c0 = n0;
    c1 = (uint32_t)p1;
    c2 = n2;
    c3 = (uint32_t)p0;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

EAGER_API int32_t eager_philox4x32(const uint32_t *counter, const uint32_t *key,
                                   uint32_t *out) {
  if (!counter || !key || !out) return EAGER_ERR_ARGUMENT;
  philox4x32_10(counter, key, out);
  return EAGER_OK;
}

typedef struct {
  int dist, dtype;
  int64_t n, group; /* elements, elements per block */
  void *out;
  uint32_t key[2];
  uint32_t stream[2];
  double a, b;
} random_job;

static inline void block_words(const random_job *job, int64_t block, uint32_t attempt,
                               uint32_t w[4]) {
  const uint32_t counter[4] = {(uint32_t)block, attempt, job->stream[0], job->stream[1]};
  philox4x32_10(counter, job->key, w);
}

/* Blocks are made BATCH at a time, lane by lane, so the compiler vectorises the ten
 * rounds across blocks; redraws (attempt > 0) are rare and use block_words. */
#define BATCH 8

typedef struct {
  int64_t base;
  uint32_t w[BATCH][4];
} block_cache;

static void batch_words(const random_job *job, int64_t first, uint32_t w[BATCH][4]) {
  uint32_t c0[BATCH], c1[BATCH], c2[BATCH], c3[BATCH];
  for (int l = 0; l < BATCH; l++) {
    c0[l] = (uint32_t)(first + l);
    c1[l] = 0;
    c2[l] = job->stream[0];
    c3[l] = job->stream[1];
  }
  uint32_t k0 = job->key[0], k1 = job->key[1];
  for (int round = 0; round < 10; round++) {
    for (int l = 0; l < BATCH; l++) {
      uint64_t p0 = (uint64_t)PHILOX_M0 * c0[l], p1 = (uint64_t)PHILOX_M1 * c2[l];
      uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[l] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3[l] ^ k1;
      c0[l] = n0;
      c1[l] = (uint32_t)p1;
      c2[l] = n2;
      c3[l] = (uint32_t)p0;
    }
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  for (int l = 0; l < BATCH; l++) {
    w[l][0] = c0[l];
    w[l][1] = c1[l];
    w[l][2] = c2[l];
    w[l][3] = c3[l];
  }
}

/* The attempt-0 words of block `blk`; blocks must be asked for in increasing order. */
static inline const uint32_t *first_words(const random_job *job, block_cache *cache,
                                          int64_t blk) {
  if (blk >= cache->base + BATCH || blk < cache->base) {
    cache->base = blk;
    batch_words(job, blk, cache->w);
  }
  return cache->w[blk - cache->base];
}

/* [0, 1) from the top 24 bits of a word. */
static inline float unit_f32(uint32_t w) { return (float)(w >> 8) * 0x1p-24f; }
/* [0, 1) from the top 53 bits of two words. */
static inline double unit_f64(uint32_t lo, uint32_t hi) {
  return (double)((((uint64_t)hi << 32) | lo) >> 11) * 0x1p-53;
}

/* Box-Muller: two standard normals from two words (float32) or four (float64). The
 * radius uses a uniform in (0, 1], so log never sees 0. */
static inline void normal_pair_f32(uint32_t w0, uint32_t w1, float *z0, float *z1) {
  float u1 = (float)((w0 >> 8) + 1) * 0x1p-24f;
  float theta = 6.2831853071795864769f * unit_f32(w1);
  float r = sqrtf(-2.0f * logf(u1));
  *z0 = r * cosf(theta);
  *z1 = r * sinf(theta);
}

static inline void normal_pair_f64(const uint32_t w[4], double *z0, double *z1) {
  double u1 = (double)(((((uint64_t)w[1] << 32) | w[0]) >> 11) + 1) * 0x1p-53;
  double theta = 6.2831853071795864769 * unit_f64(w[2], w[3]);
  double r = sqrt(-2.0 * log(u1));
  *z0 = r * cos(theta);
  *z1 = r * sin(theta);
}

/* The G standard normals of a block: four for float32, two for float64. */
static inline void block_normals(int dtype, const uint32_t w[4], double z[4]) {
  if (dtype == EAGER_F32) {
    float z0, z1, z2, z3;
    normal_pair_f32(w[0], w[1], &z0, &z1);
    normal_pair_f32(w[2], w[3], &z2, &z3);
    z[0] = z0, z[1] = z1, z[2] = z2, z[3] = z3;
  } else {
    normal_pair_f64(w, &z[0], &z[1]);
  }
}

/* ---- per-dtype fills over blocks [b0, b1) ------------------------------------------ */

static void uniform_f32(const random_job *job, int64_t b0, int64_t b1) {
  float *o = job->out;
  const float lo = (float)job->a, hi = (float)job->b, below = nextafterf(hi, -INFINITY);
  block_cache cache = {.base = -2 * BATCH};
  for (int64_t blk = b0; blk < b1; blk++) {
    const uint32_t *w = first_words(job, &cache, blk);
    int64_t i0 = blk * 4, m = job->n - i0 < 4 ? job->n - i0 : 4;
    for (int64_t j = 0; j < m; j++) {
      float v = (float)(job->a + (job->b - job->a) * (double)unit_f32(w[j]));
      o[i0 + j] = v < hi ? (v < lo ? lo : v) : below;
    }
  }
}

static void uniform_f64(const random_job *job, int64_t b0, int64_t b1) {
  double *o = job->out;
  const double below = nextafter(job->b, -INFINITY);
  block_cache cache = {.base = -2 * BATCH};
  for (int64_t blk = b0; blk < b1; blk++) {
    const uint32_t *w = first_words(job, &cache, blk);
    int64_t i0 = blk * 2, m = job->n - i0 < 2 ? job->n - i0 : 2;
    for (int64_t j = 0; j < m; j++) {
      double v = job->a + (job->b - job->a) * unit_f64(w[2 * j], w[2 * j + 1]);
      o[i0 + j] = v < job->b ? v : below;
    }
  }
}

/* Lemire's multiply-shift with rejection ("Fast random integer generation in an
 * interval", 2019): exactly uniform on [0, span). A rejected word is redrawn from the
 * same slot of the next attempt's block. */
static void uniform_i32(const random_job *job, int64_t b0, int64_t b1) {
  int32_t *o = job->out;
  const uint32_t span = (uint32_t)((int64_t)job->b - (int64_t)job->a);
  const uint32_t threshold = (uint32_t)(0u - span) % span;
  block_cache cache = {.base = -2 * BATCH};
  for (int64_t blk = b0; blk < b1; blk++) {
    const uint32_t *w = first_words(job, &cache, blk);
    int64_t i0 = blk * 4, m = job->n - i0 < 4 ? job->n - i0 : 4;
    for (int64_t j = 0; j < m; j++) {
      uint64_t product = (uint64_t)w[j] * span;
      for (uint32_t attempt = 1; (uint32_t)product < threshold; attempt++) {
        uint32_t retry[4];
        block_words(job, blk, attempt, retry);
        product = (uint64_t)retry[j] * span;
      }
      o[i0 + j] = (int32_t)((int64_t)job->a + (int64_t)(product >> 32));
    }
  }
}

static void uniform_i64(const random_job *job, int64_t b0, int64_t b1) {
  int64_t *o = job->out;
  const uint64_t span = (uint64_t)(int64_t)job->b - (uint64_t)(int64_t)job->a;
  const uint64_t threshold = (0u - span) % span;
  block_cache cache = {.base = -2 * BATCH};
  for (int64_t blk = b0; blk < b1; blk++) {
    const uint32_t *w = first_words(job, &cache, blk);
    int64_t i0 = blk * 2, m = job->n - i0 < 2 ? job->n - i0 : 2;
    for (int64_t j = 0; j < m; j++) {
      uint64_t x = ((uint64_t)w[2 * j + 1] << 32) | w[2 * j];
      unsigned __int128 product = (unsigned __int128)x * span;
      for (uint32_t attempt = 1; (uint64_t)product < threshold; attempt++) {
        uint32_t retry[4];
        block_words(job, blk, attempt, retry);
        x = ((uint64_t)retry[2 * j + 1] << 32) | retry[2 * j];
        product = (unsigned __int128)x * span;
      }
      o[i0 + j] = (int64_t)((uint64_t)(int64_t)job->a + (uint64_t)(product >> 64));
    }
  }
}

/* Normal and truncated normal, both float dtypes: mean a, standard deviation b. */
static void normal_fill(const random_job *job, int64_t b0, int64_t b1) {
  const int f32 = job->dtype == EAGER_F32, truncated = job->dist == EAGER_RANDOM_TRUNCATED_NORMAL;
  const int64_t g = job->group;
  block_cache cache = {.base = -2 * BATCH};
  for (int64_t blk = b0; blk < b1; blk++) {
    const uint32_t *w = first_words(job, &cache, blk);
    double first[4] = {0};
    block_normals(job->dtype, w, first);
    int64_t i0 = blk * g, m = job->n - i0 < g ? job->n - i0 : g;
    for (int64_t j = 0; j < m; j++) {
      double z = first[j];
      /* NOTE: as TensorFlow's TruncatedNormal, keep |z| < 2 and redraw otherwise. */
      for (uint32_t attempt = 1; truncated && !(fabs(z) < 2.0); attempt++) {
        uint32_t retry[4];
        double again[4] = {0};
        block_words(job, blk, attempt, retry);
        block_normals(job->dtype, retry, again);
        z = again[j];
      }
      if (f32) {
        ((float *)job->out)[i0 + j] = (float)job->a + (float)job->b * (float)z;
      } else {
        ((double *)job->out)[i0 + j] = job->a + job->b * z;
      }
    }
  }
}

static void random_task(void *ctx, int ith, int nth) {
  const random_job *job = ctx;
  int64_t blocks = (job->n + job->group - 1) / job->group, b0, b1;
  eager_split(blocks, ith, nth, &b0, &b1);
  if (b0 >= b1) return;
  if (job->dist != EAGER_RANDOM_UNIFORM) {
    normal_fill(job, b0, b1);
    return;
  }
  switch (job->dtype) {
    case EAGER_F32: uniform_f32(job, b0, b1); break;
    case EAGER_F64: uniform_f64(job, b0, b1); break;
    case EAGER_I32: uniform_i32(job, b0, b1); break;
    default: uniform_i64(job, b0, b1); break;
  }
}

/* Checks (a, b) for the distribution and dtype; returns an eager_status. */
static int check_params(int dist, int dtype, double a, double b) {
  if (dist == EAGER_RANDOM_UNIFORM) {
    switch (dtype) {
      case EAGER_F32:
      case EAGER_F64:
        return isfinite(a) && isfinite(b) && a < b ? EAGER_OK : EAGER_ERR_ARGUMENT;
      case EAGER_I32:
        return a == floor(a) && b == floor(b) && a >= -0x1p31 && b < 0x1p31 && a < b
                   ? EAGER_OK
                   : EAGER_ERR_ARGUMENT;
      case EAGER_I64:
        return a == floor(a) && b == floor(b) && a >= -0x1p63 && b < 0x1p63 && a < b
                   ? EAGER_OK
                   : EAGER_ERR_ARGUMENT;
      default:
        return EAGER_ERR_DTYPE;
    }
  }
  if (dtype != EAGER_F32 && dtype != EAGER_F64) return EAGER_ERR_DTYPE;
  return isfinite(a) && isfinite(b) && b >= 0 ? EAGER_OK : EAGER_ERR_ARGUMENT;
}

EAGER_API int32_t eager_random(int32_t dist, int32_t dtype, int64_t n, void *out, uint64_t seed,
                               uint64_t stream, double a, double b) {
  if (dist < 0 || dist >= EAGER_RANDOM_COUNT || !eager_dtype_valid(dtype)) {
    return EAGER_ERR_ARGUMENT;
  }
  int status = check_params(dist, dtype, a, b);
  if (status != EAGER_OK) return status;
  /* Block indices must fit the 32-bit counter word: at most 2^32 elements. */
  if (n < 0 || n > ((int64_t)1 << 32) || (n > 0 && !out)) return EAGER_ERR_ARGUMENT;
  if (n == 0) return EAGER_OK;
  random_job job = {
      .dist = dist,
      .dtype = dtype,
      .n = n,
      .group = (dtype == EAGER_F32 || dtype == EAGER_I32) ? 4 : 2,
      .out = out,
      .key = {(uint32_t)seed, (uint32_t)(seed >> 32)},
      .stream = {(uint32_t)stream, (uint32_t)(stream >> 32)},
      .a = a,
      .b = b,
  };
  int64_t grain = dist == EAGER_RANDOM_UNIFORM ? EAGER_GRAIN_COSTLY * 4 : EAGER_GRAIN_COSTLY;
  eager_parallel(random_task, &job, eager_threads_for(n, grain));
  return EAGER_OK;
}
