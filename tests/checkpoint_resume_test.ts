/**
 * The tfe guide's checkpoint example end to end (tests/probes/checkpoint_resume.ts): a run
 * trains 3 steps and saves; a second process (fresh objects, the same names) restores on
 * create and trains 3 more. It must end exactly where one 6-step run ends: the model,
 * Adam's slots and beta powers, and the global step all carried over.
 */
import { assertEquals, assertStrictEquals } from "./helpers.ts";
import { tempDir } from "./checkpoint_helpers.ts";

interface Run {
  path: string;
  start: number;
  initial: Record<string, number[]>;
  final: Record<string, number[]>;
}

async function run(dir: string, steps: number): Promise<Run> {
  const probe = new URL("./probes/checkpoint_resume.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", probe, dir, String(steps)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`the probe failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("a second run restores on create and continues exactly where the first stopped", async () => {
  const [dir, cleanup] = tempDir("resume_");
  const [reference, cleanupReference] = tempDir("resume_ref_");
  try {
    const [first, whole] = await Promise.all([run(dir, 3), run(reference, 6)]);
    assertStrictEquals(first.start, 0);
    assertStrictEquals(first.path, `${dir}/ckpt-3`);
    assertEquals(
      Object.keys(first.final).sort(),
      [
        "beta1_power",
        "beta2_power",
        "global_step",
        ...["dense", "two_layer_net/dense", "two_layer_net/dense_1"].flatMap((layer) =>
          ["bias", "kernel"].flatMap((w) =>
            ["", "/Adam", "/Adam_1"].map((slot) => `three_layer_net/${layer}/${w}${slot}`)
          )
        ),
      ].sort(),
    );

    const second = await run(dir, 3);
    assertStrictEquals(second.start, 3);
    assertStrictEquals(second.path, `${dir}/ckpt-6`);
    for (const [name, values] of Object.entries(second.initial)) {
      assertEquals(values, first.final[name], `${name} after restore`);
    }
    assertEquals(second.final, whole.final);
    assertEquals(second.final.global_step, [6]);
  } finally {
    cleanup();
    cleanupReference();
  }
});
