/*
 * eager_mpi_exchange: the ranks' agreement on a collective call, and a small allReduce in the
 * same round of messages.
 *
 * Before a checked collective every rank learns every rank's signature of the call (what it
 * is, dtype, shape, op or root), so that ranks that disagree all raise the same error instead
 * of hanging in mismatched MPI calls. This was one MPI_Allgatherv and then the collective
 * itself: two round trips, so a checked small allReduce took about twice C's MPI_Allreduce.
 * Here the signatures travel in point-to-point messages (recursive doubling: log2(ranks)
 * steps, each rank exchanging with rank ^ 2^step), and a small allReduce's data travels beside
 * them, reduced at each step with MPI_Reduce_local: one round trip in all.
 *
 * Invariants that keep a disagreement from hanging, crashing or spoiling a later call:
 * - Which ranks a rank sends to and receives from depends only on its rank and the job's
 *   size, never on the call. At each step a rank sends its peer one message, a head (a flag,
 *   its data's length, the signatures it knows; the same length on every rank) and then its
 *   data, cut into pieces (mpi_exchange_setup), and receives the same, posted before it sends.
 * - The head says how long the peer's message is, so every piece it sends is received, even
 *   when its call differs from ours (receive_from); such data is not reduced, and the flag,
 *   which travels on with every later head, marks the exchange spoiled on every rank. The
 *   signatures still arrive, so the caller can name each rank's call.
 * - The caller compares the signatures and raises on every rank alike (and on a spoiled
 *   exchange whose signatures agree, which lengths that follow from signatures rule out).
 * Ranks past the largest power of two first hand their messages to rank - 2^k and get the
 * final ones back at the end (as MPICH's recursive doubling does). Sums are bit-identical on
 * every rank: each step's two ranks add the same two partial sums, and addition commutes.
 *
 * Measured (2 ranks, float32 sums, ratio C's MPI_Allreduce / checked allReduce,
 * bench/procs/allreduce_ours.ts): over shared memory 8-16 KiB ran 1.09-1.34x (faster than C:
 * MPI's own messages there are past Open MPI's eager limit, our pieces are not), where a
 * separate check had given 0.59-0.69x, and 4 KiB came to the unchecked call's level; over TCP,
 * with head and data in one message, 4 KiB 1.61-1.63x and 16 KiB 1.40-1.41x (head and data as
 * two messages: 1.01x and 0.93x). Past 32 KiB MPI's own algorithms win (256 KiB: 0.53x riding,
 * 0.79x after a separate check), so src/distribute/collectives.ts sends larger data after the
 * exchange.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mpi_internal.h"

/* No other point-to-point traffic uses our communicator. The tag alternates between two values
 * from one exchange to the next: see step. */
enum { TAG = 0x4540 };
/* The most data an exchange carries (the caller rides at most 32 KiB), and the pieces a message
 * (head, then data) is cut into. Over shared memory, pieces of 3 KiB: each stays within Open
 * MPI's eager limit (4 KiB with its headers; one message of head and 4 KiB went by its
 * rendezvous protocol from 3.75 KiB, twice as slow). Between machines one piece: over TCP each
 * message costs a round of system calls (16 KiB in 3 KiB pieces took 92 us a call against 42
 * for a separate check and then MPI_Allreduce; 4 KiB with its head as two messages 20 us, as one
 * 16 us, C's MPI_Allreduce 22-23). Every rank must cut alike, since a peer's pieces are matched
 * to ours: mpi_exchange_setup agrees on it. */
enum { DATA_MAX_BYTES = 64 << 10, SHARED_MEMORY_PIECE_BYTES = 3 << 10 };
static int small_pieces; /* set by mpi_exchange_setup */

/* A message: the head, [spoiled flag, 8 bytes][data bytes, int64][have: a byte a rank, padded
 * to 8][signatures: an entry a rank], then the data. `have` says which signatures the sender
 * knows so far. Every rank's head has the same length; its data's length is in it. */
typedef struct {
  size_t have_at, table_at, head_bytes, data_bytes;
  int64_t entry_bytes, count, piece;
  int32_t op, dtype, tag;
} layout;

/* Our message and a peer's; pieces of a peer's message past ours go to `drain`. Grown as
 * needed and kept: only the main thread calls (the communication thread is drained first). */
typedef struct {
  char *bytes;
  size_t capacity;
} buffer;
static buffer outgoing, incoming, drain;
static buffer request_space; /* a step's requests (handles): sends, receives, drained receives */
static handle *requests;     /* request_space.bytes */
static int32_t exchanges; /* counts exchanges: the parity picks the tag */

static int reserve(buffer *b, size_t bytes) {
  if (bytes <= b->capacity) return 1;
  char *grown = realloc(b->bytes, bytes);
  if (!grown) return 0;
  b->bytes = grown;
  b->capacity = bytes;
  return 1;
}

static int64_t pieces_of(const layout *l, int64_t bytes) {
  return (bytes + l->piece - 1) / l->piece;
}

static int64_t data_length(const char *head) {
  int64_t bytes;
  memcpy(&bytes, head + 8, sizeof bytes);
  return bytes;
}

/* Folds the message in `incoming` into `outgoing`: the signatures ours lacks, the flag, and
 * the data reduced into ours (`replace`: copied over ours, for the final message). */
static void fold(const layout *l, int replace) {
  char *out = outgoing.bytes;
  const char *in = incoming.bytes;
  out[0] |= in[0];
  if (data_length(in) != (int64_t)l->data_bytes) out[0] = 1;
  for (int r = 0; r < size_; r++) {
    if (!in[l->have_at + r] || out[l->have_at + r]) continue;
    out[l->have_at + r] = 1;
    size_t at = l->table_at + (size_t)r * (size_t)l->entry_bytes;
    memcpy(out + at, in + at, (size_t)l->entry_bytes);
  }
  if (out[0] || l->count == 0) return;
  if (replace) {
    memcpy(out + l->head_bytes, in + l->head_bytes, l->data_bytes);
  } else {
    int code = mpi.reduce_local(in + l->head_bytes, out + l->head_bytes, (int)l->count,
                                dtypes[l->dtype], mpi_reduce_handle(l->op, l->dtype));
    if (code) out[0] = 1; /* cannot happen for our dtypes and ops; spoils, never hangs */
  }
}

/* Posts sends (`to` >= 0) or receives of pieces [first, last) of a message of `bytes` bytes at
 * `message`, into requests from `slot` on. Each receive takes a whole piece (`message` has
 * room): a peer's piece, at most that long, is never truncated (MPICH makes truncation found
 * in MPI_Wait fatal, whatever the communicator's error handler). */
static int32_t post_pieces(const layout *l, char *message, int64_t bytes, int64_t first,
                           int64_t last, int to, int from, int64_t slot) {
  for (int64_t k = first; k < last; k++, slot++) {
    int64_t at = k * l->piece;
    int64_t n = to < 0 || bytes - at > l->piece ? l->piece : bytes - at;
    int code = to >= 0 ? mpi.isend(message + at, (int)n, byte_type, to, l->tag, world,
                                   &requests[slot])
                       : mpi.irecv(message + at, (int)n, byte_type, from, l->tag, world,
                                   &requests[slot]);
    if (code) return mpi_status(code, to >= 0 ? "MPI_Isend" : "MPI_Irecv");
  }
  return EAGER_OK;
}

static int32_t wait_for(handle *request, const char *what) {
  mpi_status_space status;
  int code = mpi.wait(request, &status);
  return code ? mpi_status(code, what) : EAGER_OK;
}

static int reserve_requests(int64_t n) {
  if (!reserve(&request_space, (size_t)n * sizeof *requests)) return 0;
  requests = (handle *)request_space.bytes;
  return 1;
}

/*
 * Completes the receives `step` posted from `from` (requests[ours, 2 ours)), whatever the peer
 * announced: first the pieces that hold the head (every message has them), which says how long
 * the peer's message is; then the pieces it sends that we posted; our receives it leaves
 * unmatched are cancelled, and pieces past ours are received into `drain`.
 */
static int32_t receive_from(const layout *l, int from, int64_t ours) {
  int64_t head_pieces = pieces_of(l, (int64_t)l->head_bytes);
  int32_t status = EAGER_OK;
  for (int64_t k = 0; k < head_pieces && !status; k++)
    status = wait_for(&requests[ours + k], "MPI_Wait (a head)");
  if (status) return status;
  int64_t announced = data_length(incoming.bytes);
  if (announced < 0 || announced > DATA_MAX_BYTES)
    return mpi_fail("rank %d sent a head this library cannot read", from);
  int64_t theirs = pieces_of(l, (int64_t)l->head_bytes + announced);
  int64_t matched = theirs < ours ? theirs : ours;
  for (int64_t k = head_pieces; k < matched && !status; k++)
    status = wait_for(&requests[ours + k], "MPI_Wait (data)");
  if (status) return status;
  for (int64_t k = matched; k < ours; k++) { /* pieces the peer never sends */
    mpi_status_space ignored;
    mpi.cancel(&requests[ours + k]);
    mpi.wait(&requests[ours + k], &ignored);
  }
  if (theirs <= ours) return EAGER_OK;
  if (!reserve(&drain, (size_t)(theirs * l->piece)) || !reserve_requests(ours + theirs))
    return EAGER_ERR_NO_MEMORY; /* the pending sends' requests move with the array */
  status = post_pieces(l, drain.bytes, (int64_t)l->head_bytes + announced, ours, theirs, -1,
                       from, 2 * ours);
  for (int64_t k = 2 * ours; k < ours + theirs && !status; k++)
    status = wait_for(&requests[k], "MPI_Wait (data)");
  return status;
}

/*
 * One step's messages: ours to `to` (if >= 0), `from`'s (if >= 0) folded in, its receives
 * posted before our sends. A peer can be one exchange ahead of us, never two (it cannot finish
 * one without our message), so the alternating tag keeps its next pieces from matching a
 * receive of ours that is about to be cancelled.
 */
static int32_t step(const layout *l, int to, int from, int replace) {
  int64_t bytes = (int64_t)(l->head_bytes + l->data_bytes), ours = pieces_of(l, bytes);
  if (!reserve_requests(2 * ours)) return EAGER_ERR_NO_MEMORY;
  for (int64_t k = 0; k < 2 * ours; k++) requests[k] = 0; /* sends, then receives */
  int32_t status = EAGER_OK;
  if (from >= 0) status = post_pieces(l, incoming.bytes, bytes, 0, ours, -1, from, ours);
  if (!status && to >= 0) status = post_pieces(l, outgoing.bytes, bytes, 0, ours, to, -1, 0);
  if (status) return status;
  if (from >= 0) status = receive_from(l, from, ours);
  if (to >= 0) { /* outgoing is ours again only after this */
    int32_t sent = EAGER_OK;
    for (int64_t k = 0; k < ours && !sent; k++) sent = wait_for(&requests[k], "MPI_Wait (sent)");
    if (!status) status = sent;
  }
  if (!status && from >= 0) fold(l, replace);
  return status;
}

static int32_t run_exchange(const layout *l) {
  int pof2 = 1;
  while (pof2 * 2 <= size_) pof2 *= 2;
  int extra = size_ - pof2;
  int32_t status = EAGER_OK;
  if (rank_ >= pof2) { /* hand over, then wait for the outcome */
    status = step(l, rank_ - pof2, -1, 0);
    return status ? status : step(l, -1, rank_ - pof2, 1);
  }
  if (rank_ < extra) status = step(l, -1, rank_ + pof2, 0);
  for (int bit = 1; !status && bit < pof2; bit *= 2) status = step(l, rank_ ^ bit, rank_ ^ bit, 0);
  if (!status && rank_ < extra) status = step(l, rank_ + pof2, -1, 0);
  return status;
}

int32_t mpi_exchange_setup(int shared_memory) {
  int64_t mine = shared_memory ? 1 : 0, agreed = 0; /* small pieces only where all say so */
  int code = mpi.allreduce(&mine, &agreed, 1, dtypes[EAGER_I64],
                           mpi_reduce_handle(EAGER_REDUCE_MIN, EAGER_I64), world);
  if (code) return mpi_status(code, "MPI_Allreduce (how the ranks cut exchanges)");
  small_pieces = agreed == 1;
  return EAGER_OK;
}

EAGER_API int32_t eager_mpi_exchange(int64_t entry_bytes, void *table, int32_t op, int32_t dtype,
                                     int64_t count, const void *send, void *recv,
                                     int32_t *spoiled) {
  int32_t status = mpi_check_ready(dtype);
  if (status) return status;
  if (entry_bytes <= 0 || count < 0 || (count > 0 && !mpi_known_op(op)))
    return EAGER_ERR_ARGUMENT;
  layout l = {.entry_bytes = entry_bytes, .count = count, .op = op, .dtype = dtype};
  l.have_at = 16;
  l.table_at = l.have_at + (((size_t)size_ + 7) & ~(size_t)7);
  int64_t entry_max = (INT_MAX - (int64_t)l.table_at - DATA_MAX_BYTES) / size_;
  if (entry_bytes > entry_max || count > DATA_MAX_BYTES / (int64_t)eager_dtype_size(dtype))
    return mpi_fail("eager_mpi_exchange takes at most %lld signature bytes a rank and %d data "
                    "bytes, got %lld and %lld elements", (long long)entry_max, DATA_MAX_BYTES,
                    (long long)entry_bytes, (long long)count);
  int64_t table_bytes = entry_bytes * size_, data_bytes = count * eager_dtype_size(dtype);
  l.tag = TAG + (exchanges++ & 1); /* past the argument checks, alike on every rank */
  l.head_bytes = l.table_at + (size_t)table_bytes;
  l.data_bytes = (size_t)data_bytes;
  l.piece = small_pieces ? SHARED_MEMORY_PIECE_BYTES : (int64_t)l.head_bytes + DATA_MAX_BYTES;
  size_t bytes = l.head_bytes + l.data_bytes;
  size_t room = (size_t)(pieces_of(&l, (int64_t)bytes) * l.piece); /* see post_pieces */
  if (!reserve(&outgoing, bytes) || !reserve(&incoming, room)) return EAGER_ERR_NO_MEMORY;
  char *out = outgoing.bytes;
  memset(out, 0, l.table_at);
  memcpy(out + 8, &data_bytes, sizeof data_bytes);
  out[l.have_at + rank_] = 1;
  size_t mine = (size_t)rank_ * (size_t)entry_bytes;
  memcpy(out + l.table_at + mine, (const char *)table + mine, (size_t)entry_bytes);
  if (data_bytes) memcpy(out + l.head_bytes, send, (size_t)data_bytes);
  mpi_drain();
  status = size_ > 1 ? run_exchange(&l) : EAGER_OK;
  if (status) return status;
  for (int r = 0; r < size_; r++) { /* the signatures that came; the others stay as they were */
    size_t at = (size_t)r * (size_t)entry_bytes;
    if (out[l.have_at + r]) memcpy((char *)table + at, out + l.table_at + at, (size_t)entry_bytes);
  }
  if (data_bytes) memcpy(recv, out + l.head_bytes, (size_t)data_bytes);
  *spoiled = out[0];
  return EAGER_OK;
}
