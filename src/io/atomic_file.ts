/**
 * Crash-safe file replacement: a file is written under a temporary name beside its
 * target (`<file>.tempstate<random hex>`, TensorFlow's pattern), flushed to disk with
 * fsync, then renamed over the target, so the target holds either its old or its new
 * contents, never a mix, whatever happens (a crash, a kill, a full disk). After renames
 * the directory is fsynced so they survive a power loss.
 * @module
 */

/** `<path>.tempstate<16 random hex digits>`. */
export function tempName(path: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `${path}.tempstate${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Writes `chunks` to a new temporary file beside `path` and fsyncs it; returns its
 * name. On any failure the temporary file is removed and the error rethrown. `mode`
 * sets the file's permission bits (default 0o666, less the umask).
 */
export function writeTemp(path: string, chunks: readonly Uint8Array[], mode?: number): string {
  const temp = tempName(path);
  const file = Deno.openSync(temp, { write: true, createNew: true, mode });
  try {
    for (const chunk of chunks) {
      for (let done = 0; done < chunk.length;) {
        done += file.writeSync(chunk.subarray(done));
      }
    }
    file.syncSync();
  } catch (error) {
    file.close();
    removeQuietly(temp);
    throw error;
  }
  file.close();
  return temp;
}

/** fsync of a directory, so renames in it are durable; a no-op where unsupported. */
export function syncDirectory(dir: string): void {
  try {
    const handle = Deno.openSync(dir, { read: true });
    try {
      handle.syncSync();
    } finally {
      handle.close();
    }
  } catch {
    // NOTE: Windows cannot open a directory; renames there are as durable as it allows.
  }
}

/** Whether something exists at `path`. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Removes a file, ignoring errors (used for cleanup only). */
export function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // Already gone or not ours to remove: nothing to clean.
  }
}

/** The position of the last path separator ("/", and "\\" on Windows), or -1. */
function lastSeparator(path: string): number {
  const slash = path.lastIndexOf("/");
  return Deno.build.os === "windows" ? Math.max(slash, path.lastIndexOf("\\")) : slash;
}

/** The folder part of a path ("." for a bare name). */
export function dirname(path: string): string {
  const i = lastSeparator(path);
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

/** The name part of a path. */
export function basename(path: string): string {
  return path.slice(lastSeparator(path) + 1);
}

/** Whether a path is absolute. */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/") || (Deno.build.os === "windows" && /^([a-zA-Z]:)?[\\/]/.test(path));
}

/** `dir/name` (as Python's os.path.join), or `name` when it is absolute. */
export function joinPath(dir: string, name: string): string {
  if (isAbsolute(name) || dir === "") return name;
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/** Replaces `path` with `chunks` atomically (temp file, fsync, rename, directory fsync). */
export function writeFileAtomic(path: string, chunks: readonly Uint8Array[], mode?: number): void {
  const temp = writeTemp(path, chunks, mode);
  try {
    Deno.renameSync(temp, path);
  } catch (error) {
    removeQuietly(temp);
    throw error;
  }
  syncDirectory(dirname(path));
}
