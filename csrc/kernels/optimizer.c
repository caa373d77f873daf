/*
 * Fused optimizer updates (eager_apply_update): one pass over the variable, its gradient
 * and its slots, instead of the 6 to 12 elementwise ops (each a fresh output) that the
 * same rule takes as tensor ops. The variable's output is a fresh buffer: tensors that
 * share its old value (a tape's saved inputs, a user's read()) keep it. Slots are updated
 * either into fresh buffers too or in place, when the caller passes each slot's output
 * equal to its input (slots nobody else has seen; see Variable.replaceOwned).
 */
#include <math.h>

#include "internal.h"

typedef struct {
  int32_t rule;
  const double *hyper;
  void *var_out, *s0_out, *s1_out, *s2_out;
  const void *var, *g, *s0, *s1, *s2;
  int64_t n;
} update_job;

/* The rules for element type T with sqrt function SQRT (see eager_update_rule). */
#define UPDATE_TASK(SFX, T, SQRT, SLOT_INPUTS)                                                         \
  static void update_##SFX(void *arg, int ith, int nth) {                                \
    const update_job *job = arg;                                                          \
    int64_t begin, end;                                                                   \
    eager_split(job->n, ith, nth, &begin, &end);                                          \
    const T *restrict var = job->var, *restrict g = job->g;                               \
    T *restrict out = job->var_out, *restrict o0 = job->s0_out;                           \
    T *restrict o1 = job->s1_out, *restrict o2 = job->s2_out;                             \
    SLOT_INPUTS(T)                                                                        \
    const T h0 = (T)job->hyper[0];                                                        \
    switch (job->rule) {                                                                  \
    case EAGER_UPDATE_SGD:                                                                \
      for (int64_t i = begin; i < end; i++) out[i] = var[i] - g[i] * h0;                  \
      break;                                                                              \
    case EAGER_UPDATE_MOMENTUM: {                                                         \
      const T mu = (T)job->hyper[1];                                                      \
      for (int64_t i = begin; i < end; i++) {                                             \
        T a = s0[i] * mu + g[i];                                                          \
        o0[i] = a;                                                                        \
        out[i] = var[i] - a * h0;                                                         \
      }                                                                                   \
      break;                                                                              \
    }                                                                                     \
    case EAGER_UPDATE_NESTEROV: {                                                         \
      const T mu = (T)job->hyper[1];                                                      \
      for (int64_t i = begin; i < end; i++) {                                             \
        T a = s0[i] * mu + g[i];                                                          \
        o0[i] = a;                                                                        \
        out[i] = var[i] - (g[i] * h0 + a * mu * h0);                                      \
      }                                                                                   \
      break;                                                                              \
    }                                                                                     \
    case EAGER_UPDATE_ADAM: {                                                             \
      const T b1 = (T)1 - (T)job->hyper[1], b2 = (T)1 - (T)job->hyper[2];                 \
      const T eps = (T)job->hyper[3];                                                     \
      for (int64_t i = begin; i < end; i++) {                                             \
        T m = s0[i] + (g[i] - s0[i]) * b1;                                                \
        T v = s1[i] + (g[i] * g[i] - s1[i]) * b2;                                         \
        o0[i] = m;                                                                        \
        o1[i] = v;                                                                        \
        out[i] = var[i] - m * h0 / (SQRT(v) + eps);                                       \
      }                                                                                   \
      break;                                                                              \
    }                                                                                     \
    case EAGER_UPDATE_ADAGRAD:                                                            \
      for (int64_t i = begin; i < end; i++) {                                             \
        T a = s0[i] + g[i] * g[i];                                                        \
        o0[i] = a;                                                                        \
        out[i] = var[i] - g[i] * h0 * ((T)1 / SQRT(a));                                          \
      }                                                                                   \
      break;                                                                              \
    case EAGER_UPDATE_RMSPROP:                                                            \
    case EAGER_UPDATE_CENTERED_RMSPROP: {                                                 \
      const T rho = (T)1 - (T)job->hyper[1], mu = (T)job->hyper[2];                       \
      const T eps = (T)job->hyper[3];                                                     \
      const int centered = job->rule == EAGER_UPDATE_CENTERED_RMSPROP;                    \
      for (int64_t i = begin; i < end; i++) {                                             \
        T ms = s0[i] + (g[i] * g[i] - s0[i]) * rho;                                       \
        T denom = ms;                                                                     \
        o0[i] = ms;                                                                       \
        if (centered) {                                                                   \
          T mg = s2[i] + (g[i] - s2[i]) * rho;                                            \
          o2[i] = mg;                                                                     \
          denom = ms - mg * mg;                                                           \
        }                                                                                 \
        T mom = s1[i] * mu + g[i] * h0 / SQRT(denom + eps);                               \
        o1[i] = mom;                                                                      \
        out[i] = var[i] - mom;                                                            \
      }                                                                                   \
      break;                                                                              \
    }                                                                                     \
    }                                                                                     \
  }
/* NOTE: in place, each slot is read through a pointer based on its restrict output
 * pointer (C11 allows that); out of place, through its own restrict pointer. */
#define SLOTS_IN_PLACE(T) const T *s0 = o0, *s1 = o1, *s2 = o2;
#define SLOTS_APART(T) const T *restrict s0 = job->s0, *restrict s1 = job->s1, *restrict s2 = job->s2;
UPDATE_TASK(f32, float, sqrtf, SLOTS_APART)
UPDATE_TASK(f64, double, sqrt, SLOTS_APART)
UPDATE_TASK(f32_in_place, float, sqrtf, SLOTS_IN_PLACE)
UPDATE_TASK(f64_in_place, double, sqrt, SLOTS_IN_PLACE)

EAGER_API int32_t eager_apply_update(int32_t rule, int32_t dtype, int64_t n, const double *hyper,
                                     void *var_out, const void *var, const void *g,
                                     void *s0_out, const void *s0, void *s1_out, const void *s1,
                                     void *s2_out, const void *s2) {
  if (rule < 0 || rule >= EAGER_UPDATE_COUNT || n < 0) return EAGER_ERR_ARGUMENT;
  if (dtype != EAGER_F32 && dtype != EAGER_F64)
    return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  /* Only the slots the rule uses decide in place or apart. */
  static const int slots_used[EAGER_UPDATE_COUNT] = {
      [EAGER_UPDATE_SGD] = 0,     [EAGER_UPDATE_MOMENTUM] = 1, [EAGER_UPDATE_NESTEROV] = 1,
      [EAGER_UPDATE_ADAM] = 2,    [EAGER_UPDATE_ADAGRAD] = 1,  [EAGER_UPDATE_RMSPROP] = 2,
      [EAGER_UPDATE_CENTERED_RMSPROP] = 3};
  const void *outs[3] = {s0_out, s1_out, s2_out}, *ins[3] = {s0, s1, s2};
  int same = 0, used = slots_used[rule];
  for (int i = 0; i < used; i++) same += outs[i] == ins[i];
  if (same != 0 && same != used) return EAGER_ERR_ARGUMENT;
  int in_place = same == used;
  update_job job = {rule, hyper, var_out, s0_out, s1_out, s2_out, var, g, s0, s1, s2, n};
  eager_task_fn task = dtype == EAGER_F32 ? (in_place ? update_f32_in_place : update_f32)
                                          : (in_place ? update_f64_in_place : update_f64);
  eager_parallel(task, &job, eager_threads_for(n, EAGER_GRAIN_CHEAP));
  return EAGER_OK;
}
