/**
 * Parsing of einsum equations: each operand's subscripts become one label per dim, with
 * the dims an ellipsis covers named by numbers (aligned from the right, as broadcasting
 * aligns them) and letters by themselves.
 * @module
 */
import { showShape } from "../shape.ts";

/** A dim's label: a letter, or the position of an ellipsis dim counted from the left of E. */
export type Label = string | number;

/** A parsed equation, checked against the operand shapes. */
export interface Parsed {
  /** One label per dim of each operand. */
  inputs: Label[][];
  /** One label per dim of the result. */
  output: Label[];
  /** The size of each label (the broadcast size for ellipsis dims). */
  sizes: Map<Label, number>;
}

const LETTER = /^[a-zA-Z]$/;

/** The letters of one subscript term, with "..." as the single token ELLIPSIS. */
function tokens(term: string, what: string, equation: string): string[] {
  const parts = term.split("...");
  if (parts.length > 2) {
    throw new RangeError(`einsum: ${what} has more than one ellipsis in "${equation}"`);
  }
  const out: string[] = [];
  parts.forEach((p, k) => {
    if (k === 1) out.push("...");
    for (const ch of p) {
      if (!LETTER.test(ch)) {
        throw new RangeError(`einsum: invalid character '${ch}' in "${equation}"`);
      }
      out.push(ch);
    }
  });
  return out;
}

/** Parses `equation` for operands of `shapes` (see {@link Parsed}). */
export function parseEquation(equation: string, shapes: readonly (readonly number[])[]): Parsed {
  if (typeof equation !== "string") throw new TypeError("einsum: equation must be a string");
  const eq = equation.replace(/\s+/g, "");
  const arrow = eq.split("->");
  if (arrow.length > 2) throw new RangeError(`einsum: more than one "->" in "${equation}"`);
  const terms = arrow[0].split(",");
  if (terms.length !== shapes.length) {
    throw new RangeError(
      `einsum: "${equation}" names ${terms.length} operand(s) but ${shapes.length} were given`,
    );
  }
  const toks = terms.map((t, i) => tokens(t, `operand ${i}`, equation));
  let ellipsisRank = 0;
  const ranks = toks.map((tk, i) => {
    const letters = tk.filter((c) => c !== "...").length;
    const rank = shapes[i].length;
    const hasEllipsis = tk.includes("...");
    if (hasEllipsis ? rank < letters : rank !== letters) {
      throw new RangeError(
        `einsum: operand ${i} has shape ${showShape(shapes[i])} (rank ${rank}) but subscripts "${
          terms[i]
        }" name ${letters} dim(s)`,
      );
    }
    const e = hasEllipsis ? rank - letters : 0;
    ellipsisRank = Math.max(ellipsisRank, e);
    return e;
  });
  const sizes = new Map<Label, number>();
  const inputs = toks.map((tk, i) => {
    const labels: Label[] = [];
    for (const c of tk) {
      if (c !== "...") labels.push(c);
      else for (let d = 0; d < ranks[i]; d++) labels.push(ellipsisRank - ranks[i] + d);
    }
    labels.forEach((l, d) => {
      const n = shapes[i][d], seen = sizes.get(l);
      // Only ellipsis dims broadcast (size 1 against n), as in TensorFlow.
      const broadcasts = typeof l === "number" && (seen === 1 || n === 1);
      if (seen === undefined || (broadcasts && seen === 1)) sizes.set(l, n);
      else if (n !== seen && !broadcasts) {
        const name = typeof l === "number" ? "an ellipsis dim" : `index '${l}'`;
        throw new RangeError(
          `einsum: ${name} has inconsistent sizes ${seen} and ${n} in "${equation}" for shapes ${
            shapes.map(showShape).join(", ")
          }`,
        );
      }
    });
    return labels;
  });
  const ellipsis = Array.from({ length: ellipsisRank }, (_, d) => d as Label);
  let output: Label[];
  if (arrow.length === 2) {
    output = [];
    for (const c of tokens(arrow[1], "the output", equation)) {
      if (c === "...") {
        output.push(...ellipsis);
        continue;
      }
      if (output.includes(c)) {
        throw new RangeError(`einsum: output index '${c}' appears twice in "${equation}"`);
      }
      if (!sizes.has(c)) {
        throw new RangeError(`einsum: output index '${c}' is in no input of "${equation}"`);
      }
      output.push(c);
    }
    if (ellipsisRank > 0 && !output.includes(0)) {
      throw new RangeError(
        `einsum: the inputs have ${ellipsisRank} ellipsis dim(s) but the output of "${equation}" has no "..."`,
      );
    }
  } else {
    const count = new Map<string, number>();
    for (const tk of toks) {
      for (const c of tk) if (c !== "...") count.set(c, (count.get(c) ?? 0) + 1);
    }
    const once = [...count].filter(([, n]) => n === 1).map(([c]) => c).sort();
    output = [...ellipsis, ...once];
  }
  return { inputs, output, sizes };
}
