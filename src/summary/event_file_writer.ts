/**
 * One TensorBoard event file: naming, the file-version header, the queue and its flush
 * policy. Decisions:
 * - Name: `events.out.tfevents.<secs>.<hostname>.<pid>.<counter><suffix>` in the logdir
 *   (created): TensorFlow 2's name (seconds zero-padded to 10 digits as TensorFlow prints
 *   them) with a per-process counter, so two writers opened in the same second never share
 *   a file. TensorBoard reads every file whose name contains "tfevents".
 * - The header event (`file_version: "brain.Event:2"`) is written when the writer is made,
 *   so the file exists at once, as TensorFlow's does.
 * - Events are queued and written, synchronously, when `maxQueue` are pending, when an
 *   event arrives `flushMillis` after the last flush, from a timer (unref'd: it never
 *   keeps the process alive) `flushMillis` after the first pending event, at `flush()` and
 *   `close()`, and when the process exits or dies of an uncaught error. A synchronous training loop therefore
 *   writes without the event loop turning.
 * - Each flush opens the file, appends and closes it: no handle stays open between
 *   flushes, so a writer that is never closed leaks nothing. When the file was removed
 *   meanwhile, a new file (new name, new header) is started, as TensorFlow's EventsWriter
 *   does.
 * - A write error in the timer is kept and thrown by the next call (write, flush, close).
 * @module
 */
import { encodeRecord } from "../io/tfrecord.ts";
import { writeAllSync } from "../io/tfrecord_stream.ts";
import { encodeEvent, type EventProto, FILE_VERSION } from "./protos.ts";
import { concatBytes } from "../io/bytes.ts";

/** Writers with pending events, flushed when the process unloads. */
const open = new Set<EventFileWriter>();
let unloadHook = false;
let counter = 0;

function hostname(): string {
  try {
    return Deno.hostname() || "localhost";
  } catch {
    return "localhost"; // no --allow-sys
  }
}

function flushAllOnUnload(): void {
  for (const writer of open) {
    try {
      writer.flush();
    } catch (error) {
      console.error(`summary: could not flush ${writer.path} at exit: ${error}`);
    }
  }
}

/** Flush policy of an EventFileWriter. */
export interface EventFileWriterOptions {
  flushMillis: number;
  maxQueue: number;
  filenameSuffix: string;
}

/** Appends framed Event records to one event file. */
export class EventFileWriter {
  readonly logdir: string;
  #path = "";
  #options: EventFileWriterOptions;
  #queue: Uint8Array[] = [];
  #lastFlush = Date.now();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #error: unknown = null;
  #closed = false;

  constructor(logdir: string, options: EventFileWriterOptions) {
    this.logdir = logdir;
    this.#options = options;
    Deno.mkdirSync(logdir, { recursive: true });
    this.#startFile();
    if (!unloadHook) {
      unloadHook = true;
      // NOTE: also on an uncaught error, so a crashed training run keeps its last summaries.
      globalThis.addEventListener("unload", flushAllOnUnload);
      globalThis.addEventListener("error", flushAllOnUnload);
      globalThis.addEventListener("unhandledrejection", flushAllOnUnload);
    }
  }

  /** The file being written. */
  get path(): string {
    return this.#path;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Number of queued events not yet written. */
  get pending(): number {
    return this.#queue.length;
  }

  #startFile(): void {
    const now = Date.now();
    const secs = String(Math.floor(now / 1000)).padStart(10, "0");
    const name = `events.out.tfevents.${secs}.${hostname()}.${Deno.pid}.${counter++}` +
      this.#options.filenameSuffix;
    this.#path = `${this.logdir.replace(/\/+$/, "") || "/"}/${name}`;
    const header = encodeEvent({ wallTime: now / 1000, step: 0n, fileVersion: FILE_VERSION });
    Deno.writeFileSync(this.#path, encodeRecord(header), { createNew: true });
  }

  #throwKept(): void {
    if (this.#error === null) return;
    const error = this.#error;
    this.#error = null;
    throw error;
  }

  /** Queues an event; writes the queue when the flush policy says so. */
  add(event: EventProto): void {
    this.#throwKept();
    if (this.#closed) throw new Error(`the summary writer of ${this.logdir} is closed`);
    this.#queue.push(encodeRecord(encodeEvent(event)));
    open.add(this);
    const { maxQueue, flushMillis } = this.#options;
    if (this.#queue.length >= maxQueue || Date.now() - this.#lastFlush >= flushMillis) {
      this.flush();
    } else if (this.#timer === null) {
      const delay = Math.max(0, this.#lastFlush + flushMillis - Date.now());
      const timer = setTimeout(() => {
        this.#timer = null;
        try {
          this.flush();
        } catch (error) {
          this.#error = error;
        }
      }, Math.min(delay, 2 ** 31 - 1));
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** Writes the queued events to the file. */
  flush(): void {
    this.#throwKept();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#lastFlush = Date.now();
    open.delete(this);
    if (this.#queue.length === 0) return;
    const records = this.#queue;
    this.#queue = [];
    const bytes = concatBytes(records);
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(this.#path, { write: true, append: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      Deno.mkdirSync(this.logdir, { recursive: true });
      this.#startFile();
      file = Deno.openSync(this.#path, { write: true, append: true });
    }
    try {
      writeAllSync(file, bytes);
    } finally {
      file.close();
    }
  }

  /** Flushes and closes; later events are errors. Closing twice is harmless. */
  close(): void {
    if (this.#closed) return;
    try {
      this.flush();
    } finally {
      this.#closed = true;
      open.delete(this);
    }
  }
}
