/**
 * Datasets read from files: TextLineDataset (lines of text) and TFRecordDataset
 * (records), streamed chunk by chunk (src/io/chunks.ts): a file larger than memory is
 * fine. Both iterate synchronously (Deno.readSync) and asynchronously (Deno.read).
 * @module
 */
import { describe } from "../shape.ts";
import {
  checkChunkSize,
  checkCompression,
  type Compression,
  readFileAsync,
  readFileSync,
} from "../io/chunks.ts";
import { LineDecoder } from "../io/lines.ts";
import { RecordDecoder } from "../io/tfrecord.ts";
import type { ChunkDecoder } from "../io/chunks.ts";
import { Dataset } from "./dataset.ts";
import { interleaveSource, type Nested } from "./interleave.ts";
import { concatSources, type Source } from "./pipeline.ts";

/** Options of TextLineDataset and TFRecordDataset. */
export interface FileDatasetOptions {
  /** "" (default), "GZIP" or "ZLIB". */
  compressionType?: Compression;
  /** Bytes per read (default 256 KiB). */
  bufferSize?: number;
  /** Files read at once, their items interleaved one by one (default 1: in order). */
  numParallelReads?: number;
}

function fileList(op: string, filenames: unknown): string[] {
  const list = typeof filenames === "string" ? [filenames] : filenames;
  if (!Array.isArray(list) || !list.every((f) => typeof f === "string" && f !== "")) {
    throw new TypeError(
      `${op}: filenames must be a path or an array of paths, got ${describe(filenames)}`,
    );
  }
  return [...list];
}

function fileSource<T>(
  op: string,
  path: string,
  options: { compression: Compression; chunkSize: number },
  decoder: (source: string) => ChunkDecoder<T>,
): Source<T> {
  const source = options.compression === ""
    ? path
    : `${path} (${options.compression}; offsets uncompressed)`;
  return {
    openSync: () => readFileSync(op, path, options, decoder(source)),
    openAsync: () => readFileAsync(op, path, options, decoder(source)),
  };
}

function filesSource<T>(
  op: string,
  filenames: unknown,
  options: FileDatasetOptions,
  decoder: (source: string) => ChunkDecoder<T>,
): Source<T> {
  const files = fileList(op, filenames);
  const read = {
    compression: checkCompression(op, options?.compressionType),
    chunkSize: checkChunkSize(op, options?.bufferSize),
  };
  const parallel = options?.numParallelReads ?? 1;
  if (!Number.isSafeInteger(parallel) || parallel < 1) {
    throw new RangeError(
      `${op}: numParallelReads must be an integer >= 1, got ${describe(parallel)}`,
    );
  }
  const sources = files.map((f) => fileSource(op, f, read, decoder));
  if (parallel === 1 || files.length < 2) return concatSources(sources);
  const indices: Source<number> = {
    *openSync() {
      for (let i = 0; i < files.length; i++) yield i;
    },
    async *openAsync() {
      for (let i = 0; i < files.length; i++) yield i;
    },
  };
  const nested = (i: number) => new Dataset(sources[i] as Source<never>) as unknown as Nested<T>;
  return interleaveSource(indices, op, nested, parallel, 1, (v) => v as Nested<T>);
}

/**
 * The lines of text files, without their line endings ("\n" or "\r\n").
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const lines = new tf.data.TextLineDataset(["a.txt", "b.txt"]).skip(1);
 * for (const line of lines) console.log(line);
 * ```
 */
export class TextLineDataset extends Dataset<string> {
  constructor(filenames: string | readonly string[], options: FileDatasetOptions = {}) {
    super(filesSource("TextLineDataset", filenames, options, (s) => new LineDecoder(s)));
  }
}

/**
 * The records of TFRecord files (Uint8Arrays), both checksums of every record checked.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const features = { x: tf.io.FixedLenFeature([784], "float32") };
 * const ds = new tf.data.TFRecordDataset("train.tfrecord")
 *   .batch(32).map((records) => tf.io.parseExample(records, features));
 * ```
 */
export class TFRecordDataset extends Dataset<Uint8Array> {
  constructor(filenames: string | readonly string[], options: FileDatasetOptions = {}) {
    super(filesSource("TFRecordDataset", filenames, options, (s) => new RecordDecoder(s)));
  }
}
