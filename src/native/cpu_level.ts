/**
 * The instruction-set level libeager's kernels run at. The library holds its kernels once
 * per level of its architecture (x86-64: v2 = SSE4.2, v3 = AVX2 + FMA, v4 = AVX-512;
 * aarch64: neon) and picks the best one this CPU and OS support when it loads
 * (csrc/cpu.c). `EAGER_CPU=v3` (or any level the CPU has) runs a lower one, so every
 * path can be tested on one machine; a level the CPU lacks, or an unknown name, is an
 * error that lists the levels this CPU runs.
 * @module
 */
import { Cpu } from "./codes.ts";
import { env } from "../env.ts";

/** A level name, as `EAGER_CPU` takes it. */
export type CpuLevel = Lowercase<keyof typeof Cpu>;

/** The level names by code (eager.h's eager_cpu, lower case). */
export const CPU_LEVELS: readonly CpuLevel[] = Object.keys(Cpu).map((name) =>
  name.toLowerCase() as CpuLevel
);

/** The part of libeager's symbol table this module uses. */
export interface CpuLevelSymbols {
  eager_cpu_levels(): number;
  eager_cpu_level(): number;
  eager_set_cpu_level(level: number): number;
}

/** The levels in a bit mask of eager_cpu_levels(), lowest first. */
export function levelNames(mask: number): CpuLevel[] {
  return CPU_LEVELS.filter((_, code) => (mask & (1 << code)) !== 0);
}

/**
 * Checks that this CPU runs the library at `path` and applies `asked` (by default
 * `EAGER_CPU`) to it. Throws an Error naming the library or the level otherwise.
 */
export function applyCpuLevel(
  lib: CpuLevelSymbols,
  path: string,
  asked: string | undefined = env("EAGER_CPU"),
): void {
  const available = levelNames(lib.eager_cpu_levels());
  if (available.length === 0) {
    throw new Error(
      `libeager: this CPU lacks every instruction-set level ${path} was built for ` +
        "(x86-64 needs at least v2: SSE4.2 and POPCNT)",
    );
  }
  if (asked === undefined || asked === "") return;
  const code = (CPU_LEVELS as readonly string[]).indexOf(asked.trim().toLowerCase());
  if (code < 0 || !available.includes(CPU_LEVELS[code])) {
    const what = code < 0 ? "is not a CPU level" : "is a level this CPU does not support";
    throw new Error(
      `libeager: EAGER_CPU=${asked} ${what}; this CPU runs ${available.join(", ")}`,
    );
  }
  if (lib.eager_set_cpu_level(code) !== 0) {
    throw new Error(`libeager: ${path} refused CPU level ${CPU_LEVELS[code]}`);
  }
}
