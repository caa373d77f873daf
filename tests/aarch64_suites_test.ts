/**
 * The suites scripts/aarch64.ts runs under emulation exist, and none of them spawns a child
 * deno: under qemu-user without binfmt_misc, `Deno.execPath()` (the arm64 binary) cannot be
 * executed, so such a file would fail there (docs/aarch64.md).
 */
import { AARCH64_SUITES } from "../scripts/aarch64.ts";
import { assertEquals } from "./helpers.ts";

const root = new URL("..", import.meta.url);

Deno.test("every aarch64 suite exists and spawns no child process", () => {
  for (const file of AARCH64_SUITES) {
    const source = Deno.readTextFileSync(new URL(file, root));
    const spawns = /Deno\.Command|denoOutput|Deno\.execPath/.test(source);
    assertEquals(spawns, false, `${file} spawns a child process`);
  }
});

Deno.test("the aarch64 suites are listed once, in order", () => {
  assertEquals([...new Set(AARCH64_SUITES)].sort(), AARCH64_SUITES);
});
