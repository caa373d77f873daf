/*
 * Collectives over MPI, for data-parallel training (src/distribute/). libmpi is found at
 * run time with dlopen, never linked: the library builds without MPI and loads on a
 * machine without it; only eager_mpi_init fails there, with a message saying what to
 * install.
 *
 * Two ABIs are spoken, chosen by what the loaded library exports:
 * - Open MPI: a handle (MPI_Comm, MPI_Datatype, MPI_Op, MPI_Errhandler) is the address of
 *   a predefined global (`ompi_mpi_comm_world`, `ompi_mpi_float`, ...), taken with dlsym;
 *   MPI_IN_PLACE is (void *)1.
 * - MPICH and its ABI kin (Intel MPI, MVAPICH): a handle is an int constant from mpi.h
 *   (MPICH 4.0's values below); MPI_IN_PLACE is (void *)-1.
 * Handles are held as intptr_t and passed where MPI declares int or a pointer: both are
 * one integer register in the x86-64 and AArch64 calling conventions, and the callee of
 * an int reads only its low 32 bits. The one handle MPI writes back (MPI_Comm_dup's) goes
 * into a zeroed intptr_t, whose low half is an int on these little-endian targets.
 *
 * Threads: blocking calls run on the caller's thread. Where MPI grants
 * MPI_THREAD_SERIALIZED, eager_mpi_allreduce_start queues a reduction for one communication
 * thread (as Horovod's background thread does), so the caller computes while it runs; a
 * blocking call first waits for the queue to drain, so every rank issues collectives in the
 * order its program called them, and two threads never call MPI at once. Under
 * MPI_THREAD_SINGLE a started reduction runs at once on the caller's thread.
 * Which level to ask for (thread_level_wanted): SERIALIZED only where the ranks on this
 * machine leave a CPU over for the communication thread, which otherwise takes its share of
 * the cores from the kernels while it polls MPI; and Open MPI 4.1 locks its progress engine
 * at any level above SINGLE. EAGER_MPI_THREADS=0 or 1 decides instead (docs/distribute.md).
 *
 * Errors: the duplicated communicator returns errors instead of aborting; each failure
 * leaves a message for eager_mpi_error (per thread) and returns EAGER_ERR_MPI.
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mpi_internal.h"

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
mpi_fns mpi;
static int flavor = EAGER_MPI_NONE;
handle world, dtypes[EAGER_DTYPE_COUNT], byte_type;
static handle ops[EAGER_REDUCE_COUNT], errors_return;
static handle byte_ops[EAGER_REDUCE_COUNT]; /* reductions of bytes: see wrapping_sum_u8 */
static void *in_place;
int rank_ = -1, size_ = 0;
static int thread_level = -1, we_initialized = 0;
static char load_failure[512];
static char library_text[512] = "no MPI library loaded";
static _Thread_local char last_error[1024];

int32_t mpi_fail(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(last_error, sizeof last_error, format, args);
  va_end(args);
  return EAGER_ERR_MPI;
}

/* Turns an MPI return code into a status, with MPI's own words in the message. */
int32_t mpi_status(int code, const char *call) {
  if (code == 0) return EAGER_OK;
  char text[1024] = "";
  int length = 0;
  if (mpi.error_string && mpi.error_string(code, text, &length) != 0) text[0] = 0;
  return mpi_fail("%s failed: %s (MPI error %d)", call, text[0] ? text : "no description", code);
}

#define TAKE(field, name)                                            \
  do {                                                               \
    *(void **)&mpi.field = dlsym(library, name);                     \
    if (!mpi.field) {                                                \
      snprintf(load_failure, sizeof load_failure, "%s lacks %s", file, name); \
      return 0;                                                      \
    }                                                                \
  } while (0)

/* Takes Open MPI's predefined handles; 0 when one is missing. */
static int open_mpi_handles(void *library) {
  static const char *const types[EAGER_DTYPE_COUNT] = {
      [EAGER_F32] = "ompi_mpi_float",    [EAGER_F64] = "ompi_mpi_double",
      [EAGER_I32] = "ompi_mpi_int32_t",  [EAGER_I64] = "ompi_mpi_int64_t",
      [EAGER_U8] = "ompi_mpi_uint8_t",   [EAGER_BOOL] = "ompi_mpi_uint8_t"};
  for (int d = 0; d < EAGER_DTYPE_COUNT; d++)
    if (!(dtypes[d] = (handle)dlsym(library, types[d]))) return 0;
  ops[EAGER_REDUCE_SUM] = (handle)dlsym(library, "ompi_mpi_op_sum");
  ops[EAGER_REDUCE_PROD] = (handle)dlsym(library, "ompi_mpi_op_prod");
  ops[EAGER_REDUCE_MAX] = (handle)dlsym(library, "ompi_mpi_op_max");
  ops[EAGER_REDUCE_MIN] = (handle)dlsym(library, "ompi_mpi_op_min");
  byte_type = (handle)dlsym(library, "ompi_mpi_byte");
  world = (handle)dlsym(library, "ompi_mpi_comm_world");
  errors_return = (handle)dlsym(library, "ompi_mpi_errors_return");
  in_place = (void *)1;
  return world && errors_return && byte_type && ops[EAGER_REDUCE_SUM] && ops[EAGER_REDUCE_PROD] &&
         ops[EAGER_REDUCE_MAX] && ops[EAGER_REDUCE_MIN];
}

/* MPICH's handles are constants of its ABI (mpi.h of MPICH 4.0, unchanged since 3.x). */
static void mpich_handles(void) {
  dtypes[EAGER_F32] = 0x4c00040a;
  dtypes[EAGER_F64] = 0x4c00080b;
  dtypes[EAGER_I32] = 0x4c000439;
  dtypes[EAGER_I64] = 0x4c00083a;
  dtypes[EAGER_U8] = dtypes[EAGER_BOOL] = 0x4c00013b;
  byte_type = 0x4c00010d;
  ops[EAGER_REDUCE_MAX] = 0x58000001;
  ops[EAGER_REDUCE_MIN] = 0x58000002;
  ops[EAGER_REDUCE_SUM] = 0x58000003;
  ops[EAGER_REDUCE_PROD] = 0x58000004;
  world = 0x44000000;
  errors_return = 0x54000001;
  in_place = (void *)-1;
}

/* Loads one candidate library; 1 when it has every entry point and handle we use. */
static int try_library(const char *file) {
  void *library = dlopen(file, RTLD_NOW | RTLD_GLOBAL); /* MPI's plugins need its symbols */
  if (!library) {
    snprintf(load_failure, sizeof load_failure, "%s", dlerror());
    return 0;
  }
  TAKE(initialized, "MPI_Initialized");
  TAKE(finalized, "MPI_Finalized");
  TAKE(init_thread, "MPI_Init_thread");
  TAKE(query_thread, "MPI_Query_thread");
  TAKE(finalize, "MPI_Finalize");
  TAKE(comm_dup, "MPI_Comm_dup");
  TAKE(comm_rank, "MPI_Comm_rank");
  TAKE(comm_size, "MPI_Comm_size");
  TAKE(comm_set_errhandler, "MPI_Comm_set_errhandler");
  TAKE(allreduce, "MPI_Allreduce");
  TAKE(bcast, "MPI_Bcast");
  TAKE(allgatherv, "MPI_Allgatherv");
  TAKE(barrier, "MPI_Barrier");
  TAKE(isend, "MPI_Isend");
  TAKE(irecv, "MPI_Irecv");
  TAKE(wait, "MPI_Wait");
  TAKE(cancel, "MPI_Cancel");
  TAKE(reduce_local, "MPI_Reduce_local");
  TAKE(op_create, "MPI_Op_create");
  TAKE(abort, "MPI_Abort");
  TAKE(error_string, "MPI_Error_string");
  TAKE(library_version, "MPI_Get_library_version");
  if (dlsym(library, "ompi_mpi_comm_world")) {
    if (!open_mpi_handles(library)) {
      snprintf(load_failure, sizeof load_failure, "%s lacks Open MPI's predefined handles", file);
      return 0;
    }
    flavor = EAGER_MPI_OPEN_MPI;
  } else {
    mpich_handles();
    flavor = EAGER_MPI_MPICH;
  }
  char version[8192] = "";
  int length = 0;
  mpi.library_version(version, &length);
  version[strcspn(version, "\n,")] = 0; /* the first line, up to its build details */
  snprintf(library_text, sizeof library_text, "%s (%s)", version, file);
  return 1;
}

static void load_library(void) {
  const char *asked = getenv("EAGER_MPI");
  if (asked && *asked) {
    if (!try_library(asked)) flavor = EAGER_MPI_NONE;
    return;
  }
  static const char *const candidates[] = {"libmpi.so.40", "libmpi.so.12", "libmpich.so.12",
                                           "libmpi.so"};
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
    memset(&mpi, 0, sizeof mpi);
    if (try_library(candidates[i])) return;
  }
  flavor = EAGER_MPI_NONE;
  snprintf(load_failure, sizeof load_failure, "no MPI library found (tried libmpi.so.40, "
           "libmpi.so.12, libmpich.so.12, libmpi.so)");
}

/*
 * Every reduction of bytes (uint8, bool) is one of our own MPI ops: Open MPI 4.1's AVX
 * reduction component saturates 8-bit sums instead of wrapping around (found here: 91 + 188
 * gave 255; Open MPI issue #8045, closed as won't fix), for arrays long enough to take it,
 * and MPICH 4.0.2 compares MPI_UINT8_T as signed in MAX and MIN (found here: max(39, 136)
 * gave 39).
 */
static void wrapping_sum_u8(void *in, void *inout, int *length, void *dtype) {
  (void)dtype;
  const uint8_t *a = in;
  uint8_t *b = inout;
  for (int i = 0; i < *length; i++) b[i] = (uint8_t)(a[i] + b[i]);
}

static void wrapping_prod_u8(void *in, void *inout, int *length, void *dtype) {
  (void)dtype;
  const uint8_t *a = in;
  uint8_t *b = inout;
  for (int i = 0; i < *length; i++) b[i] = (uint8_t)(a[i] * b[i]);
}

static void max_u8(void *in, void *inout, int *length, void *dtype) {
  (void)dtype;
  const uint8_t *a = in;
  uint8_t *b = inout;
  for (int i = 0; i < *length; i++) b[i] = a[i] > b[i] ? a[i] : b[i];
}

static void min_u8(void *in, void *inout, int *length, void *dtype) {
  (void)dtype;
  const uint8_t *a = in;
  uint8_t *b = inout;
  for (int i = 0; i < *length; i++) b[i] = a[i] < b[i] ? a[i] : b[i];
}

/* ---- the communication thread ---------------------------------------------------------- */

enum { QUEUE = 256 };
typedef struct {
  int32_t op, dtype, status;
  int64_t count;
  void *data;
  char error[256];
} job;

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_changed = PTHREAD_COND_INITIALIZER;
static job jobs[QUEUE];
static int64_t submitted, finished, collected; /* tickets: queued, run, waited for */
static int worker_started, worker_quit;
static pthread_t worker;

static int32_t allreduce_on(int32_t op, int32_t dtype, int64_t count, const void *send,
                            void *recv);

static void *communicate(void *unused) {
  (void)unused;
  pthread_mutex_lock(&queue_lock);
  for (;;) {
    while (finished == submitted && !worker_quit) pthread_cond_wait(&queue_changed, &queue_lock);
    if (finished == submitted) break; /* asked to quit, and nothing is queued */
    job *j = &jobs[finished % QUEUE];
    pthread_mutex_unlock(&queue_lock);
    j->status = allreduce_on(j->op, j->dtype, j->count, NULL, j->data);
    if (j->status) snprintf(j->error, sizeof j->error, "%s", last_error);
    pthread_mutex_lock(&queue_lock);
    finished++;
    pthread_cond_broadcast(&queue_changed);
  }
  pthread_mutex_unlock(&queue_lock);
  return NULL;
}

/*
 * Ends the communication thread once it is idle. It must not outlive this library: Deno
 * unloads it at exit, and a thread still waiting on queue_changed (memory of this library)
 * then crashed the process (found when a rank exited on an uncaught error: SIGSEGV in
 * pthread_cond_wait). A thread inside an MPI call (a peer died mid-reduction) is left alone:
 * joining it could hang the exit forever.
 */
static void stop_worker(void) {
  pthread_mutex_lock(&queue_lock);
  int join = worker_started && finished == submitted;
  if (join) {
    worker_quit = 1;
    pthread_cond_broadcast(&queue_changed);
  }
  pthread_mutex_unlock(&queue_lock);
  if (!join) return;
  pthread_join(worker, NULL);
  worker_started = 0;
  worker_quit = 0;
}

__attribute__((destructor)) static void stop_worker_at_unload(void) { stop_worker(); }

/* Waits until every queued job has run: the caller may then call MPI itself. */
void mpi_drain(void) {
  pthread_mutex_lock(&queue_lock);
  while (finished != submitted) pthread_cond_wait(&queue_changed, &queue_lock);
  pthread_mutex_unlock(&queue_lock);
}

/* ---- the ABI --------------------------------------------------------------------------- */

EAGER_API const char *eager_mpi_error(void) { return last_error; }

EAGER_API const char *eager_mpi_library(void) {
  pthread_once(&load_once, load_library);
  return library_text;
}

/* The ranks on this machine, as the launcher tells them before MPI starts (1 if it does not). */
static int local_ranks(void) {
  static const char *const names[] = {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const char *value = getenv(names[i]);
    int n = value ? atoi(value) : 0;
    if (n >= 1) return n;
  }
  return 1;
}

/* Whether Open MPI's transports, if mpirun named them (`--mca btl`, seen by the ranks as
 * OMPI_MCA_btl: a list, or ^ and the ones left out), include shared memory (vader, sm). */
static int open_mpi_allows_shared_memory(void) {
  const char *btl = getenv("OMPI_MCA_btl");
  if (!btl || !*btl) return 1;
  int named = strstr(btl, "vader") != NULL || strstr(btl, "sm") != NULL;
  return btl[0] == '^' ? !named : named;
}

/*
 * The thread level to ask MPI for; -1 for a bad EAGER_MPI_THREADS. By default SERIALIZED
 * (a communication thread) only when this machine's ranks, each running its kernels on
 * eager_num_threads() threads, leave a CPU over. MNIST on 2 ranks of a 2-CPU machine (300
 * steps, 2 kernel threads each, 5 alternating pairs): 1,390-1,449 examples/s with the thread,
 * 1,580-1,740 without; with 1 kernel thread each 1,780 and 1,801.
 */
static int thread_level_wanted(void) {
  const char *forced = getenv("EAGER_MPI_THREADS");
  if (forced && *forced) {
    if (strcmp(forced, "0") == 0) return THREAD_SINGLE;
    if (strcmp(forced, "1") == 0) return THREAD_SERIALIZED;
    return -1;
  }
  int64_t busy = (int64_t)local_ranks() * eager_num_threads();
  return busy < eager_usable_cpus() ? THREAD_SERIALIZED : THREAD_SINGLE;
}

EAGER_API int32_t eager_mpi_init(int32_t *info) {
  pthread_once(&load_once, load_library);
  if (flavor == EAGER_MPI_NONE)
    return mpi_fail("cannot load MPI: %s. Install Open MPI (Debian and Ubuntu: apt-get install "
                "openmpi-bin libopenmpi3) or MPICH, or point EAGER_MPI at libmpi",
                load_failure);
  pthread_mutex_lock(&init_lock);
  int32_t status = EAGER_OK;
  if (rank_ < 0) {
    int done = 0, ended = 0;
    mpi.initialized(&done);
    mpi.finalized(&ended);
    if (ended) {
      status = mpi_fail("MPI was already finalized in this process; it cannot start again");
    } else if (!done) {
      int level = thread_level_wanted();
      if (level < 0) {
        status = mpi_fail("EAGER_MPI_THREADS must be 0 (no communication thread) or 1, got \"%s\"",
                      getenv("EAGER_MPI_THREADS"));
      } else {
        int code = mpi.init_thread(NULL, NULL, level, &thread_level);
        status = mpi_status(code, "MPI_Init_thread");
        we_initialized = status == EAGER_OK;
      }
    } else {
      status = mpi_status(mpi.query_thread(&thread_level), "MPI_Query_thread");
    }
    handle comm = 0;
    if (!status) status = mpi_status(mpi.comm_dup(world, &comm), "MPI_Comm_dup");
    if (!status)
      status = mpi_status(mpi.comm_set_errhandler(comm, errors_return), "MPI_Comm_set_errhandler");
    int r = -1, s = 0;
    if (!status) status = mpi_status(mpi.comm_rank(comm, &r), "MPI_Comm_rank");
    if (!status) status = mpi_status(mpi.comm_size(comm, &s), "MPI_Comm_size");
    if (!status)
      status = mpi_status(mpi.op_create(wrapping_sum_u8, 1, &byte_ops[EAGER_REDUCE_SUM]),
                          "MPI_Op_create");
    if (!status)
      status = mpi_status(mpi.op_create(wrapping_prod_u8, 1, &byte_ops[EAGER_REDUCE_PROD]),
                          "MPI_Op_create");
    if (!status)
      status = mpi_status(mpi.op_create(max_u8, 1, &byte_ops[EAGER_REDUCE_MAX]), "MPI_Op_create");
    if (!status)
      status = mpi_status(mpi.op_create(min_u8, 1, &byte_ops[EAGER_REDUCE_MIN]), "MPI_Op_create");
    if (!status) {
      world = comm;
      size_ = s;
      rank_ = r;
      status = mpi_exchange_setup(local_ranks() == s && open_mpi_allows_shared_memory());
      if (status) rank_ = -1;
    }
  }
  pthread_mutex_unlock(&init_lock);
  if (status) return status;
  info[0] = rank_;
  info[1] = size_;
  info[2] = flavor;
  info[3] = thread_level;
  return EAGER_OK;
}

int32_t mpi_check_ready(int32_t dtype) {
  if (rank_ < 0) return mpi_fail("MPI is not initialised (call eager_mpi_init first)");
  if (dtype < 0 || dtype >= EAGER_DTYPE_COUNT) return EAGER_ERR_DTYPE;
  return EAGER_OK;
}

/* MPI counts are int: larger arrays go in pieces of at most INT_MAX elements. */
static int32_t allreduce_on(int32_t op, int32_t dtype, int64_t count, const void *send,
                            void *recv) {
  int64_t size = eager_dtype_size(dtype);
  handle reduce = mpi_reduce_handle(op, dtype);
  for (int64_t done = 0; done < count;) {
    int piece = (int)(count - done < INT_MAX ? count - done : INT_MAX);
    /* send == recv is in place too: Open MPI 4.1 aborts the job on aliased buffers, raising
     * the error on MPI_COMM_WORLD (fatal) whatever our communicator's handler says. */
    const void *from = send && send != recv ? (const char *)send + done * size : in_place;
    int code = mpi.allreduce(from, (char *)recv + done * size, piece, dtypes[dtype], reduce,
                             world);
    if (code) return mpi_status(code, "MPI_Allreduce");
    done += piece;
  }
  return EAGER_OK;
}

handle mpi_reduce_handle(int32_t op, int32_t dtype) {
  return eager_dtype_size(dtype) == 1 ? byte_ops[op] : ops[op];
}

int mpi_known_op(int32_t op) {
  return op == EAGER_REDUCE_SUM || op == EAGER_REDUCE_PROD || op == EAGER_REDUCE_MAX ||
         op == EAGER_REDUCE_MIN;
}

EAGER_API int32_t eager_mpi_allreduce(int32_t op, int32_t dtype, int64_t count,
                                      const void *send, void *recv) {
  int32_t status = mpi_check_ready(dtype);
  if (status) return status;
  if (!mpi_known_op(op) || count < 0) return EAGER_ERR_ARGUMENT;
  mpi_drain();
  return allreduce_on(op, dtype, count, send, recv);
}

EAGER_API int32_t eager_mpi_allreduce_start(int32_t op, int32_t dtype, int64_t count,
                                            void *data) {
  int32_t status = mpi_check_ready(dtype);
  if (status) return -status;
  if (!mpi_known_op(op) || count < 0) return -EAGER_ERR_ARGUMENT;
  pthread_mutex_lock(&queue_lock);
  if (submitted - collected >= QUEUE) {
    pthread_mutex_unlock(&queue_lock);
    return -mpi_fail("more than %d reductions are started and not waited for", QUEUE);
  }
  if (!worker_started && thread_level >= THREAD_SERIALIZED) {
    if (pthread_create(&worker, NULL, communicate, NULL) == 0) worker_started = 1;
  }
  int64_t ticket = submitted;
  job *j = &jobs[ticket % QUEUE];
  *j = (job){.op = op, .dtype = dtype, .count = count, .data = data};
  if (worker_started) {
    submitted++;
    pthread_cond_broadcast(&queue_changed);
    pthread_mutex_unlock(&queue_lock);
  } else { /* MPI without thread support: run it now, on this thread */
    pthread_mutex_unlock(&queue_lock);
    j->status = allreduce_on(op, dtype, count, NULL, data);
    if (j->status) snprintf(j->error, sizeof j->error, "%s", last_error);
    pthread_mutex_lock(&queue_lock);
    submitted++;
    finished++;
    pthread_mutex_unlock(&queue_lock);
  }
  return (int32_t)(ticket & INT32_MAX);
}

EAGER_API int32_t eager_mpi_wait(int32_t ticket) {
  pthread_mutex_lock(&queue_lock);
  if (collected == submitted || ticket != (int32_t)(collected & INT32_MAX)) {
    pthread_mutex_unlock(&queue_lock);
    return mpi_fail("eager_mpi_wait: ticket %d is not the oldest reduction not waited for "
                "(reductions are waited for in the order they were started)", ticket);
  }
  while (finished <= collected) pthread_cond_wait(&queue_changed, &queue_lock);
  job *j = &jobs[collected % QUEUE];
  int32_t status = j->status;
  if (status) snprintf(last_error, sizeof last_error, "%s", j->error);
  collected++;
  pthread_mutex_unlock(&queue_lock);
  return status;
}

EAGER_API int32_t eager_mpi_broadcast(int32_t dtype, int64_t count, void *data, int32_t root) {
  int32_t status = mpi_check_ready(dtype);
  if (status) return status;
  if (count < 0 || root < 0 || root >= size_) return EAGER_ERR_ARGUMENT;
  mpi_drain();
  int64_t size = eager_dtype_size(dtype);
  for (int64_t done = 0; done < count;) {
    int piece = (int)(count - done < INT_MAX ? count - done : INT_MAX);
    int code = mpi.bcast((char *)data + done * size, piece, dtypes[dtype], root, world);
    if (code) return mpi_status(code, "MPI_Bcast");
    done += piece;
  }
  return EAGER_OK;
}

EAGER_API int32_t eager_mpi_allgather(int32_t dtype, const int64_t *counts, const void *send,
                                      void *recv) {
  int32_t status = mpi_check_ready(dtype);
  if (status) return status;
  int *sizes = malloc(2 * sizeof(int) * (size_t)size_);
  if (!sizes) return EAGER_ERR_NO_MEMORY;
  int *displacements = sizes + size_;
  int64_t total = 0;
  for (int r = 0; r < size_; r++) {
    if (counts[r] < 0 || total + counts[r] > INT_MAX) {
      free(sizes);
      return mpi_fail("allGather: %lld elements in all are more than MPI_Allgatherv takes (%d)",
                  (long long)(total + counts[r]), INT_MAX);
    }
    sizes[r] = (int)counts[r];
    displacements[r] = (int)total;
    total += counts[r];
  }
  mpi_drain();
  int code = mpi.allgatherv(send, sizes[rank_], dtypes[dtype], recv, sizes, displacements,
                            dtypes[dtype], world);
  free(sizes);
  return mpi_status(code, "MPI_Allgatherv");
}

EAGER_API int32_t eager_mpi_barrier(void) {
  int32_t status = mpi_check_ready(EAGER_F32);
  if (status) return status;
  mpi_drain();
  return mpi_status(mpi.barrier(world), "MPI_Barrier");
}

EAGER_API int32_t eager_mpi_abort(int32_t code) {
  if (rank_ < 0) return mpi_fail("MPI is not initialised");
  return mpi_status(mpi.abort(world, code), "MPI_Abort");
}

EAGER_API int32_t eager_mpi_finalize(void) {
  pthread_mutex_lock(&init_lock);
  int32_t status = EAGER_OK;
  if (rank_ >= 0 && we_initialized) {
    mpi_drain();
    stop_worker();
    int ended = 0;
    mpi.finalized(&ended);
    if (!ended) status = mpi_status(mpi.finalize(), "MPI_Finalize");
    rank_ = -1;
  }
  pthread_mutex_unlock(&init_lock);
  return status;
}
