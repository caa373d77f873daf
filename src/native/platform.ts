/**
 * The names libeager goes by on each platform, shared by the loader and `deno task dist`
 * (scripts/dist.ts), so that the file the loader asks for is the file dist/ holds.
 *
 * A platform is Deno's own `Deno.build.os` and `Deno.build.arch`. Prebuilt files are named
 * `libeager-<os>-<arch>.<ext>` (`eager-windows-<arch>.dll` on Windows, which has no `lib`
 * prefix), e.g. `libeager-linux-x86_64.so`, `libeager-darwin-aarch64.dylib`. The output
 * buffer helper (csrc/buffers/) is a second library, `libeager_buffers...` the same way.
 * @module
 */

/** An operating system as `Deno.build.os` names it. */
export type Os = typeof Deno.build.os;
/** An architecture as `Deno.build.arch` names it. */
export type Arch = typeof Deno.build.arch;

/** sha256 (hex) and size in bytes of one prebuilt library (src/native/prebuilt.ts). */
export interface PrebuiltDigest {
  sha256: string;
  size: number;
}

/** The two libraries: the kernels, and the Node-API output buffer helper (optional). */
export type LibraryStem = "eager" | "eager_buffers";
/** The kernels' library. */
export const KERNELS: LibraryStem = "eager";
/** The output buffer helper's library. */
export const BUFFERS: LibraryStem = "eager_buffers";

function extension(os: Os): string {
  return os === "darwin" ? "dylib" : os === "windows" ? "dll" : "so";
}

/** The file name `zig build` gives a library for `os` (zig-out/lib/ or zig-out/bin/). */
export function buildName(os: Os = Deno.build.os, stem: LibraryStem = KERNELS): string {
  return os === "windows" ? `${stem}.dll` : `lib${stem}.${extension(os)}`;
}

/** The file name of a prebuilt library for a platform, in dist/ and in the cache. */
export function prebuiltName(
  os: Os = Deno.build.os,
  arch: Arch = Deno.build.arch,
  stem: LibraryStem = KERNELS,
): string {
  return `${os === "windows" ? stem : `lib${stem}`}-${os}-${arch}.${extension(os)}`;
}

/** "linux x86_64": a platform as messages name it. */
export function platformLabel(os: Os = Deno.build.os, arch: Arch = Deno.build.arch): string {
  return `${os} ${arch}`;
}
