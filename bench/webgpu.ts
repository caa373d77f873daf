/**
 * `deno run -A --lock=bench/deno.lock bench/webgpu.ts [--filter T] [--budget S] [--results FILE]`:
 * deno-eager's WebGPU device side by side with TensorFlow.js's webgpu backend on the same
 * adapter, in one run (issue 18). `deno task bench` runs it too, after the CPU cases.
 *
 * Each side runs in its own long-lived process (bench/procs/webgpu_ours.ts and
 * bench/peers/tfjs_webgpu.ts, driven by harness.ts's line protocol), so neither library's
 * device, buffers or driver threads share a process with the other. The cases are
 * bench/cases/webgpu.ts's; each runs in GPU_ROUNDS rounds that alternate the two sides, and
 * every timed call ends with a read back. Two more rows come from fresh processes: the time
 * to get a device and the first add and read (pipeline creation included), COLD_PROCESSES
 * of each side. Without a usable adapter it prints one line saying why and measures nothing.
 * @module
 */
import { parseArgs } from "node:util";
import {
  type CaseSpec,
  PeerProcess,
  pooled,
  type Result,
  schedule,
  spread,
  statsOf,
} from "./harness.ts";
import { BENCH_LOCK_FLAG } from "./lock.ts";
import { formatValue, machine } from "./report.ts";
import {
  GPU_CASE_CAP_S,
  GPU_ROUNDS,
  type GpuCase,
  type GpuHello,
  WEBGPU_CASES,
  WEBGPU_PROCESS_CASES,
} from "./cases/webgpu.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** Processes of each side for the fresh-process rows: the long-lived one and two more. */
const COLD_PROCESSES = 3;
/** The heading of the WebGPU section of bench/RESULTS.md. */
export const WEBGPU_HEADING = "## WebGPU";

type Side = "ours" | "tfjs";

/** One row: a case and each side's result. */
export interface GpuRow {
  case: GpuCase;
  ours?: Result;
  tfjs?: Result;
}

/** A finished run. */
export interface GpuRun {
  date: string;
  machine: string;
  /** The adapter both sides got (or both names, when they differ). */
  adapter: string;
  versions: Record<string, string>;
  rows: GpuRow[];
  /** Adapter mismatches, a side that failed to start. */
  notes: string[];
  seconds: number;
  /** Load averages (1, 5, 15 min) before and after: the machine may be shared. */
  load: [string, string];
}

/** What runWebGpu gives back: a run, why nothing was measured, or why our side failed. */
export type GpuOutcome = { run: GpuRun } | { skipped: string } | { failed: string };

/** Options of runWebGpu. */
export interface GpuOptions {
  /** Seconds of sampling per case and side, over all rounds (default 1). */
  budget?: number;
  /** Which case ids to run (default: all). */
  matches?: (id: string) => boolean;
  log?: (text: string) => void;
}

function spawn(side: Side): PeerProcess {
  const args = side === "ours"
    ? ["run", "--allow-all", `${ROOT}bench/procs/webgpu_ours.ts`]
    : ["run", "--allow-all", BENCH_LOCK_FLAG, `${ROOT}bench/peers/tfjs_webgpu.ts`];
  const name = side === "ours" ? "deno-eager webgpu" : "tfjs-webgpu";
  return new PeerProcess(name, Deno.execPath(), args, {});
}

/** A side's process once it is ready, with its ready line. */
async function start(side: Side): Promise<{ process: PeerProcess; hello: GpuHello }> {
  const process = spawn(side);
  try {
    await process.ready();
  } catch (error) {
    await process.close();
    throw error;
  }
  return { process, hello: process.hello as unknown as GpuHello };
}

/**
 * Runs one case in its rounds; a side that skips or fails runs no more rounds, nor one that
 * has spent GPU_CASE_CAP_S on the case.
 */
async function runCase(c: GpuCase, sides: Map<Side, PeerProcess>, budget: number) {
  const rounds = new Map<Side, Result[]>();
  const spent = new Map<Side, number>();
  const done = new Set<Side>();
  for (const { runner: side, round } of schedule([...sides.keys()], () => false, GPU_ROUNDS)) {
    if (done.has(side)) continue;
    const spec: CaseSpec = { ...c, budget: budget / GPU_ROUNDS, round, rounds: GPU_ROUNDS };
    const began = performance.now();
    const [answer] = await sides.get(side)!.run(spec).catch((e): Result[] => [
      { column: side === "ours" ? "webgpu" : "tfjs-webgpu", error: (e as Error).message },
    ]);
    spent.set(side, (spent.get(side) ?? 0) + (performance.now() - began) / 1000);
    if (!answer.stats || spent.get(side)! > GPU_CASE_CAP_S) done.add(side);
    rounds.set(side, [...(rounds.get(side) ?? []), answer]);
  }
  const row: GpuRow = { case: c };
  for (const [side, all] of rounds) {
    const failed = all.find((r) => !r.stats);
    row[side] = failed ?? { ...all[0], stats: pooled(all.map((r) => r.stats!)) };
  }
  return row;
}

/** The fresh-process rows from the ready lines of COLD_PROCESSES processes of each side. */
async function processRows(first: Map<Side, GpuHello>, log: (text: string) => void) {
  const hellos = new Map<Side, GpuHello[]>([...first].map(([side, h]) => [side, [h]]));
  for (let i = 1; i < COLD_PROCESSES; i++) {
    for (const side of hellos.keys()) {
      const { process, hello } = await start(side).catch((e) => {
        log(`${side} fresh process failed: ${(e as Error).message}`);
        return { process: undefined, hello: undefined };
      });
      await process?.close();
      if (hello?.adapter) hellos.get(side)!.push(hello);
    }
  }
  const result = (side: Side, values: number[]): Result => ({
    column: side === "ours" ? "webgpu" : "tfjs-webgpu",
    stats: statsOf(values),
    note: `${values.length} processes`,
  });
  return WEBGPU_PROCESS_CASES.map((c) => {
    const row: GpuRow = { case: c };
    for (const [side, hs] of hellos) {
      const values = hs.map((h) => c.kind === "init" ? h.initS : h.firstAddS);
      row[side] = result(side, values.filter((v): v is number => v !== undefined));
    }
    return row;
  });
}

/**
 * Runs the WebGPU comparison. Starts our side first: without a usable adapter (none, or a
 * software one without EAGER_ALLOW_SOFTWARE_GPU=1) it returns why, having started nothing
 * else.
 */
export async function runWebGpu(options: GpuOptions = {}): Promise<GpuOutcome> {
  const log = options.log ?? ((text: string) => console.error(`[webgpu] ${text}`));
  const matches = options.matches ?? (() => true);
  const began = performance.now();
  const loadBefore = await loadAverage();
  let ours;
  try {
    ours = await start("ours");
  } catch (error) {
    return { failed: `deno-eager's WebGPU runner did not start: ${(error as Error).message}` };
  }
  if (!ours.hello.adapter) {
    await ours.process.close();
    return { skipped: ours.hello.reason ?? "no adapter" };
  }
  const notes: string[] = [];
  const sides = new Map<Side, PeerProcess>([["ours", ours.process]]);
  const hellos = new Map<Side, GpuHello>([["ours", ours.hello]]);
  const tfjs = await start("tfjs").catch((e) => {
    notes.push(`tfjs-webgpu did not start: ${(e as Error).message.slice(0, 300)}`);
    return undefined;
  });
  if (tfjs?.hello.adapter) {
    sides.set("tfjs", tfjs.process);
    hellos.set("tfjs", tfjs.hello);
  } else if (tfjs) {
    notes.push(`tfjs-webgpu: ${tfjs.hello.reason}`);
    await tfjs.process.close();
  }
  let adapter = ours.hello.adapter;
  if (tfjs?.hello.adapter && tfjs.hello.adapter !== adapter) {
    adapter = `${adapter} (ours), ${tfjs.hello.adapter} (tfjs)`;
    notes.push(`the two sides got different adapters: ${adapter}`);
  }
  log(`adapter: ${adapter}`);
  const versions: Record<string, string> = { "deno-eager": await ourVersion() };
  for (const p of sides.values()) Object.assign(versions, p.versions);

  const rows: GpuRow[] = [];
  for (const c of WEBGPU_CASES.filter((c) => matches(c.id))) {
    log(`${c.id} ...`);
    rows.push(await runCase(c, sides, options.budget ?? 1));
  }
  for (const p of sides.values()) await p.close();
  if (WEBGPU_PROCESS_CASES.some((c) => matches(c.id))) {
    log(`fresh processes ...`);
    const all = await processRows(hellos, log);
    rows.push(...all.filter((r) => matches(r.case.id)));
  }
  const date = new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC";
  const seconds = (performance.now() - began) / 1000;
  const load: [string, string] = [loadBefore, await loadAverage()];
  return { run: { date, machine: await machine(), adapter, versions, rows, notes, seconds, load } };
}

async function loadAverage(): Promise<string> {
  const text = await Deno.readTextFile("/proc/loadavg").catch(() => "unknown");
  return text.split(" ").slice(0, 3).join(", ");
}

async function ourVersion(): Promise<string> {
  try {
    return JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

// ---- the report ------------------------------------------------------------------------

function cell(r: Result | undefined): string {
  if (!r) return "-";
  if (r.stats) {
    const iqr = (100 * spread(r.stats)).toFixed(0);
    return `${formatValue({}, r.stats.median)} (${iqr}%, n=${r.stats.samples})`;
  }
  if (r.skipped?.startsWith("not yet: ")) return `not yet (${r.skipped.slice(9)})`;
  return r.error ? "error" : r.skipped ?? "-";
}

/** Ours over theirs: below 1, deno-eager is faster. */
export function gpuRatio(row: GpuRow): number | undefined {
  const ours = row.ours?.stats, theirs = row.tfjs?.stats;
  return ours && theirs ? ours.median / theirs.median : undefined;
}

/** The table: median (IQR / median, samples) per side and the ratio ours / tfjs. */
export function webgpuTable(rows: GpuRow[]): string {
  const body = rows.map((row) => {
    const x = gpuRatio(row);
    return [
      row.case.label,
      cell(row.ours),
      cell(row.tfjs),
      x === undefined ? "-" : `${x.toFixed(2)}x`,
    ];
  });
  const header = ["case", "deno-eager WebGPU", "tfjs-webgpu", "ours / tfjs"];
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

/** The errors of the run and its notes, one line each. */
function errorLines(run: GpuRun): string[] {
  const lines = [...run.notes];
  for (const row of run.rows) {
    for (const side of ["ours", "tfjs"] as const) {
      const error = row[side]?.error;
      if (error) lines.push(`${row.case.id}, ${side}: ${error.replace(/\s+/g, " ").slice(0, 300)}`);
    }
  }
  return lines;
}

/** The WebGPU section of bench/RESULTS.md for a run started by `command`. */
export function webgpuSection(run: GpuRun, command: string): string {
  const versions = Object.entries(run.versions).map(([k, v]) => `${k} ${v}`).join(", ");
  const notes = errorLines(run).map((l) => `- ${l}`).join("\n");
  return `${WEBGPU_HEADING} (issue 18)

Written by \`${command}\` on ${run.date} (${run.seconds.toFixed(0)} s).

- Adapter: ${run.adapter}
- Machine: ${run.machine}; load average (1, 5, 15 min) ${run.load[0]} before the run,
  ${run.load[1]} after
- Versions: ${versions}
- Method: deno-eager's WebGPU device and TensorFlow.js's webgpu backend, each in its own
  process on the same adapter, one case at a time, in ${GPU_ROUNDS} rounds alternating the two
  sides. Inputs are on the GPU before timing (tfjs computes an op whose inputs are small and
  still on the CPU in JS); every timed call ends with a read back
  (\`await t.data()\` on both sides) and disposes its result. Each side warms a case up (0.3 s
  and 3 calls) and takes 2 or 3 samples a round; a call over 1 s is instead timed once more in
  the first round and once in later ones, and a side takes no more rounds of a case after
  ${GPU_CASE_CAP_S} s on it. The fresh-process rows are the medians of ${COLD_PROCESSES} processes of each side.

Median time per call; in parentheses the IQR over the median and the number of samples. The
last column is ours / tfjs, so below 1 deno-eager is faster. "not yet (op)": our device has no
kernel for that op yet.

${webgpuTable(run.rows)}
${notes ? `\n${notes}\n` : ""}`;
}

/** `markdown` with its WebGPU section replaced by `section` (or `section` appended). */
export function withSection(markdown: string, section: string): string {
  const start = markdown.search(new RegExp(`^${WEBGPU_HEADING}\\b`, "m"));
  if (start < 0) return `${markdown.trimEnd()}\n\n${section}`.trimStart();
  const rest = markdown.slice(start + WEBGPU_HEADING.length);
  const next = rest.search(/^## /m);
  const tail = next < 0 ? "" : `\n${rest.slice(next)}`;
  return `${markdown.slice(0, start)}${section.trimEnd()}\n${tail}`;
}

/** The WebGPU section of `markdown`, if it has one. */
export function sectionOf(markdown: string): string | undefined {
  const start = markdown.search(new RegExp(`^${WEBGPU_HEADING}\\b`, "m"));
  if (start < 0) return undefined;
  const rest = markdown.slice(start + WEBGPU_HEADING.length);
  const next = rest.search(/^## /m);
  return markdown.slice(start, next < 0 ? undefined : start + WEBGPU_HEADING.length + next);
}

/** Writes `section` into the markdown file `path` and formats it as `deno task check` expects. */
export async function writeSection(path: string, section: string): Promise<void> {
  const old = await Deno.readTextFile(path).catch(() => "");
  await Deno.writeTextFile(path, withSection(old, section));
  const args = ["fmt", "--quiet", "--line-width=100", path];
  await new Deno.Command(Deno.execPath(), { args }).output();
}

const HELP = `deno run -A --lock=bench/deno.lock bench/webgpu.ts [flags]:
deno-eager's WebGPU device vs TensorFlow.js's webgpu backend on the same adapter.

  --filter TEXT    run the cases whose id contains TEXT (or matches it as a regex)
  --budget S       seconds of sampling per case and side (default 1)
  --results FILE   write the WebGPU section of FILE (e.g. bench/RESULTS.md)
  --command TEXT   how this run was started, for the results (default: this command)
  --help           this text

On a software adapter (llvmpipe) set EAGER_ALLOW_SOFTWARE_GPU=1. Case ids: ${
  [...WEBGPU_CASES, ...WEBGPU_PROCESS_CASES].map((c) => c.id).join(", ")
}`;

/** Whether `pattern`, read as a regular expression, matches `id` (false when it is not one). */
export function regexMatches(pattern: string, id: string): boolean {
  try {
    return new RegExp(pattern).test(id);
  } catch {
    return false;
  }
}

/** The command line of this run, as the results show it. */
function thisCommand(): string {
  const env = Deno.env.get("EAGER_ALLOW_SOFTWARE_GPU") === "1" ? "EAGER_ALLOW_SOFTWARE_GPU=1 " : "";
  return `${env}deno run -A --lock=bench/deno.lock bench/webgpu.ts ${Deno.args.join(" ")}`.trim();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      filter: { type: "string" },
      budget: { type: "string", default: "1" },
      results: { type: "string" },
      command: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return console.log(HELP);
  const budget = Number(values.budget);
  if (!(budget > 0)) throw new Error(`webgpu: --budget must be a positive number of seconds`);
  const filter = values.filter;
  const matches = (id: string) => !filter || id.includes(filter) || regexMatches(filter, id);
  const outcome = await runWebGpu({ budget, matches });
  if ("skipped" in outcome) return console.log(`WebGPU: skipped: ${outcome.skipped}`);
  if ("failed" in outcome) {
    console.log(`WebGPU: failed: ${outcome.failed}`);
    Deno.exit(1);
  }
  const { run } = outcome;
  console.log(`\nWebGPU on ${run.adapter} (ours / tfjs: below 1, deno-eager is faster)\n`);
  console.log(webgpuTable(run.rows));
  for (const line of errorLines(run)) console.log(`- ${line}`);
  if (values.results) {
    await writeSection(values.results, webgpuSection(run, values.command ?? thisCommand()));
    console.error(`[webgpu] wrote the WebGPU section of ${values.results}`);
  }
}

if (import.meta.main) await main();
