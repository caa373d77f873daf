/*
 * Cumulative sum, product and log-sum-exp along one axis of a dense [outer, n, inner]
 * tensor. Along the last axis (inner == 1) each row is cut into blocks of SCAN_BLOCK
 * elements: a first pass totals every block, a serial pass turns the totals into each
 * block's carry-in, and a last pass scans SCAN_GROUP blocks side by side, each seeded with
 * its carry, so that independent chains hide the latency of one add. Block boundaries
 * depend on n only, never on the thread count, so neither does any result. Along another
 * axis the scan runs down columns, SCAN_COLS of them at a time (vectorised over columns).
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

/* NOTE: not a power of two: chains a power-of-two distance apart alias in the L1 cache
 * (measured, 16M float32, one thread: 8 chains 8192 apart 91 ms, 4 chains 8200 apart
 * 12.5 ms, one sequential chain 17 ms). */
#define SCAN_BLOCK 8200
#define SCAN_GROUP 4
#define SCAN_COLS 64
#define SCAN_LANES 8

typedef struct {
  int64_t outer, n, inner, nblocks;
  int exclusive, reverse;
  void *out;
  const void *x;
  void *carry; /* [outer * nblocks] of T: block totals, then carries */
} scan_job;

/* a + b of the element type (uint8 wraps; -fwrapv makes the signed ones wrap). */
#define SUM_OP(T, a, b) ((T)((a) + (b)))
#define PROD_OP(T, a, b) ((T)((a) * (b)))
/* NOTE: log(e^acc + e^x) as max + log1p(e^(min - max)) with std::max / std::min's
 * comparisons, TensorFlow's form, so that special values come out as there: two +inf give
 * NaN; two -inf give -inf (the identity), not the NaN of -inf - -inf; and a NaN x (every
 * comparison false) counts as a copy of the running value, not as NaN. */
static inline float lse_f32(float acc, float x) {
  float ma = acc < x ? x : acc, mi = x < acc ? x : acc;
  return ma == -INFINITY ? ma : ma + log1pf(expf(mi - ma));
}
static inline double lse_f64(double acc, double x) {
  double ma = acc < x ? x : acc, mi = x < acc ? x : acc;
  return ma == -INFINITY ? ma : ma + log1p(exp(mi - ma));
}
#define LSE_OP(T, a, b) _Generic((T)0, float: lse_f32, double: lse_f64)((a), (b))

/* Scan position k of row r (reversed scans walk the row from its end). */
#define POS(job, r, k) ((r) * (job)->n + ((job)->reverse ? (job)->n - 1 - (k) : (k)))

/* The loops are written once as inline helpers and called with constant direction and
 * exclusiveness, so that each call site compiles to a loop with unit or negative unit
 * stride and no per-element branch (the compiler vectorises the totals). */
#define SCAN_TASKS(NAME, T, OP, ID)                                                         \
  static inline T NAME##_total(const T *restrict start, int64_t len, int64_t dir) {         \
    int64_t whole = len - len % SCAN_LANES;                                                 \
    T lane[SCAN_LANES];                                                                     \
    for (int l = 0; l < SCAN_LANES; l++) lane[l] = ID;                                      \
    for (int64_t k = 0; k < whole; k += SCAN_LANES)                                         \
      for (int l = 0; l < SCAN_LANES; l++) lane[l] = OP(T, lane[l], start[dir * (k + l)]);  \
    T total = ID;                                                                           \
    for (int l = 0; l < SCAN_LANES; l++) total = OP(T, total, lane[l]);                     \
    for (int64_t k = whole; k < len; k++) total = OP(T, total, start[dir * k]);             \
    return total;                                                                           \
  }                                                                                         \
  static void NAME##_totals(void *arg, int ith, int nth) {                                  \
    const scan_job *job = arg;                                                              \
    const T *x = job->x;                                                                    \
    T *carry = job->carry;                                                                  \
    int64_t begin, end;                                                                     \
    eager_split(job->outer * job->nblocks, ith, nth, &begin, &end);                         \
    for (int64_t item = begin; item < end; item++) {                                        \
      int64_t r = item / job->nblocks, b = item % job->nblocks;                             \
      int64_t k0 = b * SCAN_BLOCK, len = job->n - k0 < SCAN_BLOCK ? job->n - k0 : SCAN_BLOCK; \
      const T *start = x + POS(job, r, k0);                                                 \
      carry[item] = job->reverse ? NAME##_total(start, len, -1) : NAME##_total(start, len, 1); \
    }                                                                                       \
  }                                                                                         \
  /* g chains side by side (g == SCAN_GROUP: a constant trip count the compiler unrolls). */ \
  static inline void NAME##_chains(const T *restrict x, T *restrict out,                    \
                                   const int64_t *start, T *acc, int64_t g, int64_t len,    \
                                   int64_t dir, int excl) {                                 \
    for (int64_t k = 0; k < len; k++)                                                       \
      for (int64_t j = 0; j < g; j++) {                                                     \
        int64_t p = start[j] + dir * k;                                                     \
        T next = OP(T, acc[j], x[p]);                                                       \
        out[p] = excl ? acc[j] : next;                                                      \
        acc[j] = next;                                                                      \
      }                                                                                     \
  }                                                                                         \
  static void NAME##_rows(void *arg, int ith, int nth) {                                    \
    const scan_job *job = arg;                                                              \
    const T *x = job->x;                                                                    \
    T *out = job->out;                                                                      \
    const T *carry = job->carry;                                                            \
    int64_t begin, end, nb = job->nblocks;                                                  \
    eager_split(job->outer * nb, ith, nth, &begin, &end);                                   \
    for (int64_t item = begin; item < end;) {                                               \
      int64_t len0 = 0, g = 0, start[SCAN_GROUP];                                           \
      T acc[SCAN_GROUP];                                                                    \
      for (; g < SCAN_GROUP && item + g < end; g++) {                                       \
        int64_t r = (item + g) / nb, b = (item + g) % nb, k0 = b * SCAN_BLOCK;              \
        int64_t len = job->n - k0 < SCAN_BLOCK ? job->n - k0 : SCAN_BLOCK;                  \
        if (g == 0) len0 = len;                                                             \
        if (len != len0) break;                                                             \
        start[g] = POS(job, r, k0);                                                         \
        acc[g] = nb > 1 ? carry[item + g] : ID;                                             \
      }                                                                                     \
      int mode = (job->reverse ? 2 : 0) + (job->exclusive ? 1 : 0);                         \
      if (g == SCAN_GROUP) {                                                                \
        switch (mode) {                                                                     \
        case 0: NAME##_chains(x, out, start, acc, SCAN_GROUP, len0, 1, 0); break;           \
        case 1: NAME##_chains(x, out, start, acc, SCAN_GROUP, len0, 1, 1); break;           \
        case 2: NAME##_chains(x, out, start, acc, SCAN_GROUP, len0, -1, 0); break;          \
        default: NAME##_chains(x, out, start, acc, SCAN_GROUP, len0, -1, 1); break;         \
        }                                                                                   \
      } else {                                                                              \
        NAME##_chains(x, out, start, acc, g, len0, job->reverse ? -1 : 1, job->exclusive);  \
      }                                                                                     \
      item += g;                                                                            \
    }                                                                                       \
  }                                                                                         \
  static void NAME##_cols(void *arg, int ith, int nth) {                                    \
    const scan_job *job = arg;                                                              \
    const T *restrict x = job->x;                                                           \
    T *restrict out = job->out;                                                             \
    int64_t inner = job->inner, chunks = (inner + SCAN_COLS - 1) / SCAN_COLS, begin, end;   \
    eager_split(job->outer * chunks, ith, nth, &begin, &end);                               \
    for (int64_t item = begin; item < end; item++) {                                        \
      int64_t o = item / chunks, c0 = (item % chunks) * SCAN_COLS;                          \
      int64_t w = inner - c0 < SCAN_COLS ? inner - c0 : SCAN_COLS;                          \
      T acc[SCAN_COLS];                                                                     \
      for (int64_t j = 0; j < w; j++) acc[j] = ID;                                          \
      for (int64_t k = 0; k < job->n; k++) {                                                \
        int64_t i = job->reverse ? job->n - 1 - k : k;                                      \
        const T *restrict xr = x + (o * job->n + i) * inner + c0;                           \
        T *restrict orow = out + (o * job->n + i) * inner + c0;                             \
        if (job->exclusive) {                                                               \
          for (int64_t j = 0; j < w; j++) {                                                 \
            orow[j] = acc[j];                                                               \
            acc[j] = OP(T, acc[j], xr[j]);                                                  \
          }                                                                                 \
        } else {                                                                            \
          for (int64_t j = 0; j < w; j++) orow[j] = acc[j] = OP(T, acc[j], xr[j]);          \
        }                                                                                   \
      }                                                                                     \
    }                                                                                       \
  }

SCAN_TASKS(sum_f32, float, SUM_OP, 0)
SCAN_TASKS(sum_f64, double, SUM_OP, 0)
SCAN_TASKS(sum_i32, int32_t, SUM_OP, 0)
SCAN_TASKS(sum_i64, int64_t, SUM_OP, 0)
SCAN_TASKS(sum_u8, uint8_t, SUM_OP, 0)
SCAN_TASKS(prod_f32, float, PROD_OP, 1)
SCAN_TASKS(prod_f64, double, PROD_OP, 1)
SCAN_TASKS(prod_i32, int32_t, PROD_OP, 1)
SCAN_TASKS(prod_i64, int64_t, PROD_OP, 1)
SCAN_TASKS(prod_u8, uint8_t, PROD_OP, 1)
SCAN_TASKS(lse_f32, float, LSE_OP, -INFINITY)
SCAN_TASKS(lse_f64, double, LSE_OP, -INFINITY)

typedef struct {
  eager_task_fn totals, rows, cols;
} scan_fns;

#define FNS(NAME) {NAME##_totals, NAME##_rows, NAME##_cols}
/* [op][dtype], NULL where the op does not take the dtype. */
static const scan_fns scan_table[EAGER_SCAN_OP_COUNT][EAGER_DTYPE_COUNT] = {
    [EAGER_SCAN_SUM] = {[EAGER_F32] = FNS(sum_f32), [EAGER_F64] = FNS(sum_f64),
                        [EAGER_I32] = FNS(sum_i32), [EAGER_I64] = FNS(sum_i64),
                        [EAGER_U8] = FNS(sum_u8)},
    [EAGER_SCAN_PROD] = {[EAGER_F32] = FNS(prod_f32), [EAGER_F64] = FNS(prod_f64),
                         [EAGER_I32] = FNS(prod_i32), [EAGER_I64] = FNS(prod_i64),
                         [EAGER_U8] = FNS(prod_u8)},
    [EAGER_SCAN_LOGSUMEXP] = {[EAGER_F32] = FNS(lse_f32), [EAGER_F64] = FNS(lse_f64)},
};

EAGER_API int32_t eager_scan(int32_t op, int32_t dtype, int64_t outer, int64_t n, int64_t inner,
                             int32_t exclusive, int32_t reverse, void *out, const void *x,
                             int64_t x_offset) {
  if (op < 0 || op >= EAGER_SCAN_OP_COUNT || !eager_dtype_valid(dtype) || outer < 0 || n < 0 ||
      inner < 0)
    return EAGER_ERR_ARGUMENT;
  const scan_fns *fns = &scan_table[op][dtype];
  if (!fns->rows) return EAGER_ERR_DTYPE;
  if (outer == 0 || n == 0 || inner == 0) return EAGER_OK;
  size_t size = eager_dtype_size(dtype);
  scan_job job = {outer, n, inner, 1, exclusive != 0, reverse != 0, out,
                  (const char *)x + x_offset * (int64_t)size, NULL};
  int nth = eager_threads_for(outer * n * inner, EAGER_GRAIN_CHEAP);
  if (inner > 1) {
    eager_parallel(fns->cols, &job, nth);
    return EAGER_OK;
  }
  job.nblocks = (n + SCAN_BLOCK - 1) / SCAN_BLOCK;
  if (job.nblocks > 1) {
    int64_t count = outer * job.nblocks;
    char *totals = malloc((size_t)(2 * count) * size);
    if (!totals) return EAGER_ERR_NO_MEMORY;
    job.carry = totals;
    eager_parallel(fns->totals, &job, nth);
    /* Each block's carry-in: an exclusive scan of the totals of its row, into a buffer of
     * its own (the row pass's x and out never alias). */
    job.carry = totals + count * (int64_t)size;
    scan_job prefix = {outer, job.nblocks, 1, 1, 1, 0, job.carry, totals, NULL};
    fns->rows(&prefix, 0, 1);
    eager_parallel(fns->rows, &job, nth);
    free(totals);
    return EAGER_OK;
  }
  eager_parallel(fns->rows, &job, nth);
  return EAGER_OK;
}
