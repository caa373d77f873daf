/*
 * One LSTM step in one pass over memory, and its gradient (Keras's gate order i, f, c, o),
 * for the recurrent layers: the nine elementwise ops of a step and the twenty-odd of its
 * gradient, each as one kernel over [rows, units]. The gradient recomputes the gates from
 * z instead of reading saved ones: four activations an element cost less than a pass over
 * four more saved tensors. It does so for a chunk of LSTM_CHUNK units at a time into a
 * small array, then runs the arithmetic: written as one loop, the five activations and the
 * gradient's formulas exceeded the registers and clang's vectorised loop spilled and ran
 * partly scalar (batch 20, 200 units, float32, AVX2: 212 us a call, against 55 us split,
 * the forward step 50 us); the values are the same bits either way.
 *
 * NOTE: every product and sum is its own statement, so the compiler cannot contract them
 * into fused multiply-adds: the step's values equal the same ops run one by one (the
 * composite path of src/ops/lstm.ts) bit for bit.
 */
#include "internal.h"
#include "elementwise_ops.h"

typedef struct {
  int64_t rows, units;
  const void *z, *c, *dh, *dc_next;
  double forget_bias;
  void *out_a, *out_b;
} lstm_job;

/* Units per chunk of the gradient: five arrays of activations stay in L1. */
#define LSTM_CHUNK 64
#define LSTM_GATES(SFX, T)                                                          \
  static void lstm_gates_##SFX(const T *restrict z, const T *restrict c, int64_t u, \
                               int64_t w, T fb, T act[5][LSTM_CHUNK]) {             \
    for (int64_t j = 0; j < w; j++) {                                               \
      T i = eager_sigmoid(z[j]), f = eager_sigmoid(z[u + j] + fb);                  \
      T g = eager_tanh(z[2 * u + j]), o = eager_sigmoid(z[3 * u + j]);              \
      T kept = f * c[j];                                                            \
      T added = i * g;                                                              \
      act[0][j] = i;                                                                \
      act[1][j] = f;                                                                \
      act[2][j] = g;                                                                \
      act[3][j] = o;                                                                \
      act[4][j] = eager_tanh(kept + added);                                         \
    }                                                                               \
  }
LSTM_GATES(f32, float)
LSTM_GATES(f64, double)

#define LSTM_TASKS(SFX, T)                                                          \
  static void lstm_step_##SFX(void *arg, int ith, int nth) {                        \
    const lstm_job *job = arg;                                                      \
    int64_t begin, end, u = job->units;                                             \
    eager_split(job->rows, ith, nth, &begin, &end);                                 \
    const T fb = (T)job->forget_bias;                                               \
    for (int64_t r = begin; r < end; r++) {                                         \
      const T *restrict z = (const T *)job->z + r * 4 * u;                          \
      const T *restrict c = (const T *)job->c + r * u;                              \
      T *restrict h = (T *)job->out_a + r * u;                                      \
      T *restrict c2 = (T *)job->out_b + r * u;                                     \
      for (int64_t j = 0; j < u; j++) {                                             \
        T zf = z[u + j] + fb;                                                       \
        T i = eager_sigmoid(z[j]), f = eager_sigmoid(zf);                           \
        T g = eager_tanh(z[2 * u + j]), o = eager_sigmoid(z[3 * u + j]);            \
        T kept = f * c[j];                                                          \
        T added = i * g;                                                            \
        T cn = kept + added;                                                        \
        T tc = eager_tanh(cn);                                                      \
        c2[j] = cn;                                                                 \
        h[j] = o * tc;                                                              \
      }                                                                             \
    }                                                                               \
  }                                                                                 \
  static void lstm_grad_##SFX(void *arg, int ith, int nth) {                        \
    const lstm_job *job = arg;                                                      \
    int64_t begin, end, u = job->units;                                             \
    eager_split(job->rows, ith, nth, &begin, &end);                                 \
    const T fb = (T)job->forget_bias, one = 1;                                      \
    T act[5][LSTM_CHUNK];                                                           \
    for (int64_t r = begin; r < end; r++) {                                         \
      for (int64_t j0 = 0; j0 < u; j0 += LSTM_CHUNK) {                              \
        int64_t w = u - j0 < LSTM_CHUNK ? u - j0 : LSTM_CHUNK;                      \
        const T *restrict z = (const T *)job->z + r * 4 * u + j0;                   \
        const T *restrict c = (const T *)job->c + r * u + j0;                       \
        const T *restrict dh = (const T *)job->dh + r * u + j0;                     \
        const T *restrict dcn = (const T *)job->dc_next + r * u + j0;               \
        T *restrict dz = (T *)job->out_a + r * 4 * u + j0;                          \
        T *restrict dc = (T *)job->out_b + r * u + j0;                              \
        lstm_gates_##SFX(z, c, u, w, fb, act);                                      \
        for (int64_t j = 0; j < w; j++) {                                           \
          T i = act[0][j], f = act[1][j], g = act[2][j], o = act[3][j];             \
          T tc = act[4][j];                                                         \
          T dtc = dh[j] * o;                                                        \
          T dcell = dcn[j] + dtc * (one - tc * tc);                                 \
          dz[j] = dcell * g * i * (one - i);                                        \
          dz[u + j] = dcell * c[j] * f * (one - f);                                 \
          dz[2 * u + j] = dcell * i * (one - g * g);                                \
          dz[3 * u + j] = dh[j] * tc * o * (one - o);                               \
          dc[j] = dcell * f;                                                        \
        }                                                                           \
      }                                                                             \
    }                                                                               \
  }
LSTM_TASKS(f32, float)
LSTM_TASKS(f64, double)

static int32_t lstm_run(int32_t dtype, lstm_job *job, int grad) {
  if (job->rows < 0 || job->units < 0) return EAGER_ERR_ARGUMENT;
  if (dtype != EAGER_F32 && dtype != EAGER_F64)
    return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  if (job->rows == 0 || job->units == 0) return EAGER_OK;
  eager_task_fn task = dtype == EAGER_F32 ? (grad ? lstm_grad_f32 : lstm_step_f32)
                                       : (grad ? lstm_grad_f64 : lstm_step_f64);
  eager_parallel(task, job, eager_threads_for(job->rows * job->units * 8, EAGER_GRAIN_CHEAP));
  return EAGER_OK;
}

EAGER_API int32_t eager_lstm_step(int32_t dtype, int64_t rows, int64_t units, const void *z,
                                  const void *c, double forget_bias, void *h_out, void *c_out) {
  lstm_job job = {rows, units, z, c, NULL, NULL, forget_bias, h_out, c_out};
  return lstm_run(dtype, &job, 0);
}

EAGER_API int32_t eager_lstm_step_grad(int32_t dtype, int64_t rows, int64_t units,
                                       const void *z, const void *c, const void *dh,
                                       const void *dc_next, double forget_bias, void *dz_out,
                                       void *dc_out) {
  lstm_job job = {rows, units, z, c, dh, dc_next, forget_bias, dz_out, dc_out};
  return lstm_run(dtype, &job, 1);
}
