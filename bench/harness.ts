/**
 * The benchmark harness: the timing rule every runner shares (this process, the
 * TensorFlow.js runner; bench/peers/timing.py is its Python twin), the case and result
 * types, and the line protocol that drives a long-lived peer process.
 *
 * Timing rule: a case is measured in rounds (bench.ts alternates the columns between
 * them), and each runner keeps the case's inputs from its first round to its last. One
 * call decides the plan. A call slower than `slowCallS` is timed once more and that is
 * the round's only sample. Otherwise, in the first round, calls run as warm-up for
 * `warmupS` and at least `warmupCalls` calls (those stop at `warmupMaxS`); in later rounds
 * for `rewarmS`, the first call included. Then samples of `batch` calls each (batch sized
 * so a sample lasts about `sampleS`), as many as the round's budget holds, at least
 * `minRoundSamples`, and `minSamples` to `maxSamples` over all rounds (TimingRule;
 * CPU_RULE holds the numbers of the CPU cases). Each sample is
 * seconds per call divided by `inner` (the operations one call performs). We report the
 * median and the spread (interquartile range over the median).
 *
 * This file must not import the library: the TensorFlow.js runner imports it too.
 * @module
 */

/** The columns of the table, in order: ours first, then each peer. */
export const COLUMNS = [
  { id: "ours", title: "deno-eager" },
  { id: "numpy", title: "NumPy" },
  { id: "tensorflow", title: "TF eager" },
  { id: "tf.function", title: "TF tf.function" },
  { id: "tfjs-cpu", title: "tfjs cpu" },
  { id: "tfjs-wasm", title: "tfjs wasm" },
  // The WebGPU comparison (bench/webgpu.ts) has its own table; these name its two runners.
  { id: "webgpu", title: "deno-eager WebGPU" },
  { id: "tfjs-webgpu", title: "tfjs webgpu" },
] as const;

/** A column of the table: "ours" or a peer. */
export type Column = typeof COLUMNS[number]["id"];

/** Robust statistics of the samples (seconds per operation, or bytes). */
export interface Stats {
  median: number;
  q1: number;
  q3: number;
  min: number;
  max: number;
  /** Number of samples. */
  samples: number;
  /** Calls per sample. */
  batch: number;
  /** The samples themselves, so that the rounds of a case can be pooled. */
  values: number[];
  /** After pooling: each round's samples, round 0 first (the --json output shows which
   * rounds slow samples fell in). */
  byRound?: number[][];
}

/** One cell of the table: a measurement, or why there is none. */
export interface Result {
  column: Column;
  stats?: Stats;
  /** Why this column has no number for the case (not applicable, too slow, ...). */
  skipped?: string;
  error?: string;
  /** What this peer did differently, when it matters for reading the number. */
  note?: string;
}

/** A function to time; one call performs `inner` operations (default 1). */
export interface Timed {
  fn: () => unknown;
  inner?: number;
}

/** A target from an issue (7, 16, 17): ratio (peer / ours) at least `atLeast`. */
export interface Target {
  column: Column;
  atLeast: number;
  text: string;
}

/** What every runner receives for a case: its id, what to run and with which sizes. */
export interface CaseSpec {
  id: string;
  kind: string;
  params: Record<string, unknown>;
  /** Seconds of sampling to aim for after warm-up, in this round. */
  budget: number;
  /** This round (from 0) of `rounds`: a runner sets a case up in round 0 and keeps it. */
  round: number;
  rounds: number;
}

/** A benchmark case: one row of the table. */
export interface Case {
  id: string;
  label: string;
  /** The section of the table. */
  group: string;
  /** What the peers implement (one kind serves several sizes). */
  kind: string;
  params: Record<string, unknown>;
  /** "bytes" for memory; seconds otherwise. Lower is better for both. */
  unit?: "seconds" | "bytes";
  /** Shows a time per operation as a rate instead, e.g. "records/s". */
  rate?: string;
  /** Our side, timed in this process. */
  ours?: (params: Record<string, unknown>) => Timed | Promise<Timed>;
  /** Cases measured by spawning processes: one result per column, run by the harness. */
  process?: (column: Column, budget: number) => Promise<Result>;
  /** Columns the process case covers. */
  processColumns?: Column[];
  /** Columns that do not run this case, with the reason. */
  skip?: Partial<Record<Column, string>>;
  targets?: Target[];
}

/**
 * The knobs of the timing rule above. CPU_RULE is the rule of `deno task bench`'s cases;
 * the WebGPU cases (bench/cases/webgpu.ts) keep its shape with fewer and slower calls.
 */
export interface TimingRule {
  /** Seconds of warm-up in the first round. */
  warmupS: number;
  /** Seconds of warm-up in later rounds (the first call included). */
  rewarmS: number;
  /** Calls of warm-up in the first round, as long as they stay within warmupMaxS. */
  warmupCalls: number;
  warmupMaxS: number;
  /** Seconds a sample of `batch` calls aims to last. */
  sampleS: number;
  /** A call slower than this is timed once more, and that is the round's only sample. */
  slowCallS: number;
  /**
   * In rounds after the first, a slow first call is itself the round's sample instead of
   * being timed once more (for calls whose first-call costs are paid once, in round 0).
   */
  reuseSlowFirst?: boolean;
  /** Samples over all rounds: at least minSamples, at most maxSamples. */
  minSamples: number;
  maxSamples: number;
  minRoundSamples: number;
}

/**
 * NOTE: a call count as well as a time, because a process reaches its steady state by
 * calls: deno-eager's in-flight garbage outputs (V8 frees them some collections later)
 * grow for about 30 calls of a 16M-element add, each growth step paying first touches of
 * memory (75 ms instead of 5 ms in our VM); 0.3 s of warm-up sampled that growth.
 * A later round only brings back the caches the other columns' turns evicted (rewarmS).
 */
export const CPU_RULE: TimingRule = {
  warmupS: 0.3,
  rewarmS: 0.02,
  warmupCalls: 40,
  warmupMaxS: 5,
  sampleS: 0.05,
  slowCallS: 3,
  minSamples: 12,
  maxSamples: 18,
  minRoundSamples: 2,
};

/**
 * Where timed calls leave their results. NOTE: a result nobody reads lets V8's optimizer
 * drop the work that made it once a call is pure JS (a one-element add measured 0.05 us
 * that way); keeping each one in a module-level slot makes it escape, as a user's would.
 */
export let sink: unknown;

function seconds(fn: () => unknown, calls: number): number {
  const start = performance.now();
  for (let i = 0; i < calls; i++) sink = fn();
  return (performance.now() - start) / 1000;
}

async function secondsAsync(fn: () => Promise<unknown>, calls: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < calls; i++) sink = await fn();
  return (performance.now() - start) / 1000;
}

/** Median, quartiles and extremes of samples (linear interpolation between ranks). */
export function statsOf(samples: number[], batch = 1): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => {
    const pos = (s.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  };
  return {
    median: at(0.5),
    q1: at(0.25),
    q3: at(0.75),
    min: s[0],
    max: s[s.length - 1],
    samples: s.length,
    batch,
    values: s,
  };
}

/** The statistics of the samples of several rounds of one case and column, together. */
export function pooled(rounds: Stats[]): Stats {
  return {
    ...statsOf(rounds.flatMap((r) => r.values), rounds[0].batch),
    byRound: rounds.map((r) => r.values),
  };
}

/**
 * The order of a case's turns: `rounds` rounds of the interleaved runners, every runner once
 * a round and alternate rounds in reverse order, then the same for the runners `late` picks
 * (bench.ts: the one-core peers). Each entry is a runner and the round it takes.
 */
export function schedule<T>(
  runners: readonly T[],
  late: (runner: T) => boolean,
  rounds: number,
): { runner: T; round: number }[] {
  const order: { runner: T; round: number }[] = [];
  for (const group of [runners.filter((r) => !late(r)), runners.filter(late)]) {
    for (let round = 0; round < rounds; round++) {
      for (const runner of round % 2 ? [...group].reverse() : group) order.push({ runner, round });
    }
  }
  return order;
}

/**
 * The timing rule as a dialogue, so that the synchronous and the asynchronous measurer share
 * it: yields how many calls to time next, receives the seconds they took, returns the stats.
 */
function* timingPlan(
  inner: number,
  budget: number,
  round: number,
  rounds: number,
  rule: TimingRule,
): Generator<number, Stats, number> {
  const first: number = yield 1;
  if (first > rule.slowCallS) {
    const again = round > 0 && rule.reuseSlowFirst ? first : yield 1;
    return statsOf([again / inner]);
  }
  const [warmS, warmCalls, fewest] = round === 0
    ? [rule.warmupS, rule.warmupCalls, 3]
    : [rule.rewarmS, 1, 1];
  let calls = 1, spent = first;
  while (calls < fewest || spent < warmS || (calls < warmCalls && spent < rule.warmupMaxS)) {
    const byTime = Math.ceil((warmS - spent) / (spent / calls));
    const n = Math.max(1, Math.min(calls, Math.max(byTime, warmCalls - calls)));
    spent += yield n;
    calls += n;
  }
  const per = Math.max(spent / calls, 1e-9);
  const batch = Math.max(1, Math.round(rule.sampleS / per));
  const least = Math.max(rule.minRoundSamples, Math.ceil(rule.minSamples / rounds));
  const most = Math.max(least, Math.ceil(rule.maxSamples / rounds));
  const count = Math.min(most, Math.max(least, Math.floor(budget / (batch * per))));
  const samples: number[] = [];
  for (let i = 0; i < count; i++) samples.push((yield batch) / batch / inner);
  return statsOf(samples, batch);
}

/** Times fn by the rule above, as round `round` of `rounds`; returns seconds per operation. */
export function measure(
  timed: Timed,
  budget = 1,
  round = 0,
  rounds = 1,
  rule: TimingRule = CPU_RULE,
): Stats {
  const plan = timingPlan(timed.inner ?? 1, budget, round, rounds, rule);
  let step = plan.next();
  while (!step.done) step = plan.next(seconds(timed.fn, step.value));
  return step.value;
}

/** A function to time whose calls finish when their promise does (a GPU op and its read). */
export interface AsyncTimed {
  fn: () => Promise<unknown>;
  inner?: number;
}

/** measure() for calls that finish asynchronously: each call is awaited before the next. */
export async function measureAsync(
  timed: AsyncTimed,
  budget = 1,
  round = 0,
  rounds = 1,
  rule: TimingRule = CPU_RULE,
): Promise<Stats> {
  const plan = timingPlan(timed.inner ?? 1, budget, round, rounds, rule);
  let step = plan.next();
  while (!step.done) step = plan.next(await secondsAsync(timed.fn, step.value));
  return step.value;
}

/** The interquartile range as a fraction of the median. */
export function spread(stats: Stats): number {
  return stats.median > 0 ? (stats.q3 - stats.q1) / stats.median : 0;
}

// ---- the line protocol ---------------------------------------------------------------
// The harness writes one CaseSpec as a JSON line to a peer's stdin; the peer answers
// with one line `@@bench {"results": Result[]}`. A peer first prints
// `@@bench {"ready": true, "versions": {...}}`. Other output lines are ignored (libraries
// print banners); the peer exits when its stdin closes.

/** The prefix of protocol lines on a peer's stdout. */
export const MARK = "@@bench ";

/** A peer answer: the results for the columns it fills. */
export interface Answer {
  results: Result[];
}

/** A long-lived peer process that answers one case at a time. */
export class PeerProcess {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;
  #stderr = "";
  versions: Record<string, string> = {};
  /** The whole ready line: versions and whatever else the peer announced. */
  hello: Record<string, unknown> = {};

  constructor(readonly name: string, cmd: string, args: string[], env: Record<string, string>) {
    const child = new Deno.Command(cmd, {
      args,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#lines = lines(child.stdout)[Symbol.asyncIterator]();
    // Keep the tail of stderr for error messages; draining it keeps the peer from blocking.
    (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderr = (this.#stderr + chunk).slice(-4000);
      }
    })();
  }

  async #next(): Promise<Record<string, unknown>> {
    for (;;) {
      const { value, done } = await this.#lines.next();
      if (done) throw new Error(`${this.name} exited:\n${this.#stderr}`);
      if (value.startsWith(MARK)) return JSON.parse(value.slice(MARK.length));
    }
  }

  /** Waits for the ready line; returns the peer's library versions. */
  async ready(): Promise<Record<string, string>> {
    this.hello = await this.#next();
    this.versions = this.hello.versions as Record<string, string>;
    return this.versions;
  }

  /** Runs one case in the peer. */
  async run(spec: CaseSpec): Promise<Result[]> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(spec) + "\n"));
    return ((await this.#next()) as unknown as Answer).results;
  }

  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#child.status;
  }
}

/** The lines of a byte stream. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
    }
  }
  if (buffered) yield buffered;
}

/**
 * The peer side of the protocol for a runner written in TypeScript: announces itself,
 * then answers each case with `handle` (an exception becomes an error in `column`).
 * `hello` adds fields to the ready line (PeerProcess.hello).
 */
export async function serve(
  column: Column,
  versions: Record<string, string>,
  handle: (spec: CaseSpec) => Result[] | Promise<Result[]>,
  hello: Record<string, unknown> = {},
): Promise<void> {
  const say = (value: unknown) => console.log(MARK + JSON.stringify(value));
  say({ ...hello, ready: true, versions });
  for await (const line of lines(Deno.stdin.readable)) {
    if (!line.trim()) continue;
    const spec = JSON.parse(line) as CaseSpec;
    try {
      say({ results: await handle(spec) });
    } catch (error) {
      say({ results: [{ column, error: (error as Error).message }] });
    }
  }
}
