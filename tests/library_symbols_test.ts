/**
 * libeager is a kernel library and nothing more: on Linux its ELF file needs only libc,
 * libm, libpthread and libdl (BLAS and oneDNN are found with dlopen at run time), no symbol
 * is left for the host to provide, and it holds no Node-API code. The output buffer helper,
 * libeager_buffers, is the Node-API module: it exports the registration entry point, needs
 * only libc, libpthread and libdl and nothing from libeager, and looks the Node-API
 * functions up with dlsym when Deno registers it. Read from the ELF files' dynamic sections
 * and symbols.
 */
import { ok as assert } from "node:assert";
import { helperLibraryPath, libraryPath } from "../src/native/lib.ts";
import { assertEquals } from "./helpers.ts";

interface DynamicInfo {
  needed: string[];
  undefinedSymbols: string[];
  definedSymbols: string[];
}

/** DT_NEEDED entries and undefined dynamic symbols of a 64-bit little-endian ELF file. */
export function dynamicInfo(bytes: Uint8Array): DynamicInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  if (view.getUint32(0, false) !== 0x7f454c46 || bytes[4] !== 2 || bytes[5] !== 1) {
    throw new Error("not a 64-bit little-endian ELF file");
  }
  const shoff = u64(0x28), shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const sections = Array.from({ length: shnum }, (_, i) => {
    const at = shoff + i * shentsize;
    return {
      type: view.getUint32(at + 4, true),
      offset: u64(at + 0x18),
      size: u64(at + 0x20),
      link: view.getUint32(at + 0x28, true),
      entsize: u64(at + 0x38),
    };
  });
  const text = (table: number, at: number) => {
    const start = sections[table].offset + at;
    const end = bytes.indexOf(0, start);
    return new TextDecoder().decode(bytes.subarray(start, end));
  };
  const info: DynamicInfo = { needed: [], undefinedSymbols: [], definedSymbols: [] };
  for (const s of sections) {
    if (s.type === 6) { // SHT_DYNAMIC: (tag, value) pairs; DT_NEEDED = 1
      for (let at = s.offset; at < s.offset + s.size; at += 16) {
        if (u64(at) === 1) info.needed.push(text(s.link, u64(at + 8)));
      }
    } else if (s.type === 11) { // SHT_DYNSYM: an undefined symbol has section index 0
      for (let at = s.offset + s.entsize; at < s.offset + s.size; at += s.entsize) {
        const name = text(s.link, view.getUint32(at, true));
        if (!name) continue;
        if (view.getUint16(at + 6, true) === 0) info.undefinedSymbols.push(name);
        else info.definedSymbols.push(name);
      }
    }
  }
  return info;
}

Deno.test({
  name: "libeager needs only libc, libm, libpthread and libdl, and no Node-API host",
  ignore: Deno.build.os !== "linux",
  fn() {
    const info = dynamicInfo(Deno.readFileSync(libraryPath()!));
    assertEquals(unexpectedLibraries(info), []);
    assert(info.undefinedSymbols.length > 0, "the parser found no undefined symbol at all");
    assert(info.undefinedSymbols.includes("dlsym"));
    assertEquals([...info.undefinedSymbols, ...info.definedSymbols].filter(isNodeApi), []);
    assert(info.definedSymbols.includes("eager_abi_version"));
  },
});

Deno.test({
  name: "the output buffer helper is a Node-API module apart from libeager",
  ignore: Deno.build.os !== "linux",
  fn() {
    const path = helperLibraryPath();
    assert(path, "no libeager_buffers beside the library");
    const info = dynamicInfo(Deno.readFileSync(path));
    assertEquals(unexpectedLibraries(info), []);
    assertEquals(info.undefinedSymbols.filter((s) => isNodeApi(s) || s.startsWith("eager_")), []);
    assertEquals(info.definedSymbols.filter(isNodeApi), ["napi_register_module_v1"]);
    assert(info.undefinedSymbols.includes("dlsym"));
  },
});

const isNodeApi = (symbol: string) => symbol.startsWith("napi_");

/** DT_NEEDED entries other than libc, libm, libpthread, libdl and the dynamic loader. */
function unexpectedLibraries(info: DynamicInfo): string[] {
  const base = (name: string) => name.replace(/\.so(\.\d+)*$/, "");
  const allowed = ["libc", "libm", "libpthread", "libdl", "ld-linux-x86-64", "ld-linux-aarch64"];
  return info.needed.filter((n) => !allowed.includes(base(n)));
}
