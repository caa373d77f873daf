/*
 * The GEMM behind matmul and the convolutions' im2col paths.
 *
 * float32 products of at least ONEDNN_MIN_WORK multiply-adds whose B is read as stored
 * (not transposed) go to oneDNN's dnnl_sgemm when Debian's libdnnl (libdnnl2, or a
 * libdnnl.so.3) is installed; everything else, float64 included, goes to OpenBLAS.
 * NOTE: oneDNN is optional. It is looked up with dlopen at the first large product, never
 * linked, so a machine without it runs everything on OpenBLAS and the build needs no
 * oneDNN header. A call oneDNN refuses (a
 * status other than success: it checks its arguments and takes its scratch memory before
 * it writes C) is made again on OpenBLAS.
 *
 * Why: both libraries reach this core's FMA units, but oneDNN's JIT-generated AVX-512
 * kernel reaches more of them. Each library alone in a process, sgemm back to back
 * (median of 10 to 5,000 calls, 2 threads), OpenBLAS -> oneDNN: 128^3: 30 -> 19 us,
 * 256^3: 180 -> 149 us, 512^3: 1.33 -> 1.19 ms, 1024^3: 11.3-11.8 -> 9.9-10.4 ms, 2048^3:
 * 89-103 -> 84-88 ms; the MNIST dense layer's 100x3136 by 3136x1024: 4.56 -> 4.31 ms,
 * and A read transposed alike (100x1024 by 1024x3136: 4.54 -> 3.40 ms). With B read
 * transposed oneDNN 2.6 is often slower: 100x1024 by (3136x1024)^T 4.47 -> 7.73 ms,
 * 32x4096 by (4096x4096)^T 11.0 -> 27.1 ms, so those stay on OpenBLAS. Below
 * ONEDNN_MIN_WORK oneDNN's OpenMP threads cost more to wake than they save (a 64x64
 * product between JavaScript calls: 5.8 us on OpenBLAS, 9.9 us on oneDNN), and
 * OpenBLAS runs those on the calling thread.
 *
 * oneDNN's OpenMP threads spin after each product before they sleep (GOMP_SPINCOUNT;
 * src/native/loader.ts shortens it, as it does OPENBLAS_THREAD_TIMEOUT).
 *
 * EAGER_GEMM=openblas in the environment (read at the first large product) or
 * eager_set_gemm_backend keeps every product on OpenBLAS.
 */
#include <cblas.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Multiply-adds (m * n * k) from which float32 products go to oneDNN: 128^3. */
#define ONEDNN_MIN_WORK ((int64_t)1 << 21)

/* dnnl_sgemm as oneDNN 2.x and 3.x declare it (dnnl.h): row-major, 'N' or 'T', and a
 * status that is 0 (dnnl_success) when the product was made. */
typedef int (*dnnl_sgemm_fn)(char transa, char transb, int64_t m, int64_t n, int64_t k,
                             float alpha, const float *a, int64_t lda, const float *b,
                             int64_t ldb, float beta, float *c, int64_t ldc);

static pthread_once_t onednn_once = PTHREAD_ONCE_INIT;
static dnnl_sgemm_fn onednn_sgemm; /* set once by load_onednn, NULL when unavailable */
/* The backend asked for: EAGER_GEMM_AUTO until eager_set_gemm_backend or EAGER_GEMM. */
static _Atomic int32_t requested = -1; /* -1: EAGER_GEMM not read yet */

static void load_onednn(void) {
  static const char *const names[] = {"libdnnl.so.3", "libdnnl.so.2"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    void *library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!library) continue;
    dnnl_sgemm_fn fn = (dnnl_sgemm_fn)dlsym(library, "dnnl_sgemm");
    if (fn) {
      onednn_sgemm = fn;
      return;
    }
    dlclose(library);
  }
}

static int32_t requested_backend(void) {
  int32_t asked = atomic_load(&requested);
  if (asked >= 0) return asked;
  const char *env = getenv("EAGER_GEMM");
  int32_t from_env =
      env && strcmp(env, "openblas") == 0 ? EAGER_GEMM_OPENBLAS : EAGER_GEMM_AUTO;
  int32_t expected = -1;
  atomic_compare_exchange_strong(&requested, &expected, from_env);
  return atomic_load(&requested);
}

/* oneDNN's sgemm when the backend asked for allows it and libdnnl loads, else NULL. */
static dnnl_sgemm_fn onednn_in_use(void) {
  if (requested_backend() == EAGER_GEMM_OPENBLAS) return NULL;
  pthread_once(&onednn_once, load_onednn);
  return onednn_sgemm;
}

/* oneDNN's sgemm when this product should use it, else NULL. */
static dnnl_sgemm_fn onednn_for(int dtype, int trans_b, int64_t m, int64_t n, int64_t k) {
  if (dtype != EAGER_F32 || trans_b || m * n * k < ONEDNN_MIN_WORK) return NULL;
  return onednn_in_use();
}

EAGER_API int32_t eager_set_gemm_backend(int32_t backend) {
  if (backend >= 0) {
    if (backend >= EAGER_GEMM_COUNT) return -EAGER_ERR_ARGUMENT;
    atomic_store(&requested, backend);
  }
  return onednn_in_use() ? EAGER_GEMM_ONEDNN : EAGER_GEMM_OPENBLAS;
}

int eager_gemm_clears_output(int dtype, int trans_b, int64_t m, int64_t n, int64_t k) {
  return onednn_for(dtype, trans_b, m, n, k) != NULL;
}

void eager_gemm(int dtype, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                const void *a, int64_t lda, const void *b, int64_t ldb, double beta, void *c,
                int64_t ldc) {
  dnnl_sgemm_fn onednn = onednn_for(dtype, trans_b, m, n, k);
  if (onednn && onednn(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, 1.0f, a, lda, b,
                       ldb, (float)beta, c, ldc) == 0)
    return;
  enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  enum CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
  if (dtype == EAGER_F32)
    cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb,
                (float)beta, c, (int)ldc);
  else
    cblas_dgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, 1.0, a, (int)lda, b, (int)ldb,
                beta, c, (int)ldc);
}
