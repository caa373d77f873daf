/**
 * What a bench run reports: the side-by-side table (medians; ratio = peer / ours, above
 * 1 means deno-eager leads), the targets met or missed, the spread of every
 * measurement, and bench/RESULTS.md with the date, machine and load.
 * @module
 */
import { type Case, type Column, COLUMNS, type Result, spread, type Stats } from "./harness.ts";

/** One row: a case and its results by column. */
export interface Row {
  case: Case;
  results: Partial<Record<Column, Result>>;
}

/** Where and when the run happened. */
export interface RunInfo {
  date: string;
  machine: string;
  /** deno-eager's CPU level and BLAS (tf.runtimeInfo()). */
  native: string;
  loadBefore: string;
  loadAfter: string;
  versions: Record<string, string>;
  budget: number;
}

async function text(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout);
  } catch {
    return "";
  }
}

/** The CPU, its cores, the memory and the OS, in one line. */
export async function machine(): Promise<string> {
  const model = (await text("lscpu", [])).match(/^Model name:\s*(.+)$/m)?.[1] ?? "unknown CPU";
  const mem = (await Deno.readTextFile("/proc/meminfo")).match(/^MemTotal:\s+(\d+)/m)?.[1];
  const gib = mem ? `, ${(Number(mem) / 2 ** 20).toFixed(0)} GiB memory` : "";
  return `${model}, ${navigator.hardwareConcurrency} cores${gib}, ${Deno.build.os}`;
}

const sig = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** A median in its unit: "12.3 ms", "850 MiB", "1.2M records/s". */
export function formatValue(c: Pick<Case, "unit" | "rate">, seconds: number): string {
  if (c.unit === "bytes") return `${sig(seconds / 2 ** 20)} MiB`;
  if (c.rate) {
    const r = 1 / seconds;
    return r >= 1e6
      ? `${sig(r / 1e6)}M ${c.rate}`
      : r >= 1e3
      ? `${sig(r / 1e3)}k ${c.rate}`
      : `${sig(r)} ${c.rate}`;
  }
  if (seconds < 1e-3) return `${sig(seconds * 1e6)} us`;
  if (seconds < 1) return `${sig(seconds * 1e3)} ms`;
  return `${sig(seconds)} s`;
}

/** Peer time over our time: above 1, deno-eager leads. */
export function ratio(row: Row, column: Column): number | undefined {
  const ours = row.results.ours?.stats, theirs = row.results[column]?.stats;
  return ours && theirs ? theirs.median / ours.median : undefined;
}

function cell(row: Row, column: Column): string {
  const r = row.results[column];
  if (!r) return "-";
  if (r.error) return "error";
  if (!r.stats) return "-";
  const value = formatValue(row.case, r.stats.median);
  if (column === "ours") return value;
  const x = ratio(row, column);
  return x === undefined ? value : `${value} (${x.toFixed(2)}x)`;
}

/** The columns that hold at least one number. */
function usedColumns(rows: Row[]): Column[] {
  return COLUMNS.map((c) => c.id).filter((id) => rows.some((r) => r.results[id]?.stats));
}

function markdownTable(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

/** The side-by-side table: median per column, ratio peer / ours in parentheses. */
export function summaryTable(rows: Row[]): string {
  const columns = usedColumns(rows);
  const title = (id: Column) => COLUMNS.find((c) => c.id === id)!.title;
  return markdownTable(
    ["case", ...columns.map(title)],
    rows.map((row) => [row.case.label, ...columns.map((c) => cell(row, c))]),
  );
}

/** One line per target of the issue: the ratio and whether it is met. */
export function targetTable(rows: Row[]): string {
  const body: string[][] = [];
  for (const row of rows) {
    for (const t of row.case.targets ?? []) {
      const x = ratio(row, t.column);
      const verdict = x === undefined ? "not measured" : x >= t.atLeast ? "met" : "missed";
      body.push([t.text, row.case.label, x === undefined ? "-" : `${x.toFixed(2)}x`, verdict]);
    }
  }
  return markdownTable(["target", "case", "ratio", "verdict"], body);
}

function statsText(c: Case, s: Stats): string {
  const f = (x: number) => formatValue(c, x);
  return `${f(s.median)} (IQR ${(100 * spread(s)).toFixed(1)}%, ${f(s.min)} to ${f(s.max)}, ` +
    `${s.samples} x ${s.batch})`;
}

/** Every measurement with its spread, and every skip, error and note. */
export function detailTable(rows: Row[]): string {
  const body: string[][] = [];
  for (const row of rows) {
    for (const { id, title } of COLUMNS) {
      const r = row.results[id];
      if (!r) continue;
      const text = r.stats ? statsText(row.case, r.stats) : r.error ? `error: ${r.error}` : "";
      const note = [r.skipped, r.note].filter(Boolean).join("; ");
      body.push([row.case.id, title, text.replace(/\s+/g, " ").slice(0, 300), note]);
    }
  }
  return markdownTable(["case", "column", "median (spread, range, samples x calls)", "note"], body);
}

/** The text of bench/RESULTS.md. */
export function resultsMarkdown(rows: Row[], info: RunInfo): string {
  const versions = Object.entries(info.versions).map(([k, v]) => `${k} ${v}`).join(", ");
  return `# Benchmark results

Written by \`deno task bench\` (bench/bench.ts) on ${info.date}. Absolute times depend on
the machine; the ratios of one run on one machine are what we report (docs/benchmarks.md).

- Machine: ${info.machine}
- deno-eager: ${info.native}
- Load average (1, 5, 15 min): ${info.loadBefore} before the run, ${info.loadAfter} after.
  The machine is shared with other work, so timings are noisy: read the spread below.
- Versions: ${versions}
- Method: each case runs in this process (deno-eager) and in one long-lived process per
  peer, one case at a time, never two at once, in six short rounds (every column once a
  round, alternate rounds in reverse order, so that drift in the machine's speed falls on
  all columns alike); the one-core TensorFlow.js columns take their rounds after the
  others', so that their turns of seconds on one core do not slow the start of the next
  column's turn. Each runner sets a case up once and warms it up in the first round
  (at least 0.3 s and 40 calls, those within 5 s), and for 0.02 s in later rounds; each
  round takes 2 or 3 samples of repeated calls, 12 to 18 in all, about ${info.budget} s of
  sampling per case and column. The table shows the median of the pooled samples. Peers
  run as their users run them: default threads and flags. Whole-process cases spawn a
  process per run: start-up is the median of 5 starts after one warm-up; peak memory is
  one 200-step run each.

## Side by side

Median time per call (peak memory: resident bytes). In parentheses: peer / deno-eager;
above 1 means deno-eager leads. "-": the peer does not run the case (see notes).

${summaryTable(rows)}

## Targets (issues 7, 16 and 17)

${targetTable(rows)}

## Every measurement

${detailTable(rows)}
`;
}
