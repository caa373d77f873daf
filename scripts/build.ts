/**
 * `deno task build`: installs the toolchain (and OpenBLAS and oneDNN, which libeager loads
 * at run time) when missing, regenerates csrc/generated/ (scripts/kernel_abi.ts) and rebuilds
 * libeager and its output buffer helper, libeager_buffers, when their sources changed (a sha256 of build.zig, build.zig.zon and csrc/ is
 * kept in zig-out/lib/.sources). Warnings are errors (build.zig passes -Werror).
 * @module
 */
import { sha256Hex } from "../src/native/library_cache.ts";
import { writeGenerated } from "./kernel_abi.ts";
import { ensureOneDnn, ensureOpenBlas, ensureZig, ZIG_VERSION } from "./toolchain.ts";

const root = new URL("..", import.meta.url).pathname;
const stampPath = `${root}zig-out/lib/.sources`;
const libPath = `${root}zig-out/lib/libeager.so`;
const helperPath = `${root}zig-out/lib/libeager_buffers.so`;

function listSources(dir: string): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...listSources(path));
    else if (/\.(c|h|cu)$/.test(entry.name)) files.push(path);
  }
  return files;
}

/** A sha256 of the pinned Zig version, build.zig, build.zig.zon and every source under csrc/. */
export async function sourceDigest(): Promise<string> {
  const files = [`${root}build.zig`, `${root}build.zig.zon`, ...listSources(`${root}csrc`)].sort();
  return await sha256Hex(
    new TextEncoder().encode(
      ZIG_VERSION + files.map((f) => `${f}\n${Deno.readTextFileSync(f)}`).join("\n"),
    ),
  );
}

/** The source digest a library was built from (its stamp file), if the library exists. */
export function readStamp(library: string, stamp: string): string | undefined {
  try {
    Deno.statSync(library);
    return Deno.readTextFileSync(stamp).trim();
  } catch {
    return undefined;
  }
}

/** Builds libeager unless the built one matches the sources. Returns the library path. */
export async function buildLibrary(force = false): Promise<string> {
  // Both loaded at run time, so wanted even when the library is current.
  await ensureOpenBlas();
  await ensureOneDnn();
  for (const path of writeGenerated()) console.error(`[build] regenerated ${path}`);
  const digest = await sourceDigest();
  const current = readStamp(libPath, stampPath) === digest && readStamp(helperPath, stampPath);
  if (!force && current) return libPath;
  const zig = await ensureZig();
  console.error("[build] zig build -Doptimize=ReleaseFast");
  const { code } = await new Deno.Command(zig, {
    args: ["build", "-Doptimize=ReleaseFast"],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`[build] zig build failed (exit ${code})`);
  Deno.writeTextFileSync(stampPath, digest + "\n");
  return libPath;
}

if (import.meta.main) {
  try {
    const path = await buildLibrary(Deno.args.includes("--force"));
    console.error(`[build] ${path} is up to date`);
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(1);
  }
}
