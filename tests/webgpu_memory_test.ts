/**
 * The WebGPU device's memory limit (tf.setGpuMemoryLimit, EAGER_GPU_MEMORY_LIMIT;
 * src/backend/webgpu/memory.ts): an allocation past it first takes back garbage tensors'
 * buffers (a full collection and their owners' WeakRefs), then empties the pool, and only
 * then raises a GpuMemoryError naming the request; nothing is lost when it does. Runs on
 * whatever adapter Deno finds (llvmpipe in CI); without one the device tests are ignored.
 * @module
 */
import * as tf from "../mod.ts";
import { parseMemorySize } from "../src/backend/webgpu/memory.ts";
import { assertEquals, assertThrowsMatch } from "./helpers.ts";
import { useWebGpu } from "./backends/webgpu.ts";

const GPUS = await useWebGpu();
const GPU = "/gpu:0";
const ignore = GPUS === 0;
const MiB = 2 ** 20;

/** A float32 GPU tensor of `mib` MiB (one size class exactly). */
const block = (mib: number) => tf.device(GPU, () => tf.zeros([mib * MiB / 4]));

/** Runs `body` with the limit set to `mib` MiB and an empty pool, then lifts the limit. */
async function withLimit(mib: number, body: () => Promise<void> | void): Promise<void> {
  const info = tf.getMemoryInfo(GPU);
  tf.setGpuMemoryLimit(info.current + mib * MiB, GPU);
  try {
    await body();
  } finally {
    tf.setGpuMemoryLimit(null, GPU);
  }
}

Deno.test("memory sizes read as bytes, and bad ones name the setting", () => {
  assertEquals(parseMemorySize("512MiB", "x"), 512 * MiB);
  assertEquals(parseMemorySize("1.5 GiB", "x"), 1.5 * 2 ** 30);
  assertEquals(parseMemorySize("800mb", "x"), 800e6);
  assertEquals(parseMemorySize("4096", "x"), 4096);
  assertEquals(parseMemorySize(1e6, "x"), 1e6);
  for (const bad of ["", "-1", "0", "12 parsecs", "MiB"]) {
    assertThrowsMatch(
      () => parseMemorySize(bad, "EAGER_GPU_MEMORY_LIMIT"),
      /EAGER_GPU_MEMORY_LIMIT: expected a positive number of bytes/,
    );
  }
});

Deno.test({
  name: "past the limit with every tensor alive: a GpuMemoryError naming the request, nothing lost",
  ignore,
  fn: async () => {
    await withLimit(8, async () => {
      assertEquals(tf.getMemoryInfo(GPU).limit > 0, true);
      const kept = block(6);
      const before = tf.getMemoryInfo(GPU);
      let error: unknown;
      try {
        block(4);
      } catch (e) {
        error = e;
      }
      assertEquals(error instanceof tf.GpuMemoryError, true, String(error));
      assertEquals(
        /zeros: out of device memory: 4194304 bytes \(4\.0 MiB buffer\) would pass the memory limit of .* MiB with .* held by live tensors/
          .test((error as Error).message),
        true,
        (error as Error).message,
      );
      assertEquals(tf.getMemoryInfo(GPU).current, before.current);
      // The tensor that was there is intact, and a request that fits still works.
      assertEquals((await kept.data()).every((v) => v === 0), true);
      const small = block(1);
      assertEquals((await small.data()).length, MiB / 4);
      kept.dispose();
      small.dispose();
    });
  },
});

Deno.test({
  name: "past the limit, the pool's buffers of other sizes are destroyed to make room",
  ignore,
  fn: async () => {
    await withLimit(8, async () => {
      block(4).dispose();
      assertEquals(tf.getMemoryInfo(GPU).pooled >= 4 * MiB, true);
      const six = block(6); // 4 pooled + 6 > 8: the pool goes
      assertEquals(tf.getMemoryInfo(GPU).pooled, 0);
      assertEquals((await six.data()).length, 6 * MiB / 4);
      six.dispose();
    });
  },
});

Deno.test({
  name: "past the limit, tensors dropped before the last await are reclaimed at once",
  ignore,
  fn: async () => {
    await withLimit(8, async () => {
      (() => {
        block(6); // dropped: garbage once this job ends
      })();
      await new Promise((resolve) => setTimeout(resolve, 0));
      const held = tf.getMemoryInfo(GPU).current;
      const again = block(6); // 6 held by garbage + 6 > 8: collected and reused
      assertEquals(tf.getMemoryInfo(GPU).current <= held, true);
      assertEquals((await again.data()).length, 6 * MiB / 4);
      again.dispose();
    });
  },
});

Deno.test({
  name: "setGpuMemoryLimit and getMemoryInfo name bad arguments",
  ignore,
  fn: () => {
    assertThrowsMatch(
      () => tf.setGpuMemoryLimit("lots", GPU),
      /setGpuMemoryLimit: expected a positive/,
    );
    assertThrowsMatch(
      () => tf.setGpuMemoryLimit(1e9, "/cpu:0"),
      /setGpuMemoryLimit: \/cpu:0 is not a GPU/,
    );
    assertEquals(tf.getMemoryInfo(GPU).limit, Infinity);
  },
});
