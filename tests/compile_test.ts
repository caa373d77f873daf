/**
 * The library embedded in a `deno compile` binary. The loader's side runs here always: it
 * is handed a module URL inside a pretend virtual file system (a folder laid out as
 * `deno compile` lays out the binary's files) and must copy the embedded library to the
 * cache under its sha256, reuse a good copy, and replace a damaged one. The end-to-end run
 * (`deno task compile`, then the binary trains a few steps) needs Deno's `denort` runtime,
 * which `deno compile` downloads from Deno's server unless DENORT_BIN names one: it runs
 * only when DENORT_BIN is set.
 */
import { sha256Hex } from "../src/native/library_cache.ts";
import { libraryMismatch } from "../src/native/library_file.ts";
import { locateLibrary } from "../src/native/loader.ts";
import { BUFFERS, buildName } from "../src/native/platform.ts";
import { assertEquals } from "./helpers.ts";

const REPO = new URL("../", import.meta.url).pathname;
const LIBRARY = Deno.readFileSync(`${REPO}zig-out/lib/${buildName()}`);
const HELPER_NAME = buildName(undefined, BUFFERS);
const HELPER = Deno.readFileSync(`${REPO}zig-out/lib/${HELPER_NAME}`);

Deno.test("an embedded library is copied to the cache under its sha256, once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eager-embedded-" });
  try {
    const vfs = `${dir}/deno-compile-mnist`;
    await Deno.mkdir(`${vfs}/zig-out/lib`, { recursive: true });
    await Deno.writeFile(`${vfs}/zig-out/lib/${buildName()}`, LIBRARY);
    const options = {
      moduleUrl: new URL(`file://${vfs}/src/native/loader.ts`).href,
      standalone: true,
      cacheRoot: `${dir}/cache`,
    };
    const expected = `${dir}/cache/embedded/${await sha256Hex(LIBRARY)}/${buildName()}`;

    const path = await locateLibrary(options);
    assertEquals(path, expected);
    assertEquals(Deno.readFileSync(path), LIBRARY);
    assertEquals(libraryMismatch(path, Deno.readFileSync(path).subarray(0, 4096)), undefined);

    const first = Deno.statSync(path);
    assertEquals(await locateLibrary(options), expected);
    const second = Deno.statSync(path);
    assertEquals([second.ino, second.mtime?.getTime()], [first.ino, first.mtime?.getTime()]);

    await Deno.writeFile(path, LIBRARY.subarray(0, 4096)); // a damaged copy
    assertEquals(await locateLibrary(options), expected);
    assertEquals(Deno.readFileSync(path), LIBRARY);
    const files = [...Deno.readDirSync(`${dir}/cache/embedded`)].map((e) => e.name);
    assertEquals(files.length, 1, "one folder per digest, no temporary files left");

    // The output buffer helper, embedded beside it, is copied out the same way.
    await Deno.writeFile(`${vfs}/zig-out/lib/${HELPER_NAME}`, HELPER);
    const helper = await locateLibrary({ ...options, stem: BUFFERS });
    assertEquals(helper, `${dir}/cache/embedded/${await sha256Hex(HELPER)}/${HELPER_NAME}`);
    assertEquals(Deno.readFileSync(helper), HELPER);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a binary without the embedded library says how to compile it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eager-embedded-" });
  try {
    let message = "";
    await locateLibrary({
      moduleUrl: new URL(`file://${dir}/src/native/loader.ts`).href,
      standalone: true,
      cacheRoot: `${dir}/cache`,
    }).catch((error) => message = error.message);
    assertEquals(
      message,
      `libeager: this binary embeds no ${dir}/zig-out/lib/${buildName()}; compile it with ` +
        "--include zig-out/lib/ (deno task compile does)",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const DENORT_BIN = Deno.env.get("DENORT_BIN");

Deno.test({
  name: DENORT_BIN
    ? "deno task compile makes an MNIST binary that runs with its embedded library"
    : "deno task compile end to end: skipped, DENORT_BIN is not set (deno compile needs a " +
      "denort runtime, which it would download from Deno's server)",
  ignore: !DENORT_BIN,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "eager-compile-" });
    try {
      const binary = `${dir}/mnist`;
      const built = await new Deno.Command(Deno.execPath(), {
        args: ["task", "compile", "--output", binary],
        cwd: REPO,
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!built.success) {
        throw new Error(`deno task compile failed: ${new TextDecoder().decode(built.stderr)}`);
      }
      const run = await new Deno.Command(binary, {
        args: ["--steps", "2", "--batch-size", "10"],
        clearEnv: true,
        env: { PATH: Deno.env.get("PATH") ?? "", XDG_CACHE_HOME: `${dir}/cache`, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(run.stdout);
      if (!run.success || !stdout.includes("test accuracy")) {
        throw new Error(`the binary failed: ${stdout}${new TextDecoder().decode(run.stderr)}`);
      }
      const copy = `${dir}/cache/deno-eager/embedded/${await sha256Hex(LIBRARY)}/${buildName()}`;
      assertEquals(Deno.readFileSync(copy), LIBRARY);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
