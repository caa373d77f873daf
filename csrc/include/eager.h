/*
 * libeager: the flat C ABI of deno-eager's CPU kernels.
 *
 * Every exported function is declared here once, prefixed `eager_` and marked
 * EAGER_API; src/native/ffi.ts binds exactly this list (tests/native_test.ts checks
 * that both sides name the same symbols).
 *
 * Conventions shared by every kernel:
 * - Functions return an eager_status; they never abort. The TypeScript side turns a
 *   non-zero status into an Error naming the op. Shapes and axes are validated in
 *   TypeScript before the call, which reads no tensor values; what depends on data is
 *   checked here (division by zero in integers, out-of-range indices, whose first
 *   position the indexing kernels report).
 * - Tensors are (base pointer, element offset, element strides). A stride may be 0
 *   (broadcast) or negative (reversed view). `shape` is the output shape. Outputs are
 *   dense row-major unless the signature takes output strides too.
 * - Shapes, strides, offsets and counts are int64_t element counts; rank is at most
 *   EAGER_MAX_RANK.
 * - Large calls are split over a small pthread pool (see eager_set_num_threads);
 *   results never depend on the number of threads except for the summation order
 *   of floating-point reductions.
 */
#ifndef EAGER_H
#define EAGER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef EAGER_API /* csrc/internal.h hides the per-CPU-level copies of the kernels */
#define EAGER_API __attribute__((visibility("default")))
#endif
#define EAGER_MAX_RANK 8
/* Bumped when a signature in this header changes; the loader checks it. */
#define EAGER_ABI_VERSION 8

typedef enum {
  EAGER_F32 = 0,
  EAGER_F64 = 1,
  EAGER_I32 = 2,
  EAGER_I64 = 3,
  EAGER_U8 = 4,
  EAGER_BOOL = 5, /* one byte, 0 or 1 */
  EAGER_DTYPE_COUNT
} eager_dtype;

typedef enum {
  EAGER_OK = 0,
  EAGER_ERR_ARGUMENT = 1,         /* a shape, rank, stride or op code the kernel cannot take */
  EAGER_ERR_DTYPE = 2,            /* the op is not defined for this dtype */
  EAGER_ERR_NO_MEMORY = 3,        /* a scratch allocation failed */
  EAGER_ERR_DIVISION_BY_ZERO = 4, /* integer division or modulo by zero */
  EAGER_ERR_INDEX = 5,            /* an index outside [0, dim) */
  EAGER_ERR_NEGATIVE_POWER = 6,   /* an integer raised to a negative integer power */
  EAGER_ERR_MPI = 7,              /* MPI failed or is missing; eager_mpi_error() says how */
  EAGER_STATUS_COUNT
} eager_status;

typedef enum {
  EAGER_UNARY_NEG,
  EAGER_UNARY_ABS,
  EAGER_UNARY_SIGN,
  EAGER_UNARY_EXP,
  EAGER_UNARY_LOG,
  EAGER_UNARY_LOG1P,
  EAGER_UNARY_EXPM1,
  EAGER_UNARY_SQRT,
  EAGER_UNARY_RSQRT,
  EAGER_UNARY_SQUARE,
  EAGER_UNARY_RECIPROCAL,
  EAGER_UNARY_SIN,
  EAGER_UNARY_COS,
  EAGER_UNARY_TAN,
  EAGER_UNARY_ASIN,
  EAGER_UNARY_ACOS,
  EAGER_UNARY_ATAN,
  EAGER_UNARY_SINH,
  EAGER_UNARY_COSH,
  EAGER_UNARY_TANH,
  EAGER_UNARY_SIGMOID,
  EAGER_UNARY_RELU,
  EAGER_UNARY_RELU6,
  EAGER_UNARY_ELU,
  EAGER_UNARY_SOFTPLUS,
  EAGER_UNARY_FLOOR,
  EAGER_UNARY_CEIL,
  EAGER_UNARY_ROUND, /* half to even, as TensorFlow's round */
  EAGER_UNARY_ERF,
  EAGER_UNARY_IS_NAN,      /* output bool */
  EAGER_UNARY_IS_FINITE,   /* output bool */
  EAGER_UNARY_IS_INF,      /* output bool */
  EAGER_UNARY_LOGICAL_NOT, /* bool -> bool */
  EAGER_UNARY_COUNT
} eager_unary_op;

typedef enum {
  EAGER_BINARY_ADD,
  EAGER_BINARY_SUB,
  EAGER_BINARY_MUL,
  EAGER_BINARY_DIV, /* floating point only */
  EAGER_BINARY_POW,
  EAGER_BINARY_MAX,
  EAGER_BINARY_MIN,
  EAGER_BINARY_SQUARED_DIFFERENCE,
  EAGER_BINARY_FLOOR_DIV,
  EAGER_BINARY_MOD, /* floor modulo: the result has the sign of the divisor */
  EAGER_BINARY_ATAN2,
  EAGER_BINARY_RELU_GRAD, /* a where b > 0, else 0: relu's gradient (float only) */
  EAGER_BINARY_EQUAL, /* comparisons: output bool */
  EAGER_BINARY_NOT_EQUAL,
  EAGER_BINARY_LESS,
  EAGER_BINARY_LESS_EQUAL,
  EAGER_BINARY_GREATER,
  EAGER_BINARY_GREATER_EQUAL,
  EAGER_BINARY_LOGICAL_AND, /* bool only */
  EAGER_BINARY_LOGICAL_OR,
  EAGER_BINARY_LOGICAL_XOR,
  EAGER_BINARY_COUNT
} eager_binary_op;

typedef enum {
  EAGER_REDUCE_SUM,
  EAGER_REDUCE_MEAN,
  EAGER_REDUCE_PROD,
  EAGER_REDUCE_MAX,
  EAGER_REDUCE_MIN,
  EAGER_REDUCE_ALL, /* bool only */
  EAGER_REDUCE_ANY,
  EAGER_REDUCE_ARGMAX, /* output int64; the reduced dims are one axis */
  EAGER_REDUCE_ARGMIN,
  EAGER_REDUCE_COUNT
} eager_reduce_op;

/* Optimizer update rules (optimizer.c), TensorFlow 1's Apply* kernels; `hyper` holds
 * the listed scalars in order, slots s0..s2 the listed slot variables. */
typedef enum {
  EAGER_UPDATE_SGD,      /* hyper (lr): var -= lr * g */
  EAGER_UPDATE_MOMENTUM, /* (lr, momentum), s0 accum: accum = accum * momentum + g;
                            var -= lr * accum */
  EAGER_UPDATE_NESTEROV, /* (lr, momentum), s0 accum: accum as above;
                            var -= g * lr + accum * momentum * lr */
  EAGER_UPDATE_ADAM,     /* (lr_t, beta1, beta2, epsilon), s0 m, s1 v: m += (g - m) * (1 -
                            beta1); v += (g * g - v) * (1 - beta2);
                            var -= lr_t * m / (sqrt(v) + epsilon) */
  EAGER_UPDATE_ADAGRAD,  /* (lr), s0 accum: accum += g * g; var -= lr * g / sqrt(accum) */
  EAGER_UPDATE_RMSPROP,  /* (lr, decay, momentum, epsilon), s0 ms, s1 mom: ms += (g * g -
                            ms) * (1 - decay); mom = mom * momentum + lr * g / sqrt(ms +
                            epsilon); var -= mom */
  EAGER_UPDATE_CENTERED_RMSPROP, /* as RMSPROP with s2 mg: mg += (g - mg) * (1 - decay);
                                    the denominator is sqrt(ms - mg * mg + epsilon) */
  EAGER_UPDATE_COUNT
} eager_update_rule;

typedef enum {
  EAGER_RANDOM_UNIFORM,          /* [a, b) */
  EAGER_RANDOM_NORMAL,           /* mean a, standard deviation b */
  EAGER_RANDOM_TRUNCATED_NORMAL, /* normal resampled outside two standard deviations */
  EAGER_RANDOM_COUNT
} eager_random_dist;

/* ---- library ------------------------------------------------------------------ */

/* EAGER_ABI_VERSION of the built library. */
EAGER_API int32_t eager_abi_version(void);
/* A static, NUL-terminated description of a status code. */
EAGER_API const char *eager_status_message(int32_t status);
/* Threads used by large kernels (1..64); 0 restores the default (online CPUs,
 * or EAGER_NUM_THREADS from the environment). Returns the number now in use. */
EAGER_API int32_t eager_set_num_threads(int32_t n);
EAGER_API int32_t eager_num_threads(void);

/* Instruction-set levels: each kernel is compiled once per level of the target
 * architecture (x86-64: V2 = SSE4.2, V3 = AVX2 + FMA, V4 = AVX-512; aarch64: NEON) and one
 * level is picked when the library loads, from cpuid and the state the OS enables (xgetbv),
 * never from the build machine. */
typedef enum {
  EAGER_CPU_V2,
  EAGER_CPU_V3,
  EAGER_CPU_V4,
  EAGER_CPU_NEON,
  EAGER_CPU_COUNT
} eager_cpu;

/* Bit L is set when this library holds level L and this CPU and OS can run it. 0 when the
 * CPU lacks even the lowest level (then no kernel may be called). */
EAGER_API int32_t eager_cpu_levels(void);
/* The level the kernels run at: the best of eager_cpu_levels() until changed. */
EAGER_API int32_t eager_cpu_level(void);
/* Runs the kernels at `level` from now on: EAGER_OK, or EAGER_ERR_ARGUMENT (nothing
 * changed) for a level not in eager_cpu_levels(). */
EAGER_API int32_t eager_set_cpu_level(int32_t level);

typedef enum {
  EAGER_GEMM_AUTO,     /* oneDNN for large float32 products when libdnnl loads, else BLAS */
  EAGER_GEMM_OPENBLAS, /* every product on the BLAS found at run time (or built-in kernels) */
  EAGER_GEMM_ONEDNN,   /* as AUTO; only ever returned when oneDNN is in use */
  EAGER_GEMM_COUNT
} eager_gemm_backend;

/* Chooses the library behind large float32 GEMMs (matmul, conv's im2col path); -1 only
 * asks. Returns the library now in use for them, EAGER_GEMM_OPENBLAS (meaning the BLAS)
 * or EAGER_GEMM_ONEDNN (the BLAS when oneDNN was asked for but libdnnl cannot be loaded),
 * or -EAGER_ERR_ARGUMENT for an unknown backend. The default is AUTO, or OPENBLAS when the
 * environment holds EAGER_GEMM=openblas. */
EAGER_API int32_t eager_set_gemm_backend(int32_t backend);

/* A static description of the BLAS behind matmul and the convolutions, found with dlopen
 * at the first call of this or of a GEMM (EAGER_BLAS chooses; see csrc/blas.c):
 * "OpenBLAS 0.3.21 ... (libopenblas.so.0)", or "built-in kernels" when there is none. */
EAGER_API const char *eager_blas_name(void);

/* Asks the kernel to back the whole 2 MiB pages inside [ptr, ptr + bytes) with huge
 * pages (madvise MADV_HUGEPAGE), as NumPy does for arrays of 4 MiB and more: a fresh
 * 64 MiB output then takes 32 page faults instead of 16384. A hint: EAGER_OK for valid
 * arguments whether or not the kernel obliges. */
EAGER_API int32_t eager_advise_huge_pages(void *ptr, int64_t bytes);

/* ---- elementwise (elementwise.c, cast.c) ------------------------------------------------- */

/* out[i] = op(x[i]) for n contiguous elements starting at x + x_offset. */
EAGER_API int32_t eager_unary_flat(int32_t op, int32_t dtype, int64_t n, void *out, const void *x,
                                   int64_t x_offset);
/* out (dense, `shape`) = op(x) over a strided x. */
EAGER_API int32_t eager_unary(int32_t op, int32_t dtype, int32_t rank, const int64_t *shape,
                              void *out, const void *x, int64_t x_offset,
                              const int64_t *x_strides);
/* Flat binary op over n elements; a_step and b_step are 1 (contiguous) or 0 (one value
 * repeated), so `x * 2` needs no shape arrays. */
EAGER_API int32_t eager_binary_flat(int32_t op, int32_t dtype, int64_t n, void *out,
                                    const void *a, int64_t a_offset, int32_t a_step,
                                    const void *b, int64_t b_offset, int32_t b_step);
/* Longest chain eager_fused_elementwise runs in one call. */
#define EAGER_MAX_FUSED_STEPS 64
/* A chain of elementwise steps over n elements in one pass, blockwise, for traced graphs
 * (src/graph/fusion.ts). Step s is program[4s..4s+3] = {kind (0 unary, 1 binary), op, a, b}:
 * operand k < n_inputs is input k (the address of its first element; input_steps[k] is 1 for
 * n elements or 0 for one value repeated), else the result of step k - n_inputs. A step with
 * output_slots[s] >= 0 writes its n results at outputs[output_slots[s]]; the others live in
 * block-sized temporaries. Every step computes as its unfused kernel does, value for value.
 * Predicates and comparisons (other output dtypes) are not accepted. */
EAGER_API int32_t eager_fused_elementwise(int32_t dtype, int64_t n, int32_t n_steps,
                                          const int32_t *program, int32_t n_inputs,
                                          const uint64_t *inputs, const int32_t *input_steps,
                                          const uint64_t *outputs, const int32_t *output_slots);
/* out (dense, `shape`) = op(a, b) with broadcasting expressed as stride 0. `dtype` is
 * the dtype of a and b; comparisons write bool. */
EAGER_API int32_t eager_binary(int32_t op, int32_t dtype, int32_t rank, const int64_t *shape,
                               void *out, const void *a, int64_t a_offset,
                               const int64_t *a_strides, const void *b, int64_t b_offset,
                               const int64_t *b_strides);
/* out = cond ? a : b, cond bool, a, b and out of `dtype`. */
EAGER_API int32_t eager_where(int32_t dtype, int32_t rank, const int64_t *shape, void *out,
                              const void *cond, int64_t cond_offset,
                              const int64_t *cond_strides, const void *a, int64_t a_offset,
                              const int64_t *a_strides, const void *b, int64_t b_offset,
                              const int64_t *b_strides);
/* Strided copy with conversion: out[out_offset + out_strides . i] = (out_dtype) x[...].
 * Float to integer conversion truncates toward zero, saturates at the integer range
 * and maps NaN to 0; anything non-zero (NaN included) converts to true. */
EAGER_API int32_t eager_cast(int32_t x_dtype, int32_t out_dtype, int32_t rank,
                             const int64_t *shape, void *out, int64_t out_offset,
                             const int64_t *out_strides, const void *x, int64_t x_offset,
                             const int64_t *x_strides);

/* ---- reductions (reduce.c) ----------------------------------------------------------- */

/* Dims [0, keep_rank) of `shape` are kept and dims [keep_rank, rank) reduced; out is
 * dense over the kept dims. SUM, MEAN, PROD, MAX and MIN write `dtype`, ALL and ANY
 * bool, ARGMAX and ARGMIN int64 (the first index of the extreme; NaN counts as the
 * extreme). Empty reductions give 0, NaN (mean), 1, -inf/lowest, +inf/highest, true,
 * false; ARGMAX and ARGMIN of an empty axis are an argument error. */
EAGER_API int32_t eager_reduce(int32_t op, int32_t dtype, int32_t rank, const int64_t *shape,
                               int32_t keep_rank, void *out, const void *x, int64_t x_offset,
                               const int64_t *x_strides);

/* ---- linear algebra (matmul.c) -------------------------------------------------------- */

/* out[batch..., m, n] = a[batch..., m, k] . b[batch..., k, n], with batch dims broadcast
 * through their strides. Each matrix is addressed by (row stride, column stride); one of
 * the two must be 1 (the TS side copies other layouts first), which is how transposes
 * reach BLAS without a copy. float32 and float64 go to eager_gemm (oneDNN, the BLAS found
 * at run time or the built-in kernel); int32 and int64 use a
 * plain loop. */
EAGER_API int32_t eager_matmul(int32_t dtype, int32_t batch_rank, const int64_t *batch_shape,
                               int64_t m, int64_t n, int64_t k, void *out, const void *a,
                               int64_t a_offset, const int64_t *a_batch_strides,
                               int64_t a_row_stride, int64_t a_col_stride, const void *b,
                               int64_t b_offset, const int64_t *b_batch_strides,
                               int64_t b_row_stride, int64_t b_col_stride);

/* ---- indexing (index.c) ---- */

/* Indices are int32 or int64 (`index_dtype`); data moves by element size, so any dtype
 * works for gather, gather_nd and one_hot. Every index is checked, also when the output
 * is empty: gather, gather_nd and scatter_nd return EAGER_ERR_INDEX for one outside its
 * range, with *first_bad set to the position (in the flat indices) of the first such, and
 * nothing outside the buffers is read or written (the output may then be partly written).
 * All operands are dense from their offsets. */

/* out[b, o, j, :] = params[b, o, indices[b, j], :] with params [batch, outer, axis_len,
 * inner], indices [batch, n_idx] and out [batch, outer, n_idx, inner]. */
EAGER_API int32_t eager_gather(int32_t dtype, int32_t index_dtype, int64_t batch, int64_t outer,
                               int64_t axis_len, int64_t inner, int64_t n_idx, void *out,
                               const void *params, int64_t params_offset, const void *indices,
                               int64_t indices_offset, int64_t *first_bad);
/* out[i, :] = params[indices[i, 0], ..., indices[i, depth - 1], ...] flattened: params has
 * `params_shape` (rank params_rank), indices is [n, depth] with depth <= params_rank, and
 * out is [n, prod(params_shape[depth:])]. */
EAGER_API int32_t eager_gather_nd(int32_t dtype, int32_t index_dtype, int32_t params_rank,
                                  const int64_t *params_shape, int64_t n, int32_t depth,
                                  void *out, const void *params, int64_t params_offset,
                                  const void *indices, int64_t indices_offset,
                                  int64_t *first_bad);
/* out[seg, :] = sum of data[i, :] over i with segment_ids[i] == seg, out [num_segments,
 * inner] (zeroed first), data [n, inner]. Ids outside [0, num_segments) are dropped.
 * float32, float64, int32 and int64 (integers wrap). Each output element adds its
 * inputs in input order whatever the thread count, so results are deterministic. */
EAGER_API int32_t eager_unsorted_segment_sum(int32_t dtype, int32_t index_dtype, int64_t n,
                                             int64_t inner, int64_t num_segments, void *out,
                                             const void *data, int64_t data_offset,
                                             const void *segment_ids, int64_t ids_offset);
/* out (dense, `out_shape`, zeroed first) gets updates[i, :] added at
 * out[indices[i, 0], ..., indices[i, depth - 1], ...]: indices [n, depth] with
 * depth <= out_rank, updates [n, prod(out_shape[depth:])]. Duplicates add up, in input
 * order; an index out of range is EAGER_ERR_INDEX. Same dtypes as the segment sum. */
EAGER_API int32_t eager_scatter_nd(int32_t dtype, int32_t index_dtype, int32_t out_rank,
                                   const int64_t *out_shape, int64_t n, int32_t depth, void *out,
                                   const void *updates, int64_t updates_offset,
                                   const void *indices, int64_t indices_offset,
                                   int64_t *first_bad);
/* out[o, d, i] = indices[o, i] == d ? on_value : off_value, indices [outer, inner], out
 * [outer, depth, inner] of `dtype`; the values convert as eager_cast converts float64.
 * An index outside [0, depth) gives an all-off column. */
EAGER_API int32_t eager_one_hot(int32_t dtype, int32_t index_dtype, int64_t outer, int64_t depth,
                                int64_t inner, void *out, const void *indices,
                                int64_t indices_offset, double on_value, double off_value);

/* ---- random numbers (random.c) ---- */

/* One Philox 4x32-10 block: out = philox(counter[4], key[2]). Matches Random123's
 * known-answer vectors (counter 0, key 0 -> 0x6627e8d5 0xe169c58d 0xbc57ac4c 0x9b00dbd8). */
EAGER_API int32_t eager_philox4x32(const uint32_t *counter, const uint32_t *key,
                                   uint32_t *out);
/* Fills n (at most 2^32) contiguous elements of `dtype` from distribution `dist`
 * (eager_random_dist). Element i depends only on (seed, stream, i), never on the thread
 * count: it comes from Philox block key = seed, counter = (i / G, attempt, stream) with
 * G = 4 for float32 and int32, 2 for float64 and int64; attempt > 0 only for redraws.
 * - UNIFORM: float32 from 24 random bits, float64 from 53, as a + (b - a) u, clamped
 *   below b; int32 and int64 exactly uniform on the integers of [a, b) (Lemire's
 *   multiply-shift with rejection; a and b integral and inside the dtype's range).
 * - NORMAL: mean a, standard deviation b >= 0, by Box-Muller (float dtypes only).
 * - TRUNCATED_NORMAL: as NORMAL, each element redrawn until |z| < 2.
 * a < b (UNIFORM) and finite parameters are checked: EAGER_ERR_ARGUMENT otherwise. */
EAGER_API int32_t eager_random(int32_t dist, int32_t dtype, int64_t n, void *out, uint64_t seed,
                               uint64_t stream, double a, double b);

/* ---- convolution (conv.c) and pooling (pooling.c) ---- */

/* All tensors are NHWC and dense from their offsets; float32 and float64 only. The
 * convolution kernels share one geometry: x_shape [N,H,W,C], filter_shape [KH,KW,C,OC]
 * (HWIO), out_shape [N,OH,OW,OC] and eager_conv_params, with OH = (H + pad_top +
 * pad_bottom - (KH - 1) * dilation_h - 1) / stride_h + 1 (likewise OW); a geometry that
 * does not satisfy this is EAGER_ERR_ARGUMENT. Padding reads as zeros. Scratch buffers (a
 * few MB) that cannot be allocated give EAGER_ERR_NO_MEMORY. */
typedef struct {
  int64_t stride_h, stride_w;
  int64_t dilation_h, dilation_w;
  int64_t pad_top, pad_bottom, pad_left, pad_right;
} eager_conv_params;

/* out = conv2d(x, filter) (a cross-correlation, as TensorFlow's). */
EAGER_API int32_t eager_conv2d(int32_t dtype, const int64_t *x_shape, const int64_t *filter_shape,
                               const int64_t *out_shape, const eager_conv_params *params,
                               void *out, const void *x, int64_t x_offset, const void *filter,
                               int64_t filter_offset);
/* dx [N,H,W,C] = the gradient of conv2d w.r.t. x given dy [N,OH,OW,OC] (TensorFlow's
 * Conv2DBackpropInput, also conv2d_transpose). */
EAGER_API int32_t eager_conv2d_backprop_input(int32_t dtype, const int64_t *x_shape,
                                              const int64_t *filter_shape,
                                              const int64_t *out_shape,
                                              const eager_conv_params *params, void *dx,
                                              const void *filter, int64_t filter_offset,
                                              const void *dy, int64_t dy_offset);
/* dfilter [KH,KW,C,OC] = the gradient of conv2d w.r.t. the filter given x and dy. */
EAGER_API int32_t eager_conv2d_backprop_filter(int32_t dtype, const int64_t *x_shape,
                                               const int64_t *filter_shape,
                                               const int64_t *out_shape,
                                               const eager_conv_params *params, void *dfilter,
                                               const void *x, int64_t x_offset, const void *dy,
                                               int64_t dy_offset);

/* Pooling: x_shape [N,H,W,C], out_shape [N,OH,OW,C] and eager_pool_params, OH and OW as
 * above with dilation 1. Windows cover only in-bounds elements: max ignores the padding
 * (NaN wins; an empty window gives -inf) and avg divides by the number of in-bounds
 * elements (an empty window gives 0), as TensorFlow's SAME pooling does. */
typedef struct {
  int64_t window_h, window_w;
  int64_t stride_h, stride_w;
  int64_t pad_top, pad_bottom, pad_left, pad_right;
} eager_pool_params;
EAGER_API int32_t eager_max_pool2d(int32_t dtype, const int64_t *x_shape,
                                   const int64_t *out_shape, const eager_pool_params *params,
                                   void *out, const void *x, int64_t x_offset);
EAGER_API int32_t eager_avg_pool2d(int32_t dtype, const int64_t *x_shape,
                                   const int64_t *out_shape, const eager_pool_params *params,
                                   void *out, const void *x, int64_t x_offset);
/* dx [N,H,W,C]: each dy element goes to the argmax of its window in x (the first
 * maximum in row-major window order, as TensorFlow's MaxPoolGrad). */
EAGER_API int32_t eager_max_pool2d_grad(int32_t dtype, const int64_t *x_shape,
                                        const int64_t *out_shape, const eager_pool_params *params,
                                        void *dx, const void *x, int64_t x_offset,
                                        const void *dy, int64_t dy_offset);
/* out [N,OH,OW,C]: each element is ddx [N,H,W,C] at its window's argmax in x (chosen as
 * eager_max_pool2d_grad chooses it; an empty window gives 0): the gradient of
 * eager_max_pool2d_grad w.r.t. dy (TensorFlow's MaxPoolGradGrad). */
EAGER_API int32_t eager_max_pool2d_grad_grad(int32_t dtype, const int64_t *x_shape,
                                             const int64_t *out_shape,
                                             const eager_pool_params *params, void *out,
                                             const void *x, int64_t x_offset, const void *ddx,
                                             int64_t ddx_offset);
/* dx [N,H,W,C]: each dy element spread evenly over the in-bounds elements of its window. */
EAGER_API int32_t eager_avg_pool2d_grad(int32_t dtype, const int64_t *x_shape,
                                        const int64_t *out_shape, const eager_pool_params *params,
                                        void *dx, const void *dy, int64_t dy_offset);

/* ---- softmax (softmax.c) ------------------------------------------------------------ */

/* softmax (log = 0) or log-softmax (log = 1) along the last axis of the dense [rows, cols]
 * float tensor at x + x_offset, into out: exp(x - max) / sum, or x - max - log(sum). */
EAGER_API int32_t eager_softmax(int32_t dtype, int64_t rows, int64_t cols, void *out,
                                const void *x, int64_t x_offset, int32_t log);

/* The gradient of sparse softmax cross-entropy from the log-probabilities: out[r, j] =
 * (exp(logp[r, j]) - (j == labels[r])) * dy[r], logp and out dense float [rows, cols],
 * labels int32 or int64 (`label_dtype`) and dy [rows], all dense from their offsets. A
 * label outside [0, cols) is EAGER_ERR_INDEX (the op checked them already). */
EAGER_API int32_t eager_sparse_xent_grad(int32_t dtype, int32_t label_dtype, int64_t rows,
                                         int64_t cols, const void *logp, const void *labels,
                                         const void *dy, void *out);

/* ---- batch normalisation (batch_norm.c) ------------------------------------------------ */

/* Batch normalisation of the dense float x viewed as [outer, channels, inner] (channels
 * last: inner = 1; NCHW: outer = batch, inner = height x width), per channel:
 *   y = (x - mean) * scale / sqrt(variance + epsilon) + offset, then max(y, 0) with `relu`
 * With `training` the batch's mean and biased variance are computed into mean and variance
 * ([channels]); otherwise they are read from there. scale and offset ([channels]) may be
 * NULL for 1 and 0. */
EAGER_API int32_t eager_batch_norm(int32_t dtype, int64_t outer, int64_t channels, int64_t inner,
                                   const void *x, const void *scale, const void *offset,
                                   double epsilon, int32_t training, int32_t relu, void *mean,
                                   void *variance, void *y);

/* The gradient of eager_batch_norm from dy (x's shape): dx, and dscale and doffset
 * ([channels]); `training` says whether mean and variance were the batch's (so that they
 * depend on x) or given. scale may be NULL for 1; y is the relu-fused output (dy counts
 * only where y > 0), or NULL without relu. */
EAGER_API int32_t eager_batch_norm_grad(int32_t dtype, int64_t outer, int64_t channels,
                                        int64_t inner, const void *x, const void *dy,
                                        const void *scale, const void *mean,
                                        const void *variance, const void *y, double epsilon,
                                        int32_t training, void *dx, void *dscale, void *doffset);

/* ---- layer epilogue (bias.c) ---------------------------------------------------------- */

typedef enum {
  EAGER_ACTIVATION_NONE = 0,
  EAGER_ACTIVATION_RELU = 1,
  EAGER_ACTIVATION_COUNT
} eager_activation;

/* data = activation(data + bias) in place, data a dense [rows, cols] float tensor and bias
 * (at bias + bias_offset) cols long. */
EAGER_API int32_t eager_bias_activation(int32_t dtype, int64_t rows, int64_t cols, void *data,
                                        const void *bias, int64_t bias_offset,
                                        int32_t activation);

/* ---- recurrent cells (lstm.c) --------------------------------------------------------- */

/* One LSTM step over dense float rows, Keras's gate order i, f, c, o: from the
 * pre-activations z [rows, 4 units] and the cell state c [rows, units] writes
 *   c_out = sigmoid(z_f + forget_bias) * c + sigmoid(z_i) * tanh(z_c)
 *   h_out = sigmoid(z_o) * tanh(c_out)                                 (both [rows, units]). */
EAGER_API int32_t eager_lstm_step(int32_t dtype, int64_t rows, int64_t units, const void *z,
                                  const void *c, double forget_bias, void *h_out, void *c_out);

/* The gradient of eager_lstm_step from the upstream dh and dc_next ([rows, units], dense):
 * dz_out [rows, 4 units] and dc_out [rows, units]. The gates are recomputed from z. */
EAGER_API int32_t eager_lstm_step_grad(int32_t dtype, int64_t rows, int64_t units,
                                       const void *z, const void *c, const void *dh,
                                       const void *dc_next, double forget_bias, void *dz_out,
                                       void *dc_out);

/* ---- optimizers (optimizer.c) ------------------------------------------------------- */

/* One optimizer step over n contiguous elements of a float variable: var_out (a buffer
 * apart from var, which stays valid for tensors that share it) and the slot outputs s*_out
 * receive the updated values of var and the slots s*, given the gradient g. The slots go
 * either all in place (every s*_out equal to its s*) or all apart; a mix is an argument
 * error. Slots the rule does not use are not read or written (pass any buffer, the same
 * one as input and output for in place). Hyperparameters are rounded to the dtype first,
 * as TensorFlow's kernels take them. */
EAGER_API int32_t eager_apply_update(int32_t rule, int32_t dtype, int64_t n, const double *hyper,
                                     void *var_out, const void *var, const void *g,
                                     void *s0_out, const void *s0, void *s1_out, const void *s1,
                                     void *s2_out, const void *s2);

/* ---- collectives over MPI (mpi.c) -------------------------------------------------------- */

/* The MPI library eager_mpi_init found (its ABI decides how handles are spelled). */
typedef enum {
  EAGER_MPI_NONE,
  EAGER_MPI_OPEN_MPI,
  EAGER_MPI_MPICH, /* and libraries of MPICH's ABI: Intel MPI, MVAPICH */
  EAGER_MPI_FLAVOR_COUNT
} eager_mpi_flavor;

/* Loads libmpi at run time (EAGER_MPI names the file, else libmpi.so.40, libmpi.so.12,
 * libmpich.so.12, libmpi.so), initialises MPI from the environment mpirun set (unless the
 * process already did) asking for MPI_THREAD_SERIALIZED, and duplicates MPI_COMM_WORLD with
 * errors returned, not fatal. info[0..3] receive the rank, the number of ranks, the
 * eager_mpi_flavor and the thread level MPI provided. Repeated calls only fill info.
 * Every eager_mpi_ function returns EAGER_ERR_MPI with eager_mpi_error() set on failure. */
EAGER_API int32_t eager_mpi_init(int32_t *info);
/* What the calling thread's last failed eager_mpi_ call said. */
EAGER_API const char *eager_mpi_error(void);
/* MPI's own name for itself and the file it came from, e.g. "Open MPI v4.1.4 (libmpi.so.40)". */
EAGER_API const char *eager_mpi_library(void);
/* Reduces `count` elements over every rank with op SUM, PROD, MAX or MIN (eager_reduce_op;
 * bool and uint8 reduce as uint8), into recv; send NULL, or equal to recv, reduces recv in
 * place. */
EAGER_API int32_t eager_mpi_allreduce(int32_t op, int32_t dtype, int64_t count, const void *send,
                                      void *recv);
/* Queues an in-place eager_mpi_allreduce of data for the communication thread and returns its
 * ticket (>= 0), or minus a status. data must stay alive and untouched until
 * eager_mpi_wait(ticket) returns; tickets are waited for in the order they were started. */
EAGER_API int32_t eager_mpi_allreduce_start(int32_t op, int32_t dtype, int64_t count,
                                            void *data);
/* Blocks until the reduction of `ticket` is done; returns its status. */
EAGER_API int32_t eager_mpi_wait(int32_t ticket);
/* Copies `count` elements of root's data into every other rank's data. */
EAGER_API int32_t eager_mpi_broadcast(int32_t dtype, int64_t count, void *data, int32_t root);
/* Concatenates every rank's send (counts[r] elements from rank r; counts holds one entry per
 * rank, the same on every rank) into recv in rank order. */
EAGER_API int32_t eager_mpi_allgather(int32_t dtype, const int64_t *counts, const void *send,
                                      void *recv);
/* Every rank's signature of a collective call (entry_bytes each, the caller's own written at
 * its rank in table, size x entry_bytes) gathered into table, so that the caller can check
 * that the ranks agree before MPI sees a mismatched call (mpi_exchange.c); with count > 0,
 * send's count elements are reduced with op over the ranks into recv in the same messages (a
 * small allReduce in one round trip; at most 64 KiB of data). Ranks that disagree on the data's
 * length never hang: *spoiled becomes 1 on every rank and recv holds no reduction. */
EAGER_API int32_t eager_mpi_exchange(int64_t entry_bytes, void *table, int32_t op, int32_t dtype,
                                     int64_t count, const void *send, void *recv,
                                     int32_t *spoiled);
/* Returns when every rank has called it. */
EAGER_API int32_t eager_mpi_barrier(void);
/* Ends every rank of the job with exit code `code` (MPI_Abort): for a rank that cannot go on. */
EAGER_API int32_t eager_mpi_abort(int32_t code);
/* Finalises MPI if eager_mpi_init initialised it; it cannot be initialised again after. */
EAGER_API int32_t eager_mpi_finalize(void);

/* ---- checksums (crc32c.c) --------------------------------------------------------------- */

/* CRC-32C of n bytes at data + offset, continuing from `crc` (0 to start): the checksum of
 * TensorFlow's checkpoints and record files (masking is the caller's). */
EAGER_API uint32_t eager_crc32c(uint32_t crc, const void *data, int64_t offset, int64_t n);

/* ---- image resampling (resize.c) -------------------------------------------------------- */

/* out [batch, out_h, out_w, ch] (dims: batch, in_h, in_w, ch, out_h, out_w) from the dense
 * x [batch, in_h, in_w, ch] at x + x_offset: out[b, y, x, c] = sum over the taps t of row y
 * and s of column x of row_weight[t] * col_weight[s] * x[b, row_index[t], col_index[s], c].
 * The taps are CSR matrices: row_start has out_h + 1 non-decreasing entries from 0, row y's
 * taps are [row_start[y], row_start[y + 1]) with row_index in [0, in_h); likewise col_* for
 * out_w over in_w (checked: EAGER_ERR_ARGUMENT). float32 or float64. */
EAGER_API int32_t eager_resample2d(int32_t dtype, const int64_t *dims, const int32_t *row_start,
                                   const int32_t *row_index, const double *row_weight,
                                   const int32_t *col_start, const int32_t *col_index,
                                   const double *col_weight, void *out, const void *x,
                                   int64_t x_offset);

/* ---- scans, sorting and segments (scan.c, sort.c, segment.c) ---------------------------- */

typedef enum {
  EAGER_SCAN_SUM,       /* float32, float64, int32, int64, uint8 (integers wrap) */
  EAGER_SCAN_PROD,      /* the same dtypes */
  EAGER_SCAN_LOGSUMEXP, /* float32, float64: log(e^a + e^b), stable */
  EAGER_SCAN_OP_COUNT
} eager_scan_op;

/* out[o, i, j] = x[o, 0, j] op ... op x[o, i, j] for dense x and out [outer, n, inner] (x from
 * x_offset): with `exclusive` element i itself is left out (the first is the identity: 0, 1
 * or -inf), with `reverse` the scan runs from i = n - 1 down. Results do not depend on the
 * thread count (long rows are summed in blocks of fixed length). */
EAGER_API int32_t eager_scan(int32_t op, int32_t dtype, int64_t outer, int64_t n, int64_t inner,
                             int32_t exclusive, int32_t reverse, void *out, const void *x,
                             int64_t x_offset);
/* A stable sort of each row of dense x [rows, n] (n < 2^31): values (NULL: not wanted) gets
 * the sorted row, indices (NULL: not wanted) the int32 positions they came from. Ascending
 * unless `descending`; ties keep input order either way; -0 equals +0; NaN sorts above +inf.
 * float32, float64, int32, int64, uint8. */
EAGER_API int32_t eager_sort(int32_t dtype, int64_t rows, int64_t n, int32_t descending,
                             void *values, int32_t *indices, const void *x, int64_t x_offset);
/* The k (<= n) largest of each row of dense x [rows, n] (n < 2^31), largest first, into values
 * and their int32 positions into indices ([rows, k] each); equal values: lower position
 * first. Orders as eager_sort does; same dtypes. */
EAGER_API int32_t eager_top_k(int32_t dtype, int64_t rows, int64_t n, int64_t k, void *values,
                              int32_t *indices, const void *x, int64_t x_offset);
/* out[r, j] = the first position p in sorted row r (dense [rows, n]) with !(sorted[r, p] <
 * values[r, j]) (or, with `right`, values[r, j] < sorted[r, p]), n when none: out [rows, m]
 * of out_dtype int32 or int64. Rows are assumed sorted ascending. Same dtypes as the sort. */
EAGER_API int32_t eager_search_sorted(int32_t dtype, int32_t out_dtype, int64_t rows, int64_t n,
                                      int64_t m, int32_t right, void *out, const void *sorted,
                                      int64_t sorted_offset, const void *values,
                                      int64_t values_offset);
/* out[s, :] = the max, min or product (op: EAGER_REDUCE_MAX, _MIN, _PROD) of data[i, :] over
 * i with segment_ids[i] == s: data dense [n, inner], ids [n] int32 or int64 (`index_dtype`),
 * out [num_segments, inner]. Ids outside [0, num_segments) are dropped. An empty segment
 * gets the dtype's lowest value (max), highest (min) or 1 (prod), or 0 with `empty_zero`.
 * Max and min propagate NaN. Every dtype but bool. */
EAGER_API int32_t eager_segment_reduce(int32_t op, int32_t dtype, int32_t index_dtype,
                                       int64_t n, int64_t inner, int64_t num_segments,
                                       int32_t empty_zero, void *out, const void *data,
                                       int64_t data_offset, const void *segment_ids,
                                       int64_t ids_offset);

/* ---- LAPACK: factorisations and solvers (lapack.c) ---------------------------------------
 * LAPACK is found at run time (OpenBLAS, MKL or liblapack; EAGER_LAPACK=none or
 * EAGER_BLAS=none: none). Every function takes dense row-major float32 or float64 operands
 * batched over `batch` leading matrices and needs eager_lapack_available(); without one it
 * returns EAGER_ERR_ARGUMENT. `bad` receives the first matrix whose factorisation failed
 * (not positive definite, singular, no convergence), or -1. */

/* 1 when a LAPACK library was found (loaded at the first call), else 0. */
EAGER_API int32_t eager_lapack_available(void);
/* out [batch, n, n] = the lower Cholesky factor L (L L^T = x) from x's lower triangle; a
 * matrix that is not positive definite gets NaN everywhere (and sets `bad`). */
EAGER_API int32_t eager_lapack_cholesky(int32_t dtype, int64_t batch, int64_t n, void *out,
                                        const void *x, int64_t x_offset, int64_t *bad);
/* out [batch, n, k] = a^-1 rhs (a^T with `adjoint`) by LU with partial pivoting; a singular
 * matrix (an exact zero pivot) sets `bad` and leaves its out zeroed. */
EAGER_API int32_t eager_lapack_solve(int32_t dtype, int64_t batch, int64_t n, int64_t k,
                                     int32_t adjoint, void *out, const void *a,
                                     int64_t a_offset, const void *rhs, int64_t rhs_offset,
                                     int64_t *bad);
/* sign [batch] and logabs [batch] of det(x) by LU; singular: sign 0, logabs -inf. */
EAGER_API int32_t eager_lapack_slogdet(int32_t dtype, int64_t batch, int64_t n, void *sign,
                                       void *logabs, const void *x, int64_t x_offset);
/* out [batch, n, k] = a^-1 rhs (a^T with `adjoint`) for a triangular a: only its lower
 * (`lower`) or upper triangle is read; a zero diagonal gives infinities or NaN, no error. */
EAGER_API int32_t eager_lapack_triangular_solve(int32_t dtype, int64_t batch, int64_t n,
                                                int64_t k, int32_t lower, int32_t adjoint,
                                                void *out, const void *a, int64_t a_offset,
                                                const void *rhs, int64_t rhs_offset);
/* x [batch, m, n] = q r: q [batch, m, c] with orthonormal columns, r [batch, c, n] upper
 * triangular, c = m with `full`, else min(m, n). */
EAGER_API int32_t eager_lapack_qr(int32_t dtype, int64_t batch, int64_t m, int64_t n,
                                  int32_t full, void *q, void *r, const void *x,
                                  int64_t x_offset);
/* e [batch, n] ascending eigenvalues of the symmetric x (its lower triangle read) and, when
 * v is not NULL, v [batch, n, n] whose columns are the eigenvectors. NaN in x, or no
 * convergence, sets `bad`. */
EAGER_API int32_t eager_lapack_eigh(int32_t dtype, int64_t batch, int64_t n, void *e, void *v,
                                    const void *x, int64_t x_offset, int64_t *bad);
/* x [batch, m, n] = u diag(s) v^T, s [batch, k] descending (k = min(m, n)); mode 0: s only
 * (u, v NULL), 1: u [m, k], v [n, k], 2: u [m, m], v [n, n]. A matrix that fails (NaN in it, or
 * no convergence) gets NaN in s, u and v and sets `bad`. */
EAGER_API int32_t eager_lapack_svd(int32_t dtype, int64_t batch, int64_t m, int64_t n,
                                   int32_t mode, void *s, void *u, void *v, const void *x,
                                   int64_t x_offset, int64_t *bad);

/* ---- depthwise convolution (depthwise.c) ---------------------------------------------
 * NHWC float32 or float64, dense operands. geometry is 15 int64: n, h, w, c, m, kh, kw, oh,
 * ow, sh, sw, dh, dw, pad_top, pad_left for x [n,h,w,c], filter [kh,kw,c,m] and
 * y [n,oh,ow,c*m] with y[n,p,q,c*m+k] = sum over (i,j) of
 * x[n, p*sh - pad_top + i*dh, q*sw - pad_left + j*dw, c] * filter[i,j,c,k], positions
 * outside x reading as zeros. pass 0: out = y from (a = x, b = filter); 1: out = dx
 * [n,h,w,c] from (a = filter, b = dy); 2: out = dfilter [kh,kw,c,m] from (a = x, b = dy).
 * The caller sizes oh, ow (any value is memory-safe: every read is bounds-checked) and out.
 * Results do not depend on the thread count. EAGER_ERR_DTYPE for another dtype;
 * EAGER_ERR_ARGUMENT for an unknown pass, a negative count or offset, a stride or dilation
 * below 1, or sizes that overflow. */
EAGER_API int32_t eager_depthwise_conv2d(int32_t dtype, int32_t pass, const int64_t *geometry,
                                         void *out, const void *a, int64_t a_offset,
                                         const void *b, int64_t b_offset);

#ifdef __cplusplus
}
#endif

#endif /* EAGER_H */

