import { symbols } from "../src/native/ffi.ts";
import { Activation, Binary, RandomDist, Reduce, Unary, UpdateRule } from "../src/native/codes.ts";
import { DTYPES } from "../src/dtype.ts";
import { native } from "../src/native/lib.ts";
import { assertEquals } from "./helpers.ts";

const header = Deno.readTextFileSync(new URL("../csrc/include/eager.h", import.meta.url));

Deno.test("every EAGER_API function in eager.h is bound in ffi.ts, and nothing else", () => {
  const declared = [...header.matchAll(/EAGER_API\s+[\w\s*]+?\b(eager_\w+)\s*\(/g)].map((m) =>
    m[1]
  );
  assertEquals([...declared].sort(), Object.keys(symbols).sort());
});

function enumNames(name: string, prefix: string): string[] {
  const body = new RegExp(`typedef enum \\{([^}]*)\\} ${name};`).exec(header);
  if (!body) throw new Error(`enum ${name} not found in eager.h`);
  return [...body[1].matchAll(new RegExp(`\\b${prefix}(\\w+)`, "g"))]
    .map((m) => m[1])
    .filter((n) => !n.endsWith("COUNT"));
}

Deno.test("op codes in codes.ts follow the enums of eager.h", () => {
  assertEquals(enumNames("eager_unary_op", "EAGER_UNARY_"), Object.keys(Unary));
  assertEquals(enumNames("eager_binary_op", "EAGER_BINARY_"), Object.keys(Binary));
  assertEquals(enumNames("eager_reduce_op", "EAGER_REDUCE_"), Object.keys(Reduce));
  assertEquals(enumNames("eager_random_dist", "EAGER_RANDOM_"), Object.keys(RandomDist));
  assertEquals(enumNames("eager_update_rule", "EAGER_UPDATE_"), Object.keys(UpdateRule));
  assertEquals(enumNames("eager_activation", "EAGER_ACTIVATION_"), Object.keys(Activation));
  assertEquals(
    enumNames("eager_dtype", "EAGER_").map((n) => n.toLowerCase()),
    ["f32", "f64", "i32", "i64", "u8", "bool"],
  );
  assertEquals(DTYPES, ["float32", "float64", "int32", "int64", "uint8", "bool"]);
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
