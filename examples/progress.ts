/**
 * Training progress for the examples: a progress bar redrawn in place on a terminal,
 * plain log lines otherwise (CI logs, pipes).
 * @module
 */

/** What one progress report says. */
export interface ProgressState {
  step: number;
  steps: number;
  loss: number;
  examples: number;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** Reports training progress; `every` is how often (in steps) a plain line is written. */
export class Progress {
  readonly #start = performance.now();
  readonly #terminal: boolean;
  readonly #every: number;
  readonly #write: (text: string) => void;

  constructor(
    options: { every?: number; terminal?: boolean; write?: (text: string) => void } = {},
  ) {
    this.#terminal = options.terminal ?? Deno.stdout.isTerminal();
    this.#every = options.every ?? 100;
    const encoder = new TextEncoder();
    this.#write = options.write ?? ((text) => Deno.stdout.writeSync(encoder.encode(text)));
  }

  /** The line for a state: step, loss, examples per second, time left. */
  line(state: ProgressState): string {
    const elapsed = (performance.now() - this.#start) / 1000;
    const rate = state.examples / Math.max(elapsed, 1e-9);
    const left = (elapsed / state.step) * (state.steps - state.step);
    return `step ${state.step}/${state.steps}  loss ${state.loss.toFixed(4)}  ` +
      `${rate.toFixed(0)} examples/s  ${duration(left)} left`;
  }

  /** Reports a step: redraws the bar on a terminal, else a line every `every` steps. */
  update(state: ProgressState): void {
    if (this.#terminal) {
      const width = 24, done = Math.round((width * state.step) / state.steps);
      const bar = `[${"=".repeat(done)}${" ".repeat(width - done)}]`;
      this.#write(`\r${bar} ${this.line(state)}\x1b[K`);
      if (state.step === state.steps) this.#write("\n");
    } else if (state.step % this.#every === 0 || state.step === 1 || state.step === state.steps) {
      this.#write(this.line(state) + "\n");
    }
  }

  /** Seconds since the start. */
  elapsed(): number {
    return (performance.now() - this.#start) / 1000;
  }
}
