/**
 * The project's files stand on their own: no pointer to a design document or folder outside
 * the repository, and every relative link of the Markdown files resolves.
 */
import { ok as assert } from "node:assert";

const root = new URL("..", import.meta.url).pathname;
const FOLDERS = ["docs", "src", "csrc", "scripts", "bench", "tests", "examples"];
const OUTSIDE = /\bDESIGN\.md\b|\.\.\/shared\//;

function* textFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory && entry.name !== "fixtures") yield* textFiles(path);
    else if (/\.(ts|md|c|h|py|zig)$/.test(entry.name)) yield path;
  }
}

const files = [`${root}README.md`, ...FOLDERS.flatMap((f) => [...textFiles(`${root}${f}`)])];

Deno.test("no file points outside the repository", () => {
  const self = new URL(import.meta.url).pathname;
  const offenders = files.filter((f) => f !== self && OUTSIDE.test(Deno.readTextFileSync(f)));
  assert(offenders.length === 0, `outside references in ${offenders.join(", ")}`);
});

Deno.test("the Markdown files' relative links resolve", () => {
  const broken: string[] = [];
  for (const file of files.filter((f) => f.endsWith(".md"))) {
    const dir = file.slice(0, file.lastIndexOf("/"));
    for (
      const [, target] of Deno.readTextFileSync(file).matchAll(/\]\(([^)#:\s]+)(?:#[^)]*)?\)/g)
    ) {
      try {
        Deno.statSync(`${dir}/${target}`);
      } catch {
        broken.push(`${file.slice(root.length)} -> ${target}`);
      }
    }
  }
  assert(broken.length === 0, `broken links: ${broken.join(", ")}`);
});
