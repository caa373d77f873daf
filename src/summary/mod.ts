/**
 * `tf.summary`: TensorBoard summaries written to event files, in the API of
 * `tf.contrib.summary` (the seed's): a writer made default with `asDefault(fn)`, a
 * recording policy, and the ops `scalar`, `histogram`, `image`, `text`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const writer = tf.summary.createSummaryFileWriter("/tmp/logs");
 * writer.asDefault(() =>
 *   tf.summary.alwaysRecordSummaries(() => tf.summary.scalar("loss", 0.5, { step: 1 }))
 * );
 * writer.close();
 * ```
 * @module
 */
export {
  alwaysRecordSummaries,
  createSummaryFileWriter,
  neverRecordSummaries,
  recordSummariesEveryNGlobalSteps,
  shouldRecordSummaries,
  SummaryWriter,
} from "./writer.ts";
export type { SummaryFileWriterOptions } from "./writer.ts";
export { histogram, image, scalar, text } from "./ops.ts";
export { readEventFile } from "./event_reader.ts";
export type { EventProto, SummaryTensor, SummaryValue } from "./protos.ts";
export type { HistogramOptions, ImageOptions, NestedStrings, Step, SummaryOptions } from "./ops.ts";
