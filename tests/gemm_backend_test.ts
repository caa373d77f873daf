/**
 * float32 GEMMs go to oneDNN when libdnnl is installed and to OpenBLAS otherwise
 * (csrc/gemm.c). The checks run in processes of their own (tests/probes/gemm_backends.ts):
 * the backend is one setting for the whole process.
 */
import { ok as assert } from "node:assert";
import { assertEquals, denoOutput } from "./helpers.ts";
import { oneDnnInstalled } from "../scripts/toolchain.ts";

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
  assertEquals(report.products.length, 8);
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
    // product oneDNN made differs in its last bits from OpenBLAS's; one with B transposed
    // stays on OpenBLAS and is bitwise the same. (Over short inner dims both sum in
    // order and agree bitwise, so the convs' smaller GEMMs prove nothing either way.)
    const same: Record<string, boolean[]> = Object.fromEntries(
      report.products.map((p) => [p.name, p.same]),
    );
    assertEquals(same["im2col conv 1x8x8x192 -> 32"][0], false, "the im2col conv's forward GEMM");
    assertEquals(same, {
      ...same,
      "matmul 256x1000x256": [false],
      "matmul 129x1001x65": [false],
      "matmul 200x1000x300 A^T": [false],
      "matmul 129x1001x65 B^T": [true],
      "matmul 64x1000x48 A^T B^T": [true],
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
  assertEquals(await run(inherited), "21 10000");
  assertEquals(
    await run({ ...inherited, GOMP_SPINCOUNT: "5", OPENBLAS_THREAD_TIMEOUT: "4" }),
    "4 5",
  );
});
