/**
 * float32 GEMMs go to oneDNN when libdnnl is installed and to the BLAS found at run time
 * otherwise, or to libeager's built-in GEMM when there is none (csrc/kernels/gemm.c,
 * csrc/blas.c). The checks run in processes of their own (tests/probes/gemm_backends.ts):
 * the backend is one setting for the whole process.
 */
import { ok as assert } from "node:assert";
import { assertEquals, denoOutput } from "./helpers.ts";
import { oneDnnInstalled, openBlasInstalled } from "../scripts/toolchain.ts";

const OPENBLAS = 1, ONEDNN = 2;

const oneDnn = oneDnnInstalled();
if (!oneDnn) {
  console.error(
    "[gemm] oneDNN is missing (`sudo apt-get install libdnnl2`); its tests are skipped",
  );
}

type Report = {
  start: number;
  forced: number;
  restored: number;
  products: { name: string; backend: number[]; openblas: number[]; same: boolean[] }[];
};

async function probe(env: Record<string, string>): Promise<Report> {
  const probePath = new URL("./probes/gemm_backends.ts", import.meta.url).pathname;
  return JSON.parse(await denoOutput(["run", "-A", probePath], env));
}

/**
 * Rounding errors of float32 sums of k terms grow about as sqrt(k) * 2^-24 of the sum of
 * |terms|: 2e-6 at k = 1728, the largest here. Measured: at most 9e-7 on both backends.
 */
const TOLERANCE = 4e-6;

function assertAccurate(report: Report): void {
  assertEquals(report.products.length, 9);
  for (const { name, backend, openblas } of report.products) {
    for (const [which, errors] of [["backend", backend], ["openblas", openblas]] as const) {
      for (const [i, error] of errors.entries()) {
        assert(
          error < TOLERANCE,
          `${name}, result ${i} on ${which}: relative error ${error} >= ${TOLERANCE}`,
        );
      }
    }
  }
}

Deno.test({
  name: "large float32 products run on oneDNN and agree with float64 on both backends",
  ignore: !oneDnn,
  async fn() {
    const report = await probe({});
    assertEquals([report.start, report.forced, report.restored], [ONEDNN, OPENBLAS, ONEDNN]);
    // Over an inner dim of about 1000 the two libraries split the sums differently, so a
    // product oneDNN made differs in its last bits from OpenBLAS's; one with a large B read
    // transposed (more than 2^20 elements) stays on OpenBLAS and is bitwise the same. (Over
    // short inner dims both sum in order and agree bitwise, so the convs' smaller GEMMs prove
    // nothing either way.)
    const same: Record<string, boolean[]> = Object.fromEntries(
      report.products.map((p) => [p.name, p.same]),
    );
    assertEquals(same["im2col conv 1x8x8x192 -> 32"][0], false, "the im2col conv's forward GEMM");
    assertEquals(same, {
      ...same,
      "matmul 256x1000x256": [false],
      "matmul 129x1001x65": [false],
      "matmul 200x1000x300 A^T": [false],
      "matmul 129x1001x65 B^T": [false],
      "matmul 64x1000x48 A^T B^T": [false],
      "matmul 8x1100x1000 B^T": [true],
      "batched matmul 3x128x1000 by 1x1000x160": [false],
    });
    assertAccurate(report);
  },
});

Deno.test("EAGER_GEMM=openblas keeps every product on OpenBLAS", async () => {
  const report = await probe({ EAGER_GEMM: "openblas" });
  assertEquals([report.start, report.forced, report.restored], [OPENBLAS, OPENBLAS, OPENBLAS]);
  for (const { name, same } of report.products) {
    assertEquals(same, same.map(() => true), `${name}: the env's backend differs from OpenBLAS`);
  }
  assertAccurate(report);
});

Deno.test("loading the library limits the GEMM threads' idle spinning unless the user set it", async () => {
  const mod = new URL("../mod.ts", import.meta.url).href;
  const code = `import * as tf from "${mod}";
    tf.add(1, 2);
    console.log(Deno.env.get("OPENBLAS_THREAD_TIMEOUT"), Deno.env.get("GOMP_SPINCOUNT"));`;
  const run = (env: Record<string, string>) => denoOutput(["eval", "--ext=ts", code], env, true);
  // This process's own loader has set both: the child starts without them.
  const { GOMP_SPINCOUNT: _, OPENBLAS_THREAD_TIMEOUT: __, ...inherited } = Deno.env.toObject();
  assertEquals(await run(inherited), "21 1000");
  assertEquals(
    await run({ ...inherited, GOMP_SPINCOUNT: "5", OPENBLAS_THREAD_TIMEOUT: "4" }),
    "4 5",
  );
});

Deno.test("EAGER_BLAS=none runs every product on the built-in GEMM, as accurately", async () => {
  const report = await probe({ EAGER_BLAS: "none", EAGER_GEMM: "" });
  // Neither oneDNN nor a BLAS: asking for oneDNN gives the built-in kernel ("OPENBLAS").
  assertEquals([report.start, report.forced, report.restored], [OPENBLAS, OPENBLAS, OPENBLAS]);
  for (const { name, same } of report.products) {
    assertEquals(same, same.map(() => true), `${name}: two runs of the built-in GEMM differ`);
  }
  assertAccurate(report);
});

/** stdout and stderr of a deno process importing mod.ts and running `code` as tf. */
async function runWithTf(code: string, env: Record<string, string>) {
  const mod = new URL("../mod.ts", import.meta.url).href;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", `import * as tf from "${mod}";\n${code}`],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
  assertEquals(out.success, true, text(out.stderr));
  return { stdout: text(out.stdout), stderr: text(out.stderr) };
}

const PRODUCTS = `
  const a = tf.reshape(tf.range(0, 12), [3, 4]), b = tf.reshape(tf.range(0, 20), [4, 5]);
  const x = tf.ones([1, 6, 6, 4]), f = tf.ones([3, 3, 4, 2]);
  for (let i = 0; i < 3; i++) tf.matmul(a, b);
  console.log(JSON.stringify([tf.matmul(a, b).numpy(), tf.nn.conv2d(x, f, 1, "VALID").numpy(),
    tf.runtimeInfo().blas, tf.runtimeInfo().oneDnn]));`;

const EXPECTED_PRODUCT = [
  [70, 76, 82, 88, 94],
  [190, 212, 234, 256, 278],
  [310, 348, 386, 424, 462],
];

Deno.test("a BLAS that cannot be loaded gives one notice per process, and products still work", async () => {
  const { stdout, stderr } = await runWithTf(PRODUCTS, { EAGER_BLAS: "/nonexistent/libcblas.so" });
  const [product, conv, blas] = JSON.parse(stdout);
  assertEquals(product, EXPECTED_PRODUCT);
  assertEquals(conv, [[
    [[36, 36], [36, 36], [36, 36], [36, 36]],
    [[36, 36], [36, 36], [36, 36], [36, 36]],
    [[36, 36], [36, 36], [36, 36], [36, 36]],
    [[36, 36], [36, 36], [36, 36], [36, 36]],
  ]]);
  assertEquals(blas, "built-in kernels");
  const notices = stderr.split("\n").filter((l) => l.startsWith("libeager:"));
  assertEquals(notices, [
    "libeager: EAGER_BLAS=/nonexistent/libcblas.so is not a loadable library with " +
    "cblas_sgemm and cblas_dgemm; matmul and convolutions run on built-in kernels",
  ]);
});

Deno.test("EAGER_BLAS=none is silent; by default the system's OpenBLAS is found", async () => {
  const none = await runWithTf(PRODUCTS, { EAGER_BLAS: "none" });
  assertEquals(JSON.parse(none.stdout).slice(2), ["built-in kernels", false]);
  assertEquals(none.stderr, "");
  if (!openBlasInstalled()) return;
  const found = await runWithTf(PRODUCTS, { EAGER_BLAS: "" });
  const [product, , blas] = JSON.parse(found.stdout);
  assertEquals(product, EXPECTED_PRODUCT);
  assert(/^OpenBLAS .*\(libopenblas\.so\.0\)$/.test(blas), blas);
});
