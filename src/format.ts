/**
 * Tensor printing that matches TensorFlow 2 character for character.
 *
 * TensorFlow's `str(tensor)` wraps NumPy's `str()` of the value, so this module ports the parts of
 * NumPy's `arrayprint.py` that the default print options reach (linewidth 75, threshold 1000,
 * edgeitems 3, precision 8, floatmode "maxprec", no suppression, no legacy mode). Float digits come
 * from exact decimal expansions done with bigints, which reproduces NumPy's Dragon4 output:
 * shortest round-trip digits for the value's own precision, clipped or extended with correctly
 * rounded (ties-to-even) digits where the print mode asks for a fixed number of places.
 *
 * The target is the NumPy that `pip install tensorflow-cpu` brings today (2.4): float32 values
 * switch to scientific notation from 1e6 (see F32_SCIENTIFIC_FROM). NumPy 2.0 to 2.2 used 1e8
 * for float32 arrays and 1e16 for scalars; NumPy 1.26 also differs for float32 data whose
 * smallest magnitude is float32(1e-4) (it compares in float64, see `floatFormat`).
 *
 * @module
 */
import { denseStrides } from "./shape.ts";

/** Element types the formatter understands, named as TensorFlow names them. */
export type FormatDType = "float32" | "float64" | "int32" | "int64" | "uint8" | "bool";

type Value = number | bigint | boolean;

const LINE_WIDTH = 75;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const PRECISION = 8;
/**
 * NumPy 2.3 made float32 switch to scientific notation from 1e6 (arrays and scalars)
 * instead of 1e8 (arrays) and 1e16 (scalars); float64 is unchanged. We follow the NumPy
 * that `pip install tensorflow-cpu` brings today (2.4), so printing matches real TF.
 */
const F32_SCIENTIFIC_FROM = 1e6;

// ---------------------------------------------------------------------------------------------
// Exact decimals

/** A non-negative decimal `d0.d1d2... × 10^exp`; `digits` has no trailing zeros, zero is "0". */
interface Decimal {
  digits: string;
  exp: number;
}

const ZERO: Decimal = { digits: "0", exp: 0 };

/** The exact decimal value of `mant × 2^e2`. */
function toDecimal(mant: bigint, e2: number): Decimal {
  if (mant === 0n) return ZERO;
  const s = e2 >= 0 ? (mant << BigInt(e2)).toString() : (mant * 5n ** BigInt(-e2)).toString();
  return normalize(s, s.length - 1 + Math.min(e2, 0));
}

/** Strips trailing zeros; `exp` is the power of ten of the first character of `digits`. */
function normalize(digits: string, exp: number): Decimal {
  const trimmed = digits.replace(/0+$/, "");
  return trimmed === "" ? ZERO : { digits: trimmed, exp };
}

function compareDecimals(a: Decimal, b: Decimal): number {
  if (a.exp !== b.exp) return a.exp < b.exp ? -1 : 1;
  const n = Math.max(a.digits.length, b.digits.length);
  const x = a.digits.padEnd(n, "0");
  const y = b.digits.padEnd(n, "0");
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `d` truncated to `n` significant digits, plus `up` units in the last kept place. */
function cut(d: Decimal, n: number, up: boolean): Decimal {
  const head = d.digits.slice(0, Math.max(n, 0));
  if (!up) return normalize(head, d.exp);
  const bumped = (BigInt(head || "0") + 1n).toString();
  return normalize(bumped, d.exp + bumped.length - n);
}

/** Rounds to `n` significant digits (n may be 0 or negative), ties to even as Dragon4 does. */
function roundSig(d: Decimal, n: number): Decimal {
  if (d.digits.length <= n) return d;
  if (n < 0) return ZERO;
  const rest = d.digits.slice(n);
  const lastKept = n > 0 ? Number(d.digits[n - 1]) : 0;
  const up = rest[0] > "5" || (rest[0] === "5" && (rest.length > 1 || lastKept % 2 === 1));
  return cut(d, n, up);
}

/** Rounds to `places` digits after the decimal point. */
function roundFrac(d: Decimal, places: number): Decimal {
  return roundSig(d, d.exp + 1 + places);
}

function fracLength(d: Decimal): number {
  return d.digits.length - 1 - d.exp;
}

// ---------------------------------------------------------------------------------------------
// Float digits

/** Exact value and shortest round-trip digits of one finite float, magnitude only. */
interface FloatDigits {
  exact: Decimal;
  shortest: Decimal;
}

const scratch = new DataView(new ArrayBuffer(8));

/** |x| as `mant × 2^e2`; `unequal` marks a power of two, whose lower neighbour is closer. */
function decompose(x: number, f32: boolean): { mant: bigint; e2: number; unequal: boolean } {
  let frac: bigint, biased: number;
  if (f32) {
    scratch.setFloat32(0, x);
    const word = scratch.getUint32(0);
    [frac, biased] = [BigInt(word & 0x7fffff), (word >>> 23) & 0xff];
  } else {
    scratch.setFloat64(0, x);
    const word = scratch.getBigUint64(0);
    [frac, biased] = [word & 0xfffffffffffffn, Number(word >> 52n) & 0x7ff];
  }
  const [fracBits, bias] = f32 ? [23n, 150] : [52n, 1075];
  if (biased === 0) return { mant: frac, e2: 1 - bias, unequal: false };
  const mant = frac | (1n << fracBits);
  return { mant, e2: biased - bias, unequal: frac === 0n && biased > 1 };
}

/**
 * Dragon4's unique mode: the fewest significant digits whose value rounds back to x (the interval
 * ends count when x's mantissa is even, as in IEEE round-half-even); when both the truncated and
 * the bumped digits qualify, the nearer one.
 */
function floatDigits(x: number, f32: boolean): FloatDigits {
  const { mant, e2, unequal } = decompose(x, f32);
  const exact = toDecimal(mant, e2);
  if (mant === 0n) return { exact, shortest: exact };
  const high = toDecimal(2n * mant + 1n, e2 - 1);
  const low = unequal ? toDecimal(4n * mant - 1n, e2 - 2) : toDecimal(2n * mant - 1n, e2 - 1);
  const inside = mant % 2n === 0n ? (c: number) => c <= 0 : (c: number) => c < 0;
  for (let n = 1; n < exact.digits.length; n++) {
    const down = inside(compareDecimals(low, cut(exact, n, false)));
    const up = inside(compareDecimals(cut(exact, n, true), high));
    if (down && up) return { exact, shortest: roundSig(exact, n) };
    if (down || up) return { exact, shortest: cut(exact, n, up) };
  }
  return { exact, shortest: exact };
}

/** Shortest digits, widened or narrowed to the allowed fractional places with exact rounding. */
function clampFrac(f: FloatDigits, minPlaces: number, maxPlaces: number): Decimal {
  const places = fracLength(f.shortest);
  if (places > maxPlaces) return roundFrac(f.exact, maxPlaces);
  if (places < minPlaces) return roundFrac(f.exact, minPlaces);
  return f.shortest;
}

/** Integer and fraction digits of a decimal in positional notation. */
function positionalParts(d: Decimal): [string, string] {
  if (d.exp < 0) return ["0", "0".repeat(-d.exp - 1) + d.digits];
  const intLen = d.exp + 1;
  return [d.digits.slice(0, intLen).padEnd(intLen, "0"), d.digits.slice(intLen)];
}

/** Exponent text: sign and at least `width` digits (NumPy never prints fewer than two). */
function exponentText(exp: number, width: number): string {
  return (exp < 0 ? "-" : "+") + String(Math.abs(exp)).padStart(Math.max(width, 2), "0");
}

function isNegative(x: number): boolean {
  return x < 0 || Object.is(x, -0);
}

function nonFiniteText(x: number): string {
  return Number.isNaN(x) ? "nan" : x < 0 ? "-inf" : "inf";
}

// ---------------------------------------------------------------------------------------------
// Element formatters

type ElementFormat = (v: Value) => string;

/** FloatingFormat: one layout (positional or scientific, paddings) shared by all elements. */
function floatFormat(data: number[], f32: boolean): ElementFormat {
  const finite = data.filter(Number.isFinite);
  const abs = finite.filter((v) => v !== 0).map(Math.abs);
  // NumPy 2 compares float32 extremes with Python floats in float32 (NEP 50), hence `round`.
  const round = f32 ? Math.fround : (v: number) => v;
  let sci = false;
  if (abs.length > 0) {
    const max = abs.reduce((a, b) => Math.max(a, b));
    const min = abs.reduce((a, b) => Math.min(a, b));
    sci = max >= (f32 ? F32_SCIENTIFIC_FROM : 1e8) || min < round(1e-4) ||
      round(max / min) > 1000;
  }
  let padLeft = 0, padRight = 0, expSize = -1, precision = 0;
  const signWidth = (v: number) => (isNegative(v) ? 1 : 0);
  if (sci) {
    for (const v of finite) {
      const f = floatDigits(v, f32);
      const d = f.shortest.digits.length > PRECISION + 1
        ? roundSig(f.exact, PRECISION + 1)
        : f.shortest;
      precision = Math.max(precision, d.digits.length - 1);
      padLeft = Math.max(padLeft, 1 + signWidth(v));
      expSize = Math.max(expSize, exponentText(d.exp, 2).length - 1);
    }
    padRight = expSize + 2 + precision;
  } else {
    for (const v of finite) {
      const [intPart, fracPart] = positionalParts(clampFrac(floatDigits(v, f32), 0, PRECISION));
      padLeft = Math.max(padLeft, intPart.length + signWidth(v));
      padRight = Math.max(padRight, fracPart.length);
    }
  }
  if (finite.length !== data.length) {
    const negInf = data.some((v) => v === -Infinity) ? 1 : 0;
    padLeft = Math.max(padLeft, 3 - (padRight + 1), 3 + negInf - (padRight + 1));
  }
  return (v) => {
    const x = v as number;
    const sign = isNegative(x) ? "-" : "";
    if (!Number.isFinite(x)) return nonFiniteText(x).padStart(padLeft + padRight + 1);
    const f = floatDigits(x, f32);
    if (sci) {
      // min_digits == precision: every mantissa gets exactly `precision` real digits.
      const d = f.shortest.digits.length === precision + 1
        ? f.shortest
        : roundSig(f.exact, precision + 1);
      const mantissa = (sign + d.digits[0]).padStart(padLeft) + "." +
        d.digits.slice(1).padEnd(precision, "0");
      return mantissa + "e" + exponentText(d.exp, expSize);
    }
    // The integer part is always printed with real digits (NumPy's min_digits=0).
    const [intPart, fracPart] = positionalParts(clampFrac(f, 0, PRECISION));
    return (sign + intPart).padStart(padLeft) + "." + fracPart.padEnd(padRight);
  };
}

/** IntegerFormat: right-aligned to the widest of the values. */
function integerFormat(data: Value[]): ElementFormat {
  const width = data.reduce((w: number, v) => Math.max(w, String(v).length), 0);
  return (v) => String(v).padStart(width);
}

/** BoolFormat: " True" keeps columns aligned with "False". */
function boolFormat(v: Value): string {
  return v ? " True" : "False";
}

function makeElementFormat(dtype: FormatDType, data: Value[]): ElementFormat {
  if (dtype === "bool") return boolFormat;
  if (dtype === "float32" || dtype === "float64") {
    return floatFormat(data as number[], dtype === "float32");
  }
  return integerFormat(data);
}

/** str() of a NumPy scalar (the 0-d case), which ignores the array print options. */
function formatScalar(dtype: FormatDType, v: Value): string {
  if (dtype === "bool") return v ? "True" : "False";
  if (dtype !== "float32" && dtype !== "float64") return String(v);
  const x = v as number;
  if (!Number.isFinite(x)) return nonFiniteText(x);
  const sign = isNegative(x) ? "-" : "";
  const d = floatDigits(x, dtype === "float32").shortest;
  const abs = Math.abs(x);
  if (abs === 0 || (abs >= 1e-4 && abs < (dtype === "float32" ? F32_SCIENTIFIC_FROM : 1e16))) {
    const [intPart, fracPart] = positionalParts(d);
    return `${sign}${intPart}.${fracPart || "0"}`;
  }
  const mantissa = d.digits.length > 1 ? `${d.digits[0]}.${d.digits.slice(1)}` : d.digits;
  return `${sign}${mantissa}e${exponentText(d.exp, 2)}`;
}

// ---------------------------------------------------------------------------------------------
// Array layout

/** Normalises the input so that floats are numbers (float32-rounded) and bools are booleans. */
function readValue(dtype: FormatDType, v: Value): Value {
  if (dtype === "bool") return Boolean(v);
  if (dtype === "float32") return Math.fround(Number(v));
  if (dtype === "float64") return Number(v);
  if (dtype === "int64") return BigInt(v as number | bigint);
  return Number(v);
}

/** Indices shown along an axis: all of them, or the edge items either side of "...". */
function shownIndices(len: number, summarize: boolean): { lead: number[]; trail: number[] } {
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  if (!summarize || len <= 2 * EDGE_ITEMS) return { lead: range(0, len), trail: [] };
  return { lead: range(0, EDGE_ITEMS), trail: range(len - EDGE_ITEMS, len) };
}

/** _leading_trailing: the elements that will be printed, which alone decide the layout. */
function shownValues(shape: readonly number[], at: (i: number) => Value, summarize: boolean) {
  const strides = denseStrides(shape);
  const out: Value[] = [];
  const walk = (axis: number, offset: number): void => {
    if (axis === shape.length) {
      out.push(at(offset));
      return;
    }
    const { lead, trail } = shownIndices(shape[axis], summarize);
    for (const i of [...lead, ...trail]) walk(axis + 1, offset + i * strides[axis]);
  };
  walk(0, 0);
  return out;
}

/** _extendLine: appends `word`, first breaking the line if it would pass `width`. */
function extendLine(s: string, line: string, word: string, width: number, indent: string) {
  if (line.length + word.length > width && line.length > indent.length) {
    s += line.trimEnd() + "\n";
    line = indent;
  }
  return { s, line: line + word };
}

interface Layout {
  shape: readonly number[];
  strides: number[];
  at: (i: number) => Value;
  format: ElementFormat;
  summarize: boolean;
}

/** _formatArray's recurser: one bracketed block, rows wrapped, blocks separated by blank lines. */
function formatBlock(ly: Layout, axis: number, offset: number, indent: string, width: number) {
  if (axis === ly.shape.length) return ly.format(ly.at(offset));
  const { lead, trail } = shownIndices(ly.shape[axis], ly.summarize);
  const items: (number | null)[] = trail.length > 0 ? [...lead, null, ...trail] : lead;
  const child = (i: number) =>
    formatBlock(ly, axis + 1, offset + i * ly.strides[axis], indent + " ", width - 1);
  let s = "";
  if (axis === ly.shape.length - 1) {
    // Rows wrap one column early, leaving room for the closing "]".
    let line = indent;
    for (const [k, i] of items.entries()) {
      ({ s, line } = extendLine(s, line, i === null ? "..." : child(i), width - 1, indent));
      if (k < items.length - 1) line += " ";
    }
    s += line;
  } else {
    // Rank-k blocks are separated by k-1 newlines: blank lines between matrices and up.
    const separator = "\n".repeat(ly.shape.length - axis - 1);
    s = items.map((i) => indent + (i === null ? "..." : child(i))).join(separator);
  }
  return "[" + s.slice(indent.length) + "]";
}

/**
 * NumPy's `str()` of an array given as flat row-major values.
 *
 * @example
 * ```ts
 * formatArray("int32", [2, 2], new Int32Array([16, 19, 36, 43])); // "[[16 19]\n [36 43]]"
 * formatArray("float32", [2], new Float32Array([1, 2.5])); // "[1.  2.5]"
 * formatArray("float32", [], new Float32Array([6])); // "6.0"
 * ```
 */
export function formatArray(
  dtype: FormatDType,
  shape: readonly number[],
  values: ArrayLike<number | bigint | boolean>,
): string {
  const at = (i: number) => readValue(dtype, values[i]);
  if (shape.length === 0) return formatScalar(dtype, at(0));
  const size = shape.reduce((a, b) => a * b, 1);
  if (size === 0) return "[]";
  const summarize = size > THRESHOLD;
  const format = makeElementFormat(dtype, shownValues(shape, at, summarize));
  const layout = { shape, strides: denseStrides(shape), at, format, summarize };
  return formatBlock(layout, 0, 0, " ", LINE_WIDTH);
}

/** A shape as a Python tuple: `()`, `(3,)`, `(2, 2)`. */
function shapeText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

/**
 * TensorFlow 2's `str(tensor)`: `tf.Tensor(<numpy str>, shape=(..), dtype=..)`, with the array
 * text moved to its own line when it spans several.
 *
 * @example
 * ```ts
 * formatTensor("float32", [], new Float32Array([6])); // "tf.Tensor(6.0, shape=(), dtype=float32)"
 * formatTensor("bool", [2], [true, false]); // "tf.Tensor([ True False], shape=(2,), dtype=bool)"
 * ```
 */
export function formatTensor(
  dtype: FormatDType,
  shape: readonly number[],
  values: ArrayLike<number | bigint | boolean>,
): string {
  const text = formatArray(dtype, shape, values);
  const body = text.includes("\n") ? "\n" + text : text;
  return `tf.Tensor(${body}, shape=${shapeText(shape)}, dtype=${dtype})`;
}
