import { symbols } from "../src/native/ffi.ts";
import { Unary } from "../src/native/codes.ts";
import { dtypeCode, DTYPES } from "../src/dtype.ts";
import { libraryPath, native } from "../src/native/lib.ts";
import { generate, staleFiles } from "../scripts/kernel_abi.ts";
import { generateCodes, generateFfi } from "../scripts/ts_abi.ts";
import { parseEnums, parsePrototypes, parseStructs } from "../scripts/c_header.ts";
import { ok as assert } from "node:assert";
import { assertEquals, assertThrowsMatch } from "./helpers.ts";

const header = Deno.readTextFileSync(new URL("../csrc/include/eager.h", import.meta.url));

// The ABI is written once, in csrc/include/eager.h: src/native/ffi.ts, src/native/codes.ts
// and csrc/generated/ are made from it by scripts/kernel_abi.ts (deno task build).
Deno.test("the C glue and the TypeScript bindings are what scripts/kernel_abi.ts makes of eager.h", () => {
  assertEquals(staleFiles(), []);
});

Deno.test("every EAGER_API function is bound with one FFI type per C parameter", () => {
  const prototypes = parsePrototypes(header);
  assertEquals(prototypes.map((p) => p.name).sort(), Object.keys(symbols).sort());
  for (const p of prototypes) {
    const bound = symbols[p.name as keyof typeof symbols];
    assertEquals(bound.parameters.length, p.params.length, p.name);
  }
  // Spot checks against the header's text, independent of the generator's type table.
  assertEquals(symbols.eager_crc32c.parameters, ["u32", "buffer", "i64", "i64"]);
  assertEquals(symbols.eager_crc32c.result, "u32");
  assertEquals(symbols.eager_random.parameters.slice(4), ["u64", "u64", "f64", "f64"]);
  assertEquals(symbols.eager_status_message.result, "pointer");
});

// The library binds its functions at their first call (src/native/loader.ts), so a symbol it
// lacks would show only when used: here every one of the table is bound at once.
Deno.test("the library exports every function of the symbol table, and the stubs bind them", () => {
  const path = libraryPath();
  assert(path, "the library is open");
  const library = Deno.dlopen(path, symbols);
  try {
    assertEquals(Object.keys(library.symbols).sort(), Object.keys(symbols).sort());
    assertEquals(library.symbols.eager_abi_version(), native.eager_abi_version());
  } finally {
    library.close();
  }
  assertEquals(Object.keys(native).sort(), Object.keys(symbols).sort());
  for (const name of Object.keys(symbols) as (keyof typeof symbols)[]) {
    assertEquals(native[name].length, symbols[name].parameters.length, name);
  }
});

// Mutation checks: a change to eager.h that the bindings must follow changes them, so a
// stale ffi.ts or codes.ts fails the test above.
Deno.test("a changed parameter type, enum order or struct field changes the generated bindings", () => {
  const generated = (text: string) => generate(text, []);
  const before = generated(header);
  const mutations: [string, string, string][] = [
    // [what, from, to]: each must change the file named after it
    [
      "src/native/ffi.ts",
      "int32_t eager_softmax(int32_t dtype, int64_t rows",
      "int32_t eager_softmax(int32_t dtype, int32_t rows",
    ],
    [
      "src/native/ffi.ts",
      "uint32_t eager_crc32c(uint32_t crc",
      "uint64_t eager_crc32c(uint32_t crc",
    ],
    [
      "src/native/codes.ts",
      "  EAGER_UNARY_ABS,\n  EAGER_UNARY_SIGN,",
      "  EAGER_UNARY_SIGN,\n  EAGER_UNARY_ABS,",
    ],
    ["src/native/codes.ts", "int64_t dilation_h, dilation_w;", "int64_t dilation_w, dilation_h;"],
    ["src/native/ffi.ts", "#define EAGER_ABI_VERSION ", "#define EAGER_ABI_VERSION 9"],
  ];
  for (const [file, from, to] of mutations) {
    assert(header.includes(from), `eager.h no longer contains "${from}"`);
    const after = generated(header.replace(from, to));
    assert(after.get(file) !== before.get(file), `${file} did not follow: ${from} -> ${to}`);
    assertEquals(staleFiles(after).includes(file), true);
  }
});

Deno.test("the generator reads enums with explicit values, structs and every scalar type", () => {
  const text = `
typedef enum { EAGER_X_A = 2, EAGER_X_B, /* note, with commas */ EAGER_X_COUNT } eager_x_op;
typedef struct {
  int64_t first_one, second; /* a comment */
  int64_t third;
} eager_demo_params;
EAGER_API double eager_f(const float *a, uint8_t b, size_t c, int64_t d, void *e);
EAGER_API void eager_g(void);
`;
  assertEquals(parseEnums(text), [{
    name: "eager_x_op",
    members: [{ name: "EAGER_X_A", value: 2 }, { name: "EAGER_X_B", value: 3 }, {
      name: "EAGER_X_COUNT",
      value: 4,
    }],
  }]);
  assertEquals(parseStructs(text), [{
    name: "eager_demo_params",
    fields: ["first_one", "second", "third"],
  }]);
  const codes = generateCodes(text);
  assert(codes.includes("export const X = {\n  A: 2,\n  B: 3,\n} as const;"), codes);
  assert(codes.includes("return [p.firstOne, p.second, p.third];"), codes);
  const ffi = generateFfi(`#define EAGER_ABI_VERSION 1\n${text}`);
  assert(
    ffi.includes(
      `eager_f: { parameters: ["buffer", "u8", "usize", "i64", "buffer"], result: "f64" }`,
    ),
    ffi,
  );
  assert(ffi.includes(`eager_g: { parameters: [], result: "void" }`), ffi);
});

Deno.test("the generator refuses what it cannot bind, naming it", () => {
  assertThrowsMatch(
    () => generateFfi("#define EAGER_ABI_VERSION 1\nEAGER_API int32_t eager_h(long double x);"),
    /no FFI type for "long double" \(eager_h\)/,
  );
  assertThrowsMatch(
    () => generateCodes("typedef struct { int32_t a; } eager_bad_params;"),
    /eager_bad_params: only int64_t fields/,
  );
  assertThrowsMatch(() => generateFfi("EAGER_API int32_t eager_h(void);"), /EAGER_ABI_VERSION/);
});

Deno.test("dtype codes follow eager_dtype", () => {
  assertEquals(DTYPES, ["float32", "float64", "int32", "int64", "uint8", "bool"]);
  const names = parseEnums(header).find((e) => e.name === "eager_dtype")!.members;
  assertEquals(
    DTYPES.map((d) => dtypeCode(d)),
    ["F32", "F64", "I32", "I64", "U8", "BOOL"].map((n) =>
      names.find((m) => m.name === `EAGER_${n}`)!.value
    ),
  );
});

Deno.test("bad op codes and dtypes come back as statuses, not crashes", () => {
  const out = new Float32Array(4), x = new Float32Array(4);
  assertEquals(native.eager_unary_flat(999, 0, 4, out, x, 0), 1);
  assertEquals(native.eager_unary_flat(0, 99, 4, out, x, 0), 1);
  assertEquals(native.eager_unary_flat(Unary.EXP, 2, 4, out, x, 0), 2); // exp on int32
  assertEquals(native.eager_binary_flat(0, 0, -1, out, x, 0, 1, x, 0, 1), 1);
  assertEquals(native.eager_binary_flat(0, 0, 4, out, x, 0, 2, x, 0, 1), 1);
});

// NOTE: test files run as workers of one process (deno test --parallel) and share the
// library, so other files may set the thread count meanwhile: only the values returned
// by the setter itself are checked.
Deno.test("the thread count can be set and restored", () => {
  assertEquals(native.eager_set_num_threads(1), 1);
  assertEquals(native.eager_set_num_threads(3), 3);
  const restored = native.eager_set_num_threads(0);
  assertEquals(restored >= 1 && restored <= 64, true);
});
