/**
 * tf.distribute: collectives and data-parallel training over MPI. The multi-rank checks start
 * `mpirun` with 2 and 3 ranks on this machine only (shared memory and loopback) and run the
 * worker scripts in tests/distribute/; they are reported as ignored where Open MPI's mpirun is
 * not installed (`deno task test` installs it as root: scripts/toolchain.ts). The collectives
 * also run under MPICH's ABI where scripts/toolchain.ts could unpack Debian's MPICH.
 */
import * as tf from "../mod.ts";
import { planBuckets } from "../src/distribute/buckets.ts";
import { setWritesSharedFiles } from "../src/distribute/role.ts";
import { mpichPaths } from "../scripts/toolchain.ts";
import { tempDir } from "./checkpoint_helpers.ts";
import { assertClose, assertEquals, assertThrowsMatch, denoOutput } from "./helpers.ts";

const root = new URL("..", import.meta.url).pathname;
const MPIRUN = "/usr/bin/mpirun";
const haveMpi = (() => {
  try {
    return Deno.statSync(MPIRUN).isFile;
  } catch {
    return false;
  }
})();

interface Job {
  code: number;
  output: string;
  seconds: number;
}

/** Runs `launcher ...flags -np <ranks> deno run -A <script> ...args` on this machine. */
async function launch(
  launcher: string,
  flags: string[],
  ranks: number,
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Job> {
  const start = performance.now();
  const deno = [Deno.execPath(), "run", "-A", `${root}${script}`];
  const out = await new Deno.Command(launcher, {
    args: [...flags, "-np", String(ranks), ...deno, ...args],
    cwd: root,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    code: out.code,
    output: text.decode(out.stdout) + text.decode(out.stderr),
    seconds: (performance.now() - start) / 1000,
  };
}

/**
 * Runs `deno run -A <script> ...args` as `ranks` Open MPI ranks on this machine: over shared
 * memory, or with `tcp` over TCP on loopback, the transport ranks on other machines use.
 */
function mpirun(
  ranks: number,
  script: string,
  args: string[] = [],
  tcp = false,
  env: Record<string, string> = {},
): Promise<Job> {
  const flags = [
    ...(Deno.uid() === 0 ? ["--allow-run-as-root"] : []),
    "--oversubscribe", // more ranks than this machine's cores
    ...(tcp
      ? ["--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo"]
      : ["--mca", "btl", "self,vader"]), // shared memory between the ranks: no network
    // Copies through shared memory, not CMA (process_vm_readv), which containers without
    // ptrace rights refuse ("Read -1, expected ..., errno = 1").
    ...["--mca", "btl_vader_single_copy_mechanism", "none"],
    ...["--mca", "oob_tcp_if_include", "lo"], // mpirun talks to its ranks over loopback
    ...Object.keys(env).flatMap((name) => ["-x", name]), // passed on to the ranks
  ];
  return launch(MPIRUN, flags, ranks, script, args, env);
}

/** The same under Debian's MPICH, unpacked by scripts/toolchain.ts (its hydra launcher). */
function mpichRun(ranks: number, script: string, args: string[] = []): Promise<Job> {
  const { lib, bin } = mpichPaths()!;
  const env = { PATH: `${bin}:${Deno.env.get("PATH")}`, LD_LIBRARY_PATH: lib };
  const flags = ["-genv", "EAGER_MPI", "libmpich.so.12", "-genv", "LD_LIBRARY_PATH", lib];
  return launch(`${bin}/mpiexec.hydra`, flags, ranks, script, args, env);
}

function expectRanks(job: Job, ranks: number, pattern: (r: number) => RegExp) {
  if (job.code !== 0) throw new Error(`the job failed (exit ${job.code}):\n${job.output}`);
  for (let r = 0; r < ranks; r++) {
    if (!pattern(r).test(job.output)) {
      throw new Error(`rank ${r} did not report ${pattern(r)}:\n${job.output}`);
    }
  }
}

for (const ranks of [2, 3]) {
  Deno.test({
    name:
      `distribute: every collective on every dtype and shape, and calls that disagree, on ${ranks} ranks`,
    ignore: !haveMpi,
    async fn() {
      const job = await mpirun(ranks, "tests/distribute/collectives.ts");
      expectRanks(job, ranks, (r) => new RegExp(`ok rank ${r}: \\d+ cases`));
    },
  });
}

// Over TCP the ranks' agreement sends its data in one message, not in pieces (3 ranks: with a
// rank handing over to a partner first).
for (const ranks of [2, 3]) {
  Deno.test({
    name:
      `distribute: the same collectives over TCP on loopback (as between machines), on ${ranks} ranks`,
    ignore: !haveMpi,
    async fn() {
      const job = await mpirun(ranks, "tests/distribute/collectives.ts", [], true);
      expectRanks(job, ranks, (r) => new RegExp(`ok rank ${r}: \\d+ cases`));
    },
  });
}

Deno.test({
  name:
    "distribute: the same collectives with a communication thread (EAGER_MPI_THREADS=1: MPI_THREAD_SERIALIZED), on 2 ranks",
  ignore: !haveMpi,
  async fn() {
    const env = { EAGER_MPI_THREADS: "1" };
    const job = await mpirun(2, "tests/distribute/collectives.ts", [], false, env);
    expectRanks(job, 2, (r) => new RegExp(`ok rank ${r}: \\d+ cases, MPI thread level 2`));
  },
});

for (const ranks of [2, 3]) {
  Deno.test({
    name:
      `distribute: the same collectives under MPICH's ABI (Debian's MPICH 4.0), on ${ranks} ranks`,
    ignore: !haveMpi || !mpichPaths(),
    async fn() {
      const job = await mpichRun(ranks, "tests/distribute/collectives.ts");
      expectRanks(job, ranks, (r) => new RegExp(`ok rank ${r}: \\d+ cases`));
    },
  });
}

Deno.test({
  name:
    "distribute: 2 ranks with batch 16 end where 1 rank with batch 32 does, reducing during the backward pass or after; rank 0 alone writes",
  ignore: !haveMpi,
  async fn() {
    const [dir, cleanup] = tempDir("distribute_train_");
    try {
      const two = await mpirun(2, "tests/distribute/train.ts", ["20", "16", `${dir}/two`]);
      expectRanks(two, 2, (r) => new RegExp(`ok rank ${r}: 20 steps`));
      await denoOutput(["run", "-A", `${root}tests/distribute/train.ts`, "20", "32", `${dir}/one`]);
      const read = (run: string) =>
        JSON.parse(Deno.readTextFileSync(`${dir}/${run}/variables.json`));
      const [one, distributed] = [read("one"), read("two")];
      assertEquals(Object.keys(distributed.values), Object.keys(one.values));
      // Not bit for bit: one rank sums 32 examples in one GEMM, two ranks 16 each and then
      // add the two means. Measured: at most 3.4e-8 apart after 20 Adam steps.
      for (const name of Object.keys(one.values)) {
        assertClose(tf.constant(distributed.values[name]), one.values[name], {
          rtol: 0,
          atol: 1e-6,
          message: name,
        });
      }
      // Reducing during the backward pass or after it gives the same bits (2 ranks: one sum).
      const plain = await mpirun(2, "tests/distribute/train.ts", [
        "20",
        "16",
        `${dir}/plain`,
        "--no-overlap",
      ]);
      expectRanks(plain, 2, (r) => new RegExp(`ok rank ${r}: 20 steps`));
      assertEquals(read("plain").values, distributed.values);
      // Without a communication thread (MPI_THREAD_SINGLE) started reductions run at once on
      // the caller; with one they run beside the backward pass: the same bits either way.
      for (const [threads, level] of [["0", 0], ["1", 2]]) {
        const job = await mpirun(
          2,
          "tests/distribute/train.ts",
          [
            "20",
            "16",
            `${dir}/threads${threads}`,
          ],
          false,
          { EAGER_MPI_THREADS: `${threads}` },
        );
        expectRanks(job, 2, (r) => new RegExp(`ok rank ${r}: 20 steps, MPI thread level ${level}`));
        assertEquals(read(`threads${threads}`).values, distributed.values);
      }
      // Rank 0 wrote one event file and its checkpoint; rank 1 wrote nothing.
      assertEquals([...Deno.readDirSync(`${dir}/two/logs`)].length, 1);
      assertThrowsMatch(() => Deno.statSync(`${dir}/two/rank1`), /No such file/);
      const restored = new tf.Variable(tf.zeros([10]), { name: "dense_1/bias" });
      new tf.Saver([restored]).restore(`${dir}/two/rank0/ckpt`);
      assertClose(restored.peek(), distributed.values["dense_1/bias"], { rtol: 0, atol: 0 });
    } finally {
      cleanup();
    }
  },
});

Deno.test({
  name:
    "distribute: a rank killed mid-step ends the job with an error naming it; the last checkpoint restores",
  ignore: !haveMpi,
  async fn() {
    const [dir, cleanup] = tempDir("distribute_kill_");
    try {
      const job = await mpirun(2, "tests/distribute/train.ts", ["40", "16", dir, "--kill-at", "6"]);
      if (job.code === 0) throw new Error(`the job went on after a rank died:\n${job.output}`);
      if (!/process rank 1 .* exited on signal 9/.test(job.output)) {
        throw new Error(`mpirun did not name the killed rank:\n${job.output}`);
      }
      // The others were ended, not left waiting: bounded by mpirun, about 2 s here.
      if (job.seconds > 120) throw new Error(`the job took ${job.seconds} s to end`);
      const latest = tf.train.latestCheckpoint(`${dir}/ckpt`);
      if (!latest || !/model-[45]$/.test(latest)) throw new Error(`latest checkpoint: ${latest}`);
      const step = new tf.Variable(0, { name: "global_step", dtype: "int64", trainable: false });
      const kernel = new tf.Variable(tf.zeros([784, 32]), { name: "dense/kernel" });
      new tf.Saver([step, kernel]).restore(latest);
      assertEquals(`model-${step.numpy()}`, latest.slice(latest.lastIndexOf("/") + 1));
      if (!kernel.peek().dataSync().every(Number.isFinite)) throw new Error("non-finite weights");
    } finally {
      cleanup();
    }
  },
});

Deno.test({
  name:
    "distribute: a rank whose gradients stop matching the first step's ends the job with an Error",
  ignore: !haveMpi,
  async fn() {
    const job = await mpirun(2, "tests/distribute/plan_change.ts");
    if (job.code === 0) throw new Error(`the job went on:\n${job.output}`);
    const expected =
      /DistributedOptimizer\.minimize: the gradients no longer match the first step's \(gradient 0 is a's, float32 \[3\], the first step had b's, float32 \[2,2\]\)/;
    if (!expected.test(job.output)) throw new Error(`no clear error:\n${job.output}`);
    if (job.seconds > 120) throw new Error(`the job took ${job.seconds} s to end`);
  },
});

Deno.test({
  name: "distribute: examples/mnist.ts --distributed prints each rank's and the global examples/s",
  ignore: !haveMpi,
  async fn() {
    const [dir, cleanup] = tempDir("distribute_mnist_");
    try {
      const job = await mpirun(2, "examples/mnist.ts", [
        "--distributed",
        "--steps",
        "30",
        "--logdir",
        dir,
      ]);
      expectRanks(job, 2, (r) => new RegExp(`rank ${r}: \\d+ examples/s`));
      if (
        !/on 2 ranks/.test(job.output) ||
        !/test accuracy [\d.]+% .* examples\/s in all/.test(job.output)
      ) {
        throw new Error(`unexpected output:\n${job.output}`);
      }
      assertEquals([...Deno.readDirSync(dir)].length, 1); // rank 0's event file only
    } finally {
      cleanup();
    }
  },
});

Deno.test({
  name: "distribute: a process without mpirun is a job of one rank",
  ignore: !haveMpi,
  async fn() {
    const out = await denoOutput(["run", "-A", `${root}tests/distribute/single.ts`]);
    if (!/^ok single: \d+ cases$/m.test(out)) throw new Error(out);
  },
});

/** What `tf.distribute.init()` printed on failing in a fresh process with `env` (exit code 1). */
async function initFailure(env: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `import * as tf from "${root}mod.ts"; tf.distribute.init();`],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr);
  if (out.code !== 1) throw new Error(`init exited with ${out.code}, not 1:\n${text}`);
  return text;
}

Deno.test("distribute: without an MPI library, init names what is missing and what to install", async () => {
  const text = await initFailure({ EAGER_MPI: "/nonexistent/libmpi.so.40" });
  if (
    !/tf\.distribute\.init: cannot load MPI: \/nonexistent\/libmpi\.so\.40: .*Install Open MPI/
      .test(text)
  ) {
    throw new Error(text);
  }
});

Deno.test({
  name: "distribute: a bad EAGER_MPI_THREADS makes init fail with a message naming it",
  ignore: !haveMpi,
  async fn() {
    const text = await initFailure({ EAGER_MPI_THREADS: "yes" });
    if (!/tf\.distribute\.init: EAGER_MPI_THREADS must be 0 .* or 1, got "yes"/.test(text)) {
      throw new Error(text);
    }
  },
});

Deno.test("distribute: gradients go into buckets of one dtype, in order, closed at the byte limit", () => {
  const g = (n: number, dtype: tf.DType = "float32") => tf.zeros([n], dtype);
  const grads = [g(10), g(10), g(4, "float64"), g(30), g(2, "float64"), g(100)];
  const buckets = planBuckets(grads, 80).map((b) => [b.dtype, b.members, b.elements]);
  assertEquals(buckets, [
    ["float32", [0, 1], 20], // 80 bytes: closed
    ["float64", [2, 4], 6], // 48 bytes: still open at the end
    ["float32", [3], 30], // one gradient past the limit closes its bucket at once
    ["float32", [5], 100],
  ]);
});

Deno.test("distribute: a rank that does not write shared files saves and summarises nothing", () => {
  const [dir, cleanup] = tempDir("distribute_role_");
  setWritesSharedFiles(false);
  try {
    const v = new tf.Variable([1, 2], { name: "v" });
    assertEquals(
      new tf.Saver([v]).save(`${dir}/ckpt/model`, { globalStep: 3 }),
      `${dir}/ckpt/model-3`,
    );
    const writer = tf.summary.createSummaryFileWriter(`${dir}/logs`);
    writer.asDefault(() =>
      tf.summary.alwaysRecordSummaries(() => tf.summary.scalar("x", 1, { step: 1 }))
    );
    assertEquals(tf.summary.shouldRecordSummaries(), false);
    writer.close();
    assertEquals(writer.closed, true);
    assertEquals([...Deno.readDirSync(dir)], []);
  } finally {
    setWritesSharedFiles(true);
    cleanup();
  }
});
