/**
 * The one symbol table of libeager (csrc/include/eager.h). Nothing else in the project
 * names a C symbol; tests/native_test.ts checks this table against the header.
 *
 * Pointers to tensor data are "buffer" parameters (a TypedArray, passed without a
 * copy for the duration of the call); shapes and strides are int64 arrays.
 * @module
 */

export const symbols = {
  // int32_t eager_abi_version(void)
  eager_abi_version: { parameters: [], result: "i32" },
  // const char *eager_status_message(int32_t status)
  eager_status_message: { parameters: ["i32"], result: "pointer" },
  // int32_t eager_set_num_threads(int32_t n)
  eager_set_num_threads: { parameters: ["i32"], result: "i32" },
  // int32_t eager_num_threads(void)
  eager_num_threads: { parameters: [], result: "i32" },
  // int32_t eager_set_gemm_backend(int32_t backend)
  eager_set_gemm_backend: { parameters: ["i32"], result: "i32" },
  // const char *eager_blas_name(void)
  eager_blas_name: { parameters: [], result: "pointer" },
  // int32_t eager_cpu_levels(void)
  eager_cpu_levels: { parameters: [], result: "i32" },
  // int32_t eager_cpu_level(void)
  eager_cpu_level: { parameters: [], result: "i32" },
  // int32_t eager_set_cpu_level(int32_t level)
  eager_set_cpu_level: { parameters: ["i32"], result: "i32" },

  // int32_t eager_advise_huge_pages(void *ptr, int64_t bytes)
  eager_advise_huge_pages: { parameters: ["buffer", "i64"], result: "i32" },

  eager_unary_flat: {
    // op, dtype, int64 n, void *out, const void *x, int64 x_offset
    parameters: ["i32", "i32", "i64", "buffer", "buffer", "i64"],
    result: "i32",
  },
  eager_unary: {
    // op, dtype, rank, const int64 *shape, void *out, const void *x, int64 x_offset,
    // const int64 *x_strides
    parameters: ["i32", "i32", "i32", "buffer", "buffer", "buffer", "i64", "buffer"],
    result: "i32",
  },
  eager_binary_flat: {
    // op, dtype, int64 n, void *out, const void *a, int64 a_offset, int32 a_step,
    // const void *b, int64 b_offset, int32 b_step
    parameters: ["i32", "i32", "i64", "buffer", "buffer", "i64", "i32", "buffer", "i64", "i32"],
    result: "i32",
  },
  eager_binary: {
    // op, dtype, rank, const int64 *shape, void *out, const void *a, int64 a_offset,
    // const int64 *a_strides, const void *b, int64 b_offset, const int64 *b_strides
    parameters: [
      "i32",
      "i32",
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "i64",
      "buffer",
      "buffer",
      "i64",
      "buffer",
    ],
    result: "i32",
  },
  eager_where: {
    // dtype, rank, const int64 *shape, void *out, const uint8 *cond, int64 cond_offset,
    // const int64 *cond_strides, const void *a, int64 a_offset, const int64 *a_strides,
    // const void *b, int64 b_offset, const int64 *b_strides
    parameters: [
      "i32",
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "i64",
      "buffer",
      "buffer",
      "i64",
      "buffer",
      "buffer",
      "i64",
      "buffer",
    ],
    result: "i32",
  },
  eager_cast: {
    // x_dtype, out_dtype, rank, const int64 *shape, void *out, int64 out_offset,
    // const int64 *out_strides (null: dense), const void *x, int64 x_offset,
    // const int64 *x_strides
    parameters: [
      "i32",
      "i32",
      "i32",
      "buffer",
      "buffer",
      "i64",
      "buffer",
      "buffer",
      "i64",
      "buffer",
    ],
    result: "i32",
  },
  eager_reduce: {
    // op, dtype, rank, const int64 *shape, int32 keep_rank, void *out, const void *x,
    // int64 x_offset, const int64 *x_strides
    parameters: ["i32", "i32", "i32", "buffer", "i32", "buffer", "buffer", "i64", "buffer"],
    result: "i32",
  },
  eager_matmul: {
    // dtype, batch_rank, const int64 *batch_shape, int64 m, int64 n, int64 k, void *out,
    // const void *a, int64 a_offset, const int64 *a_batch_strides, int64 a_row_stride,
    // int64 a_col_stride, const void *b, int64 b_offset, const int64 *b_batch_strides,
    // int64 b_row_stride, int64 b_col_stride
    parameters: [
      "i32",
      "i32",
      "buffer",
      "i64",
      "i64",
      "i64",
      "buffer",
      "buffer",
      "i64",
      "buffer",
      "i64",
      "i64",
      "buffer",
      "i64",
      "buffer",
      "i64",
      "i64",
    ],
    result: "i32",
  },
  // int32_t eager_philox4x32(const uint32 *counter, const uint32 *key, uint32 *out)
  eager_philox4x32: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  eager_random: {
    // dist, dtype, int64 n, void *out, uint64 seed, uint64 stream, double a, double b
    // (seed and stream as bigint or a safe-integer number)
    parameters: ["i32", "i32", "i64", "buffer", "u64", "u64", "f64", "f64"],
    result: "i32",
  },

  // ---- indexing (index.c) ----
  eager_gather: {
    // dtype, index_dtype, int64 batch, int64 outer, int64 axis_len, int64 inner,
    // int64 n_idx, void *out, const void *params, int64 params_offset,
    // const void *indices, int64 indices_offset
    parameters: [
      "i32",
      "i32",
      "i64",
      "i64",
      "i64",
      "i64",
      "i64",
      "buffer",
      "buffer",
      "i64",
      "buffer",
      "i64",
    ],
    result: "i32",
  },
  eager_gather_nd: {
    // dtype, index_dtype, params_rank, const int64 *params_shape, int64 n, int32 depth,
    // void *out, const void *params, int64 params_offset, const void *indices,
    // int64 indices_offset
    parameters: [
      "i32",
      "i32",
      "i32",
      "buffer",
      "i64",
      "i32",
      "buffer",
      "buffer",
      "i64",
      "buffer",
      "i64",
    ],
    result: "i32",
  },
  eager_unsorted_segment_sum: {
    // dtype, index_dtype, int64 n, int64 inner, int64 num_segments, void *out,
    // const void *data, int64 data_offset, const void *segment_ids, int64 ids_offset
    parameters: ["i32", "i32", "i64", "i64", "i64", "buffer", "buffer", "i64", "buffer", "i64"],
    result: "i32",
  },
  eager_scatter_nd: {
    // dtype, index_dtype, out_rank, const int64 *out_shape, int64 n, int32 depth,
    // void *out, const void *updates, int64 updates_offset, const void *indices,
    // int64 indices_offset
    parameters: [
      "i32",
      "i32",
      "i32",
      "buffer",
      "i64",
      "i32",
      "buffer",
      "buffer",
      "i64",
      "buffer",
      "i64",
    ],
    result: "i32",
  },
  eager_one_hot: {
    // dtype, index_dtype, int64 outer, int64 depth, int64 inner, void *out,
    // const void *indices, int64 indices_offset, double on_value, double off_value
    parameters: ["i32", "i32", "i64", "i64", "i64", "buffer", "buffer", "i64", "f64", "f64"],
    result: "i32",
  },
  eager_conv2d: {
    // dtype, const int64 *x_shape, const int64 *filter_shape, const int64 *out_shape,
    // const int64 *params, void *out, const void *x, int64 x_offset, const void *filter,
    // int64 filter_offset
    parameters: [
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "i64",
      "buffer",
      "i64",
    ],
    result: "i32",
  },
  eager_conv2d_backprop_input: {
    // dtype, const int64 *x_shape, const int64 *filter_shape, const int64 *out_shape,
    // const int64 *params, void *dx, const void *filter, int64 filter_offset,
    // const void *dy, int64 dy_offset
    parameters: [
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "i64",
      "buffer",
      "i64",
    ],
    result: "i32",
  },
  eager_conv2d_backprop_filter: {
    // dtype, const int64 *x_shape, const int64 *filter_shape, const int64 *out_shape,
    // const int64 *params, void *dfilter, const void *x, int64 x_offset, const void *dy,
    // int64 dy_offset
    parameters: [
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "i64",
      "buffer",
      "i64",
    ],
    result: "i32",
  },
  eager_max_pool2d: {
    // dtype, const int64 *x_shape, const int64 *out_shape, const int64 *params, void *out,
    // const void *x, int64 x_offset
    parameters: ["i32", "buffer", "buffer", "buffer", "buffer", "buffer", "i64"],
    result: "i32",
  },
  eager_avg_pool2d: {
    // dtype, const int64 *x_shape, const int64 *out_shape, const int64 *params, void *out,
    // const void *x, int64 x_offset
    parameters: ["i32", "buffer", "buffer", "buffer", "buffer", "buffer", "i64"],
    result: "i32",
  },
  eager_max_pool2d_grad: {
    // dtype, const int64 *x_shape, const int64 *out_shape, const int64 *params, void *dx,
    // const void *x, int64 x_offset, const void *dy, int64 dy_offset
    parameters: ["i32", "buffer", "buffer", "buffer", "buffer", "buffer", "i64", "buffer", "i64"],
    result: "i32",
  },
  eager_max_pool2d_grad_grad: {
    // dtype, const int64 *x_shape, const int64 *out_shape, const int64 *params, void *out,
    // const void *x, int64 x_offset, const void *ddx, int64 ddx_offset
    parameters: ["i32", "buffer", "buffer", "buffer", "buffer", "buffer", "i64", "buffer", "i64"],
    result: "i32",
  },
  eager_avg_pool2d_grad: {
    // dtype, const int64 *x_shape, const int64 *out_shape, const int64 *params, void *dx,
    // const void *dy, int64 dy_offset
    parameters: ["i32", "buffer", "buffer", "buffer", "buffer", "buffer", "i64"],
    result: "i32",
  },
  eager_softmax: {
    // dtype, int64 rows, int64 cols, void *out, const void *x, int64 x_offset, int32 log
    parameters: ["i32", "i64", "i64", "buffer", "buffer", "i64", "i32"],
    result: "i32",
  },
  eager_bias_activation: {
    // dtype, int64 rows, int64 cols, void *data, const void *bias, int64 bias_offset,
    // int32 activation
    parameters: ["i32", "i64", "i64", "buffer", "buffer", "i64", "i32"],
    result: "i32",
  },
  eager_apply_update: {
    // rule, dtype, int64 n, const double *hyper, void *var_out, const void *var,
    // const void *g, void *s0_out, const void *s0, void *s1_out, const void *s1,
    // void *s2_out, const void *s2
    parameters: [
      "i32",
      "i32",
      "i64",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  // uint32_t eager_crc32c(uint32_t crc, const void *data, int64_t offset, int64_t n)
  eager_crc32c: { parameters: ["u32", "buffer", "i64", "i64"], result: "u32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** EAGER_ABI_VERSION this table was written for. */
export const ABI_VERSION = 5;
