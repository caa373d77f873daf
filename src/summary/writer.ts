/**
 * Summary writers and the recording policy, as `tf.contrib.summary` has them: a summary
 * op writes only while a writer is the default (`writer.asDefault(fn)`) AND a recording
 * policy says so (`alwaysRecordSummaries`, `recordSummariesEveryNGlobalSteps`); with
 * either missing, the ops return at once, before converting any argument.
 * Scopes are callbacks run synchronously: summaries written after an `await` inside fn
 * run outside the scope.
 * @module
 */
import { describe } from "../shape.ts";
import { Variable } from "../variable.ts";
import { getGlobalStep, getOrCreateGlobalStep } from "../train/global_step.ts";
import { EventFileWriter } from "./event_file_writer.ts";
import type { SummaryValue } from "./protos.ts";
import { writesSharedFiles } from "../distribute/role.ts";

/** Options of createSummaryFileWriter. */
export interface SummaryFileWriterOptions {
  /** Longest time events wait in the queue, in milliseconds (default 120000, as TF). */
  flushMillis?: number;
  /** Events queued before they are written (default 10, as TF). */
  maxQueue?: number;
  /** Appended to the file name (default ""). */
  filenameSuffix?: string;
}

/** Internal: how the summary ops hand a value to a writer. */
export const WRITE: unique symbol = Symbol("summary.write");

/**
 * Writes summaries to an event file in `logdir`; made by createSummaryFileWriter.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const writer = tf.summary.createSummaryFileWriter("/tmp/logs");
 * writer.asDefault(() => tf.summary.alwaysRecordSummaries(() => tf.summary.scalar("x", 1)));
 * writer.close();
 * ```
 */
export class SummaryWriter {
  /** Null on an MPI rank other than 0, which records nothing (docs/distribute.md). */
  #file: EventFileWriter | null = null;
  readonly #logdir: string;

  constructor(logdir: string, options: SummaryFileWriterOptions = {}) {
    const op = "createSummaryFileWriter";
    if (typeof logdir !== "string" || logdir === "") {
      throw new TypeError(`${op}: logdir must be a non-empty string, got ${describe(logdir)}`);
    }
    if (options === null || typeof options !== "object") {
      throw new TypeError(`${op}: options must be an object, got ${describe(options)}`);
    }
    const { flushMillis = 120_000, maxQueue = 10, filenameSuffix = "" } = options;
    if (typeof flushMillis !== "number" || !(flushMillis >= 0)) {
      throw new RangeError(
        `${op}: flushMillis must be a number >= 0, got ${describe(flushMillis)}`,
      );
    }
    if (!Number.isInteger(maxQueue) || maxQueue < 0) {
      throw new RangeError(`${op}: maxQueue must be an integer >= 0, got ${describe(maxQueue)}`);
    }
    if (typeof filenameSuffix !== "string" || filenameSuffix.includes("/")) {
      throw new TypeError(
        `${op}: filenameSuffix must be a string without "/", got ${describe(filenameSuffix)}`,
      );
    }
    this.#logdir = logdir;
    if (!writesSharedFiles()) return;
    try {
      this.#file = new EventFileWriter(logdir, { flushMillis, maxQueue, filenameSuffix });
    } catch (error) {
      throw new Error(`${op}: cannot write in ${logdir}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** The directory given at creation. */
  get logdir(): string {
    return this.#file?.logdir ?? this.#logdir;
  }

  /** The event file being written ("" on an MPI rank other than 0, which writes none). */
  get path(): string {
    return this.#file?.path ?? "";
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed || (this.#file?.closed ?? false);
  }
  #closed = false;

  /** Runs fn (synchronously) with this writer as the default; returns fn's value. */
  asDefault<T>(fn: () => T): T {
    if (typeof fn !== "function") {
      throw new TypeError(`asDefault: expected a function to run, got ${describe(fn)}`);
    }
    if (this.closed) throw new Error(`asDefault: the summary writer of ${this.logdir} is closed`);
    const previous = defaultWriter;
    defaultWriter = this;
    try {
      return fn();
    } finally {
      defaultWriter = previous;
    }
  }

  /** Writes the queued events now. */
  flush(): void {
    try {
      this.#file?.flush();
    } catch (error) {
      throw new Error(`flush: ${this.path}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Flushes and closes the writer; closing twice is harmless. */
  close(): void {
    this.#closed = true;
    try {
      this.#file?.close();
    } catch (error) {
      throw new Error(`close: ${this.path}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Queues one summary value at `step`. */
  [WRITE](op: string, step: bigint, value: SummaryValue): void {
    try {
      this.#file?.add({ wallTime: Date.now() / 1000, step, summary: [value] });
    } catch (error) {
      throw new Error(`${op}: ${(error as Error).message}`, { cause: error });
    }
  }
}

/**
 * A writer of TensorBoard event files in `logdir` (created if needed).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const writer = tf.summary.createSummaryFileWriter("/tmp/logs", { flushMillis: 10_000 });
 * writer.close();
 * ```
 */
export function createSummaryFileWriter(
  logdir: string,
  options: SummaryFileWriterOptions = {},
): SummaryWriter {
  return new SummaryWriter(logdir, options);
}

// ---- the recording policy ----

interface Policy {
  shouldRecord(): boolean;
  /** The step variable the policy counts, the default step of summaries inside it. */
  step: Variable | null;
}

let defaultWriter: SummaryWriter | null = null;
let policy: Policy | null = null;

function withPolicy<T>(op: string, next: Policy, fn: () => T): T {
  if (typeof fn !== "function") {
    throw new TypeError(`${op}: expected a function to run, got ${describe(fn)}`);
  }
  const previous = policy;
  policy = next;
  try {
    return fn();
  } finally {
    policy = previous;
  }
}

/** The value of a step variable as an int64. */
function stepValue(op: string, v: Variable): bigint {
  const t = v.peek();
  if (t.size !== 1) {
    throw new RangeError(`${op}: the step variable ${v.name} must hold one value, got ${t.size}`);
  }
  const x = t.dataSync()[0];
  if (typeof x === "bigint") return x;
  if (!Number.isFinite(x)) throw new RangeError(`${op}: the step variable ${v.name} is ${x}`);
  return BigInt(Math.trunc(x));
}

/**
 * Runs fn recording summaries only when the global step is a multiple of `n`, checked
 * at each summary (the step changes inside fn). The step is `globalStep`, else the
 * process's global step (created if needed, as tf.contrib.summary does).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.summary.recordSummariesEveryNGlobalSteps(100, () => tf.summary.scalar("loss", 0.5));
 * ```
 */
export function recordSummariesEveryNGlobalSteps<T>(
  n: number,
  fn: () => T,
  options: { globalStep?: Variable } = {},
): T {
  const op = "recordSummariesEveryNGlobalSteps";
  if (!Number.isInteger(n) || n < 1 || n > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`${op}: n must be a positive integer, got ${describe(n)}`);
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${op}: options must be an object, got ${describe(options)}`);
  }
  if (options.globalStep !== undefined && !(options.globalStep instanceof Variable)) {
    throw new TypeError(
      `${op}: globalStep must be a Variable, got ${describe(options.globalStep)}`,
    );
  }
  if (typeof fn !== "function") {
    throw new TypeError(`${op}: expected a function to run, got ${describe(fn)}`);
  }
  const step = options.globalStep ?? getOrCreateGlobalStep();
  stepValue(op, step);
  const every = BigInt(n);
  return withPolicy(op, { shouldRecord: () => stepValue(op, step) % every === 0n, step }, fn);
}

/**
 * Runs fn recording every summary.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.summary.alwaysRecordSummaries(() => tf.summary.scalar("loss", 0.5, { step: 1 }));
 * ```
 */
export function alwaysRecordSummaries<T>(fn: () => T): T {
  return withPolicy("alwaysRecordSummaries", { shouldRecord: () => true, step: null }, fn);
}

/**
 * Runs fn recording no summaries (e.g. inside an always-recording scope).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.summary.neverRecordSummaries(() => tf.summary.scalar("loss", 0.5));
 * ```
 */
export function neverRecordSummaries<T>(fn: () => T): T {
  return withPolicy("neverRecordSummaries", { shouldRecord: () => false, step: null }, fn);
}

/**
 * Whether a summary written now would be recorded: a default writer and a policy that
 * says yes.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.summary.shouldRecordSummaries(); // false outside writer and policy scopes
 * ```
 */
export function shouldRecordSummaries(): boolean {
  return recordingWriter() !== null;
}

/** The writer summaries go to now, or null when they are not recorded. */
export function recordingWriter(): SummaryWriter | null {
  if (defaultWriter === null || policy === null || !writesSharedFiles()) return null;
  return policy.shouldRecord() ? defaultWriter : null;
}

/**
 * The step of a summary written without one: the recording policy's step variable, else
 * the global step, else 0.
 */
export function defaultStep(op: string): bigint {
  const step = policy?.step ?? getGlobalStep();
  return step ? stepValue(op, step) : 0n;
}
