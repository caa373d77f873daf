/*
 * The GEMM libraries, found at run time: a CBLAS (OpenBLAS, Accelerate on macOS, MKL or
 * the reference CBLAS) for every float product, and oneDNN's dnnl_sgemm for large float32
 * ones where Debian's libdnnl is installed. Nothing is linked at build time, so the build
 * needs no BLAS and the library loads on a machine without one: csrc/kernels/gemm.c then
 * runs its built-in kernel, and one notice per process says what to install for speed.
 *
 * EAGER_BLAS in the environment (read at the first product) chooses: "none" for the
 * built-in kernel for every product (oneDNN too is left alone), without a notice, or a
 * library file (a name dlopen can find, or a path)
 * to use instead of the search below. EAGER_GEMM=openblas, or eager_set_gemm_backend,
 * keeps large float32 products off oneDNN.
 *
 * NOTE: the CBLAS entry points are called with 32-bit integers, as OpenBLAS's default
 * (LP64) build, Accelerate and MKL's LP64 interface declare them; ILP64 builds
 * (libopenblas64_) export other names and are not searched.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const cblas_candidates[] = {
#if defined(__APPLE__)
    "/System/Library/Frameworks/Accelerate.framework/Accelerate",
    "libopenblas.dylib",
    "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
    "/usr/local/opt/openblas/lib/libopenblas.dylib",
#else
    "libopenblas.so.0", "libopenblas.so", "libmkl_rt.so.2", "libmkl_rt.so", "libblis.so.4",
    "libcblas.so.3", "libblas.so.3",
#endif
};

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static eager_blas_fns blas_found; /* set once by find_blas; sgemm NULL when none */
static char blas_description[256] = "built-in kernels";
static int no_gemm_library; /* EAGER_BLAS=none: neither a CBLAS nor oneDNN */

typedef const char *(*config_fn)(void);

/* Loads `name` and takes its cblas_sgemm and cblas_dgemm; 1 when both are there. */
static int try_cblas(const char *name) {
  void *library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!library) return 0;
  eager_sgemm_fn sgemm = (eager_sgemm_fn)dlsym(library, "cblas_sgemm");
  eager_dgemm_fn dgemm = (eager_dgemm_fn)dlsym(library, "cblas_dgemm");
  if (!sgemm || !dgemm) {
    dlclose(library);
    return 0;
  }
  blas_found.sgemm = sgemm;
  blas_found.dgemm = dgemm;
  /* OpenBLAS names its version and the kernels it picked for this CPU. */
  config_fn config = (config_fn)dlsym(library, "openblas_get_config");
  const char *what = config ? config() : NULL;
  snprintf(blas_description, sizeof blas_description, "%s (%s)", what ? what : "CBLAS", name);
  return 1;
}

static void find_blas(void) {
  const char *asked = getenv("EAGER_BLAS");
  if (asked && strcmp(asked, "none") == 0) {
    no_gemm_library = 1;
    return;
  }
  if (asked && *asked) {
    if (try_cblas(asked)) return;
    fprintf(stderr,
            "libeager: EAGER_BLAS=%s is not a loadable library with cblas_sgemm and "
            "cblas_dgemm; matmul and convolutions run on built-in kernels\n",
            asked);
    return;
  }
  for (size_t i = 0; i < sizeof cblas_candidates / sizeof cblas_candidates[0]; i++)
    if (try_cblas(cblas_candidates[i])) return;
  fprintf(stderr,
          "libeager: no BLAS library found; matmul and convolutions run on built-in "
          "kernels, several times slower. For speed install OpenBLAS (Debian and Ubuntu: "
          "apt-get install libopenblas0; Fedora: dnf install openblas) or point EAGER_BLAS "
          "at a CBLAS library. EAGER_BLAS=none silences this notice.\n");
}

const eager_blas_fns *eager_blas(void) {
  pthread_once(&blas_once, find_blas);
  return blas_found.sgemm ? &blas_found : NULL;
}

EAGER_API const char *eager_blas_name(void) {
  pthread_once(&blas_once, find_blas);
  return blas_description;
}

/* ---- oneDNN ---- */

static pthread_once_t onednn_once = PTHREAD_ONCE_INIT;
static eager_onednn_sgemm_fn onednn_sgemm; /* set once by load_onednn, NULL when absent */
/* The backend asked for: EAGER_GEMM_AUTO until eager_set_gemm_backend or EAGER_GEMM. */
static _Atomic int32_t requested = -1; /* -1: EAGER_GEMM not read yet */

static void load_onednn(void) {
#if defined(__linux__)
  static const char *const names[] = {"libdnnl.so.3", "libdnnl.so.2"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    void *library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!library) continue;
    eager_onednn_sgemm_fn fn = (eager_onednn_sgemm_fn)dlsym(library, "dnnl_sgemm");
    if (fn) {
      onednn_sgemm = fn;
      return;
    }
    dlclose(library);
  }
#endif
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

eager_onednn_sgemm_fn eager_onednn(void) {
  pthread_once(&blas_once, find_blas);
  if (no_gemm_library || requested_backend() == EAGER_GEMM_OPENBLAS) return NULL;
  pthread_once(&onednn_once, load_onednn);
  return onednn_sgemm;
}

EAGER_API int32_t eager_set_gemm_backend(int32_t backend) {
  if (backend >= 0) {
    if (backend >= EAGER_GEMM_COUNT) return -EAGER_ERR_ARGUMENT;
    atomic_store(&requested, backend);
  }
  return eager_onednn() ? EAGER_GEMM_ONEDNN : EAGER_GEMM_OPENBLAS;
}
