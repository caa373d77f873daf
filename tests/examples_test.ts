import { trainLinearRegression } from "../examples/linear_regression.ts";

Deno.test("the linear-regression example recovers y = 3x + 2", () => {
  const { w, b, loss } = trainLinearRegression({ steps: 200 });
  if (Math.abs(w - 3) > 0.02 || Math.abs(b - 2) > 0.02) {
    throw new Error(`fitted w = ${w}, b = ${b}; expected 3 and 2`);
  }
  if (!(loss < 0.012)) throw new Error(`final loss ${loss} is above the noise floor`);
});
