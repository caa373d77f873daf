/**
 * Streaming gzip/zlib compression and decompression, synchronous, through node:zlib: push a
 * chunk, get the output produced so far. Memory stays bounded by the chunk sizes, so a
 * compressed file larger than memory can be read record by record.
 *
 * NOTE: Node's public zlib API has no synchronous streaming call; this drives the
 * engine's handle (`_handle.writeSync` with `_writeState`), the path Node's own
 * zlibBufferSync takes, which Deno's node:zlib implements (checked with Deno 2.9.6). If
 * a runtime lacks it, the stream falls back to buffering the whole input and
 * (de)compressing it at finish() with gunzipSync/gzipSync: correct, not streaming.
 * @module
 */
import { nodeZlib } from "../node_builtins.ts";

interface Handle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOffset: number,
    inLength: number,
    output: Uint8Array,
    outOffset: number,
    outLength: number,
  ): void;
  close(): void;
  onerror: (message: string, errno: number) => void;
}

const OUT_CHUNK = 1 << 16;

/** gzip and gunzip: the gzip format; deflate and inflate: the zlib format (TensorFlow's ZLIB). */
export type ZlibMode = "gzip" | "gunzip" | "deflate" | "inflate";

const ENGINES: Record<ZlibMode, () => unknown> = {
  gzip: () => nodeZlib().createGzip(),
  gunzip: () => nodeZlib().createGunzip(),
  deflate: () => nodeZlib().createDeflate(),
  inflate: () => nodeZlib().createInflate(),
};

const WHOLE: Record<ZlibMode, (bytes: Uint8Array) => Uint8Array> = {
  gzip: (b) => nodeZlib().gzipSync(b),
  gunzip: (b) => nodeZlib().gunzipSync(b),
  deflate: (b) => nodeZlib().deflateSync(b),
  inflate: (b) => nodeZlib().inflateSync(b),
};

/** A gzip (de)compression failure; `consumed` counts the input bytes read before it. */
export class ZlibError extends Error {
  override name = "ZlibError";
  constructor(readonly problem: string, readonly consumed: number) {
    super(`zlib: ${problem} (after ${consumed} compressed bytes)`);
  }
}

/** One gzip stream, compressing or decompressing, pushed a chunk at a time. */
export class ZlibStream {
  readonly mode: ZlibMode;
  #handle: Handle | null = null;
  #state: Uint32Array | null = null;
  #out = new Uint8Array(OUT_CHUNK);
  #error: string | null = null;
  #buffered: Uint8Array[] | null = null;
  #consumed = 0;

  constructor(mode: ZlibMode) {
    this.mode = mode;
    try {
      const engine = ENGINES[mode]() as unknown as {
        _handle?: Handle;
        _writeState?: Uint32Array;
      };
      const handle = engine._handle, state = engine._writeState;
      if (handle && typeof handle.writeSync === "function" && state instanceof Uint32Array) {
        handle.onerror = (message) => {
          this.#error = message;
        };
        this.#handle = handle;
        this.#state = state;
      }
    } catch { /* no streaming engine: buffer */ }
    if (!this.#handle) this.#buffered = [];
  }

  /** Input bytes taken so far. */
  get consumed(): number {
    return this.#consumed;
  }

  #run(flush: number, input: Uint8Array): Uint8Array[] {
    const handle = this.#handle!, state = this.#state!, out = this.#out;
    const produced: Uint8Array[] = [];
    let offset = 0, left = input.length;
    for (;;) {
      handle.writeSync(flush, input, offset, left, out, 0, out.length);
      if (this.#error !== null) throw this.#fail(this.#error);
      const made = out.length - state[0], taken = left - state[1];
      if (made > 0) produced.push(out.slice(0, made));
      offset += taken;
      left -= taken;
      this.#consumed += taken;
      if (state[0] !== 0) {
        // Output room was left: the engine took all it could.
        if (left > 0 && taken === 0) {
          throw this.#fail("data after the end of the compressed stream");
        }
        if (left === 0) return produced;
      }
    }
  }

  #fail(problem: string): ZlibError {
    this.close();
    return new ZlibError(problem, this.#consumed);
  }

  /** The output the next input chunk makes available. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#buffered) {
      this.#buffered.push(chunk.slice());
      return [];
    }
    if (!this.#handle) throw new ZlibError("the stream is closed", this.#consumed);
    return chunk.length === 0 ? [] : this.#run(nodeZlib().constants.Z_NO_FLUSH, chunk);
  }

  /** The rest of the output; a truncated compressed stream is a ZlibError. */
  finish(): Uint8Array[] {
    if (this.#buffered) {
      const total = this.#buffered.reduce((n, b) => n + b.length, 0);
      const all = new Uint8Array(total);
      let pos = 0;
      for (const b of this.#buffered) all.set(b, (pos += b.length) - b.length);
      this.#buffered = [];
      try {
        return [new Uint8Array(WHOLE[this.mode](all))];
      } catch (error) {
        throw new ZlibError((error as Error).message, 0);
      }
    }
    if (!this.#handle) throw new ZlibError("the stream is closed", this.#consumed);
    const out = this.#run(nodeZlib().constants.Z_FINISH, new Uint8Array(0));
    this.close();
    return out;
  }

  /** Frees the engine; pushing afterwards is an error. Closing twice is harmless. */
  close(): void {
    const handle = this.#handle;
    this.#handle = null;
    try {
      handle?.close();
    } catch { /* already closed */ }
  }
}
