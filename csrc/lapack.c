/*
 * LAPACK's factorisations, found at run time like the CBLAS in blas.c: nothing is linked at
 * build time (the aarch64 cross-build has no LAPACK), so the Fortran entry points are
 * declared here and taken with dlsym from OpenBLAS (which ships LAPACK), MKL or the
 * reference liblapack. EAGER_LAPACK=none (or EAGER_BLAS=none) finds none; an explicit
 * EAGER_LAPACK=<library> is tried instead of the search.
 *
 * Layout: tensors are row-major and LAPACK is column-major, so a row-major matrix is read
 * as its column-major transpose and each kernel is written for that transpose (stated at
 * each). Batches are looped here; LAPACK threads each call itself.
 *
 * NOTE: Fortran integers are 32-bit (LP64 builds); the hidden lengths of CHARACTER
 * arguments are passed (size_t, 1) as gfortran expects.
 */
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef void (*getrf_fn)(const int *m, const int *n, void *a, const int *lda, int *ipiv,
                         int *info);
typedef void (*getrs_fn)(const char *trans, const int *n, const int *nrhs, const void *a,
                         const int *lda, const int *ipiv, void *b, const int *ldb, int *info,
                         size_t);
typedef void (*potrf_fn)(const char *uplo, const int *n, void *a, const int *lda, int *info,
                         size_t);
typedef void (*trsm_fn)(const char *side, const char *uplo, const char *transa,
                        const char *diag, const int *m, const int *n, const void *alpha,
                        const void *a, const int *lda, void *b, const int *ldb, size_t,
                        size_t, size_t, size_t);
typedef void (*geqrf_fn)(const int *m, const int *n, void *a, const int *lda, void *tau,
                         void *work, const int *lwork, int *info);
typedef void (*orgqr_fn)(const int *m, const int *n, const int *k, void *a, const int *lda,
                         const void *tau, void *work, const int *lwork, int *info);
typedef void (*syevd_fn)(const char *jobz, const char *uplo, const int *n, void *a,
                         const int *lda, void *w, void *work, const int *lwork, int *iwork,
                         const int *liwork, int *info, size_t, size_t);
typedef void (*gesdd_fn)(const char *jobz, const int *m, const int *n, void *a, const int *lda,
                         void *s, void *u, const int *ldu, void *vt, const int *ldvt,
                         void *work, const int *lwork, int *iwork, int *info, size_t);

typedef struct {
  getrf_fn getrf;
  getrs_fn getrs;
  potrf_fn potrf;
  trsm_fn trsm;
  geqrf_fn geqrf;
  orgqr_fn orgqr;
  syevd_fn syevd;
  gesdd_fn gesdd;
} lapack_fns;

static pthread_once_t lapack_once = PTHREAD_ONCE_INIT;
static lapack_fns lapack_f32, lapack_f64;
static int lapack_found;

static const char *const lapack_candidates[] = {
#if defined(__APPLE__)
    "/System/Library/Frameworks/Accelerate.framework/Accelerate",
    "libopenblas.dylib",
    "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
#else
    "libopenblas.so.0", "libopenblas.so", "libmkl_rt.so.2", "liblapack.so.3",
#endif
};

/* Takes the 16 entry points from `name`; 1 when every one is there. */
static int try_lapack(const char *name) {
  void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!lib) return 0;
  lapack_fns s = {
      (getrf_fn)dlsym(lib, "sgetrf_"), (getrs_fn)dlsym(lib, "sgetrs_"),
      (potrf_fn)dlsym(lib, "spotrf_"), (trsm_fn)dlsym(lib, "strsm_"),
      (geqrf_fn)dlsym(lib, "sgeqrf_"), (orgqr_fn)dlsym(lib, "sorgqr_"),
      (syevd_fn)dlsym(lib, "ssyevd_"), (gesdd_fn)dlsym(lib, "sgesdd_"),
  };
  lapack_fns d = {
      (getrf_fn)dlsym(lib, "dgetrf_"), (getrs_fn)dlsym(lib, "dgetrs_"),
      (potrf_fn)dlsym(lib, "dpotrf_"), (trsm_fn)dlsym(lib, "dtrsm_"),
      (geqrf_fn)dlsym(lib, "dgeqrf_"), (orgqr_fn)dlsym(lib, "dorgqr_"),
      (syevd_fn)dlsym(lib, "dsyevd_"), (gesdd_fn)dlsym(lib, "dgesdd_"),
  };
  void *all[16];
  memcpy(all, &s, sizeof s);
  memcpy(all + 8, &d, sizeof d);
  for (int i = 0; i < 16; i++) {
    if (!all[i]) {
      dlclose(lib);
      return 0;
    }
  }
  lapack_f32 = s;
  lapack_f64 = d;
  return 1;
}

static void find_lapack(void) {
  const char *asked = getenv("EAGER_LAPACK");
  const char *blas = getenv("EAGER_BLAS");
  if ((asked && strcmp(asked, "none") == 0) || (blas && strcmp(blas, "none") == 0)) return;
  if (asked && *asked) {
    lapack_found = try_lapack(asked);
    return;
  }
  for (size_t i = 0; i < sizeof lapack_candidates / sizeof lapack_candidates[0]; i++) {
    if (try_lapack(lapack_candidates[i])) {
      lapack_found = 1;
      return;
    }
  }
}

EAGER_API int32_t eager_lapack_available(void) {
  pthread_once(&lapack_once, find_lapack);
  return lapack_found;
}

static const lapack_fns *fns_of(int32_t dtype) {
  pthread_once(&lapack_once, find_lapack);
  if (!lapack_found) return NULL;
  return dtype == EAGER_F32 ? &lapack_f32 : &lapack_f64;
}

/* The templates below are instantiated once per float dtype: T the element, SUF its name. */
#define LAPACK_KERNELS(T, SUF)                                                                \
  /* dst [cols, rows] = src [rows, cols] transposed (both dense row-major). */                \
  /* NOTE: gesdd and syevd can loop forever on an infinity or NaN: such matrices never  \
   * reach them. */                                                                         \
  static int finite_##SUF(const T *x, int64_t count) {                                       \
    for (int64_t i = 0; i < count; i++)                                                     \
      if (!isfinite(x[i])) return 0;                                                        \
    return 1;                                                                               \
  }                                                                                         \
                                                                                            \
  static void transpose_##SUF(T *dst, const T *src, int64_t rows, int64_t cols) {             \
    for (int64_t i = 0; i < rows; i++)                                                        \
      for (int64_t j = 0; j < cols; j++) dst[j * rows + i] = src[i * cols + j];               \
  }                                                                                           \
                                                                                              \
  /* Row-major L = the column-major upper factor of A (A^T = A); not PD: NaN (as TF 2.21). */  \
  static int32_t cholesky_##SUF(const lapack_fns *f, int64_t batch, int64_t n, T *out,        \
                                const T *x, int64_t *bad) {                                   \
    int in = (int)n, info = 0;                                                                \
    memcpy(out, x, (size_t)(batch * n * n) * sizeof(T));                                     \
    for (int64_t b = 0; b < batch; b++) {                                                     \
      T *a = out + b * n * n;                                                                 \
      if (n > 0) f->potrf("U", &in, a, &in, &info, 1);                                        \
      for (int64_t i = 0; i < n; i++)                                                         \
        for (int64_t j = i + 1; j < n; j++) a[i * n + j] = 0;                                 \
      if (info != 0) {                                                                        \
        if (*bad < 0) *bad = b;                                                               \
        for (int64_t i = 0; i < n * n; i++) a[i] = (T)NAN;                                    \
      }                                                                                       \
    }                                                                                         \
    return EAGER_OK;                                                                          \
  }                                                                                           \
                                                                                              \
  /* getrf factors A^T (row-major A read column-major); A X = B is then getrs 'T'. */         \
  static int32_t solve_##SUF(const lapack_fns *f, int64_t batch, int64_t n, int64_t k,        \
                             int32_t adjoint, T *out, const T *a, const T *rhs,               \
                             int64_t *bad) {                                                  \
    int in = (int)n, ik = (int)k, info = 0;                                                   \
    T *lu = malloc((size_t)(n * n + n * k + 1) * sizeof(T));                                  \
    int *piv = malloc((size_t)(n + 1) * sizeof(int));                                         \
    if (!lu || !piv) {                                                                        \
      free(lu);                                                                               \
      free(piv);                                                                              \
      return EAGER_ERR_NO_MEMORY;                                                             \
    }                                                                                         \
    T *bt = lu + n * n;                                                                       \
    for (int64_t b = 0; b < batch; b++) {                                                     \
      memcpy(lu, a + b * n * n, (size_t)(n * n) * sizeof(T));                                 \
      info = 0; /* LAPACK refuses a leading dimension of 0: an empty system is solved */     \
      if (n > 0) f->getrf(&in, &in, lu, &in, piv, &info);                                     \
      if (info != 0) {                                                                        \
        if (*bad < 0) *bad = b;                                                               \
        memset(out + b * n * k, 0, (size_t)(n * k) * sizeof(T));                              \
        continue;                                                                             \
      }                                                                                       \
      transpose_##SUF(bt, rhs + b * n * k, n, k);                                             \
      if (k > 0 && n > 0) f->getrs(adjoint ? "N" : "T", &in, &ik, lu, &in, piv, bt, &in, &info, 1);    \
      transpose_##SUF(out + b * n * k, bt, k, n);                                             \
    }                                                                                         \
    free(lu);                                                                                 \
    free(piv);                                                                                \
    return EAGER_OK;                                                                          \
  }                                                                                           \
                                                                                              \
  /* det(A) = det(A^T): the sign and log|.| of the LU pivots' product. */                     \
  static int32_t slogdet_##SUF(const lapack_fns *f, int64_t batch, int64_t n, T *sign,        \
                               T *logabs, const T *x) {                                       \
    int in = (int)n, info = 0;                                                                \
    T *lu = malloc((size_t)(n * n + 1) * sizeof(T));                                          \
    int *piv = malloc((size_t)(n + 1) * sizeof(int));                                         \
    if (!lu || !piv) {                                                                        \
      free(lu);                                                                               \
      free(piv);                                                                              \
      return EAGER_ERR_NO_MEMORY;                                                             \
    }                                                                                         \
    for (int64_t b = 0; b < batch; b++) {                                                     \
      memcpy(lu, x + b * n * n, (size_t)(n * n) * sizeof(T));                                 \
      if (n > 0) f->getrf(&in, &in, lu, &in, piv, &info);                                     \
      T s = 1, l = 0;                                                                         \
      for (int64_t i = 0; i < n; i++) {                                                       \
        T d = lu[i * n + i];                                                                  \
        if (piv[i] != i + 1) s = -s;                                                          \
        if (d < 0) s = -s;                                                                    \
        l += (T)log(fabs((double)d));                                                         \
      }                                                                                       \
      if (info > 0) {                                                                         \
        s = 0;                                                                                \
        l = (T)-INFINITY;                                                                     \
      }                                                                                       \
      sign[b] = s;                                                                            \
      logabs[b] = l;                                                                          \
    }                                                                                         \
    free(lu);                                                                                 \
    free(piv);                                                                                \
    return EAGER_OK;                                                                          \
  }                                                                                           \
                                                                                              \
  /* A X = B with B read column-major as B^T: X^T A^T = B^T, a right-side trsm on A read     \
   * column-major (A^T: lower A is upper there). */                                           \
  static int32_t trisolve_##SUF(const lapack_fns *f, int64_t batch, int64_t n, int64_t k,     \
                                int32_t lower, int32_t adjoint, T *out, const T *a,           \
                                const T *rhs) {                                               \
    int in = (int)n, ik = (int)k;                                                             \
    T one = 1;                                                                                \
    memcpy(out, rhs, (size_t)(batch * n * k) * sizeof(T));                                    \
    if (n == 0 || k == 0) return EAGER_OK;                                                    \
    for (int64_t b = 0; b < batch; b++)                                                       \
      f->trsm("R", lower ? "U" : "L", adjoint ? "T" : "N", "N", &ik, &in, &one, a + b * n * n, \
              &in, out + b * n * k, &ik, 1, 1, 1, 1);                                         \
    return EAGER_OK;                                                                          \
  }                                                                                           \
                                                                                              \
  /* Householder QR of A [m, n] copied column-major: q [m, qc] and r [qc, n], qc = m or k. */ \
  static int32_t qr_##SUF(const lapack_fns *f, int64_t batch, int64_t m, int64_t n,          \
                          int32_t full, T *q, T *r, const T *x) {                             \
    int64_t kk = m < n ? m : n, qc = full ? m : kk;                                           \
    int im = (int)m, in = (int)n, ik = (int)kk, iqc = (int)qc, info = 0, lwork = -1;          \
    int64_t cols = n > qc ? n : qc;                                                           \
    T query = 0, query2 = 0;                                                                  \
    T *a = malloc((size_t)(m * cols + kk + 1) * sizeof(T));                                   \
    if (!a) return EAGER_ERR_NO_MEMORY;                                                       \
    T *tau = a + m * cols;                                                                    \
    if (m > 0 && n > 0) {                                                                     \
      f->geqrf(&im, &in, a, &im, tau, &query, &lwork, &info);                                 \
      f->orgqr(&im, &iqc, &ik, a, &im, tau, &query2, &lwork, &info);                          \
    }                                                                                         \
    /* at least the columns: orgqr runs alone (n == 0, full q) without a workspace query */ \
    lwork = (int)(query > query2 ? query : query2) + (int)cols + 1;                           \
    T *work = malloc((size_t)lwork * sizeof(T));                                              \
    if (!work) {                                                                              \
      free(a);                                                                                \
      return EAGER_ERR_NO_MEMORY;                                                             \
    }                                                                                         \
    for (int64_t b = 0; b < batch; b++) {                                                     \
      T *rb = r + b * qc * n, *qb = q + b * m * qc;                                           \
      transpose_##SUF(a, x + b * m * n, m, n);                                                \
      if (m > 0 && n > 0) f->geqrf(&im, &in, a, &im, tau, work, &lwork, &info);               \
      for (int64_t i = 0; i < qc; i++)                                                        \
        for (int64_t j = 0; j < n; j++) rb[i * n + j] = j >= i ? a[j * m + i] : 0;            \
      if (m > 0 && qc > 0) f->orgqr(&im, &iqc, &ik, a, &im, tau, work, &lwork, &info);        \
      transpose_##SUF(qb, a, qc, m);                                                          \
    }                                                                                         \
    free(work);                                                                               \
    free(a);                                                                                  \
    return EAGER_OK;                                                                          \
  }                                                                                           \
                                                                                              \
  /* The lower triangle of row-major A is the upper one of A read column-major; NaN in x is a \
   * failure (`bad`), as in TensorFlow. */                                                               \
  static int32_t eigh_##SUF(const lapack_fns *f, int64_t batch, int64_t n, T *e, T *v,        \
                            const T *x, int64_t *bad) {                                       \
    int in = (int)n, info = 0, lwork = -1, liwork = -1, iquery = 0;                           \
    const char *jobz = v ? "V" : "N";                                                         \
    T query = 0;                                                                              \
    T *a = malloc((size_t)(n * n + 1) * sizeof(T));                                           \
    if (!a) return EAGER_ERR_NO_MEMORY;                                                       \
    if (n > 0) f->syevd(jobz, "U", &in, a, &in, e, &query, &lwork, &iquery, &liwork, &info, 1, 1); \
    lwork = (int)query + 1;                                                                   \
    liwork = iquery + 1;                                                                      \
    T *work = malloc((size_t)lwork * sizeof(T));                                              \
    int *iwork = malloc((size_t)liwork * sizeof(int));                                        \
    if (!work || !iwork) {                                                                    \
      free(a);                                                                                \
      free(work);                                                                             \
      free(iwork);                                                                            \
      return EAGER_ERR_NO_MEMORY;                                                             \
    }                                                                                         \
    for (int64_t b = 0; b < batch; b++) {                                                     \
      memcpy(a, x + b * n * n, (size_t)(n * n) * sizeof(T));                                  \
      if (!finite_##SUF(a, n * n)) { /* as TF: NaN fails, infinity gives NaN and identity */ \
        for (int64_t i = 0; i < n * n; i++)                                                   \
          if (isnan(a[i]) && *bad < 0) *bad = b;                                              \
        for (int64_t i = 0; i < n; i++) e[b * n + i] = (T)NAN;                                \
        for (int64_t i = 0; v && i < n * n; i++) v[b * n * n + i] = i % (n + 1) == 0;         \
        continue;                                                                             \
      }                                                                                       \
      if (n > 0)                                                                              \
        f->syevd(jobz, "U", &in, a, &in, e + b * n, work, &lwork, iwork, &liwork, &info, 1, 1); \
      if (info != 0 && *bad < 0) *bad = b;                                                    \
      if (v) transpose_##SUF(v + b * n * n, a, n, n);                                         \
    }                                                                                         \
    free(a);                                                                                  \
    free(work);                                                                               \
    free(iwork);                                                                              \
    return EAGER_OK;                                                                          \
  }                                                                                           \
                                                                                              \
  /* svd(A^T) = U' S V'^T gives A = V' S U'^T: u = V', whose column-major V'^T [k or n, m]   \
   * is row-major V' already, and v = U' transposed out of column-major. */                   \
  static int32_t svd_##SUF(const lapack_fns *f, int64_t batch, int64_t m, int64_t n,         \
                           int32_t mode, T *s, T *u, T *v, const T *x, int64_t *bad) {        \
    int64_t kk = m < n ? m : n, uc = mode == 2 ? m : kk, vc = mode == 2 ? n : kk;             \
    int ia = (int)n, ib = (int)m, iuc = (int)uc, ivc = (int)vc, info = 0, lwork = -1;         \
    const char *jobz = mode == 0 ? "N" : mode == 2 ? "A" : "S";                               \
    int ldu = ia > 0 ? ia : 1, ldvt = mode == 0 ? 1 : (iuc > 0 ? iuc : 1);                    \
    T query = 0;                                                                              \
    T *a = malloc((size_t)(m * n + n * vc + 2) * sizeof(T));                                  \
    int *iwork = malloc((size_t)(8 * kk + 1) * sizeof(int));                                  \
    if (!a || !iwork) {                                                                       \
      free(a);                                                                                \
      free(iwork);                                                                            \
      return EAGER_ERR_NO_MEMORY;                                                             \
    }                                                                                         \
    T *ut = a + m * n;                                                                        \
    T dummy[1];                                                                               \
    if (kk > 0)                                                                               \
      f->gesdd(jobz, &ia, &ib, a, &ia, s, ut, &ldu, u ? u : dummy, &ldvt, &query, &lwork,     \
               iwork, &info, 1);                                                              \
    lwork = (int)query + 1;                                                                   \
    T *work = malloc((size_t)lwork * sizeof(T));                                              \
    if (!work) {                                                                              \
      free(a);                                                                                \
      free(iwork);                                                                            \
      return EAGER_ERR_NO_MEMORY;                                                             \
    }                                                                                         \
    (void)ivc;                                                                                \
    for (int64_t b = 0; b < batch; b++) {                                                     \
      memcpy(a, x + b * m * n, (size_t)(m * n) * sizeof(T));                                  \
      T *ub = mode ? u + b * m * uc : dummy;                                                  \
      info = finite_##SUF(a, m * n) ? 0 : -1;                                                 \
      if (kk > 0 && info == 0)                                                                \
        f->gesdd(jobz, &ia, &ib, a, &ia, s + b * kk, ut, &ldu, ub, &ldvt, work, &lwork, iwork, \
                 &info, 1);                                                                   \
      if (info != 0) { /* NaN or infinity in x, or no convergence: NaN, as TF */        \
        if (*bad < 0) *bad = b;                                                               \
        for (int64_t i = 0; i < kk; i++) s[b * kk + i] = (T)NAN;                              \
        for (int64_t i = 0; mode && i < m * uc; i++) ub[i] = (T)NAN;                          \
        for (int64_t i = 0; mode && i < n * vc; i++) v[b * n * vc + i] = (T)NAN;              \
        continue;                                                                             \
      }                                                                                       \
      if (mode) {                                                                             \
        if (kk == 0) {                                                                        \
          memset(ub, 0, (size_t)(m * uc) * sizeof(T));                                        \
          memset(v + b * n * vc, 0, (size_t)(n * vc) * sizeof(T));                            \
          for (int64_t i = 0; i < uc && i < m; i++) ub[i * uc + i] = 1;                       \
          for (int64_t i = 0; i < vc && i < n; i++) v[b * n * vc + i * vc + i] = 1;           \
        } else {                                                                              \
          transpose_##SUF(v + b * n * vc, ut, vc, n);                                         \
        }                                                                                     \
      }                                                                                       \
    }                                                                                         \
    free(a);                                                                                  \
    free(work);                                                                               \
    free(iwork);                                                                              \
    return EAGER_OK;                                                                          \
  }

LAPACK_KERNELS(float, f32)
LAPACK_KERNELS(double, f64)

/*
 * One LAPACK call at a time in the process. NOTE: OpenBLAS 0.3.21's threaded LAPACK
 * (potrf, getrf/getrs, syevd, gesdd) slows down when two threads (Deno workers, parallel
 * test files) call it at once: measured 2026-12-05 on 2 cores, cholesky of 64x64 float64 ran
 * 110k calls in 3 s alone and 22k + 23k with two workers calling together, svd 4.1k alone
 * and 0.7k + 0.7k; queued behind this lock each worker keeps half of the lone rate. LAPACK
 * threads each call itself, so the lock costs a lone caller nothing.
 */
static pthread_mutex_t lapack_lock = PTHREAD_MUTEX_INITIALIZER;

/* Every entry point: float32 or float64 only, and a LAPACK present (the ops check first). */
#define LAPACK_DISPATCH(call32, call64)                                 \
  const lapack_fns *f = fns_of(dtype);                                  \
  if (!f) return EAGER_ERR_ARGUMENT;                                    \
  if (dtype != EAGER_F32 && dtype != EAGER_F64) return EAGER_ERR_DTYPE; \
  pthread_mutex_lock(&lapack_lock);                                     \
  int32_t status = dtype == EAGER_F32 ? (call32) : (call64);            \
  pthread_mutex_unlock(&lapack_lock);                                   \
  return status;

EAGER_API int32_t eager_lapack_cholesky(int32_t dtype, int64_t batch, int64_t n, void *out,
                                        const void *x, int64_t x_offset, int64_t *bad) {
  *bad = -1;
  LAPACK_DISPATCH(cholesky_f32(f, batch, n, out, (const float *)x + x_offset, bad),
                  cholesky_f64(f, batch, n, out, (const double *)x + x_offset, bad))
}

EAGER_API int32_t eager_lapack_solve(int32_t dtype, int64_t batch, int64_t n, int64_t k,
                                     int32_t adjoint, void *out, const void *a,
                                     int64_t a_offset, const void *rhs, int64_t rhs_offset,
                                     int64_t *bad) {
  *bad = -1;
  LAPACK_DISPATCH(solve_f32(f, batch, n, k, adjoint, out, (const float *)a + a_offset,
                            (const float *)rhs + rhs_offset, bad),
                  solve_f64(f, batch, n, k, adjoint, out, (const double *)a + a_offset,
                            (const double *)rhs + rhs_offset, bad))
}

EAGER_API int32_t eager_lapack_slogdet(int32_t dtype, int64_t batch, int64_t n, void *sign,
                                       void *logabs, const void *x, int64_t x_offset) {
  LAPACK_DISPATCH(slogdet_f32(f, batch, n, sign, logabs, (const float *)x + x_offset),
                  slogdet_f64(f, batch, n, sign, logabs, (const double *)x + x_offset))
}

EAGER_API int32_t eager_lapack_triangular_solve(int32_t dtype, int64_t batch, int64_t n,
                                                int64_t k, int32_t lower, int32_t adjoint,
                                                void *out, const void *a, int64_t a_offset,
                                                const void *rhs, int64_t rhs_offset) {
  LAPACK_DISPATCH(trisolve_f32(f, batch, n, k, lower, adjoint, out,
                               (const float *)a + a_offset, (const float *)rhs + rhs_offset),
                  trisolve_f64(f, batch, n, k, lower, adjoint, out,
                               (const double *)a + a_offset, (const double *)rhs + rhs_offset))
}

EAGER_API int32_t eager_lapack_qr(int32_t dtype, int64_t batch, int64_t m, int64_t n,
                                  int32_t full, void *q, void *r, const void *x,
                                  int64_t x_offset) {
  LAPACK_DISPATCH(qr_f32(f, batch, m, n, full, q, r, (const float *)x + x_offset),
                  qr_f64(f, batch, m, n, full, q, r, (const double *)x + x_offset))
}

EAGER_API int32_t eager_lapack_eigh(int32_t dtype, int64_t batch, int64_t n, void *e, void *v,
                                    const void *x, int64_t x_offset, int64_t *bad) {
  *bad = -1;
  LAPACK_DISPATCH(eigh_f32(f, batch, n, e, v, (const float *)x + x_offset, bad),
                  eigh_f64(f, batch, n, e, v, (const double *)x + x_offset, bad))
}

EAGER_API int32_t eager_lapack_svd(int32_t dtype, int64_t batch, int64_t m, int64_t n,
                                   int32_t mode, void *s, void *u, void *v, const void *x,
                                   int64_t x_offset, int64_t *bad) {
  *bad = -1;
  LAPACK_DISPATCH(svd_f32(f, batch, m, n, mode, s, u, v, (const float *)x + x_offset, bad),
                  svd_f64(f, batch, m, n, mode, s, u, v, (const double *)x + x_offset, bad))
}
