/**
 * A second backend for tests: the CPU's kernels behind storage that JS cannot index (a
 * `StandInBuffer`, as a GPU buffer would be), registered as a GPU. It checks the seam, not
 * the kernels: an op that reads a tensor's storage directly, hands a backend a tensor of
 * another device, or leaves a result on the wrong device fails under it.
 *
 * Every method unwraps its arguments (this backend's tensors become plain CPU operands over
 * the host arrays), runs the CPU backend's method, and wraps the storage it returns.
 * `EAGER_TEST_BACKEND=stand-in` makes it GPU:0 and the default device (tests/helpers.ts),
 * so that the op suites run on it unchanged.
 * @module
 */
import type { TypedArray } from "../../src/dtype.ts";
import type { Backend, DeviceBuffer } from "../../src/backend/backend.ts";
import { cpuBackend } from "../../src/backend/cpu/backend.ts";
import { registerGpu, setDefaultPlacement } from "../../src/backend/registry.ts";
import { Tensor } from "../../src/tensor.ts";

/** Stand-in device memory: a host array that only this backend opens. */
export class StandInBuffer implements DeviceBuffer {
  constructor(readonly backend: Backend, readonly host: TypedArray) {}
}

/** Options of the stand-in. */
export interface StandInOptions {
  /** As WebGPU: dataSync() is an error, only `await t.data()` reads. Default false. */
  asyncOnly?: boolean;
}

/** The methods that return new storage (the rest return nothing or a number). */
const STORAGE_MAKERS = new Set(["allocate", "allocateOutput", "upload", "unary", "binary"]);

/** A stand-in backend named `device`. */
export function standInBackend(device: string, options: StandInOptions = {}): Backend {
  const self = { device, readsSynchronously: !options.asyncOnly } as Backend;
  const storageOf = (s: unknown): TypedArray => {
    if (!(s instanceof StandInBuffer) || s.backend !== self) {
      throw new Error(`stand-in ${device}: received storage of another device`);
    }
    return s.host;
  };
  const unwrap = (arg: unknown): unknown => {
    // A tensor, or a traced graph's view of one (src/graph/replay.ts: a Tensor's fields).
    if (arg instanceof Tensor || isView(arg)) {
      if (arg.backend !== self) {
        throw new Error(`stand-in ${device}: received a tensor on ${arg.device}`);
      }
      return cpuView(arg, storageOf(arg.storage));
    }
    if (arg instanceof StandInBuffer) return storageOf(arg);
    if (Array.isArray(arg)) return arg.map(unwrap);
    if (
      arg !== null && typeof arg === "object" && "t" in arg &&
      (arg.t instanceof Tensor || isView(arg.t))
    ) {
      return { ...arg, t: unwrap(arg.t) }; // a matmul operand
    }
    return arg;
  };
  const wrap = (host: TypedArray) => new StandInBuffer(self, host);
  const target = self as unknown as Record<string, unknown>;
  const cpu = cpuBackend as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of Object.keys(cpuBackend)) {
    const method = cpu[name];
    if (typeof method !== "function") continue;
    const returnsStorage = STORAGE_MAKERS.has(name);
    target[name] = (...args: unknown[]) => {
      // upload copies: the caller may reuse its array, as it may with a real device.
      if (name === "upload") return wrap((args[0] as TypedArray).slice());
      const result = method(...args.map(unwrap));
      return returnsStorage ? wrap(result as TypedArray) : result;
    };
  }
  return self;
}

/**
 * A CPU operand over `host` with t's layout: what the CPU kernels read (storage, offset,
 * dtype, shape, strides, size, contiguity, dense elements). NOTE: a plain object, not a
 * Tensor, so that it takes no part in dispose counting or tf.tidy.
 */
/** Whether `x` has what a backend reads of a tensor, without being one. */
function isView(x: unknown): x is Tensor {
  return typeof x === "object" && x !== null && "storage" in x && "strides" in x && "backend" in x;
}

export function cpuView(t: Tensor, host: TypedArray) {
  const view = {
    storage: host,
    offset: t.offset,
    dtype: t.dtype,
    shape: t.shape,
    strides: t.strides,
    size: t.size,
    rank: t.rank,
    contiguous: t.contiguous,
    dataSync: (): TypedArray =>
      t.contiguous
        ? host.subarray(t.offset, t.offset + t.size)
        : cpuBackend.readSync(view as unknown as Tensor, t.dtype, "dataSync"),
  };
  return view;
}

/**
 * Registers a stand-in as the next GPU and, with `asDefault`, makes it the default device;
 * returns a function that undoes both.
 */
export function useStandIn(options: StandInOptions & { asDefault?: boolean } = {}): () => void {
  let backend: Backend | undefined;
  const remove = registerGpu((device) => (backend = standInBackend(device, options)));
  const restore = options.asDefault ? setDefaultPlacement(backend!) : () => {};
  return () => {
    restore();
    remove();
  };
}
