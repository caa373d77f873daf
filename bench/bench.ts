/**
 * `deno task bench [--filter name] [--json out.json] [--budget s] [--peers list]`:
 * deno-eager side by side with NumPy, TensorFlow (eager and tf.function) and
 * TensorFlow.js (cpu and wasm backends), each case measured in every runtime in the same
 * run on the same machine (issue 7), then deno-eager's WebGPU device against tfjs-webgpu
 * (bench/webgpu.ts, issue 18) when there is a GPU. Prints the tables; a full run
 * (no --filter, all peers) also writes bench/RESULTS.md.
 *
 * - Cases: bench/cases/*.ts (ours is timed in this process).
 * - Peers: bench/peers/ — one long-lived process each, driven by the line protocol of
 *   harness.ts: numpy_peer.py and tensorflow_peer.py in tests/python_env.ts's venv
 *   (.venv-interop: tensorflow-cpu 2.21.0, numpy 2.4.6; created on first use), tfjs.ts
 *   under Deno.
 * @module
 */
import { parseArgs } from "node:util";
import { interopPython } from "../tests/python_env.ts";
import { CASES } from "./cases/mod.ts";
import {
  type CaseSpec,
  type Column,
  measure,
  PeerProcess,
  pooled,
  type Result,
  schedule,
  type Timed,
} from "./harness.ts";
import { BENCH_LOCK_FLAG } from "./lock.ts";
import {
  type GpuOutcome,
  runWebGpu,
  sectionOf,
  webgpuSection,
  webgpuTable,
  withSection,
} from "./webgpu.ts";
import { WEBGPU_CASES, WEBGPU_PROCESS_CASES } from "./cases/webgpu.ts";
import {
  machine,
  resultsMarkdown,
  type Row,
  type RunInfo,
  summaryTable,
  targetTable,
} from "./report.ts";
import { runtimeInfo } from "../src/backend/cpu/runtime_info.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const PEERS = ["numpy", "tensorflow", "tfjs-cpu", "tfjs-wasm"] as const;
type Peer = typeof PEERS[number];
/** The columns each peer process fills. */
const PEER_COLUMNS: Record<Peer, Column[]> = {
  numpy: ["numpy"],
  tensorflow: ["tensorflow", "tf.function"],
  "tfjs-cpu": ["tfjs-cpu"],
  "tfjs-wasm": ["tfjs-wasm"],
};

/** The --peers name of the WebGPU comparison, which runs its own two processes. */
const WEBGPU = "webgpu";
const GPU_CASES = [...WEBGPU_CASES, ...WEBGPU_PROCESS_CASES];

const HELP = `deno task bench [flags]: deno-eager vs NumPy, TensorFlow and TensorFlow.js.

  --filter TEXT   run the cases whose id contains TEXT (or matches it as a regex)
  --json FILE     also write every measurement as JSON
  --budget S      seconds of sampling per case and runtime after warm-up (default 1)
  --peers LIST    comma-separated subset of ${PEERS.join(",")},${WEBGPU} (default: all;
                  ${WEBGPU}: deno-eager's WebGPU device against tfjs-webgpu, when a GPU exists)
  --help          this text

A full run (no --filter, all peers) writes bench/RESULTS.md. Case ids: ${
  [...CASES, ...GPU_CASES].map((c) => c.id).join(", ")
}`;

const log = (text: string) => console.error(`[bench] ${text}`);

/**
 * The WebGPU comparison, after the CPU cases. NOTE: a software adapter (llvmpipe here) counts
 * only with EAGER_ALLOW_SOFTWARE_GPU=1, so on this machine a plain run prints why it skipped
 * and costs about a second; with it, about two minutes.
 */
async function webgpuPart(
  budget: number,
  matches: (id: string) => boolean,
): Promise<GpuOutcome> {
  log("webgpu ...");
  const outcome = await runWebGpu({ budget, matches, log: (text) => log(`webgpu: ${text}`) });
  if ("skipped" in outcome) log(`WebGPU: skipped: ${outcome.skipped}`);
  else if ("failed" in outcome) log(`WebGPU: failed: ${outcome.failed}`);
  return outcome;
}

/**
 * Hand-written sections of bench/RESULTS.md that a run keeps as they are, at the end (each
 * says its own date and commands): the LSTM language model's profile (bench/profile_lstm_lm.ts)
 * and ResNet-50's (bench/profile_resnet50.ts).
 */
const KEPT_HEADINGS = ["## LSTM language model", "## ResNet-50"];

/** The sections of `markdown` under KEPT_HEADINGS, each up to the next "## " heading. */
function keptSections(markdown: string): string[] {
  return KEPT_HEADINGS.flatMap((heading) => {
    const start = markdown.indexOf(`\n${heading}`);
    if (start < 0) return [];
    const next = markdown.slice(start + 1 + heading.length).search(/^## /m);
    const end = next < 0 ? undefined : start + 1 + heading.length + next;
    return [markdown.slice(start + 1, end).trimEnd()];
  });
}

/**
 * bench/RESULTS.md's text: this run's CPU tables and its WebGPU section, or the file's old
 * WebGPU section when this run measured none (it carries its own date, adapter and command);
 * then the kept sections (KEPT_HEADINGS).
 */
async function resultsText(rows: Row[], info: RunInfo, gpu: GpuOutcome | undefined) {
  const text = resultsMarkdown(rows, info);
  const old = await Deno.readTextFile(`${ROOT}bench/RESULTS.md`).catch(() => "");
  const section = gpu && "run" in gpu ? webgpuSection(gpu.run, "deno task bench") : sectionOf(old);
  const withGpu = section ? withSection(text, section) : text;
  return [withGpu.trimEnd(), ...keptSections(old)].join("\n\n") + "\n";
}

async function startPeer(peer: Peer): Promise<PeerProcess | undefined> {
  try {
    const env = { TF_CPP_MIN_LOG_LEVEL: "3", CUDA_VISIBLE_DEVICES: "" };
    let process: PeerProcess;
    if (peer === "numpy" || peer === "tensorflow") {
      const python = await interopPython();
      process = new PeerProcess(peer, python, [`${ROOT}bench/peers/${peer}_peer.py`], env);
    } else {
      const args = [
        "run",
        "--allow-all",
        BENCH_LOCK_FLAG,
        `${ROOT}bench/peers/tfjs.ts`,
        peer.slice(5),
      ];
      process = new PeerProcess(peer, Deno.execPath(), args, env);
    }
    const versions = await process.ready();
    log(`${peer} ready: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    return process;
  } catch (error) {
    log(`${peer} unavailable: ${(error as Error).message}`);
    return undefined;
  }
}

const errorResult = (column: Column, error: unknown): Result => ({
  column,
  error: error instanceof Error ? error.message : String(error),
});

/**
 * Rounds per timed case. NOTE: each round measures every column once and alternate
 * rounds run the columns in reverse order; the samples of the rounds are pooled. The
 * machine is shared and its speed drifts by up to 1.5x for seconds to tens of seconds
 * (matmul 256: 205 us for a minute, then 300-320 us, for NumPy and us alike; raw OpenBLAS
 * sgemm 1024 in C: 10.8 ms for three runs, then 12.3-13.2 ms for seven), so with three
 * long rounds a slow phase could land on one column (matmul 1024: ours 10.9-17.6 ms
 * against NumPy's 10.6-12.8 in one run, 0.81x, from libraries of equal speed). Runners
 * keep a case's inputs across its rounds and warm up once, so six short rounds (about
 * 0.2 s a column) cost no more than three long ones did.
 */
const ROUNDS = 6;

/**
 * Peers whose runners compute on one core; their turns are taken after all rounds of the
 * others. NOTE: this VM gives an idle core back slowly: after 2.5 s with one core busy,
 * 2-thread sgemm 2048 took 93 ms for its first seven calls and 80 ms from then on; after
 * 2.5 s with both cores busy, 81 ms from the first call (C, mean of 6 runs each). A
 * 2-second tfjs turn put that slow start on the column after it (TF eager 152 ms against
 * 79-84 ms in its other rounds). The tfjs ratios are large enough not to need the
 * interleaving.
 */
const ONE_CORE_PEERS: readonly Peer[] = ["tfjs-cpu", "tfjs-wasm"];

/** One runner's turn in a round: its first column (to name it in errors) and the run. */
interface Turn {
  column: Column;
  run: () => Promise<Result[]>;
  /** Taken in the rounds after the others' (ONE_CORE_PEERS). */
  late?: boolean;
}

async function runCase(
  c: typeof CASES[number],
  peers: Map<Peer, PeerProcess>,
  wanted: Peer[],
  budget: number,
): Promise<Row> {
  const results: Row["results"] = {};
  if (c.process) {
    for (const column of c.processColumns ?? []) {
      if (column !== "ours" && !wanted.includes(peerOf(column))) continue;
      results[column] = await c.process(column, budget).catch((e) => errorResult(column, e));
    }
    return { case: c, results };
  }
  const turns: Turn[] = [];
  let round = 0; // the round being run, for every turn's plan
  if (c.ours) {
    const make = c.ours;
    let timed: Timed | undefined;
    const run = async (): Promise<Result[]> => {
      timed ??= await make(c.params);
      return [{ column: "ours", stats: measure(timed, budget / ROUNDS, round, ROUNDS) }];
    };
    turns.push({ column: "ours", run });
  }
  const spec = (): CaseSpec => ({
    id: c.id,
    kind: c.kind,
    params: c.params,
    budget: budget / ROUNDS,
    round,
    rounds: ROUNDS,
  });
  for (const [peer, process] of peers) {
    const skip = c.skip?.[PEER_COLUMNS[peer][0]];
    if (skip) {
      for (const column of PEER_COLUMNS[peer]) results[column] = { column, skipped: skip };
    } else {
      const late = ONE_CORE_PEERS.includes(peer);
      turns.push({ column: PEER_COLUMNS[peer][0], run: () => process.run(spec()), late });
    }
  }
  const rounds = new Map<Column, Result[]>();
  const finished = new Set<Turn>(); // runners that skipped or failed run no more rounds
  for (const next of schedule(turns, (t) => t.late === true, ROUNDS)) {
    const turn = next.runner;
    if (finished.has(turn)) continue;
    round = next.round;
    const answers = await turn.run().catch((e) => [errorResult(turn.column, e)]);
    if (answers.every((r) => !r.stats)) finished.add(turn);
    for (const r of answers) rounds.set(r.column, [...(rounds.get(r.column) ?? []), r]);
  }
  (globalThis as { gc?: () => void }).gc?.(); // free this case's inputs and garbage
  for (const [column, all] of rounds) {
    const failed = all.find((r) => !r.stats);
    if (failed?.skipped === "not applicable") continue;
    results[column] = failed ?? { ...all[0], stats: pooled(all.map((r) => r.stats!)) };
  }
  return { case: c, results };
}

function peerOf(column: Column): Peer {
  return PEERS.find((p) => PEER_COLUMNS[p].includes(column)) ?? "numpy";
}

/** The level of deno-eager's kernels and its BLAS, as `EAGER_CPU` and `EAGER_BLAS` set them. */
function nativeSide(): string {
  const info = runtimeInfo();
  return `${info.cpuLevel} kernels (this CPU runs ${info.cpuLevels.join(", ")}), ` +
    `BLAS: ${info.blas}, oneDNN ${info.oneDnn ? "for large float32 GEMMs" : "not used"}`;
}

const loadAverage = async () =>
  (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(", ");

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      filter: { type: "string" },
      json: { type: "string" },
      budget: { type: "string", default: "1" },
      peers: { type: "string", default: [...PEERS, WEBGPU].join(",") },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return console.log(HELP);
  const budget = Number(values.budget);
  if (!(budget > 0)) throw new Error(`bench: --budget must be a positive number of seconds`);
  const wanted = values.peers.split(",").map((p) => p.trim()).filter(Boolean);
  const known: readonly string[] = [...PEERS, WEBGPU];
  const unknown = wanted.filter((p) => !known.includes(p));
  if (unknown.length) throw new Error(`bench: unknown peers ${unknown} (known: ${known})`);
  const cpuPeers = PEERS.filter((p) => wanted.includes(p));
  const filter = values.filter;
  const matches = (id: string) =>
    !filter || id.includes(filter) || (() => {
      try {
        return new RegExp(filter).test(id);
      } catch {
        return false;
      }
    })();
  const cases = CASES.filter((c) => matches(c.id));
  const gpuWanted = wanted.includes(WEBGPU) && GPU_CASES.some((c) => matches(c.id));
  if (cases.length === 0 && !gpuWanted) throw new Error(`bench: no case matches ${filter}`);

  const loadBefore = await loadAverage();
  log(`deno-eager: ${nativeSide()}`);
  const peers = new Map<Peer, PeerProcess>();
  const inProcess = cases.some((c) => !c.process);
  for (const peer of cpuPeers) {
    if (!inProcess) break;
    const process = await startPeer(peer);
    if (process) peers.set(peer, process);
  }
  const versions: Record<string, string> = {
    "deno-eager": JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).version,
    deno: Deno.version.deno,
  };
  for (const p of peers.values()) Object.assign(versions, p.versions);

  const rows: Row[] = [];
  for (const c of cases) {
    log(`${c.id} ...`);
    rows.push(await runCase(c, peers, cpuPeers, budget));
  }
  for (const p of peers.values()) await p.close();
  const gpu = gpuWanted ? await webgpuPart(budget, matches) : undefined;

  const info: RunInfo = {
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    machine: await machine(),
    native: nativeSide(),
    loadBefore,
    loadAfter: await loadAverage(),
    versions,
    budget,
  };
  if (rows.length) {
    console.log(`\ndeno-eager: ${info.native}\n\n${summaryTable(rows)}\n\n${targetTable(rows)}`);
  }
  if (gpu && "run" in gpu) {
    console.log(`\nWebGPU on ${gpu.run.adapter} (ours / tfjs: below 1, deno-eager is faster)\n`);
    console.log(webgpuTable(gpu.run.rows));
  }
  if (values.json) {
    const json = JSON.stringify({ info, rows, webgpu: gpu }, null, 2);
    await Deno.writeTextFile(values.json, json + "\n");
    log(`wrote ${values.json}`);
  }
  if (!filter && known.every((p) => wanted.includes(p))) {
    const results = `${ROOT}bench/RESULTS.md`;
    await Deno.writeTextFile(results, await resultsText(rows, info, gpu));
    // Line breaks depend on the numbers: let deno fmt wrap it, as `deno task check` expects.
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", results], cwd: ROOT })
      .output();
    log("wrote bench/RESULTS.md");
  }
}

if (import.meta.main) await main();
