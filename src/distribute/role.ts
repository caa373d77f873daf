/**
 * Which process writes the files a job shares (checkpoints, summaries): every process,
 * unless tf.distribute joined an MPI job of several ranks, where only rank 0 does. This
 * module imports nothing, so Saver and summary writers ask it without loading MPI.
 * @module
 */
let writes = true;

/** Whether this process writes checkpoints and summaries (rank 0, or no MPI job). */
export function writesSharedFiles(): boolean {
  return writes;
}

/** Called by tf.distribute.init with whether this rank is the one that writes. */
export function setWritesSharedFiles(value: boolean): void {
  writes = value;
}
