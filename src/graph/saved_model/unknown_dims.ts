/**
 * Unknown dimensions (a `null` batch size) in an exported signature. A trace has concrete
 * shapes, so the signature is traced and lowered twice, with the unknown dimensions set to
 * two probe sizes; the two GraphDefs must then be the same but where a size shows through:
 * placeholder and output shapes (written as -1) and the shape operand of a Reshape (one
 * entry, written as -1, which TensorFlow infers again). Any other difference (a gather's
 * positions, a filled size) means the graph depends on the size in a way a GraphDef of
 * fixed constants cannot hold: an error naming the node.
 * @module
 */
import type { AttrValue, NodeDef, TensorValue } from "./protos.ts";

/** The two sizes an unknown dimension takes (distinct, above 1, unlikely elsewhere). */
export const PROBES = [7, 11] as const;

function sameValue(a: unknown, b: unknown): boolean {
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as unknown as ArrayLike<unknown>, y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length || a.constructor !== b.constructor) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  }
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length &&
      ka.every((k) =>
        sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
      );
  }
  return a === b;
}

/** A dims list with -1 where the two probes' lists differ by the probes (or a multiple). */
export function mergeDims(a: readonly number[], b: readonly number[]): number[] | null {
  if (a.length !== b.length) return null;
  const out = a.map((d, i) => (d === b[i] ? d : probed(d, b[i]) ? -1 : NaN));
  return out.some(Number.isNaN) ? null : out;
}

/** Whether x and y are one quantity at the two probe sizes (k * 7 and k * 11). */
function probed(x: number, y: number): boolean {
  return x > 0 && x % PROBES[0] === 0 && y === (x / PROBES[0]) * PROBES[1];
}

/**
 * The nodes of the first lowering with the probe sizes replaced by -1, or an error naming
 * the first node whose difference cannot be expressed that way.
 */
export function mergeProbes(what: string, a: readonly NodeDef[], b: readonly NodeDef[]): NodeDef[] {
  const fail = (node: string, why: string) =>
    new TypeError(
      `tf.savedModel.save: ${what}: node ${node} ${why} with the unknown dimension's size; give ` +
        "the input a fixed shape",
    );
  if (a.length !== b.length) throw fail(a[0]?.name ?? "?", "makes a graph whose nodes change");
  const reshapeShapes = new Set(
    a.filter((n) => n.op === "Reshape").map((n) => n.inputs[1].replace(/:0$/, "")),
  );
  return a.map((na, i) => {
    const nb = b[i];
    if (na.name !== nb.name || na.op !== nb.op || !sameValue(na.inputs, nb.inputs)) {
      throw fail(na.name, "makes a graph whose nodes change");
    }
    const attrs: Record<string, AttrValue> = {};
    for (const [key, va] of Object.entries(na.attrs)) {
      const vb = nb.attrs[key];
      if (sameValue(va, vb)) {
        attrs[key] = va;
      } else if ("shape" in va && vb && "shape" in vb) {
        const dims = mergeDims(va.shape, vb.shape);
        if (!dims) throw fail(na.name, `has a shape attribute (${key}) that changes`);
        attrs[key] = { shape: dims };
      } else if ("tensor" in va && vb && "tensor" in vb && reshapeShapes.has(na.name)) {
        attrs[key] = {
          tensor: reshapeTarget(va.tensor, vb.tensor) ?? (() => {
            throw fail(na.name, "is a Reshape's shape with more than one entry that changes");
          })(),
        };
      } else {
        throw fail(na.name, `(${na.op}) has a value (${key}) that changes`);
      }
    }
    return { ...na, attrs };
  });
}

/** A Reshape's int32 target with its one probe-dependent entry as -1. */
function reshapeTarget(a: TensorValue, b: TensorValue): TensorValue | null {
  if ("strings" in a || "strings" in b || a.dtype !== "int32") return null;
  const dims = mergeDims(Array.from(a.data as Int32Array), Array.from(b.data as Int32Array));
  if (!dims || dims.filter((d) => d === -1).length !== 1) return null;
  return { dtype: "int32", shape: a.shape, data: Int32Array.from(dims) };
}
