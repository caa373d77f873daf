/**
 * TensorFlow 2.21 Keras's ResNet50 restores into tf.applications.ResNet50: the Python side
 * (tests/interop/resnet50.py, in the interop venv) saves a seeded ResNet50(weights=None,
 * classifier_activation=None) under its Keras variable paths with realistic moving
 * statistics; tf.Saver restores it through kerasVariables. On the same batch we must give
 * Keras's inference logits, and one training-mode call must give its logits (batch
 * statistics) and move the moving averages of BatchNormalization as Keras's does.
 *
 * Tolerance, relative to the scale (largest magnitude) of what is compared: float32 through
 * 53 convolutions and normalisations summed in different orders (oneDNN vs our kernels).
 * Logits: |ours - TF| <= 5e-4 x scale; measured 5e-6 (inference, scale about 150: the
 * batch is shifted from the calibration one) and 1.1e-4 (training, scale about 4) x scale. Moving statistics: <= 2e-5 x scale; measured at most 5e-6,
 * while the fused path's unbiased variance would be off by about 1e-3 in conv5_block3_3_bn
 * (2x2x2 values per channel in this batch).
 */
import * as tf from "../mod.ts";
import { runPython } from "./python_env.ts";
import { assertClose, assertEquals } from "./helpers.ts";

interface TfSide {
  x: number[][][][];
  paths: string[];
  trainable: number;
  inference: number[][];
  training: number[][];
  moving: Record<string, { moving_mean: number[]; moving_variance: number[] }>;
}

const [BATCH, SIZE, CLASSES] = [2, 64, 10];

/** A tolerance of `fraction` of the scale of the expected values (see the module comment). */
function ofScale(expected: number[] | number[][], fraction: number, message = "") {
  const scale = Math.max(...expected.flat().map(Math.abs));
  return { rtol: 0, atol: fraction * scale, message };
}

Deno.test("Keras's ResNet50 checkpoint restores into ours: same logits, same BatchNorm updates", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "resnet50_interop_" });
  try {
    const prefix = `${dir}/keras_resnet50`;
    const args = [prefix, String(BATCH), String(SIZE), String(CLASSES)];
    const tfSide: TfSide = JSON.parse(await runPython("resnet50.py", args));
    const model = new tf.applications.ResNet50({ classes: CLASSES, name: "interop_resnet50" });
    const x = tf.constant(tfSide.x);
    model.apply(x); // makes the variables
    const byPath = tf.applications.kerasVariables(model);
    assertEquals(Object.keys(byPath).sort(), [...tfSide.paths].sort());
    assertEquals(model.trainableVariables.length, tfSide.trainable);
    new tf.Saver(byPath).restore(prefix);

    const { inference, training } = tfSide;
    assertClose(model.apply(x), inference, ofScale(inference, 5e-4, "inference logits"));
    const watched = Object.keys(tfSide.moving).flatMap((layer) =>
      ["moving_mean", "moving_variance"].map((w) => `${layer}/${w}`)
    );
    const before = watched.map((key) => byPath[key].read().dataSync() as Float32Array);
    const trained = model.apply(x, { training: true });
    assertClose(trained, training, ofScale(training, 5e-4, "training-mode logits"));
    for (const [layer, stats] of Object.entries(tfSide.moving)) {
      for (const [weight, expected] of Object.entries(stats)) {
        const message = `${layer}/${weight} after one training-mode call`;
        assertClose(
          byPath[`${layer}/${weight}`].read(),
          expected,
          ofScale(expected, 2e-5, message),
        );
      }
    }
    // The update must be visible at that tolerance: each statistic moved by more than 5x it
    // (8.5x to 2500x measured).
    watched.forEach((key, i) => {
      const [layer, weight] = key.split("/");
      const expected = tfSide.moving[layer][weight as "moving_mean" | "moving_variance"];
      const moved = Math.max(...expected.map((e, j) => Math.abs(e - before[i][j])));
      const tolerance = ofScale(expected, 2e-5).atol;
      if (!(moved > 5 * tolerance)) throw new Error(`${key} moved by ${moved} only`);
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
