/**
 * Saves interrupted at any point leave every earlier checkpoint intact:
 * - a child process saving in a loop (tests/probes/checkpoint_save_loop.ts) killed with
 *   SIGKILL at random times, 20 rounds;
 * - every write, fsync and rename of a save failing in turn (injected errors);
 * - a real full disk (a small tmpfs; run as root, skipped otherwise).
 * After each, every `.index` in the folder restores with the values of its step, every
 * checkpoint the state file lists exists, and latestCheckpoint names the newest one.
 */
import * as tf from "../mod.ts";
import { assertEquals, assertStrictEquals, rng } from "./helpers.ts";
import { fixed, tempDir } from "./checkpoint_helpers.ts";
import { parseCheckpointState } from "../src/train/checkpoint_state.ts";

/** The step in a checkpoint path `.../ckpt-<step>`. */
const stepOf = (path: string) => Number(path.slice(path.lastIndexOf("-") + 1));

/**
 * Checks the invariants of the module comment for checkpoints of `big` ([256, 256] or
 * `bigShape`, filled with the step) and `step` (int64); returns the latest step.
 */
function checkFolder(dir: string, bigShape = [256, 256]): number {
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  for (const name of names.filter((n) => n.endsWith(".index"))) {
    const path = `${dir}/${name.slice(0, -".index".length)}`;
    const step = stepOf(path);
    const big = fixed("big", tf.zeros(bigShape)), count = fixed("step", 0n, "int64");
    new tf.Saver([big, count]).restore(path);
    assertStrictEquals(count.numpy(), BigInt(step), `${path}: step`);
    const values = big.dataSync();
    if (values.some((v) => v !== step)) throw new Error(`${path}: values of another step`);
  }
  const state = parseCheckpointState(Deno.readTextFileSync(`${dir}/checkpoint`));
  for (const p of state.allModelCheckpointPaths) {
    if (!names.includes(`${p}.index`)) throw new Error(`the state lists ${p}, which is gone`);
  }
  const latest = tf.train.latestCheckpoint(dir);
  if (latest === null) throw new Error("no latest checkpoint");
  const newest = Math.max(...state.allModelCheckpointPaths.map(stepOf));
  assertStrictEquals(stepOf(latest), newest);
  return newest;
}

Deno.test("SIGKILL at random points of a save loop never damages earlier checkpoints", async () => {
  const [dir, cleanup] = tempDir("crash_");
  const probe = new URL("./probes/checkpoint_save_loop.ts", import.meta.url).pathname;
  const next = rng(2024);
  try {
    let last = 0;
    for (let round = 0; round < 20; round++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", probe, dir],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // Wait for the child's first save of this round, then kill it a little later.
      const reader = child.stdout.getReader();
      const first = await reader.read();
      if (first.done) {
        const err = new TextDecoder().decode((await child.output()).stderr);
        throw new Error(`the save loop ended: ${err}`);
      }
      const draining = (async () => {
        while (!(await reader.read()).done);
      })();
      await new Promise((resolve) => setTimeout(resolve, next() * 60));
      child.kill("SIGKILL");
      await Promise.all([child.status, draining, child.stderr.cancel()]);
      const latest = checkFolder(dir);
      if (latest <= last) throw new Error(`round ${round}: no progress past step ${last}`);
      last = latest;
    }
  } finally {
    cleanup();
  }
});

/** Replaces Deno.FsFile's writeSync and syncSync and Deno.renameSync by versions that
 * fail on the `failAt`-th call of any of them; returns [calls made, restore]. */
function injectFailure(failAt: number): [() => number, () => void] {
  const proto = Deno.FsFile.prototype;
  const saved = { write: proto.writeSync, sync: proto.syncSync, rename: Deno.renameSync };
  let calls = 0;
  const maybeFail = () => {
    if (++calls === failAt) throw new Error("No space left on device (injected)");
  };
  proto.writeSync = function (this: Deno.FsFile, p: Uint8Array) {
    maybeFail();
    return saved.write.call(this, p);
  };
  proto.syncSync = function (this: Deno.FsFile) {
    maybeFail();
    return saved.sync.call(this);
  };
  Deno.renameSync = (from: string | URL, to: string | URL) => {
    maybeFail();
    return saved.rename(from, to);
  };
  return [() => calls, () => {
    proto.writeSync = saved.write;
    proto.syncSync = saved.sync;
    Deno.renameSync = saved.rename;
  }];
}

Deno.test("a failing write, fsync or rename at any point of a save is a clean error", () => {
  const [dir, cleanup] = tempDir("crash_");
  try {
    const big = fixed("big", tf.fill([4, 4], 1)), count = fixed("step", 1n, "int64");
    const saver = new tf.Saver([big, count], { maxToKeep: 2 });
    saver.save(`${dir}/ckpt`, { globalStep: 1 });
    let total = Infinity;
    for (let failAt = 1; failAt <= total; failAt++) {
      const step = failAt + 1;
      big.assign(tf.fill([4, 4], step));
      count.assign(BigInt(step));
      const [calls, restore] = injectFailure(failAt);
      let message = "";
      try {
        saver.save(`${dir}/ckpt`, { globalStep: step });
      } catch (error) {
        message = (error as Error).message;
      } finally {
        restore();
      }
      if (message === "") total = Math.min(total, calls());
      else if (
        !/^Saver\.save: cannot (write|rename into|write the state file of) '/.test(message)
      ) {
        throw new Error(`call ${failAt}: unclear error "${message}"`);
      }
      checkFolder(dir, [4, 4]);
      const temps = [...Deno.readDirSync(dir)].filter((e) => e.name.includes(".tempstate"));
      assertEquals(temps.map((e) => e.name), [], `call ${failAt} left temporary files`);
    }
    // writes and fsyncs of data, index and state file, and their three renames.
    assertStrictEquals(total >= 9, true);
  } finally {
    cleanup();
  }
});

function canMountTmpfs(): boolean {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  const probe = Deno.makeTempDirSync({ prefix: "tmpfs_probe_" });
  const ok = new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe] })
    .outputSync().success;
  if (ok) new Deno.Command("umount", { args: [probe] }).outputSync();
  Deno.removeSync(probe);
  return ok;
}

Deno.test({
  name: "a full disk (tmpfs) at any point of a save leaves the previous checkpoint intact",
  ignore: !canMountTmpfs(),
  fn() {
    const dir = Deno.makeTempDirSync({ prefix: "fulldisk_" });
    const mount = (args: string[]) =>
      new Deno.Command(args[0], { args: args.slice(1) }).outputSync();
    assertStrictEquals(
      mount(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]).success,
      true,
    );
    try {
      // 64 KiB of data per checkpoint: 16 pages of tmpfs.
      const big = fixed("big", tf.fill([128, 128], 1)), count = fixed("step", 1n, "int64");
      const saver = new tf.Saver([big, count], { maxToKeep: 1 });
      saver.save(`${dir}/ckpt`, { globalStep: 1 });
      let failures = 0, successes = 0;
      for (let freePages = 0; freePages <= 20; freePages++) {
        const step = freePages + 2;
        big.assign(tf.fill([128, 128], step));
        count.assign(BigInt(step));
        // Fill the disk, then free `freePages` pages.
        const filler = Deno.openSync(`${dir}/filler`, { write: true, create: true });
        const page = new Uint8Array(4096);
        try {
          for (;;) filler.writeSync(page);
        } catch { /* full */ }
        const size = filler.statSync().size;
        filler.truncateSync(Math.max(0, size - freePages * 4096));
        filler.close();
        try {
          saver.save(`${dir}/ckpt`, { globalStep: step });
          successes++;
        } catch (error) {
          failures++;
          const message = (error as Error).message;
          if (
            !/^Saver\.save: cannot write (the state file of )?'.*': No space left/.test(message)
          ) {
            throw new Error(`${freePages} free pages: unclear error "${message}"`);
          }
        }
        Deno.removeSync(`${dir}/filler`);
        checkFolder(dir, [128, 128]);
        const temps = [...Deno.readDirSync(dir)].filter((e) => e.name.includes(".tempstate"));
        assertEquals(temps.map((e) => e.name), []);
      }
      assertStrictEquals(failures > 0 && successes > 0, true);
    } finally {
      mount(["umount", dir]);
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
