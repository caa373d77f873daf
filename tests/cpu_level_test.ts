/**
 * One library for every CPU of its architecture: the kernels are compiled per
 * instruction-set level and one is picked at load (csrc/cpu.c, src/native/cpu_level.ts).
 * scripts/test.ts also runs the kernel suites at every lower level; these tests check the
 * choice itself, its errors, and that the levels agree with each other.
 */
import { ok as assert } from "node:assert";
import * as tf from "../mod.ts";
import { applyCpuLevel, CPU_LEVELS, levelNames } from "../src/native/cpu_level.ts";
import { assertEquals, denoOutput } from "./helpers.ts";

const info = tf.runtimeInfo();
const mod = new URL("../mod.ts", import.meta.url).href;

/** stderr of a deno process importing mod.ts under `env`, which must fail. */
async function failedImport(env: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", `import * as tf from "${mod}"; tf.add(1, 2);`],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.success, false, "the import should have failed");
  return new TextDecoder().decode(out.stderr);
}

Deno.test("the best level this CPU runs is picked, and runtimeInfo names it", () => {
  const expected = Deno.build.arch === "x86_64" ? ["v2", "v3", "v4"] : ["neon"];
  assert(info.cpuLevels.length >= 1, "no level at all");
  assert(info.cpuLevels.every((l) => expected.includes(l)), `${info.cpuLevels}`);
  // scripts/test.ts lowers the level of whole runs with EAGER_CPU.
  const asked = Deno.env.get("EAGER_CPU");
  assertEquals(info.cpuLevel, asked ?? info.cpuLevels[info.cpuLevels.length - 1]);
  assert(info.library.length > 0 && info.threads >= 1);
  if (Deno.build.arch === "x86_64" && /avx512f/.test(cpuFlags())) {
    assertEquals(info.cpuLevels.includes("v4"), true);
  }
});

function cpuFlags(): string {
  try {
    return Deno.readTextFileSync("/proc/cpuinfo");
  } catch {
    return "";
  }
}

Deno.test("EAGER_CPU with an unknown name or a level this CPU lacks is a clear error", async () => {
  const levels = info.cpuLevels.join(", ");
  const unknown = await failedImport({ EAGER_CPU: "avx9" });
  assert(
    unknown.includes(`EAGER_CPU=avx9 is not a CPU level; this CPU runs ${levels}`),
    unknown,
  );
  const foreign = Deno.build.arch === "x86_64" ? "neon" : "v4";
  const lacking = await failedImport({ EAGER_CPU: foreign });
  assert(
    lacking.includes(`EAGER_CPU=${foreign} is a level this CPU does not support; this CPU runs`),
    lacking,
  );
});

Deno.test("EAGER_CPU picks each level this CPU runs", async () => {
  for (const level of info.cpuLevels) {
    const code = `import * as tf from "${mod}"; console.log(tf.runtimeInfo().cpuLevel);`;
    assertEquals(await denoOutput(["eval", "--ext=ts", code], { EAGER_CPU: level }), level);
  }
});

Deno.test("a CPU below the lowest level, or a refused level, is an error naming the library", () => {
  const fake = (mask: number, refuse = false) => ({
    eager_cpu_levels: () => mask,
    eager_cpu_level: () => 0,
    eager_set_cpu_level: () => (refuse ? 1 : 0),
  });
  let message = "";
  try {
    applyCpuLevel(fake(0), "/lib/libeager.so", undefined);
  } catch (error) {
    message = (error as Error).message;
  }
  assert(message.includes("lacks every instruction-set level /lib/libeager.so was built"));
  applyCpuLevel(fake(0b11), "/lib/libeager.so", "V3 "); // names are trimmed, any case
  assertEquals(levelNames(0b1011), ["v2", "v3", "neon"]);
  message = "";
  try {
    applyCpuLevel(fake(0b11, true), "/lib/libeager.so", "v2");
  } catch (error) {
    message = (error as Error).message;
  }
  assertEquals(message, "libeager: /lib/libeager.so refused CPU level v2");
});

type LevelReport = {
  levels: string[];
  best: string;
  report: { op: string; level: string; relative: number; same: boolean }[];
};

Deno.test("every level computes the same results: bitwise where no rounding differs", async () => {
  const probe = new URL("./probes/cpu_levels.ts", import.meta.url).pathname;
  const { levels, report }: LevelReport = JSON.parse(
    await denoOutput(["run", "-A", probe], { EAGER_CPU: "" }),
  );
  assertEquals(levels, info.cpuLevels);
  // Exact arithmetic, comparisons and integer random bits do not depend on the level.
  // Sums may differ in their last bits: FMA (v3 and up) rounds once where v2 rounds twice.
  const bitwise = new Set([
    "add, multiply, maximum",
    "reduceSum, reduceMax, argMax",
    "maxPool, avgPool",
    "randomUniform, randomNormal",
  ]);
  assertEquals(report.length, 10 * levels.length);
  for (const { op, level, relative, same } of report) {
    if (bitwise.has(op)) assertEquals(same, true, `${op} at ${level} differs bitwise`);
    // Float32 sums of up to 400 terms (the strided filter gradient: 112): a few units of 2^-24 times sqrt(k) of the largest.
    assert(relative < 2e-5, `${op} at ${level}: relative difference ${relative}`);
  }
});

Deno.test("no vector type crosses into another level: headers declare none", () => {
  for (const header of ["csrc/include/eager.h", "csrc/internal.h", "csrc/kernels/conv.h"]) {
    const text = Deno.readTextFileSync(new URL(`../${header}`, import.meta.url));
    assertEquals(/vector_size|__m(128|256|512)/.test(text), false, `${header} declares vectors`);
  }
});

Deno.test("the CPU level names follow eager.h's eager_cpu enum", () => {
  const header = Deno.readTextFileSync(new URL("../csrc/include/eager.h", import.meta.url));
  const body = /typedef enum \{([^}]*)\} eager_cpu;/.exec(header)![1];
  const names = [...body.matchAll(/EAGER_CPU_(\w+)/g)].map((m) => m[1].toLowerCase());
  assertEquals(names.filter((n) => n !== "count"), [...CPU_LEVELS]);
});
