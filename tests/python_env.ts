/**
 * The Python environment of the interop tests: a venv in `.venv-interop/` holding the
 * real TensorFlow and TensorBoard from PyPI, created on first use (about two minutes)
 * and reused while its pinned requirements are unchanged. Tests that need it call
 * `interopPython()` and run scripts from tests/interop/ with `runPython`.
 * @module
 */

/** The pinned peers: the versions our formats are checked against. */
export const INTEROP_REQUIREMENTS = [
  "tensorflow-cpu==2.21.0",
  "tensorboard==2.21.0",
  "numpy==2.4.6",
];

const ROOT = new URL("../", import.meta.url).pathname;
const VENV = `${ROOT}.venv-interop`;
const STAMP = `${VENV}/requirements.txt`;

let ready: Promise<string> | null = null;

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).slice(-4000);
    throw new Error(`interop environment: ${cmd} ${args.join(" ")} failed:\n${text}`);
  }
}

async function create(): Promise<string> {
  const wanted = INTEROP_REQUIREMENTS.join("\n") + "\n";
  const python = `${VENV}/bin/python`;
  const isReady = async () => (await Deno.readTextFile(STAMP).catch(() => "")) === wanted;
  if (await isReady()) return python;
  // Test files run in parallel workers: one creates the venv, the others wait for it.
  await withLock(`${VENV}.lock`, async () => {
    if (await isReady()) return;
    await Deno.remove(VENV, { recursive: true }).catch(() => {});
    await run("python3", ["-m", "venv", VENV]);
    await run(python, [
      "-m",
      "pip",
      "install",
      "-q",
      "--disable-pip-version-check",
      ...INTEROP_REQUIREMENTS,
    ]);
    await Deno.writeTextFile(STAMP, wanted);
  });
  return python;
}

/** Runs fn holding a lock directory; a lock older than 20 minutes is taken as stale. */
async function withLock(lock: string, fn: () => Promise<void>): Promise<void> {
  for (;;) {
    try {
      await Deno.mkdir(lock);
      break;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      const info = await Deno.stat(lock).catch(() => null);
      if (info?.mtime && Date.now() - info.mtime.getTime() > 20 * 60_000) {
        await Deno.remove(lock).catch(() => {});
      } else {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
  try {
    await fn();
  } finally {
    await Deno.remove(lock).catch(() => {});
  }
}

/** The venv's python, creating the venv once per process (concurrent callers share it). */
export function interopPython(): Promise<string> {
  ready ??= create();
  return ready;
}

/**
 * Runs tests/interop/<script> with args; returns its stdout. A non-zero exit is an error
 * holding the script's stderr.
 */
export async function runPython(script: string, args: string[] = []): Promise<string> {
  const python = await interopPython();
  const out = await new Deno.Command(python, {
    args: [`${ROOT}tests/interop/${script}`, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { TF_CPP_MIN_LOG_LEVEL: "3", CUDA_VISIBLE_DEVICES: "" },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  if (!out.success) {
    throw new Error(`${script} failed:\n${decode(out.stderr).slice(-4000)}`);
  }
  return decode(out.stdout);
}
