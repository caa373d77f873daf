/*
 * Indexing: gather, gather_nd, one_hot, and the scatter-adds behind their gradients
 * (unsorted_segment_sum, scatter_nd).
 *
 * Data of any dtype moves by element size. Indices are int32 or int64, and each one is
 * checked here (the TS side reads no index values): a bad index returns EAGER_ERR_INDEX
 * with the position of the first bad one, never an out-of-bounds access.
 *
 * NOTE: the scatter-adds split their work over output columns or output segments, never
 * over input rows, so duplicate ids never race and every output element adds its inputs
 * in input order: results are bitwise the same for any thread count.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static inline int index_dtype_valid(int dtype) { return dtype == EAGER_I32 || dtype == EAGER_I64; }

static inline int64_t load_index(const char *indices, int index_dtype, int64_t i) {
  return index_dtype == EAGER_I32 ? (int64_t)((const int32_t *)indices)[i]
                                  : ((const int64_t *)indices)[i];
}

/* Constant-size memcpy compiles to one load and store, so rows of one element stay cheap. */
static inline void copy_bytes(char *dst, const char *src, size_t bytes) {
  switch (bytes) {
    case 1: *dst = *src; break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, bytes);
  }
}

static inline int counts_valid(int64_t a, int64_t b, int64_t c, int64_t d) {
  return a >= 0 && b >= 0 && c >= 0 && d >= 0;
}

/* The position of the first of `count` indices whose element k of each row of `depth` is
 * outside [0, limits[k]), or -1. NOTE: run on the error path (and where no row is copied),
 * so the position reported is the first in index order whatever the thread count. */
static int64_t first_bad_index(const char *indices, int index_dtype, int64_t count, int depth,
                               const int64_t *limits) {
  for (int64_t i = 0, k = 0; i < count; i++) {
    int64_t v = load_index(indices, index_dtype, i);
    if (v < 0 || v >= limits[k]) return i;
    if (++k == depth) k = 0;
  }
  return -1;
}

/* EAGER_OK, or EAGER_ERR_INDEX with *first_bad set when an index is out of range. */
static int32_t check_indices(const char *indices, int index_dtype, int64_t count, int depth,
                             const int64_t *limits, int64_t *first_bad) {
  int64_t bad = first_bad_index(indices, index_dtype, count, depth, limits);
  if (bad < 0) return EAGER_OK;
  *first_bad = bad;
  return EAGER_ERR_INDEX;
}

/* ---- gather ------------------------------------------------------------------------ */

typedef struct {
  int64_t outer, axis_len, n_idx, rows;
  size_t row_bytes;
  char *out;
  const char *params, *indices;
  int index_dtype;
  atomic_int status;
} gather_ctx;

/* Row r of the output is (bo, j) = (r / n_idx, r % n_idx) with bo = b * outer + o. */
static void gather_task(void *ctx_, int ith, int nth) {
  gather_ctx *c = ctx_;
  int64_t begin, end;
  eager_split(c->rows, ith, nth, &begin, &end);
  if (begin >= end) return;
  int64_t j = begin % c->n_idx, bo = begin / c->n_idx;
  int64_t b = bo / c->outer, o = bo % c->outer;
  for (int64_t r = begin; r < end; r++) {
    int64_t idx = load_index(c->indices, c->index_dtype, b * c->n_idx + j);
    if (idx < 0 || idx >= c->axis_len) {
      atomic_store(&c->status, EAGER_ERR_INDEX);
      return;
    }
    copy_bytes(c->out + r * (int64_t)c->row_bytes,
               c->params + (bo * c->axis_len + idx) * (int64_t)c->row_bytes, c->row_bytes);
    if (++j == c->n_idx) {
      j = 0;
      bo++;
      if (++o == c->outer) o = 0, b++;
    }
  }
}

EAGER_API int32_t eager_gather(int32_t dtype, int32_t index_dtype, int64_t batch, int64_t outer,
                               int64_t axis_len, int64_t inner, int64_t n_idx, void *out,
                               const void *params, int64_t params_offset, const void *indices,
                               int64_t indices_offset, int64_t *first_bad) {
  if (!eager_dtype_valid(dtype) || !index_dtype_valid(index_dtype) ||
      !counts_valid(batch, outer, axis_len, inner) || n_idx < 0)
    return EAGER_ERR_ARGUMENT;
  int64_t rows = batch * outer * n_idx;
  const char *index_base =
      (const char *)indices + indices_offset * (int64_t)eager_dtype_size(index_dtype);
  if (rows == 0 || inner == 0)
    return check_indices(index_base, index_dtype, batch * n_idx, 1, &axis_len, first_bad);
  size_t size = eager_dtype_size(dtype);
  gather_ctx c = {
      .outer = outer,
      .axis_len = axis_len,
      .n_idx = n_idx,
      .rows = rows,
      .row_bytes = (size_t)inner * size,
      .out = out,
      .params = (const char *)params + params_offset * (int64_t)size,
      .indices = index_base,
      .index_dtype = index_dtype,
  };
  atomic_init(&c.status, EAGER_OK);
  /* A row costs about as much as a few elements even when it holds one. */
  eager_parallel(gather_task, &c, eager_threads_for(rows * (inner + 4), EAGER_GRAIN_CHEAP));
  if (atomic_load(&c.status) != EAGER_ERR_INDEX) return atomic_load(&c.status);
  return check_indices(index_base, index_dtype, batch * n_idx, 1, &axis_len, first_bad);
}

/* ---- gather_nd --------------------------------------------------------------------- */

typedef struct {
  int depth;
  int64_t shape[EAGER_MAX_RANK], strides[EAGER_MAX_RANK]; /* strides in elements */
  int64_t n;
  size_t size, slice_bytes;
  char *out;
  const char *params, *indices;
  int index_dtype;
  atomic_int status;
} gather_nd_ctx;

static void gather_nd_task(void *ctx_, int ith, int nth) {
  gather_nd_ctx *c = ctx_;
  int64_t begin, end;
  eager_split(c->n, ith, nth, &begin, &end);
  for (int64_t i = begin; i < end; i++) {
    int64_t offset = 0;
    for (int k = 0; k < c->depth; k++) {
      int64_t idx = load_index(c->indices, c->index_dtype, i * c->depth + k);
      if (idx < 0 || idx >= c->shape[k]) {
        atomic_store(&c->status, EAGER_ERR_INDEX);
        return;
      }
      offset += idx * c->strides[k];
    }
    copy_bytes(c->out + i * (int64_t)c->slice_bytes, c->params + offset * (int64_t)c->size,
               c->slice_bytes);
  }
}

EAGER_API int32_t eager_gather_nd(int32_t dtype, int32_t index_dtype, int32_t params_rank,
                                  const int64_t *params_shape, int64_t n, int32_t depth,
                                  void *out, const void *params, int64_t params_offset,
                                  const void *indices, int64_t indices_offset,
                                  int64_t *first_bad) {
  if (!eager_dtype_valid(dtype) || !index_dtype_valid(index_dtype) ||
      !eager_shape_valid(params_rank, params_shape) || n < 0 || depth < 0 ||
      depth > params_rank)
    return EAGER_ERR_ARGUMENT;
  int64_t slice = eager_shape_size(params_rank - depth, params_shape + depth);
  const char *index_base =
      (const char *)indices + indices_offset * (int64_t)eager_dtype_size(index_dtype);
  if (n == 0 || slice == 0)
    return check_indices(index_base, index_dtype, n * depth, depth, params_shape, first_bad);
  size_t size = eager_dtype_size(dtype);
  gather_nd_ctx c = {
      .depth = depth,
      .n = n,
      .size = size,
      .slice_bytes = (size_t)slice * size,
      .out = out,
      .params = (const char *)params + params_offset * (int64_t)size,
      .indices = index_base,
      .index_dtype = index_dtype,
  };
  memcpy(c.shape, params_shape, (size_t)params_rank * sizeof(int64_t));
  eager_dense_strides(params_rank, params_shape, c.strides);
  atomic_init(&c.status, EAGER_OK);
  eager_parallel(gather_nd_task, &c, eager_threads_for(n * (slice + 4), EAGER_GRAIN_CHEAP));
  if (atomic_load(&c.status) != EAGER_ERR_INDEX) return atomic_load(&c.status);
  return check_indices(index_base, index_dtype, n * depth, depth, params_shape, first_bad);
}

/* ---- scatter-add (unsorted_segment_sum, scatter_nd) ---------------------------------- */

typedef struct {
  int64_t n, inner, segments;
  char *out;
  const char *data;
  const int64_t *rows; /* output row of input row i, or -1 to drop it */
  int by_column;       /* split columns of every row, else split the output rows */
} scatter_ctx;

typedef void (*scatter_loop)(const scatter_ctx *c, int64_t seg_lo, int64_t seg_hi,
                             int64_t col_lo, int64_t col_hi);

#define SCATTER_LOOP(SFX, T)                                                               \
  static void scatter_##SFX(const scatter_ctx *c, int64_t seg_lo, int64_t seg_hi,          \
                            int64_t col_lo, int64_t col_hi) {                              \
    T *out = (T *)c->out;                                                                  \
    const T *data = (const T *)c->data;                                                    \
    for (int64_t i = 0; i < c->n; i++) {                                                   \
      int64_t s = c->rows[i];                                                              \
      if (s < seg_lo || s >= seg_hi) continue;                                             \
      T *restrict o = out + s * c->inner;                                                  \
      const T *restrict x = data + i * c->inner;                                           \
      for (int64_t k = col_lo; k < col_hi; k++) o[k] += x[k];                              \
    }                                                                                      \
  }
SCATTER_LOOP(f32, float)
SCATTER_LOOP(f64, double)
SCATTER_LOOP(i32, int32_t)
SCATTER_LOOP(i64, int64_t)

typedef struct {
  const scatter_ctx *c;
  scatter_loop loop;
} scatter_job;

static void scatter_task(void *job_, int ith, int nth) {
  const scatter_job *job = job_;
  const scatter_ctx *c = job->c;
  int64_t begin, end;
  if (c->by_column) {
    eager_split(c->inner, ith, nth, &begin, &end);
    if (begin < end) job->loop(c, 0, c->segments, begin, end);
  } else {
    eager_split(c->segments, ith, nth, &begin, &end);
    if (begin < end) job->loop(c, begin, end, 0, c->inner);
  }
}

static scatter_loop scatter_loop_for(int dtype) {
  switch (dtype) {
    case EAGER_F32: return scatter_f32;
    case EAGER_F64: return scatter_f64;
    case EAGER_I32: return scatter_i32;
    case EAGER_I64: return scatter_i64;
    default: return NULL;
  }
}

/* Zeroes out[segments, inner] and adds data[i] into out[rows[i]]. */
static int32_t scatter_rows(int dtype, int64_t n, int64_t inner, int64_t segments, void *out,
                            const void *data, const int64_t *rows) {
  size_t size = eager_dtype_size(dtype);
  if (segments > 0 && inner > 0) memset(out, 0, (size_t)(segments * inner) * size);
  if (n == 0 || inner == 0 || segments == 0) return EAGER_OK;
  scatter_ctx c = {
      .n = n, .inner = inner, .segments = segments, .out = out, .data = data, .rows = rows};
  scatter_job job = {.c = &c, .loop = scatter_loop_for(dtype)};
  int nth = eager_threads_for(n * inner, EAGER_GRAIN_CHEAP);
  /* Columns when each thread gets a useful stretch of every row; else whole output rows
   * (each thread then scans all ids, which costs far less than the adds it skips). */
  c.by_column = inner >= (int64_t)nth * 16;
  eager_parallel(scatter_task, &job, nth);
  return EAGER_OK;
}

EAGER_API int32_t eager_unsorted_segment_sum(int32_t dtype, int32_t index_dtype, int64_t n,
                                             int64_t inner, int64_t num_segments, void *out,
                                             const void *data, int64_t data_offset,
                                             const void *segment_ids, int64_t ids_offset) {
  if (!index_dtype_valid(index_dtype) || !counts_valid(n, inner, num_segments, 0))
    return EAGER_ERR_ARGUMENT;
  if (!scatter_loop_for(dtype)) return EAGER_ERR_DTYPE;
  int64_t *rows = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
  if (!rows) return EAGER_ERR_NO_MEMORY;
  const char *ids =
      (const char *)segment_ids + ids_offset * (int64_t)eager_dtype_size(index_dtype);
  for (int64_t i = 0; i < n; i++) {
    int64_t id = load_index(ids, index_dtype, i);
    rows[i] = id >= 0 && id < num_segments ? id : -1;
  }
  int32_t status =
      scatter_rows(dtype, n, inner, num_segments, out,
                   (const char *)data + data_offset * (int64_t)eager_dtype_size(dtype), rows);
  free(rows);
  return status;
}

EAGER_API int32_t eager_scatter_nd(int32_t dtype, int32_t index_dtype, int32_t out_rank,
                                   const int64_t *out_shape, int64_t n, int32_t depth, void *out,
                                   const void *updates, int64_t updates_offset,
                                   const void *indices, int64_t indices_offset,
                                   int64_t *first_bad) {
  if (!index_dtype_valid(index_dtype) || !eager_shape_valid(out_rank, out_shape) || n < 0 ||
      depth < 0 || depth > out_rank)
    return EAGER_ERR_ARGUMENT;
  if (!scatter_loop_for(dtype)) return EAGER_ERR_DTYPE;
  int64_t segments = eager_shape_size(depth, out_shape);
  int64_t inner = eager_shape_size(out_rank - depth, out_shape + depth);
  int64_t *rows = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
  if (!rows) return EAGER_ERR_NO_MEMORY;
  const char *idx = (const char *)indices + indices_offset * (int64_t)eager_dtype_size(index_dtype);
  for (int64_t i = 0; i < n; i++) {
    int64_t row = 0;
    for (int k = 0; k < depth; k++) {
      int64_t v = load_index(idx, index_dtype, i * depth + k);
      if (v < 0 || v >= out_shape[k]) {
        free(rows);
        *first_bad = i * depth + k;
        return EAGER_ERR_INDEX;
      }
      row = row * out_shape[k] + v;
    }
    rows[i] = row;
  }
  int32_t status =
      scatter_rows(dtype, n, inner, segments, out,
                   (const char *)updates + updates_offset * (int64_t)eager_dtype_size(dtype), rows);
  free(rows);
  return status;
}

/* ---- one_hot ------------------------------------------------------------------------ */

typedef struct {
  int64_t depth, inner, count; /* count = outer * inner index positions */
  char *out;
  const char *indices;
  int index_dtype;
  size_t size;
  char on[8], off[8];
} one_hot_ctx;

#define ONE_HOT_FILL(T)                                                                  \
  {                                                                                      \
    T on, off;                                                                           \
    memcpy(&on, c->on, sizeof on);                                                       \
    memcpy(&off, c->off, sizeof off);                                                    \
    T *out = (T *)c->out;                                                                \
    for (int64_t p = begin; p < end; p++) {                                              \
      int64_t o = p / c->inner, i = p % c->inner;                                        \
      int64_t idx = load_index(c->indices, c->index_dtype, p);                           \
      T *col = out + o * c->depth * c->inner + i;                                        \
      for (int64_t d = 0; d < c->depth; d++) col[d * c->inner] = d == idx ? on : off;    \
    }                                                                                    \
  }

/* Thread ith writes the whole depth column of each index position it owns. */
static void one_hot_task(void *ctx_, int ith, int nth) {
  const one_hot_ctx *c = ctx_;
  int64_t begin, end;
  eager_split(c->count, ith, nth, &begin, &end);
  switch (c->size) {
    case 1: ONE_HOT_FILL(uint8_t) break;
    case 4: ONE_HOT_FILL(uint32_t) break;
    default: ONE_HOT_FILL(uint64_t) break;
  }
}

EAGER_API int32_t eager_one_hot(int32_t dtype, int32_t index_dtype, int64_t outer, int64_t depth,
                                int64_t inner, void *out, const void *indices,
                                int64_t indices_offset, double on_value, double off_value) {
  if (!eager_dtype_valid(dtype) || !index_dtype_valid(index_dtype) ||
      !counts_valid(outer, depth, inner, 0))
    return EAGER_ERR_ARGUMENT;
  if (outer == 0 || depth == 0 || inner == 0) return EAGER_OK;
  one_hot_ctx c = {
      .depth = depth,
      .inner = inner,
      .count = outer * inner,
      .out = out,
      .indices = (const char *)indices + indices_offset * (int64_t)eager_dtype_size(index_dtype),
      .index_dtype = index_dtype,
      .size = eager_dtype_size(dtype),
  };
  /* The same conversion rules as a cast from float64 (a rank-0 eager_cast). */
  int64_t scalar_shape[1] = {1};
  int32_t status = eager_cast(EAGER_F64, dtype, 0, scalar_shape, c.on, 0, NULL, &on_value, 0,
                              scalar_shape);
  if (status == EAGER_OK)
    status = eager_cast(EAGER_F64, dtype, 0, scalar_shape, c.off, 0, NULL, &off_value, 0,
                        scalar_shape);
  if (status != EAGER_OK) return status;
  eager_parallel(one_hot_task, &c, eager_threads_for(c.count * depth, EAGER_GRAIN_CHEAP));
  return EAGER_OK;
}
