/**
 * Reading a file as a stream of chunks, synchronously (Deno.openSync/readSync) or
 * asynchronously (Deno.open/read), optionally decompressed on the way, and decoded by a
 * push decoder (records, lines). Only one chunk and the decoder's partial item are in
 * memory at a time.
 * @module
 */
import { describe } from "../shape.ts";
import { ZlibError, type ZlibMode, ZlibStream } from "./zlib_stream.ts";

/** Compression of a record or text file, as TensorFlow names it. */
export type Compression = "" | "GZIP" | "ZLIB";

/** Default bytes per read. */
export const DEFAULT_CHUNK = 256 * 1024;

/** Turns chunks of bytes into items; `finish` checks nothing is left half-read. */
export interface ChunkDecoder<T> {
  push(chunk: Uint8Array): T[];
  finish(): T[];
}

/** Checks a compression name. */
export function checkCompression(op: string, value: unknown): Compression {
  const c = value ?? "";
  if (c !== "" && c !== "GZIP" && c !== "ZLIB") {
    throw new TypeError(`${op}: compression must be "", "GZIP" or "ZLIB", got ${describe(value)}`);
  }
  return c;
}

/** Checks a chunk size in bytes. */
export function checkChunkSize(op: string, value: unknown): number {
  if (value === undefined) return DEFAULT_CHUNK;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > 2 ** 30) {
    throw new RangeError(
      `${op}: bufferSize must be an integer in [1, 2^30], got ${describe(value)}`,
    );
  }
  return value;
}

const INFLATE: Record<Compression, ZlibMode | null> = { "": null, GZIP: "gunzip", ZLIB: "inflate" };

/** `inner` behind a decompressor; its errors name the file and the compressed offset. */
function decompressing<T>(
  op: string,
  path: string,
  compression: Compression,
  inner: ChunkDecoder<T>,
): ChunkDecoder<T> & { close(): void } {
  const mode = INFLATE[compression];
  if (mode === null) {
    return {
      push: (c) => inner.push(c),
      finish: () => inner.finish(),
      close() {},
    };
  }
  const z = new ZlibStream(mode);
  // NOTE: an empty file holds no records (rather than a truncated compressed stream).
  let empty = true;
  const run = (f: () => Uint8Array[]): T[] => {
    let plain: Uint8Array[];
    try {
      plain = f();
    } catch (error) {
      if (!(error instanceof ZlibError)) throw error;
      throw new Error(
        `${op}: ${path}: ${compression} data is corrupt or truncated at compressed byte ` +
          `${error.consumed}: ${error.problem}`,
        { cause: error },
      );
    }
    const out: T[] = [];
    for (const p of plain) for (const item of inner.push(p)) out.push(item);
    return out;
  };
  return {
    push(chunk) {
      if (chunk.length > 0) empty = false;
      return run(() => z.push(chunk));
    },
    finish() {
      const out = empty ? [] : run(() => z.finish());
      for (const item of inner.finish()) out.push(item);
      return out;
    },
    close: () => z.close(),
  };
}

function openError(op: string, path: string, error: unknown): Error {
  return new Error(`${op}: cannot open ${path}: ${(error as Error).message}`, { cause: error });
}

/** The decoded items of a file, read synchronously chunk by chunk. */
export function* readFileSync<T>(
  op: string,
  path: string,
  options: { compression: Compression; chunkSize: number },
  decoder: ChunkDecoder<T>,
): Generator<T, void, undefined> {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    throw openError(op, path, error);
  }
  const d = decompressing(op, path, options.compression, decoder);
  try {
    const buffer = new Uint8Array(options.chunkSize);
    for (;;) {
      const n = file.readSync(buffer);
      if (n === null) break;
      yield* d.push(buffer.subarray(0, n));
    }
    yield* d.finish();
  } finally {
    d.close();
    file.close();
  }
}

/** The decoded items of a file, read asynchronously chunk by chunk. */
export async function* readFileAsync<T>(
  op: string,
  path: string,
  options: { compression: Compression; chunkSize: number },
  decoder: ChunkDecoder<T>,
): AsyncGenerator<T, void, undefined> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw openError(op, path, error);
  }
  const d = decompressing(op, path, options.compression, decoder);
  try {
    const buffer = new Uint8Array(options.chunkSize);
    for (;;) {
      const n = await file.read(buffer);
      if (n === null) break;
      yield* d.push(buffer.subarray(0, n));
    }
    yield* d.finish();
  } finally {
    d.close();
    file.close();
  }
}
