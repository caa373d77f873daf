/* The strided n-d walk shared by elementwise kernels (see eager_iter in internal.h). */
#include <stdatomic.h>

#include "internal.h"

void eager_dense_strides(int rank, const int64_t *shape, int64_t *strides) {
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
}

void eager_iter_init(eager_iter *it, int rank, const int64_t *shape, int nops,
                     const int64_t *const *strides) {
  it->nops = nops;
  int r = 0;
  /* Keep non-trivial dims, outermost first. */
  for (int d = 0; d < rank; d++) {
    if (shape[d] == 1) continue;
    it->shape[r] = shape[d];
    for (int k = 0; k < nops; k++) it->strides[k][r] = strides[k][d];
    r++;
  }
  if (r == 0) {
    it->shape[0] = 1;
    for (int k = 0; k < nops; k++) it->strides[k][0] = 0;
    r = 1;
  }
  /* Merge dim d into dim d+1 when, for every operand, stepping d equals stepping the
   * whole of d+1. */
  int out = 0;
  for (int d = 1; d < r; d++) {
    int mergeable = 1;
    for (int k = 0; k < nops; k++)
      if (it->strides[k][out] != it->strides[k][d] * it->shape[d]) mergeable = 0;
    if (mergeable) {
      it->shape[out] *= it->shape[d];
      for (int k = 0; k < nops; k++) it->strides[k][out] = it->strides[k][d];
    } else {
      out++;
      it->shape[out] = it->shape[d];
      for (int k = 0; k < nops; k++) it->strides[k][out] = it->strides[k][d];
    }
  }
  it->rank = out + 1;
  it->inner = it->shape[it->rank - 1];
  it->rows = 1;
  for (int d = 0; d < it->rank - 1; d++) it->rows *= it->shape[d];
}

/* NOTE: an empty walk (a dim of 0 that did not merge away, e.g. a transposed [2, 2, 0]) has
 * no rows, but a reduction still seeks row 0 before it finds that out: a dim of 0 counts as
 * index 0 here instead of dividing by it (that was a SIGFPE that killed the process). */
void eager_iter_seek(const eager_iter *it, int64_t row, int64_t *index, int64_t *offsets) {
  for (int k = 0; k < it->nops; k++) offsets[k] = 0;
  for (int d = it->rank - 2; d >= 0; d--) {
    int64_t dim = it->shape[d];
    index[d] = dim ? row % dim : 0;
    row = dim ? row / dim : 0;
    for (int k = 0; k < it->nops; k++) offsets[k] += index[d] * it->strides[k][d];
  }
}

void eager_iter_row_offsets(const eager_iter *it, int64_t row, int64_t *offsets) {
  int64_t index[EAGER_MAX_RANK];
  eager_iter_seek(it, row, index, offsets);
}

void eager_iter_next_row(const eager_iter *it, int64_t *index, int64_t *offsets) {
  for (int d = it->rank - 2; d >= 0; d--) {
    index[d]++;
    for (int k = 0; k < it->nops; k++) offsets[k] += it->strides[k][d];
    if (index[d] < it->shape[d]) return;
    for (int k = 0; k < it->nops; k++) offsets[k] -= index[d] * it->strides[k][d];
    index[d] = 0;
  }
}

typedef struct {
  const eager_iter *it;
  char *const *base;
  const size_t *elem_size;
  eager_segment_fn fn;
  void *ctx;
  _Atomic int status;
} walk_job;

static void walk_task(void *arg, int ith, int nth) {
  walk_job *job = arg;
  const eager_iter *it = job->it;
  int64_t begin, end;
  eager_split(it->rows * it->inner, ith, nth, &begin, &end);
  if (begin >= end) return;
  int nops = it->nops;
  int64_t index[EAGER_MAX_RANK], offsets[EAGER_MAX_OPERANDS], steps[EAGER_MAX_OPERANDS];
  char *ptrs[EAGER_MAX_OPERANDS];
  for (int k = 0; k < nops; k++) steps[k] = it->strides[k][it->rank - 1];
  int64_t row = begin / it->inner, col = begin % it->inner, left = end - begin;
  eager_iter_seek(it, row, index, offsets);
  while (left > 0) {
    if (job->status != EAGER_OK) return;
    int64_t n = it->inner - col < left ? it->inner - col : left;
    for (int k = 0; k < nops; k++)
      ptrs[k] = job->base[k] + (offsets[k] + col * steps[k]) * (int64_t)job->elem_size[k];
    int status = job->fn(job->ctx, n, ptrs, steps);
    if (status != EAGER_OK) {
      int expected = EAGER_OK;
      atomic_compare_exchange_strong(&job->status, &expected, status);
      return;
    }
    left -= n;
    col = 0;
    eager_iter_next_row(it, index, offsets);
  }
}

int eager_walk(const eager_iter *it, char *const *base, const size_t *elem_size, int64_t grain,
               eager_segment_fn fn, void *ctx) {
  walk_job job = {it, base, elem_size, fn, ctx, EAGER_OK};
  int64_t total = it->rows * it->inner;
  if (total == 0) return EAGER_OK;
  eager_parallel(walk_task, &job, eager_threads_for(total, grain));
  return job.status;
}
