/**
 * ResNet-50 (tf.applications.ResNet50 against Keras's ResNet50 in TensorFlow 2.21): a
 * training step (forward in training mode, softmax cross-entropy, backward, SGD with
 * momentum 0.9) and inference at batch 8, 224x224x3, NHWC, on the CPU; ours against
 * TensorFlow eager and tf.function, and the peak resident memory of each.
 *
 * Decisions:
 * - Whole-process cases: each column runs in its own process (bench/procs/resnet50_ours.ts,
 *   bench/peers/tf_resnet50.py) for each mode, so that its peak RSS (VmHWM) is that mode's
 *   alone. A process takes WARMUP steps and then STEPS timed ones on one fixed synthetic
 *   batch; the time is the median of the timed steps. One spawn per column and mode serves
 *   both the time case and the memory case.
 * - Ours runs each step inside tf.tidy (as examples/resnet50.ts does): its memory is
 *   returned at once, as TensorFlow's reference counting does.
 * @module
 */
import { interopPython } from "../../tests/python_env.ts";
import { type Case, type Column, MARK, type Result, statsOf } from "../harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ENV = { TF_CPP_MIN_LOG_LEVEL: "3", CUDA_VISIBLE_DEVICES: "" };

/** The benchmark's configuration: the guide's ResNet-50 benchmark at batch 8. */
export const RESNET50 = { batch: 8, size: 224, warmup: 2, steps: 5 } as const;

type Mode = "train" | "infer";

interface Measured {
  stepSeconds: number[];
  peakBytes: number;
}

async function command(column: Column, mode: Mode): Promise<string[]> {
  const { batch, size, warmup, steps } = RESNET50;
  const sizes = [`${warmup + steps}`, `${batch}`, `${size}`];
  if (column === "ours") {
    return [Deno.execPath(), "run", "--allow-all", "bench/procs/resnet50_ours.ts", mode, ...sizes];
  }
  const how = column === "tf.function" ? "graph" : "eager";
  return [await interopPython(), "bench/peers/tf_resnet50.py", mode, how, ...sizes];
}

async function spawn(column: Column, mode: Mode): Promise<Measured> {
  const [cmd, ...args] = await command(column, mode);
  const out = await new Deno.Command(cmd, { args, cwd: ROOT, env: ENV, stderr: "piped" }).output();
  const line = new TextDecoder().decode(out.stdout).split("\n").find((l) => l.startsWith(MARK));
  if (!out.success || !line) {
    const err = new TextDecoder().decode(out.stderr).slice(-2000);
    throw new Error(`ResNet-50 ${mode} (${column}) failed:\n${err}`);
  }
  return JSON.parse(line.slice(MARK.length));
}

/** One process per column and mode, shared by the time and the memory case. */
const runs = new Map<string, Promise<Measured>>();
const measured = (column: Column, mode: Mode) => {
  const key = `${column}/${mode}`;
  if (!runs.has(key)) runs.set(key, spawn(column, mode));
  return runs.get(key)!;
};

function timeCase(mode: Mode, spec: Pick<Case, "id" | "label" | "targets">): Case {
  return {
    ...spec,
    group: "resnet50",
    kind: `resnet50_${mode}`,
    params: RESNET50,
    processColumns: ["ours", "tensorflow", "tf.function"],
    process: async (column): Promise<Result> => {
      const { stepSeconds } = await measured(column, mode);
      const warm = stepSeconds.slice(0, RESNET50.warmup).map((s) => s.toFixed(2));
      return {
        column,
        stats: statsOf(stepSeconds.slice(RESNET50.warmup)),
        note: `median of ${RESNET50.steps} steps after warm-up steps of ${warm.join(", ")} s`,
      };
    },
  };
}

function memoryCase(mode: Mode, spec: Pick<Case, "id" | "label" | "targets">): Case {
  return {
    ...spec,
    group: "resnet50",
    kind: "peak_memory",
    params: RESNET50,
    unit: "bytes",
    processColumns: ["ours", "tensorflow", "tf.function"],
    process: async (column): Promise<Result> => ({
      column,
      stats: statsOf([(await measured(column, mode)).peakBytes]),
      note: `one process, ${RESNET50.warmup + RESNET50.steps} steps`,
    }),
  };
}

const { batch, size } = RESNET50;
const shape = `batch ${batch}, ${size}x${size}x3 NHWC`;

/** The ResNet-50 cases. */
export const resnet50Cases: Case[] = [
  timeCase("train", {
    id: "resnet50_train_step",
    label: `ResNet-50 training step, ${shape}, SGD momentum`,
    targets: [
      { column: "tensorflow", atLeast: 1.5, text: "ResNet-50 step >= 1.5x TF eager" },
      { column: "tf.function", atLeast: 1, text: "ResNet-50 step >= 1.0x TF tf.function" },
    ],
  }),
  timeCase("infer", {
    id: "resnet50_infer",
    label: `ResNet-50 inference, ${shape}`,
    targets: [
      { column: "tensorflow", atLeast: 1.5, text: "ResNet-50 inference >= 1.5x TF eager" },
      { column: "tf.function", atLeast: 1, text: "ResNet-50 inference >= 1.0x TF tf.function" },
    ],
  }),
  memoryCase("train", {
    id: "resnet50_train_peak_memory",
    label: `peak RSS, ResNet-50 training, ${shape}`,
    targets: [{ column: "tensorflow", atLeast: 1, text: "ResNet-50 training peak RSS <= TF's" }],
  }),
  memoryCase("infer", {
    id: "resnet50_infer_peak_memory",
    label: `peak RSS, ResNet-50 inference, ${shape}`,
    targets: [{ column: "tensorflow", atLeast: 1, text: "ResNet-50 inference peak RSS <= TF's" }],
  }),
];
