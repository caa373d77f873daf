/**
 * Uninitialised output buffers (src/native/buffers.ts, csrc/buffers/napi_buffers.c): large op
 * outputs come from libeager through Node-API without a zero-fill, the garbage collector
 * still frees them in time, early freeing works on them, blocks of 1 MiB or more are
 * reused (csrc/buffers/block_cache.c), and EAGER_POISON_OUTPUTS=1 (set by `deno task test` for
 * the whole suite) fills them with NaN / -1.
 */
import { takeBuffer } from "../src/native/buffers.ts";
import { allocate, allocateOutput, free } from "../src/backend/cpu/storage.ts";
import { assertEquals, assertThrowsMatch, denoOutput } from "./helpers.ts";

const runProbe = (code: string, env: Record<string, string>) =>
  denoOutput(["eval", "--ext=ts", code], env);
const runFile = (name: string) =>
  denoOutput(["run", "-A", new URL(`./probes/${name}`, import.meta.url).pathname]);

const storage = new URL("../src/backend/cpu/storage.ts", import.meta.url).href;
const buffers = new URL("../src/native/buffers.ts", import.meta.url).href;
const mod = new URL("../mod.ts", import.meta.url).href;

Deno.test("large outputs come from Node-API, at their size, and early freeing detaches them", () => {
  const buffer = takeBuffer(1 << 20);
  if (!(buffer instanceof ArrayBuffer)) throw new Error("Node-API buffers are unavailable");
  assertEquals(buffer.byteLength, 1 << 20);
  const array = allocateOutput("float32", 1 << 16, "test") as Float32Array;
  assertEquals([array.length, array.byteOffset, array.buffer.byteLength], [1 << 16, 0, 1 << 18]);
  array.fill(3);
  assertEquals(array[(1 << 16) - 1], 3);
  assertEquals(free(array), true);
  assertEquals([(array.buffer as ArrayBuffer).detached, array.length], [true, 0]);
});

Deno.test("EAGER_POISON_OUTPUTS=1 fills outputs with NaN and -1; allocate still zero-fills", async () => {
  const code = `import { allocate, allocateOutput } from "${storage}";
    const f = allocateOutput("float32", 1 << 16), i = allocateOutput("int32", 1 << 16);
    const z = allocate("float64", 1 << 16);
    console.log(JSON.stringify([f.every(Number.isNaN), i.every((v) => v === -1),
      z.every((v) => v === 0)]));`;
  assertEquals(await runProbe(code, { EAGER_POISON_OUTPUTS: "1" }), "[true,true,true]");
  // Without poison the contents are unspecified: only their length is checked.
  const plain = `import { allocateOutput } from "${storage}";
    console.log(allocateOutput("float32", 1 << 16).length);`;
  assertEquals(await runProbe(plain, { EAGER_POISON_OUTPUTS: "0" }), String(1 << 16));
});

Deno.test("a freed block of 1 MiB or more is handed to the next request of its size", async () => {
  // transfer(0) frees a block at once (storage.ts's free() would pool the buffer in JS instead).
  // Without poison the reused block still holds the old values; with it, NaN again. 1 MiB and
  // 2 MiB sit on the medium shelf, 4 MiB and 8 MiB on the large one; the block twice the size
  // freed in between must not be handed to the smaller request.
  const code = `import { helperInUse, takeBuffer } from "${buffers}";
    helperInUse(); // loads the helper now, not once outputs add up to 32 MiB
    const seen = [];
    for (const bytes of [1 << 20, 4 << 20]) {
      const a = new Float32Array(takeBuffer(bytes)), other = new Float32Array(takeBuffer(bytes * 2));
      a.fill(7);
      other.fill(8);
      a.buffer.transfer(0);
      other.buffer.transfer(0);
      const b = new Float32Array(takeBuffer(bytes));
      seen.push(b[0], b[b.length - 1]);
    }
    console.log(JSON.stringify(seen));`;
  assertEquals(await runProbe(code, { EAGER_POISON_OUTPUTS: "0" }), "[7,7,7,7]");
  assertEquals(await runProbe(code, { EAGER_POISON_OUTPUTS: "1" }), "[null,null,null,null]");
});

Deno.test("the helper loads once outputs add up to 32 MiB, or at the first under poison", async () => {
  // Loading it starts Deno's Node compatibility layer (20-33 ms), which a short script skips.
  const code = `import * as tf from "${mod}";
    import { helperLoaded } from "${buffers}";
    const a = tf.fill([64, 64], 0.5), product = tf.matmul(a, a), sum = tf.add(tf.ones([1000]), 1);
    const early = helperLoaded();
    const big = tf.add(tf.fill([9000000], 2), 1); // a 36 MB output
    console.log(JSON.stringify([early, helperLoaded(), product.dataSync()[4095],
      sum.dataSync()[999], big.dataSync()[8999999]]));`;
  assertEquals(await runProbe(code, { EAGER_POISON_OUTPUTS: "0" }), "[false,true,16,2,3]");
  assertEquals(await runProbe(code, { EAGER_POISON_OUTPUTS: "1" }), "[true,true,16,2,3]");
});

Deno.test("bad sizes are RangeErrors naming the op; small outputs are zeroed slab views, medium ones unzeroed", () => {
  assertThrowsMatch(() => allocateOutput("float32", 2 ** 50, "conv2d"), /^conv2d: cannot allocate/);
  assertThrowsMatch(() => takeBuffer(0), /take: bytes must be a whole number/);
  assertThrowsMatch(() => takeBuffer(1.5), /take: bytes must be a whole number/);
  const small = allocateOutput("float32", 64, "test");
  assertEquals([small.length, small.buffer.byteLength, small.every((v) => v === 0)], [
    64,
    16 << 10,
    true,
  ]);
  // 257 B - 16 KiB: views into a 128 KiB buffer from libeager, poisoned (NaN) under the test run.
  const medium = allocateOutput("float32", 100, "test");
  const poisoned = Deno.env.get("EAGER_POISON_OUTPUTS") === "1";
  assertEquals([medium.length, medium.buffer.byteLength], [100, 128 << 10]);
  if (poisoned) assertEquals(medium.every((v) => Number.isNaN(v)), true);
  assertEquals(allocate("int32", 0).length, 0);
});

Deno.test("garbage outputs are collected in time: 3 GB of 10 MB outputs peak under 1 GB", async () => {
  const { external, peak, size } = JSON.parse(await runFile("output_memory.ts"));
  assertEquals([external, size], [true, 2_500_000]);
  // Without the collector learning of them (csrc/buffers/napi_buffers.c) this loop reached 3 GB.
  if (!(peak > 0 && peak < 1 << 30)) throw new Error(`peak resident size ${peak} bytes`);
});

Deno.test({
  name:
    "a loop of 16M-element adds whose results are dropped holds at most 4 outputs beside its inputs",
  ignore: Deno.build.os !== "linux", // the probe reads /proc/self/statm
  async fn() {
    // Before the helper waited for dead blocks on their way back (csrc/buffers/napi_buffers.c),
    // 4 of 4 fresh processes of this probe held 2 to 8 outputs at their peak.
    const { withInputs, peak } = JSON.parse(await runFile("add_loop_memory.ts"));
    const outputBytes = 64 << 20, held = (peak - withInputs) / outputBytes;
    if (!(held <= 4)) throw new Error(`peak ${peak} bytes: ${held} outputs above ${withInputs}`);
  },
});

Deno.test("outputs made in workers and freed after them leave every isolate's count sound", async () => {
  // A count of external memory driven below zero aborts the whole process (V8 CHECK).
  assertEquals(await runFile("worker_outputs.ts"), "[2,1000000,2,1000000,2,1000000]");
});
