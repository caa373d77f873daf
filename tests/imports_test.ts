/**
 * The module graph of src/ has no cycle through value imports (type-only imports vanish at
 * run time and do not count): each module can be read, and loaded, after the ones it uses.
 * And the CPU backend (src/backend/cpu/) is the only part of src/ that uses libeager
 * (src/native/), but for the generated enum codes, which name the ops for any backend.
 */
import { assertEquals } from "./helpers.ts";

const src = new URL("../src", import.meta.url).pathname;
const VALUE_IMPORT = /^(?:import|export)(?!\s+type\b)[^;]*?\bfrom\s+"(\.[^"]+)"/gms;

function imports(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (path.endsWith(".ts")) {
        const text = Deno.readTextFileSync(path);
        const targets = [...text.matchAll(VALUE_IMPORT)].map((m) =>
          new URL(m[1], `file://${path}`).pathname
        );
        graph.set(path, targets);
      }
    }
  };
  walk(src);
  return graph;
}

/** The modules on a cycle, each cycle as the path around it (depth-first search). */
function cycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, "open" | "done">(), stack: string[] = [], found: string[][] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === "open") found.push(stack.slice(stack.indexOf(next)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found.map((c) => c.map((p) => p.slice(src.length + 1)));
}

Deno.test("src/ has no import cycle", () => {
  assertEquals(cycles(imports()), []);
});

Deno.test("the cycle check sees a cycle and ignores type-only imports", () => {
  assertEquals(
    cycles(new Map([[`${src}/a.ts`, [`${src}/b.ts`]], [`${src}/b.ts`, [`${src}/a.ts`]]])),
    [
      ["a.ts", "b.ts"],
    ],
  );
  const typeOnly = 'import type { Tensor } from "./tensor.ts";\nexport type { X } from "./x.ts";';
  assertEquals([...typeOnly.matchAll(VALUE_IMPORT)].length, 0);
  const value = 'import {\n  a,\n  type B,\n} from "./a.ts";\nexport { c } from "./c.ts";';
  assertEquals([...value.matchAll(VALUE_IMPORT)].map((m) => m[1]), ["./a.ts", "./c.ts"]);
});

Deno.test("only src/backend/cpu/ uses src/native/ (but its generated codes.ts)", () => {
  const native = `${src}/native/`, cpu = `${src}/backend/cpu/`;
  const offenders = [...imports()].flatMap(([from, targets]) =>
    from.startsWith(native) || from.startsWith(cpu)
      ? []
      : targets.filter((t) => t.startsWith(native) && t !== `${native}codes.ts`)
        .map((t) => `${from.slice(src.length + 1)} -> ${t.slice(src.length + 1)}`)
  );
  assertEquals(offenders, []);
  const root = new URL("../mod.ts", import.meta.url);
  const modImports = [...Deno.readTextFileSync(root).matchAll(VALUE_IMPORT)].map((m) => m[1]);
  assertEquals(
    modImports.filter((p) => p.startsWith("./src/native/") && !p.endsWith("codes.ts")),
    [],
  );
});
