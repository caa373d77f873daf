/**
 * FarmHash's Fingerprint64 (src/io/farmhash.ts) against TensorFlow's tf.fingerprint, which
 * computes the same hash (tests/fixtures/farmhash.json: every length 0-300, each branch of
 * the function, and longer inputs that loop over 64-byte blocks).
 */
import { fingerprint64 } from "../src/io/farmhash.ts";
import { assertEquals } from "./helpers.ts";

interface Case {
  length: number;
  fingerprint64: string;
}

const fixture: { cases: Case[] } = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/farmhash.json", import.meta.url)),
);

Deno.test("fingerprint64 equals TensorFlow's for every length from 0 to 300 and beyond", () => {
  assertEquals(fixture.cases.length > 300, true);
  for (const c of fixture.cases) {
    const bytes = new Uint8Array(c.length);
    for (let i = 0; i < c.length; i++) bytes[i] = (i * 131 + 7) % 256;
    assertEquals(fingerprint64(bytes).toString(), c.fingerprint64, `length ${c.length}`);
  }
});

Deno.test("fingerprint64 reads a view at its own offset", () => {
  const whole = new Uint8Array(200).map((_, i) => (i * 131 + 7) % 256);
  const shifted = new Uint8Array(203);
  shifted.set(whole, 3);
  assertEquals(fingerprint64(shifted.subarray(3)), fingerprint64(whole));
});
