/**
 * `deno task train:distributed [--ranks N] [examples/mnist.ts flags]`: the MNIST example on N
 * MPI ranks of this machine (default 2), through Open MPI's mpirun, which it installs as root
 * when missing (scripts/toolchain.ts). As root it adds the flag Open MPI then requires.
 * Several machines: run mpirun yourself (docs/distribute.md).
 * @module
 */
import { ensureOpenMpi, mpiInstalled } from "./toolchain.ts";

const args = [...Deno.args];
const at = args.indexOf("--ranks");
const ranks = at < 0 ? 2 : Number(args.splice(at, 2)[1]);
if (!Number.isInteger(ranks) || ranks < 1) {
  console.error(`train:distributed: --ranks must be a positive integer, got ${args[at + 1]}`);
  Deno.exit(2);
}
await ensureOpenMpi();
if (!mpiInstalled()) {
  console.error(
    "train:distributed: mpirun is missing: install Open MPI (apt-get install openmpi-bin)",
  );
  Deno.exit(1);
}
const root = new URL("..", import.meta.url).pathname;
const flags = [
  ...(Deno.uid() === 0 ? ["--allow-run-as-root"] : []),
  ...(ranks > navigator.hardwareConcurrency ? ["--oversubscribe"] : []),
];
const mpirun = ["-np", String(ranks), Deno.execPath(), "run", "-A", `${root}examples/mnist.ts`];
console.error(
  `[train:distributed] mpirun ${[...flags, ...mpirun, "--distributed", ...args].join(" ")}`,
);
const { code } = await new Deno.Command("mpirun", {
  args: [...flags, ...mpirun, "--distributed", ...args],
  stdout: "inherit",
  stderr: "inherit",
}).output();
Deno.exit(code);
