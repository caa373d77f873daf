/**
 * mod.ts imported by URL, end to end: a clean copy of this repository (its `git ls-files`)
 * is served on 127.0.0.1 with the local build as its dist/ file and its digest module
 * rewritten for it (by scripts/dist.ts's own function). Child processes with an empty
 * DENO_DIR and cache import mod.ts from there and run the guide's first example; then the
 * cache serves later runs, also with the server stopped. A tampered library is refused and
 * nothing is cached; a corrupt cached file is replaced by a verified download; a 404, a
 * truncated body and a connection that breaks off are errors naming the URL (these last
 * ones call the loader in this process, against the same server).
 */
import { digestOf, writePrebuiltModule } from "../scripts/dist.ts";
import { locateLibrary } from "../src/native/loader.ts";
import { BUFFERS, buildName, prebuiltName } from "../src/native/platform.ts";
import { assertEquals } from "./helpers.ts";

const REPO = new URL("../", import.meta.url).pathname;
const NAME = prebuiltName();
const HELPER = prebuiltName(undefined, undefined, BUFFERS);
const VERSION = JSON.parse(Deno.readTextFileSync(`${REPO}deno.json`)).version as string;

/** What the server answers for dist/NAME. */
type Mode = "ok" | "tampered" | "missing" | "truncated";

const GUIDE = `const tf = await import(Deno.args[0]);
console.log(tf.matmul([[2]], [[2]]).toString());
const a = tf.constant([[1, 2], [3, 4]]);
const b = tf.add(a, 1);
console.log(b.toString());
console.log(tf.multiply(a, b).toString());
console.log("library: " + tf.runtimeInfo().library);
console.log("outputs: " + tf.runtimeInfo().outputBuffers);
`;

const GUIDE_OUTPUT = `tf.Tensor([[4.]], shape=(1, 1), dtype=float32)
tf.Tensor(
[[2. 3.]
 [4. 5.]], shape=(2, 2), dtype=float32)
tf.Tensor(
[[ 2.  6.]
 [12. 20.]], shape=(2, 2), dtype=float32)`;

/** Copies the tracked files of this checkout to `dest`. */
async function copyTrackedFiles(dest: string): Promise<void> {
  const out = await new Deno.Command("git", { args: ["ls-files", "-z"], cwd: REPO }).output();
  if (!out.success) throw new Error("git ls-files failed");
  const files = new TextDecoder().decode(out.stdout).split("\0").filter(Boolean);
  for (const file of files) {
    const target = `${dest}/${file}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    await Deno.copyFile(`${REPO}${file}`, target).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error; // deleted, not yet committed
    });
  }
}

/** Every file under `dir` (none when it does not exist). */
async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) found.push(...await filesUnder(path));
      else found.push(path);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found;
}

const CONTENT_TYPES: Record<string, string> = {
  ts: "application/typescript",
  json: "application/json",
};

/** Serves `tree` over HTTP, answering for dist/NAME as `state.mode` says. */
function serveTree(
  tree: string,
  library: Uint8Array<ArrayBuffer>,
  state: { mode: Mode; requests: number },
) {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    if (path === `/dist/${NAME}`) {
      state.requests++;
      const half = library.subarray(0, library.length >> 1);
      switch (state.mode) {
        case "missing":
          return new Response("not found", { status: 404, statusText: "Not Found" });
        case "truncated":
          return new Response(half);
        case "tampered": {
          const bytes = library.slice();
          bytes[bytes.length >> 1] ^= 0xff;
          return new Response(bytes);
        }
      }
    }
    try {
      const body = await Deno.readFile(`${tree}${path}`);
      const type = CONTENT_TYPES[path.slice(path.lastIndexOf(".") + 1)];
      return new Response(body, { headers: type ? { "content-type": type } : {} });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}

/**
 * A server whose every answer promises the whole library (content-length) but sends half of
 * it and closes the connection.
 */
function serveBrokenOff(library: Uint8Array): Deno.Listener {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const connection of listener) {
      await connection.read(new Uint8Array(4096)); // the request
      const head = `HTTP/1.1 200 OK\r\ncontent-length: ${library.length}\r\n\r\n`;
      await connection.write(new TextEncoder().encode(head));
      await connection.write(library.subarray(0, library.length >> 1));
      connection.close();
    }
  })().catch(() => {}); // the listener closed
  return listener;
}

/** Runs the guide's example in a fresh process importing `moduleUrl`. */
async function runGuide(
  dir: string,
  moduleUrl: string,
  denoDir: string,
  cache: string,
): Promise<{ success: boolean; stdout: string; stderr: string }> {
  const probe = `${dir}/guide.ts`;
  await Deno.writeTextFile(probe, GUIDE);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-config", probe, moduleUrl],
    cwd: dir,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: `${dir}/home`,
      DENO_DIR: denoDir,
      XDG_CACHE_HOME: cache,
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
  return { success: out.success, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** Asserts that `promise` rejects with a message containing every one of `parts`. */
async function assertRejects(promise: Promise<unknown>, parts: string[]): Promise<void> {
  let message: string | undefined;
  try {
    await promise;
  } catch (error) {
    message = (error as Error).message;
  }
  if (message === undefined) throw new Error(`expected an error containing ${parts.join(" | ")}`);
  for (const part of parts) {
    if (!message.includes(part)) throw new Error(`error "${message}" lacks "${part}"`);
  }
}

Deno.test("mod.ts imported by URL fetches its library once, checked and cached", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "eager-url-" });
  const tree = `${dir}/tree`;
  await copyTrackedFiles(tree);
  const library = await Deno.readFile(`${REPO}zig-out/lib/${buildName()}`);
  const digest = await digestOf(library);
  await Deno.mkdir(`${tree}/dist`);
  await Deno.writeFile(`${tree}/dist/${NAME}`, library);
  const helper = await Deno.readFile(`${REPO}zig-out/lib/${buildName(undefined, BUFFERS)}`);
  await Deno.writeFile(`${tree}/dist/${HELPER}`, helper);
  const pins = { [NAME]: digest, [HELPER]: await digestOf(helper) };
  writePrebuiltModule(`${tree}/src/native/prebuilt.ts`, VERSION, pins, "a test");

  const state = { mode: "ok" as Mode, requests: 0 };
  const server = serveTree(tree, library, state);
  const base = `http://127.0.0.1:${server.addr.port}/`;
  const libraryUrl = `${base}dist/${NAME}`;
  const denoDir = `${dir}/deno-dir`, cache = `${dir}/cache`;
  const cached = `${cache}/deno-eager/${VERSION}/${NAME}`;
  const cachedHelper = `${cache}/deno-eager/${VERSION}/${HELPER}`;
  const guideOutput = `${GUIDE_OUTPUT}\nlibrary: ${cached}\noutputs: ${cachedHelper}`;
  let serving = true;
  try {
    await t.step("the first run downloads the library, checks it and caches it", async () => {
      const run = await runGuide(dir, `${base}mod.ts`, denoDir, cache);
      if (!run.success) throw new Error(`the guide failed: ${run.stderr}`);
      assertEquals(run.stdout, guideOutput);
      assertEquals(state.requests, 1);
      assertEquals(await digestOf(await Deno.readFile(cached)), digest);
      assertEquals((await filesUnder(`${cache}/deno-eager`)).sort(), [cached, cachedHelper].sort());
    });

    await t.step("a second run loads the cached library without a request", async () => {
      const run = await runGuide(dir, `${base}mod.ts`, denoDir, cache);
      assertEquals(run.stdout, guideOutput);
      assertEquals(state.requests, 1);
    });

    await t.step(
      "a tampered library is refused, naming the URL, and nothing is cached",
      async () => {
        state.mode = "tampered";
        const fresh = `${dir}/cache-tampered`;
        const run = await runGuide(dir, `${base}mod.ts`, `${dir}/deno-dir-tampered`, fresh);
        assertEquals(run.success, false);
        for (const part of [`libeager: ${libraryUrl} has sha256 `, `pins ${digest.sha256}`]) {
          if (!run.stderr.includes(part)) throw new Error(`stderr lacks "${part}": ${run.stderr}`);
        }
        assertEquals(await filesUnder(fresh), []);
      },
    );

    const options = (cacheRoot: string) => ({
      moduleUrl: `${base}src/native/loader.ts`,
      cacheRoot,
      prebuilt: { [NAME]: digest },
      version: VERSION,
    });

    await t.step("a corrupt cached file is replaced by a verified download", async () => {
      state.mode = "ok";
      const root = `${dir}/cache-corrupt`;
      const path = `${root}/${VERSION}/${NAME}`;
      await Deno.mkdir(`${root}/${VERSION}`, { recursive: true });
      await Deno.writeFile(path, library.subarray(0, 1000));
      const before = state.requests;
      assertEquals(await locateLibrary(options(root)), path);
      assertEquals(state.requests, before + 1);
      assertEquals(await digestOf(await Deno.readFile(path)), digest);
      assertEquals(await locateLibrary(options(root)), path); // verified, not fetched again
      assertEquals(state.requests, before + 1);
    });

    await t.step("a 404, a truncated body and a broken connection are clear errors", async () => {
      const root = `${dir}/cache-errors`;
      state.mode = "missing";
      await assertRejects(locateLibrary(options(root)), [
        `libeager: cannot download ${libraryUrl}: HTTP 404 Not Found`,
      ]);
      state.mode = "truncated";
      await assertRejects(locateLibrary(options(root)), [
        `libeager: ${libraryUrl} is truncated: ${library.length >> 1} of the pinned ` +
        `${library.length} bytes; not cached`,
      ]);
      const broken = serveBrokenOff(library);
      const brokenBase = `http://127.0.0.1:${(broken.addr as Deno.NetAddr).port}/`;
      try {
        await assertRejects(
          locateLibrary({ ...options(root), moduleUrl: `${brokenBase}src/native/loader.ts` }),
          [
            `libeager: the download of ${brokenBase}dist/${NAME} broke off after `,
            ` of ${library.length} bytes`,
            "not cached",
          ],
        );
      } finally {
        broken.close();
      }
      assertEquals(await filesUnder(root), []);
    });

    await t.step("a platform without a pinned digest is an error naming it", async () => {
      await assertRejects(locateLibrary({ ...options(`${dir}/cache-none`), prebuilt: {} }), [
        `libeager: no prebuilt library for ${Deno.build.os} ${Deno.build.arch}`,
      ]);
    });

    await t.step("a file: import uses dist/ beside it once its digest matches", async () => {
      const moduleUrl = new URL(`file://${tree}/src/native/loader.ts`).href;
      const pinned = { moduleUrl, prebuilt: { [NAME]: digest }, standalone: false };
      assertEquals(await locateLibrary(pinned), `${tree}/dist/${NAME}`);
      const other = { [NAME]: { ...digest, sha256: "0".repeat(64) } };
      await assertRejects(locateLibrary({ ...pinned, prebuilt: other }), [
        `libeager: ${tree}/dist/${NAME} does not match the sha256 pinned`,
      ]);
    });

    await t.step("with the server stopped, the caches suffice", async () => {
      await server.shutdown();
      serving = false;
      const run = await runGuide(dir, `${base}mod.ts`, denoDir, cache);
      if (!run.success) throw new Error(`the offline run failed: ${run.stderr}`);
      assertEquals(run.stdout, guideOutput);
    });
  } finally {
    if (serving) await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
