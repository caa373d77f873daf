/**
 * The `checkpoint` state file TensorFlow keeps beside its checkpoints: a text-format
 * CheckpointState (tensorflow/python/training/checkpoint_state.proto), as Python's
 * text_format writes it:
 *
 *     model_checkpoint_path: "model.ckpt-3"
 *     all_model_checkpoint_paths: "model.ckpt-2"
 *     all_model_checkpoint_paths: "model.ckpt-3"
 *     all_model_checkpoint_timestamps: 1700000000.5
 *     all_model_checkpoint_timestamps: 1700000010.25
 *     last_preserved_timestamp: 1699999990.0
 *
 * Decisions: we write paths relative to the state file's folder (TensorFlow's
 * `save_relative_paths`, so the folder can be moved); reading, relative paths are
 * joined to the folder as TensorFlow's get_checkpoint_state does. Strings are escaped
 * as text_format does (C escapes, bytes outside ASCII as octal). Unknown fields are
 * skipped; a malformed file is an error naming the file and line.
 * @module
 */
import { joinPath, writeFileAtomic } from "../io/atomic_file.ts";

/** The name of the state file. */
export const STATE_FILENAME = "checkpoint";

/** The parsed state: paths as written (not joined to the folder). */
export interface CheckpointState {
  modelCheckpointPath: string;
  allModelCheckpointPaths: string[];
  allModelCheckpointTimestamps: number[];
  lastPreservedTimestamp?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

const SIMPLE_ESCAPES: Record<number, string> = {
  0x0a: "\\n",
  0x0d: "\\r",
  0x09: "\\t",
  0x22: '\\"',
  0x27: "\\'",
  0x5c: "\\\\",
};

/** A quoted string as Python's text_format writes it (as_utf8=False). */
export function quoteText(value: string): string {
  let out = '"';
  for (const b of encoder.encode(value)) {
    if (SIMPLE_ESCAPES[b]) out += SIMPLE_ESCAPES[b];
    else if (b < 0x20 || b >= 0x7f) out += "\\" + b.toString(8).padStart(3, "0");
    else out += String.fromCharCode(b);
  }
  return out + '"';
}

const UNESCAPE: Record<string, number> = {
  n: 10,
  r: 13,
  t: 9,
  a: 7,
  b: 8,
  f: 12,
  v: 11,
  "\\": 92,
  "'": 39,
  '"': 34,
  "?": 63,
};

/** Decodes the body of a quoted string (escapes included); throws on a bad escape. */
function unquote(body: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== "\\") {
      bytes.push(...encoder.encode(c));
      continue;
    }
    const e = body[++i];
    const octal = /^[0-7]{1,3}/.exec(body.slice(i));
    const hex = /^x([0-9a-fA-F]{1,2})/.exec(body.slice(i));
    if (octal) {
      bytes.push(parseInt(octal[0], 8) & 0xff);
      i += octal[0].length - 1;
    } else if (hex) {
      bytes.push(parseInt(hex[1], 16));
      i += hex[0].length - 1;
    } else if (e !== undefined && UNESCAPE[e] !== undefined) {
      bytes.push(UNESCAPE[e]);
    } else {
      throw new Error(`bad escape \\${e ?? ""}`);
    }
  }
  return decoder.decode(new Uint8Array(bytes));
}

const TOKEN =
  /\s+|#[^\n]*|([A-Za-z_][A-Za-z0-9_]*)|(:)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|([-+]?[0-9.][0-9a-zA-Z.+-]*|-?inf(?:inity)?|nan)|([,;])/y;

/** Parses the text of a state file; throws an Error naming the line on malformed text. */
export function parseCheckpointState(text: string): CheckpointState {
  const state: CheckpointState = {
    modelCheckpointPath: "",
    allModelCheckpointPaths: [],
    allModelCheckpointTimestamps: [],
  };
  const tokens: { kind: string; text: string; line: number }[] = [];
  let line = 1;
  for (let pos = 0; pos < text.length;) {
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) throw new Error(`line ${line}: unexpected '${text[pos]}'`);
    const kind = m[1] ? "name" : m[2] ? ":" : m[3] ? "string" : m[4] ? "number" : m[5] ? "," : "";
    if (kind) tokens.push({ kind, text: m[0], line });
    line += m[0].split("\n").length - 1;
    pos = TOKEN.lastIndex;
  }
  for (let i = 0; i < tokens.length; i++) {
    const name = tokens[i];
    if (name.kind === ",") continue;
    if (name.kind !== "name") throw new Error(`line ${name.line}: expected a field name`);
    if (tokens[i + 1]?.kind === ":") i++;
    const value = tokens[++i];
    if (!value || (value.kind !== "string" && value.kind !== "number")) {
      throw new Error(`line ${name.line}: field ${name.text} has no value`);
    }
    const asString = () => {
      if (value.kind !== "string") throw new Error(`line ${value.line}: expected a string`);
      try {
        return unquote(value.text.slice(1, -1));
      } catch (error) {
        throw new Error(`line ${value.line}: ${(error as Error).message}`);
      }
    };
    const asNumber = () => {
      const v = Number(value.text.replace(/f$/i, ""));
      if (value.kind !== "number" || Number.isNaN(v)) {
        throw new Error(`line ${value.line}: expected a number`);
      }
      return v;
    };
    if (name.text === "model_checkpoint_path") state.modelCheckpointPath = asString();
    else if (name.text === "all_model_checkpoint_paths") {
      state.allModelCheckpointPaths.push(asString());
    } else if (name.text === "all_model_checkpoint_timestamps") {
      state.allModelCheckpointTimestamps.push(asNumber());
    } else if (name.text === "last_preserved_timestamp") {
      state.lastPreservedTimestamp = asNumber();
    }
  }
  return state;
}

/** The text of a state file. */
export function formatCheckpointState(state: CheckpointState): string {
  const lines = [`model_checkpoint_path: ${quoteText(state.modelCheckpointPath)}`];
  for (const p of state.allModelCheckpointPaths) {
    lines.push(`all_model_checkpoint_paths: ${quoteText(p)}`);
  }
  for (const t of state.allModelCheckpointTimestamps) {
    lines.push(`all_model_checkpoint_timestamps: ${formatFloat(t)}`);
  }
  if (state.lastPreservedTimestamp !== undefined) {
    lines.push(`last_preserved_timestamp: ${formatFloat(state.lastPreservedTimestamp)}`);
  }
  return lines.join("\n") + "\n";
}

function formatFloat(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/**
 * The state file of `dir`, or null when there is none. A file that cannot be read or
 * parsed is an Error starting with `op`.
 */
export function readCheckpointState(op: string, dir: string): CheckpointState | null {
  const file = joinPath(dir, STATE_FILENAME);
  let text: string;
  try {
    text = decoder.decode(Deno.readFileSync(file));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw new Error(`${op}: cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return parseCheckpointState(text);
  } catch (error) {
    throw new Error(`${op}: ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** Replaces the state file of `dir` atomically (temp file, fsync, rename). */
export function writeCheckpointState(dir: string, state: CheckpointState): void {
  writeFileAtomic(joinPath(dir, STATE_FILENAME), [encoder.encode(formatCheckpointState(state))]);
}
