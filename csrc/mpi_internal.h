/*
 * What csrc/mpi.c (loading MPI, the collectives) shares with csrc/mpi_exchange.c (the ranks'
 * agreement on each call): the loaded library's entry points and handles, set once by
 * eager_mpi_init and only read after, and the helpers every eager_mpi_ function goes through.
 */
#ifndef EAGER_MPI_INTERNAL_H
#define EAGER_MPI_INTERNAL_H

#include <stdint.h>

#include "include/eager.h"

typedef intptr_t handle;

enum { THREAD_SINGLE = 0, THREAD_SERIALIZED = 2 }; /* the same values in every MPI */

typedef struct {
  int (*initialized)(int *flag);
  int (*finalized)(int *flag);
  int (*init_thread)(int *argc, char ***argv, int required, int *provided);
  int (*query_thread)(int *provided);
  int (*finalize)(void);
  int (*comm_dup)(handle comm, handle *out);
  int (*comm_rank)(handle comm, int *rank);
  int (*comm_size)(handle comm, int *size);
  int (*comm_set_errhandler)(handle comm, handle errhandler);
  int (*allreduce)(const void *send, void *recv, int count, handle dtype, handle op,
                   handle comm);
  int (*bcast)(void *data, int count, handle dtype, int root, handle comm);
  int (*allgatherv)(const void *send, int count, handle dtype, void *recv, const int *counts,
                    const int *displacements, handle rtype, handle comm);
  int (*barrier)(handle comm);
  int (*isend)(const void *data, int count, handle dtype, int to, int tag, handle comm,
               handle *request);
  int (*irecv)(void *data, int count, handle dtype, int from, int tag, handle comm,
               handle *request);
  int (*wait)(handle *request, void *status);
  int (*cancel)(handle *request);
  int (*reduce_local)(const void *in, void *inout, int count, handle dtype, handle op);
  int (*op_create)(void (*fn)(void *, void *, int *, void *), int commute, handle *op);
  int (*abort)(handle comm, int code);
  int (*error_string)(int code, char *text, int *length);
  int (*library_version)(char *text, int *length);
} mpi_fns;

/* Room for an MPI_Status of either ABI (Open MPI's is 24 bytes, MPICH's 20). */
typedef union {
  int64_t words[8];
  int ints[16];
} mpi_status_space;

extern mpi_fns mpi;
/* Our duplicate of MPI_COMM_WORLD (errors returned), every dtype's MPI datatype, MPI_BYTE. */
extern handle world, dtypes[EAGER_DTYPE_COUNT], byte_type;
/* This process's rank and the job's size; rank_ < 0 until eager_mpi_init succeeds. */
extern int rank_, size_;

/* Leaves a message for eager_mpi_error and returns EAGER_ERR_MPI. */
int32_t mpi_fail(const char *format, ...);
/* EAGER_OK for MPI's 0, else mpi_fail with MPI's own words and the call's name. */
int32_t mpi_status(int code, const char *call);
/* EAGER_OK when MPI is initialised and dtype is one of ours. */
int32_t mpi_check_ready(int32_t dtype);
/* Whether op is one of eager_reduce_op's SUM, PROD, MAX, MIN. */
int mpi_known_op(int32_t op);
/* The MPI_Op that reduces `op` on `dtype` (our own ops for bytes: mpi.c, wrapping_sum_u8). */
handle mpi_reduce_handle(int32_t op, int32_t dtype);
/* Picks, with every rank (a collective: the ranks must agree), how eager_mpi_exchange cuts data
 * into messages; `shared_memory`: this rank's peers are all on its machine, over shared memory. */
int32_t mpi_exchange_setup(int shared_memory);
/* Waits until the communication thread has run every queued reduction. */
void mpi_drain(void);

#endif
