/**
 * Whole-process cases, measured by spawning processes: time from process start to the
 * first matmul result (each runtime loads its library and prints a 2x2 matmul), the peak
 * resident memory of a 200-step MNIST training loop and of a 50-step LSTM language-model
 * loop (ours vs TensorFlow eager), and the
 * first 10 calls and peak memory of a fresh process's loop of 16M-element adds whose
 * results are dropped (ours vs NumPy).
 * @module
 */
import { interopPython } from "../../tests/python_env.ts";
import { type Case, type Column, lines, MARK, type Result, statsOf } from "../harness.ts";
import { BENCH_LOCK_FLAG } from "../lock.ts";
import { LSTM_LM } from "./training.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DENO = Deno.execPath();
const ENV = { TF_CPP_MIN_LOG_LEVEL: "3" };
const STARTS = 5;
const MEMORY_STEPS = 200;
const LSTM_MEMORY_STEPS = 50;

/**
 * The command that prints the first element of a square matmul: of [[1, 2], [3, 4]] for
 * n = 2, else of an n x n matrix of 0.5s (a first output past the 256 bytes of the smallest
 * slab, which in a fresh process of ours once loaded the output buffer helper).
 */
async function startCommand(column: Column, n: number): Promise<string[]> {
  const numpyMatrix = n === 2
    ? "np.array([[1, 2], [3, 4]], np.float32)"
    : `np.full((${n}, ${n}), 0.5, np.float32)`;
  const tfMatrix = n === 2 ? "tf.constant([[1., 2.], [3., 4.]])" : `tf.fill([${n}, ${n}], 0.5)`;
  switch (column) {
    case "ours":
      return [DENO, "run", "--allow-all", "bench/procs/startup_ours.ts", `${n}`];
    case "numpy":
      return [
        await interopPython(),
        "-c",
        `import numpy as np; a = ${numpyMatrix}; print((a @ a)[0, 0])`,
      ];
    case "tensorflow":
      return [
        await interopPython(),
        "-c",
        `import tensorflow as tf; a = ${tfMatrix}; print(tf.matmul(a, a).numpy()[0, 0])`,
      ];
    case "tfjs-cpu":
    case "tfjs-wasm":
      return [
        DENO,
        "run",
        "--allow-all",
        BENCH_LOCK_FLAG,
        "bench/procs/startup_tfjs.ts",
        column.slice(5),
        `${n}`,
      ];
    default:
      throw new Error(`startup: no command for ${column}`);
  }
}

/** Seconds from spawning the command to its first line that starts with a number. */
async function timeToResult([cmd, ...args]: string[]): Promise<number> {
  const start = performance.now();
  const child = new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env: ENV,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let seconds = NaN;
  for await (const line of lines(child.stdout)) {
    if (Number.isNaN(seconds) && /^-?\d/.test(line.trim())) {
      seconds = (performance.now() - start) / 1000;
    }
  }
  const status = await child.status;
  if (!status.success || Number.isNaN(seconds)) {
    throw new Error(`${cmd} ${args.join(" ")}: exit ${status.code}, no result line`);
  }
  return seconds;
}

async function startup(column: Column, n: number): Promise<Result> {
  const command = await startCommand(column, n);
  await timeToResult(command); // warm caches: Deno's module cache, the OS page cache
  const samples: number[] = [];
  for (let i = 0; i < STARTS; i++) samples.push(await timeToResult(command));
  return { column, stats: statsOf(samples) };
}

async function peakMemory(column: Column, graph = false): Promise<Result> {
  const command = column === "ours"
    ? [
      DENO,
      "run",
      "--allow-all",
      "bench/procs/memory_ours.ts",
      `${MEMORY_STEPS}`,
      graph ? "graph" : "eager",
    ]
    : [await interopPython(), "bench/peers/tf_memory.py", `${MEMORY_STEPS}`];
  return await peakOf(column, command, MEMORY_STEPS);
}

/** The LSTM language model's training loop (bench/cases/training.ts's LSTM_LM). */
async function lstmPeakMemory(column: Column): Promise<Result> {
  const params = JSON.stringify(LSTM_LM), steps = `${LSTM_MEMORY_STEPS}`;
  const command = column === "ours"
    ? [DENO, "run", "--allow-all", "bench/procs/lstm_memory_ours.ts", steps]
    : [await interopPython(), "bench/peers/tf_lstm_memory.py", steps, params];
  return await peakOf(column, command, LSTM_MEMORY_STEPS);
}

/** Runs a command that prints `@@bench {"peakBytes", "seconds"}`; one run. */
async function peakOf(column: Column, [cmd, ...args]: string[], steps: number): Promise<Result> {
  const out = await new Deno.Command(cmd, { args, cwd: ROOT, env: ENV, stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith(MARK));
  if (!out.success || !line) {
    const err = new TextDecoder().decode(out.stderr).slice(-2000);
    throw new Error(`peak memory (${column}) failed:\n${err}`);
  }
  const { peakBytes, seconds } = JSON.parse(line.slice(MARK.length));
  return {
    column,
    stats: statsOf([peakBytes]),
    note: `one run; ${steps} steps in ${seconds.toFixed(1)} s`,
  };
}

const ADD_RUNS = 5;

/** Runs the fresh-process add loop ADD_RUNS times: [seconds of the first 10 calls, peak bytes]. */
async function addLoopRuns(column: Column): Promise<[number, number][]> {
  const [cmd, ...args] = column === "ours"
    ? [DENO, "run", "--allow-all", "bench/procs/add_loop_ours.ts"]
    : [await interopPython(), "bench/peers/add_loop.py", MARK];
  const runs: [number, number][] = [];
  for (let i = 0; i < ADD_RUNS; i++) {
    const out = await new Deno.Command(cmd, { args, cwd: ROOT, env: ENV, stderr: "piped" })
      .output();
    const line = new TextDecoder().decode(out.stdout).split("\n").find((l) => l.startsWith(MARK));
    if (!out.success || !line) {
      const err = new TextDecoder().decode(out.stderr).slice(-2000);
      throw new Error(`16M add loop (${column}) failed:\n${err}`);
    }
    const { firstTen, peakBytes } = JSON.parse(line.slice(MARK.length));
    runs.push([firstTen, peakBytes]);
  }
  return runs;
}

/** One spawn series serves both add-loop cases; the second reads what the first measured. */
const addLoops = new Map<Column, Promise<[number, number][]>>();
const addLoop = (column: Column) => {
  if (!addLoops.has(column)) addLoops.set(column, addLoopRuns(column));
  return addLoops.get(column)!;
};

/** A case reading measurement `which` (0: seconds, 1: peak bytes) of the add-loop runs. */
function addLoopCase(
  which: 0 | 1,
  spec: Pick<Case, "id" | "label" | "kind" | "params" | "targets" | "unit">,
): Case {
  return {
    ...spec,
    group: "process",
    processColumns: ["ours", "numpy"],
    // The peak is the worst process's: a bound on memory holds in every run or not at all.
    process: async (column) => {
      const values = (await addLoop(column)).map((run) => run[which]);
      return which === 0
        ? { column, stats: statsOf(values), note: `median of ${ADD_RUNS} processes` }
        : { column, stats: statsOf([Math.max(...values)]), note: `worst of ${ADD_RUNS} processes` };
    },
  };
}

/** The whole-process cases. */
export const processCases: Case[] = [
  {
    id: "startup",
    label: "process start to first matmul result",
    group: "process",
    kind: "startup",
    params: {},
    processColumns: ["ours", "numpy", "tensorflow", "tfjs-cpu", "tfjs-wasm"],
    process: (column) => startup(column, 2),
    targets: [{ column: "tensorflow", atLeast: 10, text: "start-up >= 10x faster than TF" }],
  },
  {
    id: "startup_64",
    label: "process start to first 64x64 matmul result",
    group: "process",
    kind: "startup",
    params: { n: 64 },
    processColumns: ["ours", "numpy", "tensorflow", "tfjs-cpu", "tfjs-wasm"],
    process: (column) => startup(column, 64),
  },
  {
    id: "mnist_peak_memory",
    label: `peak RSS, ${MEMORY_STEPS}-step MNIST training loop`,
    group: "process",
    kind: "peak_memory",
    params: { steps: MEMORY_STEPS },
    unit: "bytes",
    processColumns: ["ours", "tensorflow"],
    process: (column) => peakMemory(column),
    targets: [{ column: "tensorflow", atLeast: 2, text: "peak memory <= half of TF's" }],
  },
  {
    id: "mnist_peak_memory_traced",
    label: `peak RSS, ${MEMORY_STEPS}-step MNIST training loop, ours as tf.function`,
    group: "process",
    kind: "peak_memory",
    params: { steps: MEMORY_STEPS },
    unit: "bytes",
    processColumns: ["ours", "tensorflow"],
    process: (column) => peakMemory(column, true),
  },
  {
    id: "lstm_lm_peak_memory",
    label: `peak RSS, ${LSTM_MEMORY_STEPS}-step LSTM language-model training loop`,
    group: "process",
    kind: "peak_memory",
    params: { steps: LSTM_MEMORY_STEPS },
    unit: "bytes",
    processColumns: ["ours", "tensorflow"],
    process: lstmPeakMemory,
    targets: [{ column: "tensorflow", atLeast: 1, text: "LSTM LM peak memory <= TF's" }],
  },
  addLoopCase(0, {
    id: "add_16m_fresh",
    label: "16M add, first 10 calls of a fresh process",
    kind: "add_fresh",
    params: { calls: 10 },
    targets: [{ column: "numpy", atLeast: 0.9, text: "fresh 16M adds >= 0.9x NumPy" }],
  }),
  addLoopCase(1, {
    id: "add_16m_loop_rss",
    label: "peak RSS, 100-call 16M add loop, results dropped",
    kind: "add_rss",
    params: { calls: 100 },
    unit: "bytes",
    targets: [{ column: "numpy", atLeast: 1 / 1.5, text: "add loop RSS <= 1.5x NumPy's" }],
  }),
];
