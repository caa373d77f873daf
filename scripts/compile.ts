/**
 * `deno task compile [--output bin/mnist]`: a standalone binary of examples/mnist.ts with
 * libeager and its output buffer helper embedded (`deno compile --include
 * zig-out/lib/<library>`). At run time the loader copies each embedded library out of the
 * binary into the user cache, under its sha256, and opens that copy (src/native/loader.ts).
 *
 * NOTE: `deno compile` takes its runtime (`denort`) from Deno's download server unless
 * `DENORT_BIN` names a denort binary of the same Deno version; where that server cannot be
 * reached, set `DENORT_BIN`. The variable is Deno's own: this script passes it through and
 * only checks that the file it names exists.
 * @module
 */
import { parseArgs } from "node:util";
import { BUFFERS, buildName } from "../src/native/platform.ts";
import { buildLibrary } from "./build.ts";

const root = new URL("..", import.meta.url).pathname;

/** The arguments of `deno compile` for examples/mnist.ts with the local build embedded. */
export function compileArgs(output: string): string[] {
  return [
    "compile",
    "--allow-all",
    "--include",
    `zig-out/lib/${buildName()}`,
    "--include",
    `zig-out/lib/${buildName(undefined, BUFFERS)}`,
    "--output",
    output,
    "examples/mnist.ts",
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { output: { type: "string", default: `${root}bin/mnist` } },
  });
  const denort = Deno.env.get("DENORT_BIN");
  if (denort) {
    try {
      Deno.statSync(denort);
    } catch {
      console.error(`[compile] DENORT_BIN=${denort} does not exist`);
      return 1;
    }
  } else {
    console.error(
      "[compile] DENORT_BIN is not set: deno compile downloads its runtime (denort) from " +
        "Deno's server",
    );
  }
  await buildLibrary();
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(values.output),
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    console.error(
      `[compile] deno compile failed (exit ${code})` +
        (denort ? "" : "; where Deno's server cannot be reached, set DENORT_BIN to a denort " +
          `binary of Deno ${Deno.version.deno}`),
    );
    return 1;
  }
  console.error(`[compile] ${values.output}: run it with --help for the flags`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
