/** Every benchmark case, in table order. @module */
import type { Case } from "../harness.ts";
import { dispatchCases } from "./dispatch.ts";
import { mathCases } from "./math.ts";
import { convCases } from "./conv.ts";
import { trainingCases } from "./training.ts";
import { processCases } from "./process.ts";
import { dataCases } from "./data.ts";
import { resnet50Cases } from "./resnet50.ts";
import { opsCases } from "./ops.ts";

/** All cases: dispatch, kernels, conv2d, training, ResNet-50, issue 22's ops, input pipelines,
 * whole-process. */
export const CASES: Case[] = [
  ...dispatchCases,
  ...mathCases,
  ...convCases,
  ...trainingCases,
  ...resnet50Cases,
  ...opsCases,
  ...dataCases,
  ...processCases,
];
