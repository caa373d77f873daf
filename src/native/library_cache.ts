/**
 * The user cache of libeager files, and the two ways a file gets there:
 * - a prebuilt library downloaded once for a URL import, checked against the size and
 *   sha256 pinned in src/native/prebuilt.ts (never a digest fetched from the same server);
 * - a library embedded in a `deno compile` binary, copied out of Deno's virtual file system
 *   into a folder named by its sha256, because the dynamic loader needs a real file.
 *
 * Invariant: a file in the cache has been verified before it got its final name. Bytes are
 * checked in memory, written to a temporary file beside the final one, and renamed into
 * place; a failed check or write leaves nothing behind under the final name. A cached file
 * is checked again each time it is used, and replaced when it no longer matches.
 * @module
 */
import { writeFileAtomic } from "../io/atomic_file.ts";
import { env } from "../env.ts";
import type { PrebuiltDigest } from "./platform.ts";

/**
 * `$XDG_CACHE_HOME/deno-eager`, else `$HOME/.cache/deno-eager` (`%LOCALAPPDATA%` on
 * Windows), or undefined when none of these is set.
 */
export function cacheRoot(): string | undefined {
  const base = env("XDG_CACHE_HOME") ??
    (env("HOME") ? `${env("HOME")}/.cache` : undefined) ??
    env("LOCALAPPDATA");
  return base ? `${base}/deno-eager` : undefined;
}

/** The sha256 of `bytes`, as 64 lowercase hex digits. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function readIfPresent(path: string): Promise<Uint8Array | undefined> {
  return Deno.readFile(path).catch((error) => {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`libeager: cannot read ${path}: ${error.message}`, { cause: error });
  });
}

async function matches(bytes: Uint8Array, digest: PrebuiltDigest): Promise<boolean> {
  return bytes.byteLength === digest.size && await sha256Hex(bytes) === digest.sha256;
}

/** Whether the file at `path` exists with exactly this size and sha256. */
export async function hasDigest(path: string, digest: PrebuiltDigest): Promise<boolean> {
  const bytes = await readIfPresent(path);
  return bytes !== undefined && await matches(bytes, digest);
}

/**
 * Writes `bytes` to `dir/name` through a temporary file renamed into place
 * (src/io/atomic_file.ts), so that the final name never holds a partial file. Returns the
 * final path.
 */
export async function writeAtomically(dir: string, name: string, bytes: Uint8Array) {
  const path = `${dir}/${name}`;
  try {
    await Deno.mkdir(dir, { recursive: true });
    writeFileAtomic(path, [bytes], 0o755);
  } catch (error) {
    throw new Error(`libeager: cannot write ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return path;
}

/** Reads a response body, refusing more than `limit` bytes; says how far it got on failure. */
async function readBody(url: URL, response: Response, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    for await (const chunk of response.body ?? new ReadableStream<Uint8Array>()) {
      received += chunk.byteLength;
      if (received > limit) {
        await response.body?.cancel();
        throw new Error(`libeager: ${url} is longer than the pinned ${limit} bytes; not cached`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if ((error as Error).message.startsWith("libeager:")) throw error;
    throw new Error(
      `libeager: the download of ${url} broke off after ${received} of ${limit} bytes: ` +
        `${(error as Error).message}; not cached`,
      { cause: error },
    );
  }
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Downloads `url` and returns its bytes once their size and sha256 match `digest`. Throws an
 * Error naming the URL and what was wrong (HTTP status, network error, a short or long body,
 * a different sha256).
 */
export async function downloadVerified(url: URL, digest: PrebuiltDigest): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`libeager: cannot download ${url}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(
      `libeager: cannot download ${url}: HTTP ${response.status} ${response.statusText}`.trim(),
    );
  }
  const bytes = await readBody(url, response, digest.size);
  if (bytes.byteLength !== digest.size) {
    throw new Error(
      `libeager: ${url} is truncated: ${bytes.byteLength} of the pinned ${digest.size} bytes; ` +
        "not cached",
    );
  }
  const actual = await sha256Hex(bytes);
  if (actual !== digest.sha256) {
    throw new Error(
      `libeager: ${url} has sha256 ${actual}, but this module pins ${digest.sha256} ` +
        "(src/native/prebuilt.ts); not cached",
    );
  }
  return bytes;
}

/**
 * The path of `dir/name` once it holds the library `digest` pins: the cached file when it
 * matches, else a download of `url`, verified, then cached. A cached file that no longer
 * matches (a corrupt or older one) is replaced.
 */
export async function cachedDownload(
  url: URL,
  digest: PrebuiltDigest,
  dir: string,
  name: string,
): Promise<string> {
  const path = `${dir}/${name}`;
  const cached = await readIfPresent(path);
  if (cached !== undefined) {
    if (await matches(cached, digest)) return path;
    console.error(`libeager: ${path} does not match its pinned sha256; downloading it again`);
  }
  const bytes = await downloadVerified(url, digest);
  return await writeAtomically(dir, name, bytes);
}

/**
 * Copies the library at `source` (inside a `deno compile` binary's virtual file system) to
 * `<root>/embedded/<sha256>/<name>` and returns that real path. Idempotent: a copy already
 * there with the same bytes is reused; a damaged one is replaced.
 */
export async function materializeLibrary(
  source: string,
  root: string,
  name: string,
): Promise<string> {
  const bytes = await readIfPresent(source);
  if (bytes === undefined) throw new Error(`libeager: the embedded library ${source} is missing`);
  const sha256 = await sha256Hex(bytes);
  const dir = `${root}/embedded/${sha256}`;
  if (await hasDigest(`${dir}/${name}`, { sha256, size: bytes.byteLength })) {
    return `${dir}/${name}`;
  }
  return await writeAtomically(dir, name, bytes);
}
