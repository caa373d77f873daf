/**
 * The loader's header check (src/native/library_file.ts): a library for another OS or
 * architecture is an error naming the file and what it is, before Deno.dlopen sees it.
 * Headers are made byte by byte here; the real local build must pass.
 */
import { describeBinary, libraryMismatch } from "../src/native/library_file.ts";
import { buildName } from "../src/native/platform.ts";
import { assertEquals, denoOutput } from "./helpers.ts";

/** A 64-bit little-endian ELF header of type `type` for e_machine `machine`. */
function elfHeader(machine: number, type = 3): Uint8Array {
  const bytes = new Uint8Array(64);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  const view = new DataView(bytes.buffer);
  view.setUint16(16, type, true);
  view.setUint16(18, machine, true);
  return bytes;
}

/** A 64-bit little-endian Mach-O header (cputype, filetype 6 = dylib). */
function machOHeader(cpu: number, type = 6): Uint8Array {
  const bytes = new Uint8Array(32);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0xfeedfacf, true);
  view.setUint32(4, cpu, true);
  view.setUint32(12, type, true);
  return bytes;
}

/** A PE header: DOS stub pointing at "PE\0\0", machine and characteristics (DLL). */
function peHeader(machine: number, dll = true): Uint8Array {
  const bytes = new Uint8Array(0x100);
  const view = new DataView(bytes.buffer);
  bytes.set([0x4d, 0x5a]);
  view.setUint32(0x3c, 0x80, true);
  view.setUint32(0x80, 0x4550, true);
  view.setUint16(0x84, machine, true);
  view.setUint16(0x96, dll ? 0x2022 : 0x0022, true);
  return bytes;
}

/** A universal Mach-O header listing the given cputypes. */
function universalHeader(cpus: number[]): Uint8Array {
  const bytes = new Uint8Array(8 + 20 * cpus.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0xcafebabe, false);
  view.setUint32(4, cpus.length, false);
  cpus.forEach((cpu, i) => view.setUint32(8 + 20 * i, cpu, false));
  return bytes;
}

const X86_64 = 62, AARCH64 = 183;
const MACHO_X86_64 = 0x01000007, MACHO_ARM64 = 0x0100000c;

Deno.test("headers of each format name their format, architecture and kind", () => {
  const cases: [Uint8Array, string][] = [
    [elfHeader(AARCH64), "an ELF shared library for aarch64"],
    [elfHeader(X86_64, 1), "an ELF relocatable object for x86_64"],
    [machOHeader(MACHO_ARM64), "a Mach-O dynamic library for aarch64 (macOS)"],
    [machOHeader(MACHO_X86_64, 2), "a Mach-O executable for x86_64 (macOS)"],
    [peHeader(0x8664), "a Windows DLL for x86_64"],
    [peHeader(0xaa64, false), "a Windows executable for aarch64"],
    [
      universalHeader([MACHO_X86_64, MACHO_ARM64]),
      "a universal Mach-O file for x86_64, aarch64 (macOS)",
    ],
  ];
  for (const [bytes, text] of cases) assertEquals(describeBinary(bytes)?.text, text);
  assertEquals(describeBinary(new TextEncoder().encode("/* GNU ld script */")), undefined);
});

Deno.test("a library for another platform is refused with what it is and what is needed", () => {
  const path = "/x/libeager.so";
  assertEquals(
    libraryMismatch(path, elfHeader(AARCH64), "linux", "x86_64"),
    "libeager: /x/libeager.so is an ELF shared library for aarch64; linux x86_64 needs an ELF " +
      "shared library for x86_64",
  );
  assertEquals(
    libraryMismatch(path, machOHeader(MACHO_ARM64), "linux", "x86_64"),
    "libeager: /x/libeager.so is a Mach-O dynamic library for aarch64 (macOS); linux x86_64 " +
      "needs an ELF shared library for x86_64",
  );
  assertEquals(
    libraryMismatch(path, elfHeader(X86_64), "darwin", "x86_64"),
    "libeager: /x/libeager.so is an ELF shared library for x86_64; darwin x86_64 needs a " +
      "Mach-O shared library for x86_64",
  );
  assertEquals(
    libraryMismatch(path, peHeader(0x8664), "linux", "x86_64"),
    "libeager: /x/libeager.so is a Windows DLL for x86_64; linux x86_64 needs an ELF shared " +
      "library for x86_64",
  );
  assertEquals(
    libraryMismatch(path, new TextEncoder().encode("not a library"), "linux", "x86_64"),
    "libeager: /x/libeager.so is not a shared library (it starts with bytes 6e 6f 74 20); " +
      "linux x86_64 needs an ELF shared library for x86_64",
  );
  assertEquals(
    libraryMismatch(path, new Uint8Array(0), "linux", "aarch64"),
    "libeager: /x/libeager.so is empty; linux aarch64 needs an ELF shared library for aarch64",
  );
});

Deno.test("headers that fit their platform pass", () => {
  assertEquals(libraryMismatch("a", elfHeader(X86_64), "linux", "x86_64"), undefined);
  assertEquals(libraryMismatch("a", elfHeader(AARCH64), "linux", "aarch64"), undefined);
  assertEquals(libraryMismatch("a", machOHeader(MACHO_ARM64), "darwin", "aarch64"), undefined);
  assertEquals(libraryMismatch("a", peHeader(0x8664), "windows", "x86_64"), undefined);
  const fat = universalHeader([MACHO_X86_64, MACHO_ARM64]);
  assertEquals(libraryMismatch("a", fat, "darwin", "x86_64"), undefined);
  const local = new URL(`../zig-out/lib/${buildName()}`, import.meta.url).pathname;
  const head = Deno.readFileSync(local).subarray(0, 4096);
  assertEquals(libraryMismatch(local, head), undefined, "the local build");
});

Deno.test("EAGER_LIB naming a library for another architecture fails to import, naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eager-header-" });
  try {
    const foreign = Deno.build.arch === "aarch64" ? X86_64 : AARCH64;
    const path = `${dir}/${buildName()}`;
    const header = Deno.build.os === "darwin"
      ? machOHeader(foreign === X86_64 ? MACHO_X86_64 : MACHO_ARM64)
      : Deno.build.os === "windows"
      ? peHeader(foreign === X86_64 ? 0x8664 : 0xaa64)
      : elfHeader(foreign);
    await Deno.writeFile(path, header);
    const mod = new URL("../mod.ts", import.meta.url).href;
    let message = "";
    try {
      await denoOutput(["eval", `await import(${JSON.stringify(mod)})`], {
        EAGER_LIB: path,
        NO_COLOR: "1",
      });
    } catch (error) {
      message = (error as Error).message;
    }
    const other = foreign === X86_64 ? "x86_64" : "aarch64";
    const expected = `libeager: ${path} is `;
    if (!message.includes(expected) || !message.includes(`for ${other}`)) {
      throw new Error(`expected an error naming ${path} and ${other}, got: ${message}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
