/**
 * Kernels whose outputs come from allocateOutput (storage.ts) must write every element:
 * a reused buffer is not zeroed first. This runs the op tests again in a child process
 * with EAGER_POISON_OUTPUTS=1, which fills each such buffer with 0xff bytes (NaN, -1)
 * before the kernel runs, so an element a kernel skips fails those tests.
 */
const OP_TESTS = [
  "math_test.ts",
  "matmul_test.ts",
  "reduce_test.ts",
  "conv_test.ts",
  "conv_grad_test.ts",
  "nn_test.ts",
  "losses_test.ts",
  "optimizers_test.ts",
  "tf_fixtures_test.ts",
  "array_test.ts",
];

Deno.test("op tests pass with poisoned outputs", async () => {
  const here = new URL(".", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", "--no-check", ...OP_TESTS.map((f) => here + f)],
    env: { EAGER_POISON_OUTPUTS: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  if (code !== 0) throw new Error(`poisoned op tests failed:\n${text.slice(-4000)}`);
  if (!/ok \| \d+ passed/.test(text)) {
    throw new Error(`no test summary from the poisoned run:\n${text.slice(-2000)}`);
  }
});
