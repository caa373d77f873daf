/**
 * What a library file is, from its first bytes, so that a library for another OS or
 * architecture (`EAGER_LIB` pointing at a macOS build, an aarch64 build on x86-64) is an
 * error naming the file and what it holds, instead of the dynamic loader's terse "invalid
 * ELF header" or "wrong ELF class".
 *
 * Reads the ELF header (e_ident, e_type, e_machine), the Mach-O header (magic, cputype,
 * filetype; a universal file's list of slices) and the PE header (machine, DLL flag).
 * @module
 */
import { type Arch, type Os, platformLabel } from "./platform.ts";

/** A binary's container format. */
export type BinaryFormat = "ELF" | "Mach-O" | "PE";

/** What a file's header says it is. */
export interface BinaryKind {
  format: BinaryFormat;
  /** The architectures it holds code for (several for a universal Mach-O file). */
  arches: string[];
  /** Whether it is a shared library (ELF ET_DYN, Mach-O dylib or bundle, PE DLL). */
  library: boolean;
  /** A phrase for messages: "an ELF shared library for aarch64". */
  text: string;
}

const ELF_MACHINES: Record<number, string> = {
  3: "i386",
  8: "mips",
  20: "ppc",
  21: "ppc64",
  22: "s390x",
  40: "arm",
  62: "x86_64",
  183: "aarch64",
  243: "riscv",
  258: "loongarch",
};
const ELF_TYPES: Record<number, string> = {
  1: "relocatable object",
  2: "executable",
  3: "shared library",
  4: "core dump",
};
const MACHO_CPUS: Record<number, string> = {
  7: "i386",
  0x01000007: "x86_64",
  12: "arm",
  0x0100000c: "aarch64",
  18: "ppc",
  0x01000012: "ppc64",
};
const MACHO_TYPES: Record<number, string> = {
  1: "object file",
  2: "executable",
  6: "dynamic library",
  8: "bundle",
};
const PE_MACHINES: Record<number, string> = {
  0x14c: "i386",
  0x1c0: "arm",
  0x1c4: "arm",
  0x8664: "x86_64",
  0xaa64: "aarch64",
};

const hex = (n: number) => `0x${n.toString(16)}`;

function elf(view: DataView): BinaryKind | undefined {
  if (view.byteLength < 20) return undefined;
  const bits = view.getUint8(4) === 1 ? 32 : 64;
  const little = view.getUint8(5) !== 2;
  const type = view.getUint16(16, little);
  const machine = view.getUint16(18, little);
  const arch = ELF_MACHINES[machine] ?? `machine ${machine}`;
  const what = ELF_TYPES[type] ?? `file of type ${type}`;
  const qualifiers = `${bits === 32 ? "32-bit " : ""}${little ? "" : "big-endian "}`;
  return {
    format: "ELF",
    arches: [arch],
    library: type === 3 && bits === 64 && little,
    text: `${qualifiers ? `a ${qualifiers}` : "an "}ELF ${what} for ${arch}`,
  };
}

function machO(view: DataView, little: boolean): BinaryKind | undefined {
  if (view.byteLength < 16) return undefined;
  const cpu = view.getUint32(4, little);
  const type = view.getUint32(12, little);
  const arch = MACHO_CPUS[cpu] ?? `CPU type ${hex(cpu)}`;
  const what = MACHO_TYPES[type] ?? `file of type ${type}`;
  return {
    format: "Mach-O",
    arches: [arch],
    library: type === 6 || type === 8,
    text: `a Mach-O ${what} for ${arch} (macOS)`,
  };
}

function universal(view: DataView): BinaryKind | undefined {
  const count = view.getUint32(4, false);
  // NOTE: Java class files share the 0xcafebabe magic; their version number sits where a
  // universal file keeps its slice count, and is never this small.
  if (count === 0 || count > 16 || view.byteLength < 8 + 20 * count) return undefined;
  const arches: string[] = [];
  for (let i = 0; i < count; i++) {
    const cpu = view.getUint32(8 + 20 * i, false);
    arches.push(MACHO_CPUS[cpu] ?? `CPU type ${hex(cpu)}`);
  }
  return {
    format: "Mach-O",
    arches,
    library: true, // the slices' own headers say; the loader reports anything else
    text: `a universal Mach-O file for ${arches.join(", ")} (macOS)`,
  };
}

function pe(view: DataView): BinaryKind | undefined {
  if (view.byteLength < 0x40) return undefined;
  const header = view.getUint32(0x3c, true);
  if (header + 24 > view.byteLength || view.getUint32(header, true) !== 0x4550) return undefined;
  const machine = view.getUint16(header + 4, true);
  const dll = (view.getUint16(header + 22, true) & 0x2000) !== 0;
  const arch = PE_MACHINES[machine] ?? `machine ${hex(machine)}`;
  return {
    format: "PE",
    arches: [arch],
    library: dll,
    text: `a Windows ${dll ? "DLL" : "executable"} for ${arch}`,
  };
}

/** What `bytes` (a file's first few KiB) hold, or undefined when no format matches. */
export function describeBinary(bytes: Uint8Array): BinaryKind | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.byteLength < 8) return undefined;
  const magic = view.getUint32(0, false);
  if (magic === 0x7f454c46) return elf(view);
  if (magic === 0xfeedface || magic === 0xfeedfacf) return machO(view, false);
  if (magic === 0xcefaedfe || magic === 0xcffaedfe) return machO(view, true);
  if (magic === 0xcafebabe) return universal(view);
  if (view.getUint16(0, false) === 0x4d5a) return pe(view); // "MZ"
  return undefined;
}

/** The container format a platform's dynamic loader reads. */
export function formatOf(os: Os): BinaryFormat {
  return os === "darwin" ? "Mach-O" : os === "windows" ? "PE" : "ELF";
}

/**
 * Why `bytes` (the start of the file at `path`) cannot be loaded as a library on `os`/`arch`,
 * or undefined when its header fits.
 */
export function libraryMismatch(
  path: string,
  bytes: Uint8Array,
  os: Os = Deno.build.os,
  arch: Arch = Deno.build.arch,
): string | undefined {
  const needs = `${formatOf(os) === "ELF" ? "an ELF" : `a ${formatOf(os)}`} shared library ` +
    `for ${arch}`;
  if (bytes.byteLength === 0) {
    return `libeager: ${path} is empty; ${platformLabel(os, arch)} needs ${needs}`;
  }
  const kind = describeBinary(bytes);
  if (kind === undefined) {
    const start = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    return `libeager: ${path} is not a shared library (it starts with bytes ${start}); ` +
      `${platformLabel(os, arch)} needs ${needs}`;
  }
  if (kind.format === formatOf(os) && kind.arches.includes(arch) && kind.library) return undefined;
  return `libeager: ${path} is ${kind.text}; ${platformLabel(os, arch)} needs ${needs}`;
}

/**
 * Throws an Error naming `path` and what it holds when it is not a shared library for this
 * OS and architecture. A file that cannot be read is left to the dynamic loader to report.
 */
export function checkLibraryFile(path: string): void {
  let bytes: Uint8Array;
  try {
    using file = Deno.openSync(path, { read: true });
    const buffer = new Uint8Array(4096);
    let filled = 0;
    while (filled < buffer.length) {
      const n = file.readSync(buffer.subarray(filled));
      if (n === null || n === 0) break;
      filled += n;
    }
    bytes = buffer.subarray(0, filled);
  } catch {
    return; // no read permission, a special file: Deno.dlopen says what is wrong
  }
  const mismatch = libraryMismatch(path, bytes);
  if (mismatch) throw new Error(mismatch);
}
