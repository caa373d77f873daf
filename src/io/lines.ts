/**
 * Lines of UTF-8 text from pushed chunks, as TensorFlow's TextLineDataset splits them:
 * at "\n", dropping a "\r" before it; a last line without "\n" still counts. Invalid
 * UTF-8 is an error naming the source and the line.
 * @module
 */
import type { ChunkDecoder } from "./chunks.ts";

/** Splits a byte stream into lines. */
export class LineDecoder implements ChunkDecoder<string> {
  readonly source: string;
  #decoder = new TextDecoder("utf-8", { fatal: true });
  #carry = "";
  #line = 0;
  #offset = 0;

  constructor(source: string) {
    this.source = source;
  }

  #decode(bytes: Uint8Array, stream: boolean): string {
    try {
      return this.#decoder.decode(bytes, { stream });
    } catch (error) {
      const at = firstInvalid(bytes);
      let line = this.#line + 1;
      for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
      throw new Error(
        `TextLineDataset: ${this.source}: invalid UTF-8 in line ${line} at byte ${
          this.#offset + at
        }`,
        { cause: error },
      );
    }
  }

  #split(text: string): string[] {
    const parts = (this.#carry + text).split("\n");
    this.#carry = parts.pop()!;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (p.endsWith("\r")) parts[i] = p.slice(0, -1);
    }
    this.#line += parts.length;
    return parts;
  }

  push(chunk: Uint8Array): string[] {
    const lines = this.#split(this.#decode(chunk, true));
    this.#offset += chunk.length;
    return lines;
  }

  finish(): string[] {
    const lines = this.#split(this.#decode(new Uint8Array(0), false));
    const last = this.#carry;
    this.#carry = "";
    if (last !== "") lines.push(last.endsWith("\r") ? last.slice(0, -1) : last);
    return lines;
  }
}

/** The offset of the first byte that starts no valid UTF-8 sequence (or the length). */
function firstInvalid(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i];
    const n = c < 0x80
      ? 0
      : c >= 0xc2 && c < 0xe0
      ? 1
      : c >= 0xe0 && c < 0xf0
      ? 2
      : c >= 0xf0 && c < 0xf5
      ? 3
      : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k < b.length && (b[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return b.length;
}
