/*
 * Sorting and selection along the last axis of a dense [rows, n] tensor: a stable sort
 * (values and int32 positions), the k largest of each row, and binary search in sorted
 * rows. Rows are split over the threads; each row's result is unique (a stable order), so
 * it never depends on the thread count.
 *
 * Elements are compared through an unsigned key whose integer order is the order wanted:
 * floats by their bits (sign flipped), -0 as +0 (equal, as TensorFlow compares them), and
 * every NaN above +inf (NumPy's order; TensorFlow's comparisons leave NaN's place
 * unspecified). A descending sort complements the key, so ties still keep input order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Rows shorter than this are insertion-sorted; longer ones radix-sorted. */
#define SORT_SMALL 48

/* NOTE: branch-free (selects, not ifs): with the branches, computing the keys of 1M floats
 * took more time than a radix pass (6 ms against 2.5 ms, measured 2026-12-05, AVX2). */
static inline uint32_t key_f32(float v) {
  uint32_t b;
  memcpy(&b, &v, sizeof b);
  b = b == 0x80000000u ? 0 : b; /* -0 -> +0 */
  uint32_t k = b ^ ((uint32_t)((int32_t)b >> 31) | 0x80000000u);
  return (b & 0x7FFFFFFFu) > 0x7F800000u ? 0xFFFFFFFFu : k;
}
static inline uint64_t key_f64(double v) {
  uint64_t b;
  const uint64_t sign = (uint64_t)1 << 63;
  memcpy(&b, &v, sizeof b);
  b = b == sign ? 0 : b;
  uint64_t k = b ^ ((uint64_t)((int64_t)b >> 63) | sign);
  return (b & ~sign) > 0x7FF0000000000000u ? ~(uint64_t)0 : k;
}
static inline uint32_t key_i32(int32_t v) { return (uint32_t)v ^ 0x80000000u; }
static inline uint64_t key_i64(int64_t v) { return (uint64_t)v ^ ((uint64_t)1 << 63); }
static inline uint32_t key_u8(uint8_t v) { return v; }

/* 64-bit keys: a stable LSD radix sort of (key, idx) pairs by key, 8 bits a pass, with
 * tk / ti as scratch of n each. Returns whether the result ended in the scratch (an odd
 * number of passes ran). Passes where every key has the same digit are skipped. */
#define RADIX(K, NAME)                                                                      \
  static int NAME(K *k, int32_t *i, K *tk, int32_t *ti, int64_t n) {                        \
    enum { BYTES = sizeof(K) };                                                             \
    if (n < SORT_SMALL) {                                                                   \
      for (int64_t a = 1; a < n; a++) {                                                     \
        K kv = k[a];                                                                        \
        int32_t iv = i[a];                                                                  \
        int64_t b = a;                                                                      \
        for (; b > 0 && k[b - 1] > kv; b--) {                                               \
          k[b] = k[b - 1];                                                                  \
          i[b] = i[b - 1];                                                                  \
        }                                                                                   \
        k[b] = kv;                                                                          \
        i[b] = iv;                                                                          \
      }                                                                                     \
      return 0;                                                                             \
    }                                                                                       \
    int64_t count[BYTES][256];                                                              \
    memset(count, 0, sizeof count);                                                         \
    for (int64_t a = 0; a < n; a++)                                                         \
      for (int d = 0; d < BYTES; d++) count[d][(k[a] >> (8 * d)) & 0xFF]++;                 \
    int swapped = 0;                                                                        \
    for (int d = 0; d < BYTES; d++) {                                                       \
      if (count[d][(k[0] >> (8 * d)) & 0xFF] == n) continue;                                \
      int64_t sum = 0;                                                                      \
      for (int c = 0; c < 256; c++) {                                                       \
        int64_t t = count[d][c];                                                            \
        count[d][c] = sum;                                                                  \
        sum += t;                                                                           \
      }                                                                                     \
      for (int64_t a = 0; a < n; a++) {                                                     \
        int64_t at = count[d][(k[a] >> (8 * d)) & 0xFF]++;                                  \
        tk[at] = k[a];                                                                      \
        ti[at] = i[a];                                                                      \
      }                                                                                     \
      K *sk = k;                                                                            \
      int32_t *si = i;                                                                      \
      k = tk, i = ti, tk = sk, ti = si;                                                     \
      swapped = !swapped;                                                                   \
    }                                                                                       \
    return swapped;                                                                         \
  }
RADIX(uint64_t, radix_u64)

/* 32-bit keys, in words of type W at bit SHIFT: key << 32 | position packed in one word
 * (so a pass moves one 8-byte item per element into one stream per bucket), or the bare
 * key when only the sorted values are wanted. Sorting by those 32 bits only keeps the
 * order stable. Digits of 11 bits (three passes) for long rows, of 8 bits for short ones,
 * whose four smaller histograms cost less to clear than a pass. */
#define PACKED_MAX_BITS 11
#define RADIX32(NAME, W, SHIFT)                                                             \
  static int NAME(W *a, W *t, int64_t n) {                                                  \
    if (n < SORT_SMALL) {                                                                   \
      for (int64_t i = 1; i < n; i++) {                                                     \
        W v = a[i];                                                                         \
        int64_t j = i;                                                                      \
        for (; j > 0 && (uint32_t)(a[j - 1] >> SHIFT) > (uint32_t)(v >> SHIFT); j--)       \
          a[j] = a[j - 1];                                                                  \
        a[j] = v;                                                                           \
      }                                                                                     \
      return 0;                                                                             \
    }                                                                                       \
    const int bits = n >= 65536 ? PACKED_MAX_BITS : 8, digits = (32 + bits - 1) / bits;     \
    const W mask = ((W)1 << bits) - 1;                                                      \
    int64_t count[4][1 << PACKED_MAX_BITS]; /* up to 64 KiB; digits x 2^bits used */        \
    for (int d = 0; d < digits; d++) memset(count[d], 0, sizeof(int64_t) << bits);          \
    for (int64_t i = 0; i < n; i++)                                                         \
      for (int d = 0; d < digits; d++) count[d][(a[i] >> (SHIFT + d * bits)) & mask]++;     \
    int swapped = 0;                                                                        \
    for (int d = 0; d < digits; d++) {                                                      \
      int shift = SHIFT + d * bits;                                                         \
      if (count[d][(a[0] >> shift) & mask] == n) continue;                                  \
      int64_t sum = 0;                                                                      \
      for (W c = 0; c <= mask; c++) {                                                       \
        int64_t c0 = count[d][c];                                                           \
        count[d][c] = sum;                                                                  \
        sum += c0;                                                                          \
      }                                                                                     \
      for (int64_t i = 0; i < n; i++) t[count[d][(a[i] >> shift) & mask]++] = a[i];         \
      W *s = a;                                                                             \
      a = t, t = s;                                                                         \
      swapped = !swapped;                                                                   \
    }                                                                                       \
    return swapped;                                                                         \
  }
RADIX32(radix_packed, uint64_t, 32)
RADIX32(radix_keys, uint32_t, 0)

/* The inverses of the 32-bit keys (a float key gives +0 for -0 and one NaN for all). */
static inline float unkey_f32(uint32_t k) {
  uint32_t b = (k & 0x80000000u) ? k ^ 0x80000000u : ~k;
  float v;
  memcpy(&v, &b, sizeof v);
  return v;
}
static inline int32_t unkey_i32(uint32_t k) { return (int32_t)(k ^ 0x80000000u); }
static inline uint8_t unkey_u8(uint32_t k) { return (uint8_t)k; }
/* Whether a float's key loses its bits: -0 and NaN. */
#define LOSSY_F32(v) ((v) != (v) || ((v) == 0 && signbit(v)))
#define LOSSY_EXACT(v) 0

/* After a keys-only float sort: the zeros and the NaNs are runs whose keys were canonical;
 * their own bits go back in input order, which is the stable order. */
static void restore_lossy_f32(const float *x, float *v, int64_t n) {
  int64_t zero = n, nan = n;
  for (int64_t p = 0; p < n && (zero == n || nan == n); p++) {
    if (zero == n && v[p] == 0) zero = p;
    if (nan == n && v[p] != v[p]) nan = p;
  }
  for (int64_t p = 0; p < n; p++) {
    if (x[p] == 0) v[zero++] = x[p];
    else if (x[p] != x[p]) v[nan++] = x[p];
  }
}
static void restore_lossy_none(const void *x, void *v, int64_t n) {}
#define RESTORE_f32(x, v, n) restore_lossy_f32(x, v, n)
#define RESTORE_i32(x, v, n) restore_lossy_none(x, v, n)
#define RESTORE_u8(x, v, n) restore_lossy_none(x, v, n)

typedef struct {
  int64_t rows, n, k;
  int descending, right, out_i64;
  void *values;     /* [rows, n] sorted values, or [rows, k] top values; NULL: not wanted */
  int32_t *indices; /* the positions they came from */
  const void *x;
  const void *probes; /* searchsorted: [rows, k] values to place */
  void *positions;    /* searchsorted: [rows, k] int32 or int64 insertion points */
  volatile int failed;
} sort_job;

/* A sort task per dtype: 64-bit keys sort (key, position) pairs; 32-bit ones sort packed
 * words, or bare keys when only the values are wanted. */
#define SORT_TASK(SFX, T, K, KEY)                                                           \
  static void sort_##SFX(void *arg, int ith, int nth) {                                     \
    sort_job *job = arg;                                                                    \
    int64_t begin, end, n = job->n;                                                         \
    eager_split(job->rows, ith, nth, &begin, &end);                                         \
    if (begin == end) return;                                                               \
    char *scratch = malloc((size_t)n * 2 * (sizeof(K) + sizeof(int32_t)));                  \
    if (!scratch) {                                                                         \
      job->failed = 1;                                                                      \
      return;                                                                               \
    }                                                                                       \
    K *k = (K *)scratch, *tk = k + n, flip = job->descending ? (K)~(K)0 : 0;                \
    int32_t *i = (int32_t *)(tk + n), *ti = i + n;                                          \
    for (int64_t r = begin; r < end; r++) {                                                 \
      const T *restrict x = (const T *)job->x + r * n;                                      \
      for (int64_t a = 0; a < n; a++) {                                                     \
        k[a] = KEY(x[a]) ^ flip;                                                            \
        i[a] = (int32_t)a;                                                                  \
      }                                                                                     \
      const int32_t *order = radix_u64(k, i, tk, ti, n) ? ti : i;                           \
      if (job->indices) memcpy(job->indices + r * n, order, (size_t)n * sizeof *order);     \
      if (job->values) {                                                                    \
        T *restrict v = (T *)job->values + r * n;                                           \
        for (int64_t a = 0; a < n; a++) v[a] = x[order[a]];                                 \
      }                                                                                     \
    }                                                                                       \
    free(scratch);                                                                          \
  }
#define SORT32_TASK(SFX, T, LOSSY)                                                          \
  static void sort_##SFX(void *arg, int ith, int nth) {                                     \
    sort_job *job = arg;                                                                    \
    int64_t begin, end, n = job->n;                                                         \
    eager_split(job->rows, ith, nth, &begin, &end);                                         \
    if (begin == end) return;                                                               \
    uint64_t *a = malloc((size_t)n * 2 * sizeof *a);                                        \
    if (!a) {                                                                               \
      job->failed = 1;                                                                      \
      return;                                                                               \
    }                                                                                       \
    uint32_t flip = job->descending ? 0xFFFFFFFFu : 0;                                      \
    for (int64_t r = begin; r < end; r++) {                                                 \
      const T *restrict x = (const T *)job->x + r * n;                                      \
      T *restrict v = job->values ? (T *)job->values + r * n : NULL;                        \
      if (!job->indices) { /* values only: sort the bare keys, half the bytes moved */      \
        uint32_t *k = (uint32_t *)a, *tk = k + n;                                           \
        int lossy = 0;                                                                      \
        for (int64_t p = 0; p < n; p++) {                                                   \
          k[p] = key_##SFX(x[p]) ^ flip;                                                    \
          lossy |= LOSSY(x[p]);                                                             \
        }                                                                                   \
        const uint32_t *sorted = radix_keys(k, tk, n) ? tk : k;                             \
        for (int64_t p = 0; p < n && v; p++) v[p] = unkey_##SFX(sorted[p] ^ flip);          \
        if (lossy && v) RESTORE_##SFX(x, v, n);                                             \
        continue;                                                                           \
      }                                                                                     \
      for (int64_t p = 0; p < n; p++)                                                       \
        a[p] = (uint64_t)(key_##SFX(x[p]) ^ flip) << 32 | (uint64_t)p;                      \
      const uint64_t *sorted = radix_packed(a, a + n, n) ? a + n : a;                       \
      for (int64_t p = 0; p < n; p++) job->indices[r * n + p] = (int32_t)sorted[p];         \
      for (int64_t p = 0; p < n && v; p++) v[p] = x[(uint32_t)sorted[p]];                   \
    }                                                                                       \
    free(a);                                                                                \
  }
SORT32_TASK(f32, float, LOSSY_F32)
SORT_TASK(f64, double, uint64_t, key_f64)
SORT32_TASK(i32, int32_t, LOSSY_EXACT)
SORT_TASK(i64, int64_t, uint64_t, key_i64)
SORT32_TASK(u8, uint8_t, LOSSY_EXACT)

/*
 * One long row on several threads (values only, 32-bit keys): the row is cut into `parts`,
 * each pass counts each part's digits, turns the counts into each part's offsets (bucket by
 * bucket, part by part, so the order stays stable) and scatters each part. The first pass
 * reads the input and computes keys as it goes; the last writes the values themselves; the
 * passes ping-pong between the output (for 4-byte types) and one scratch row.
 * NOTE: the parts are fixed before the threads run: eager_parallel may give fewer threads
 * than asked (another worker holds the pool), so each thread takes whole parts, and the
 * result never depends on the thread count. Measured 2026-12-05 (AVX2 EPYC, 2 cores), 1M
 * float32, standalone: one thread 9.4 ms, two threads 6.8 ms (the row-per-thread kernel
 * took 11.3 ms).
 */
#define SPLIT_BITS 11
#define SPLIT_BUCKETS (1 << SPLIT_BITS)
#define SPLIT_DIGITS 3
#define SPLIT_MIN_N ((int64_t)1 << 16)

typedef struct {
  const void *x;       /* the row */
  void *v;             /* its sorted values */
  const uint32_t *src; /* keys this pass reads; NULL: computed from x */
  uint32_t *dst;       /* keys this pass writes; NULL: the values, into v */
  int64_t n;
  int parts, digit; /* digit < 0: count every digit */
  uint32_t flip;
  int64_t (*count)[SPLIT_DIGITS][SPLIT_BUCKETS]; /* [parts]: counts, then offsets */
  _Atomic int lossy;
} split_job;

#define SPLIT_DIGIT(k, d) (((k) >> ((d) * SPLIT_BITS)) & (SPLIT_BUCKETS - 1))

/* The parts thread ith of nth takes, and their element ranges. */
#define FOR_EACH_PART(job, ith, nth, part, begin, end)                                      \
  int64_t part_lo_, part_hi_;                                                               \
  eager_split((job)->parts, ith, nth, &part_lo_, &part_hi_);                                \
  for (int64_t part = part_lo_, begin, end; part < part_hi_; part++)                        \
    if (eager_split((job)->n, (int)part, (job)->parts, &begin, &end), 1)

#define SPLIT_TASKS(SFX, T, LOSSY_BITS, UNKEY)                                              \
  static void split_count_##SFX(void *arg, int ith, int nth) {                              \
    split_job *job = arg;                                                                   \
    const T *restrict x = job->x;                                                           \
    const uint32_t *restrict src = job->src;                                                \
    const int d = job->digit;                                                               \
    FOR_EACH_PART(job, ith, nth, part, begin, end) {                                        \
      int64_t(*c)[SPLIT_BUCKETS] = job->count[part];                                        \
      if (d < 0) {                                                                          \
        memset(c, 0, sizeof job->count[part]);                                              \
        int lossy = 0;                                                                      \
        for (int64_t i = begin; i < end; i++) {                                             \
          uint32_t k = key_##SFX(x[i]) ^ job->flip;                                         \
          lossy |= LOSSY_BITS(x[i]);                                                        \
          c[0][SPLIT_DIGIT(k, 0)]++;                                                        \
          c[1][SPLIT_DIGIT(k, 1)]++;                                                        \
          c[2][SPLIT_DIGIT(k, 2)]++;                                                        \
        }                                                                                   \
        if (lossy) job->lossy = 1;                                                          \
      } else {                                                                              \
        memset(c[d], 0, sizeof c[d]);                                                       \
        for (int64_t i = begin; i < end; i++) c[d][SPLIT_DIGIT(src[i], d)]++;               \
      }                                                                                     \
    }                                                                                       \
  }                                                                                         \
  static void split_scatter_##SFX(void *arg, int ith, int nth) {                            \
    split_job *job = arg;                                                                   \
    const T *restrict x = job->x;                                                           \
    const uint32_t *restrict src = job->src;                                                \
    uint32_t *restrict dst = job->dst;                                                      \
    T *restrict v = job->v;                                                                 \
    const int d = job->digit;                                                               \
    const uint32_t flip = job->flip;                                                        \
    FOR_EACH_PART(job, ith, nth, part, begin, end) {                                        \
      int64_t *restrict at = job->count[part][d];                                           \
      /* four loops, not tests in one: loop-invariant branches cost ~1 ms a pass */         \
      if (src && dst)                                                                       \
        SPLIT_LOOP(src[i], dst[to] = k)                                                     \
      else if (dst)                                                                         \
        SPLIT_LOOP(key_##SFX(x[i]) ^ flip, dst[to] = k)                                     \
      else if (src)                                                                         \
        SPLIT_LOOP(src[i], v[to] = UNKEY(k ^ flip))                                         \
      else                                                                                  \
        SPLIT_LOOP(key_##SFX(x[i]) ^ flip, v[to] = UNKEY(k ^ flip))                         \
    }                                                                                       \
  }
#define SPLIT_LOOP(LOAD, STORE)                                                             \
  for (int64_t i = begin; i < end; i++) {                                                   \
    uint32_t k = LOAD;                                                                      \
    int64_t to = at[SPLIT_DIGIT(k, d)]++;                                                   \
    STORE;                                                                                  \
  }
/* -0 or NaN, without branches (as the keys). */
static inline int lossy_bits_f32(float v) {
  uint32_t b;
  memcpy(&b, &v, sizeof b);
  return (b == 0x80000000u) | ((b & 0x7FFFFFFFu) > 0x7F800000u);
}
#define LOSSY_BITS_F32(v) lossy_bits_f32(v)
#define LOSSY_BITS_NONE(v) 0
SPLIT_TASKS(f32, float, LOSSY_BITS_F32, unkey_f32)
SPLIT_TASKS(i32, int32_t, LOSSY_BITS_NONE, unkey_i32)
SPLIT_TASKS(u8, uint8_t, LOSSY_BITS_NONE, unkey_u8)

/* Sorts one row of n values into v over `parts` parts; 0, or EAGER_ERR_NO_MEMORY. */
static int32_t split_sort(int32_t dtype, const void *x, void *v, int64_t n, int descending,
                          int parts) {
  eager_task_fn count_fn = dtype == EAGER_F32 ? split_count_f32
                           : dtype == EAGER_I32 ? split_count_i32 : split_count_u8;
  eager_task_fn scatter_fn = dtype == EAGER_F32 ? split_scatter_f32
                             : dtype == EAGER_I32 ? split_scatter_i32 : split_scatter_u8;
  size_t size = (size_t)eager_dtype_size(dtype);
  uint32_t *scratch = malloc((size_t)n * sizeof(uint32_t) * (size == 4 ? 1 : 2));
  int64_t(*count)[SPLIT_DIGITS][SPLIT_BUCKETS] = malloc((size_t)parts * sizeof *count);
  if (!scratch || !count) {
    free(scratch);
    free(count);
    return EAGER_ERR_NO_MEMORY;
  }
  /* The two key rows passes alternate between: the scratch, and v itself when it has room. */
  uint32_t *rows[2] = {scratch, size == 4 ? (uint32_t *)v : scratch + n};
  split_job job = {.x = x, .v = v, .n = n, .parts = parts, .digit = -1,
                   .flip = descending ? 0xFFFFFFFFu : 0, .count = count};
  eager_parallel(count_fn, &job, parts);
  /* A digit every key shares needs no pass. */
  int passes[SPLIT_DIGITS], executed = 0;
  for (int d = 0; d < SPLIT_DIGITS; d++) {
    int trivial = 0;
    for (int b = 0; b < SPLIT_BUCKETS; b++) {
      int64_t total = 0;
      for (int p = 0; p < parts; p++) total += count[p][d][b];
      if (total) {
        trivial = total == n;
        break;
      }
    }
    if (!trivial) passes[executed++] = d;
  }
  if (executed == 0) { /* every key equal: the stable order is the input's */
    memcpy(v, x, (size_t)n * size);
    job.lossy = 0;
  }
  const uint32_t *src = NULL;
  for (int j = 0; j < executed; j++) {
    int d = passes[j];
    if (j > 0 && parts > 1) { /* the parts now hold other elements: count them again */
      job.src = src;
      job.digit = d;
      eager_parallel(count_fn, &job, parts);
    }
    int64_t sum = 0;
    for (int b = 0; b < SPLIT_BUCKETS; b++)
      for (int p = 0; p < parts; p++) {
        int64_t c = count[p][d][b];
        count[p][d][b] = sum;
        sum += c;
      }
    job.src = src;
    job.digit = d;
    /* the last pass writes values; before it, the scratch, then v: never v into v */
    job.dst = j == executed - 1 ? NULL : rows[(executed - 2 - j) % 2];
    eager_parallel(scatter_fn, &job, parts);
    src = job.dst;
  }
  if (job.lossy && dtype == EAGER_F32) restore_lossy_f32(x, v, n);
  free(scratch);
  free(count);
  return EAGER_OK;
}

static eager_task_fn sort_fn(int32_t dtype) {
  switch (dtype) {
  case EAGER_F32: return sort_f32;
  case EAGER_F64: return sort_f64;
  case EAGER_I32: return sort_i32;
  case EAGER_I64: return sort_i64;
  case EAGER_U8: return sort_u8;
  default: return NULL;
  }
}

EAGER_API int32_t eager_sort(int32_t dtype, int64_t rows, int64_t n, int32_t descending,
                             void *values, int32_t *indices, const void *x, int64_t x_offset) {
  if (rows < 0 || n < 0 || n > INT32_MAX || !eager_dtype_valid(dtype)) return EAGER_ERR_ARGUMENT;
  eager_task_fn fn = sort_fn(dtype);
  if (!fn) return EAGER_ERR_DTYPE;
  if (rows == 0 || n == 0) return EAGER_OK;
  const char *start = (const char *)x + x_offset * (int64_t)eager_dtype_size(dtype);
  /* NOTE: n log n work a row; the grain counts elements. Rows are split over the threads,
   * except sorted values of fewer long rows than threads: each such row is split instead
   * (split_sort). Positions (argsort) and 64-bit keys still sort a row on one thread. */
  int nth = eager_threads_for(rows * n * 8, EAGER_GRAIN_CHEAP);
  int splittable = dtype == EAGER_F32 || dtype == EAGER_I32 || dtype == EAGER_U8;
  if (splittable && values && !indices && n >= SPLIT_MIN_N && (rows < nth || nth == 1)) {
    for (int64_t r = 0; r < rows; r++) {
      int32_t status = split_sort(dtype, start + r * n * (int64_t)eager_dtype_size(dtype),
                                  (char *)values + r * n * (int64_t)eager_dtype_size(dtype),
                                  n, descending != 0, nth);
      if (status != EAGER_OK) return status;
    }
    return EAGER_OK;
  }
  sort_job job = {.rows = rows, .n = n, .descending = descending != 0, .values = values,
                  .indices = indices, .x = start};
  eager_parallel(fn, &job, nth);
  return job.failed ? EAGER_ERR_NO_MEMORY : EAGER_OK;
}

/* The k best of each row by a binary heap whose root is the worst kept: (key, position)
 * pairs, larger key better, equal keys: lower position better. Positions arrive in
 * increasing order, so a newcomer with the root's key never displaces it. The heap is
 * then sorted best first in place. */
#define WORSE(ka, ia, kb, ib) ((ka) < (kb) || ((ka) == (kb) && (ia) > (ib)))
#define TOPK_TASK(SFX, T, K, KEY)                                                           \
  static void sift_##SFX(K *hk, int32_t *hi, int64_t size, int64_t at) {                    \
    K kv = hk[at];                                                                          \
    int32_t iv = hi[at];                                                                    \
    for (;;) {                                                                              \
      int64_t c = 2 * at + 1;                                                               \
      if (c >= size) break;                                                                 \
      if (c + 1 < size && WORSE(hk[c + 1], hi[c + 1], hk[c], hi[c])) c++;                   \
      if (!WORSE(hk[c], hi[c], kv, iv)) break;                                              \
      hk[at] = hk[c];                                                                       \
      hi[at] = hi[c];                                                                       \
      at = c;                                                                               \
    }                                                                                       \
    hk[at] = kv;                                                                            \
    hi[at] = iv;                                                                            \
  }                                                                                         \
  static void top_k_##SFX(void *arg, int ith, int nth) {                                    \
    sort_job *job = arg;                                                                    \
    int64_t begin, end, n = job->n, kk = job->k;                                            \
    eager_split(job->rows, ith, nth, &begin, &end);                                         \
    if (begin == end) return;                                                               \
    char *scratch = malloc((size_t)kk * (sizeof(K) + sizeof(int32_t)));                     \
    if (!scratch) {                                                                         \
      job->failed = 1;                                                                      \
      return;                                                                               \
    }                                                                                       \
    K *hk = (K *)scratch;                                                                   \
    int32_t *hi = (int32_t *)(hk + kk);                                                     \
    for (int64_t r = begin; r < end; r++) {                                                 \
      const T *restrict x = (const T *)job->x + r * n;                                      \
      for (int64_t a = 0; a < kk; a++) {                                                    \
        hk[a] = KEY(x[a]);                                                                  \
        hi[a] = (int32_t)a;                                                                 \
      }                                                                                     \
      for (int64_t a = kk / 2; a-- > 0;) sift_##SFX(hk, hi, kk, a);                         \
      for (int64_t a = kk; a < n; a++) {                                                    \
        K key = KEY(x[a]);                                                                  \
        if (key > hk[0]) {                                                                  \
          hk[0] = key;                                                                      \
          hi[0] = (int32_t)a;                                                               \
          sift_##SFX(hk, hi, kk, 0);                                                        \
        }                                                                                   \
      }                                                                                     \
      for (int64_t size = kk; size > 1; size--) {                                           \
        K tk = hk[0];                                                                       \
        int32_t tv = hi[0];                                                                 \
        hk[0] = hk[size - 1];                                                               \
        hi[0] = hi[size - 1];                                                               \
        hk[size - 1] = tk;                                                                  \
        hi[size - 1] = tv;                                                                  \
        sift_##SFX(hk, hi, size - 1, 0);                                                    \
      }                                                                                     \
      T *restrict v = (T *)job->values + r * kk;                                            \
      for (int64_t a = 0; a < kk; a++) {                                                    \
        job->indices[r * kk + a] = hi[a];                                                   \
        v[a] = x[hi[a]];                                                                    \
      }                                                                                     \
    }                                                                                       \
    free(scratch);                                                                          \
  }
TOPK_TASK(f32, float, uint32_t, key_f32)
TOPK_TASK(f64, double, uint64_t, key_f64)
TOPK_TASK(i32, int32_t, uint32_t, key_i32)
TOPK_TASK(i64, int64_t, uint64_t, key_i64)
TOPK_TASK(u8, uint8_t, uint32_t, key_u8)

EAGER_API int32_t eager_top_k(int32_t dtype, int64_t rows, int64_t n, int64_t k, void *values,
                              int32_t *indices, const void *x, int64_t x_offset) {
  if (rows < 0 || n < 0 || n > INT32_MAX || k < 0 || k > n || !eager_dtype_valid(dtype))
    return EAGER_ERR_ARGUMENT;
  eager_task_fn fn;
  switch (dtype) {
  case EAGER_F32: fn = top_k_f32; break;
  case EAGER_F64: fn = top_k_f64; break;
  case EAGER_I32: fn = top_k_i32; break;
  case EAGER_I64: fn = top_k_i64; break;
  case EAGER_U8: fn = top_k_u8; break;
  default: return EAGER_ERR_DTYPE;
  }
  if (rows == 0 || k == 0) return EAGER_OK;
  sort_job job = {.rows = rows, .n = n, .k = k, .values = values, .indices = indices,
                  .x = (const char *)x + x_offset * (int64_t)eager_dtype_size(dtype)};
  eager_parallel(fn, &job, eager_threads_for(rows * n, EAGER_GRAIN_CHEAP));
  return job.failed ? EAGER_ERR_NO_MEMORY : EAGER_OK;
}

/* std::lower_bound / std::upper_bound with the element type's own `<`, as TensorFlow's
 * kernel: a NaN probe goes first (left) or last (right). */
#define SEARCH_TASK(SFX, T)                                                                 \
  static void search_##SFX(void *arg, int ith, int nth) {                                   \
    sort_job *job = arg;                                                                    \
    int64_t begin, end, n = job->n, m = job->k;                                             \
    eager_split(job->rows * m, ith, nth, &begin, &end);                                     \
    for (int64_t p = begin; p < end; p++) {                                                 \
      const T *seq = (const T *)job->x + (p / m) * n;                                       \
      T v = ((const T *)job->probes)[p];                                                    \
      int64_t lo = 0, count = n;                                                            \
      while (count > 0) {                                                                   \
        int64_t step = count / 2, at = lo + step;                                           \
        if (job->right ? !(v < seq[at]) : seq[at] < v) {                                    \
          lo = at + 1;                                                                      \
          count -= step + 1;                                                                \
        } else {                                                                            \
          count = step;                                                                     \
        }                                                                                   \
      }                                                                                     \
      if (job->out_i64) ((int64_t *)job->positions)[p] = lo;                                \
      else ((int32_t *)job->positions)[p] = (int32_t)lo;                                    \
    }                                                                                       \
  }
SEARCH_TASK(f32, float)
SEARCH_TASK(f64, double)
SEARCH_TASK(i32, int32_t)
SEARCH_TASK(i64, int64_t)
SEARCH_TASK(u8, uint8_t)

EAGER_API int32_t eager_search_sorted(int32_t dtype, int32_t out_dtype, int64_t rows, int64_t n,
                                      int64_t m, int32_t right, void *out, const void *sorted,
                                      int64_t sorted_offset, const void *values,
                                      int64_t values_offset) {
  if (rows < 0 || n < 0 || m < 0 || !eager_dtype_valid(dtype) ||
      (out_dtype != EAGER_I32 && out_dtype != EAGER_I64))
    return EAGER_ERR_ARGUMENT;
  eager_task_fn fn;
  switch (dtype) {
  case EAGER_F32: fn = search_f32; break;
  case EAGER_F64: fn = search_f64; break;
  case EAGER_I32: fn = search_i32; break;
  case EAGER_I64: fn = search_i64; break;
  case EAGER_U8: fn = search_u8; break;
  default: return EAGER_ERR_DTYPE;
  }
  if (rows == 0 || m == 0) return EAGER_OK;
  size_t size = eager_dtype_size(dtype);
  sort_job job = {.rows = rows, .n = n, .k = m, .right = right != 0,
                  .out_i64 = out_dtype == EAGER_I64,
                  .x = (const char *)sorted + sorted_offset * (int64_t)size,
                  .probes = (const char *)values + values_offset * (int64_t)size,
                  .positions = out};
  eager_parallel(fn, &job, eager_threads_for(rows * m * 16, EAGER_GRAIN_CHEAP));
  return EAGER_OK;
}
