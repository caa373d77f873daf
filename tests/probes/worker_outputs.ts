/**
 * Probe for tests/output_buffers_test.ts: output blocks made in a worker outlive it and are
 * freed by the main isolate's collections, which must not upset either isolate's count of
 * external memory (a count below zero aborts the process). Prints the checks as JSON.
 * @module
 */
import * as tf from "../../mod.ts";

const self = globalThis as unknown as {
  postMessage(m: unknown, transfer: Transferable[]): void;
  onmessage: ((e: MessageEvent) => void) | null;
};

// The same file runs as the main module and as the worker, told apart by the worker's name.
if ((globalThis as { name?: string }).name === "outputs-worker") {
  // In the worker: make garbage outputs, and send some out as transferred buffers.
  const x = tf.randomUniform([1_000_000]);
  for (let i = 0; i < 50; i++) tf.add(x, x);
  const kept = tf.multiply(x, 2).dataSync() as Float32Array;
  const first = kept[0] / (x.dataSync() as Float32Array)[0];
  self.postMessage({ first, data: kept }, [kept.buffer as ArrayBuffer]);
} else {
  const results: number[] = [];
  for (let round = 0; round < 3; round++) {
    const worker = new Worker(import.meta.url, { type: "module", name: "outputs-worker" });
    const reply = await new Promise<{ first: number; data: Float32Array }>((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
    });
    worker.terminate();
    results.push(reply.first, reply.data.length);
  }
  // The main isolate now frees what it received, and makes and frees its own.
  const y = tf.randomUniform([1_000_000]);
  for (let i = 0; i < 200; i++) tf.add(y, y);
  console.log(JSON.stringify(results));
}
