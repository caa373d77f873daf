/**
 * The colorbot's data: real named colours and their RGB values, from
 *  - npm's `color-name-list` (about 31,900 names, `{ name, hex }` records; the default),
 *  - X11's rgb.txt (`R G B<tab>name`, about 750 names; Debian's `x11-common`), or
 *  - a CSV file with lines `name,r,g,b` (TensorFlow's colorbot data) or `name,#rrggbb`
 *    (color-name-list's own CSV), an optional header line first.
 *
 * Names are encoded as characters of a fixed alphabet (see `encodeName`), and split into
 * train and test by a hash of the name, so the split does not depend on the file's order
 * or on the other names. Nothing is downloaded at run time.
 * @module
 */

/** A named colour: the name as written and its channels, integers 0..255. */
export interface NamedColour {
  name: string;
  rgb: [number, number, number];
}

/** A train and a test split of named colours. */
export interface ColourData {
  /** Where the colours came from, for the report. */
  source: string;
  train: NamedColour[];
  test: NamedColour[];
}

/** X11's colour table, as Debian's x11-common installs it. */
export const X11_RGB_TXT = "/usr/share/X11/rgb.txt";

/** The share of the names (by hash, not by position) in the test split. */
export const TEST_FRACTION = 0.1;

/**
 * The characters a name is spelled with after `normalizeName`; every other character is
 * one shared "other" symbol, index ALPHABET.length. The digits and four punctuation marks
 * are what color-name-list's names use beyond letters and spaces.
 */
export const ALPHABET = " abcdefghijklmnopqrstuvwxyz0123456789'-&.";

/** Width of a character's one-hot vector: the alphabet and the "other" symbol. */
export const SYMBOLS = ALPHABET.length + 1;

const INDEX = new Map([...ALPHABET].map((c, i) => [c, i]));

/**
 * Lowercase, with diacritics removed ("Zürich" -> "zurich") and typographic apostrophes
 * made plain, so that the alphabet covers almost every character of real names.
 */
export function normalizeName(name: string): string {
  return name.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/[\u2018\u2019]/g, "'");
}

/**
 * The character indices of a name (after normalizeName), each in [0, SYMBOLS).
 * @example
 * ```ts
 * import { encodeName } from "./colorbot_data.ts";
 * encodeName("Red!"); // Int32Array [18, 5, 4, 41]: r, e, d and "other"
 * ```
 */
export function encodeName(name: string): Int32Array {
  return Int32Array.from([...normalizeName(name)], (c) => INDEX.get(c) ?? ALPHABET.length);
}

/**
 * A hex colour `#rrggbb` or `#rgb` (the `#` optional) as integers 0..255.
 * @example
 * ```ts
 * import { parseHex } from "./colorbot_data.ts";
 * parseHex("#c93f38"); // [201, 63, 56]
 * ```
 */
export function parseHex(hex: string, where = "parseHex"): [number, number, number] {
  const digits = hex.trim().replace(/^#/, "");
  if (!/^([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(digits)) {
    throw new SyntaxError(`${where}: expected a hex colour #rrggbb or #rgb, got "${hex}"`);
  }
  const full = digits.length === 3 ? [...digits].map((d) => d + d).join("") : digits;
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as [number, number, number];
}

/** A channel value as written in a file: an integer 0..255, or a clear error. */
function channel(text: string, where: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value) || value < 0 || value > 255) {
    throw new SyntaxError(`${where}: a channel must be an integer 0..255, got "${text}"`);
  }
  return value;
}

/**
 * X11's rgb.txt: `R G B<whitespace>name` per line; lines starting with `!` are comments.
 * Errors name `file` and the line.
 * @example
 * ```ts
 * import { parseRgbTxt } from "./colorbot_data.ts";
 * parseRgbTxt("! comment\n255 250 250\t\tsnow\n"); // [{ name: "snow", rgb: [255, 250, 250] }]
 * ```
 */
export function parseRgbTxt(text: string, file = "rgb.txt"): NamedColour[] {
  const colours: NamedColour[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    if (line.trim() === "" || line.trimStart().startsWith("!")) return;
    const match = /^\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S.*?)\s*$/.exec(line);
    if (!match) throw new SyntaxError(`${where}: expected "R G B name", got "${line}"`);
    const rgb = [2, 3, 4].map((k) => channel(match[k - 1], where)) as NamedColour["rgb"];
    colours.push({ name: match[4], rgb });
  });
  return colours;
}

/**
 * CSV lines `name,r,g,b` or `name,#rrggbb`. The colour is read from the last fields, so a
 * name may contain commas; a name in double quotes loses them. A first line whose colour
 * fields are not numbers (`name,red,green,blue`, `name,hex`) is a header and skipped.
 * @example
 * ```ts
 * import { parseColourCsv } from "./colorbot_data.ts";
 * parseColourCsv("name,red,green,blue\nsky,135,206,235\nrust,#b7410e\n");
 * // [{ name: "sky", rgb: [135, 206, 235] }, { name: "rust", rgb: [183, 65, 14] }]
 * ```
 */
export function parseColourCsv(text: string, file = "colours.csv"): NamedColour[] {
  const colours: NamedColour[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    if (line.trim() === "") return;
    const fields = line.split(",");
    // A first line with no number or hex colour after the name is a header.
    if (i === 0 && fields.slice(1).every((f) => !/^\s*[#\d]/.test(f))) return;
    const last = fields[fields.length - 1].trim();
    const hex = fields.length >= 2 && /^#/.test(last);
    const count = hex ? 1 : 3;
    if (fields.length < count + 1) {
      throw new SyntaxError(`${where}: expected "name,r,g,b" or "name,#rrggbb", got "${line}"`);
    }
    const tail = fields.slice(-count).map((f) => f.trim());
    const name = fields.slice(0, -count).join(",").trim().replace(/^"(.*)"$/, "$1");
    if (name === "") throw new SyntaxError(`${where}: the name is empty in "${line}"`);
    const rgb = hex
      ? parseHex(last, where)
      : tail.map((f) => channel(f, where)) as NamedColour["rgb"];
    colours.push({ name, rgb });
  });
  return colours;
}

/** 32-bit FNV-1a of a string's UTF-16 units: a stable hash for the split. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Whether a name belongs to the test split: by a hash of its letters and digits only, so
 * the spellings of one name ("ghost white", "GhostWhite") land in the same split and the
 * test names are unseen in training.
 */
export function isTestName(name: string): boolean {
  const key = normalizeName(name).replace(/[^a-z0-9]/g, "");
  return fnv1a(key) / 2 ** 32 < TEST_FRACTION;
}

/** Splits colours by isTestName, keeping their order within each split. */
export function splitColours(source: string, colours: NamedColour[]): ColourData {
  if (colours.length === 0) throw new Error(`${source}: no colours`);
  const train: NamedColour[] = [], test: NamedColour[] = [];
  for (const c of colours) (isTestName(c.name) ? test : train).push(c);
  if (train.length === 0 || test.length === 0) {
    throw new Error(
      `${source}: ${colours.length} colour(s) give an empty ${train.length ? "test" : "train"} ` +
        "split; the file needs more names",
    );
  }
  return { source, train, test };
}

/** npm's color-name-list, imported as the package's ES module (no file path needed). */
export async function loadColorNameList(): Promise<NamedColour[]> {
  const { colornames } = await import("color-name-list");
  return colornames.map(({ name, hex }: { name: string; hex: string }, i: number) => ({
    name,
    rgb: parseHex(hex, `color-name-list entry ${i} (${name})`),
  }));
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `${path}: no such file` +
          (path === X11_RGB_TXT
            ? " (Debian's x11-common installs it: apt-get install x11-common)"
            : ""),
      );
    }
    throw new Error(`${path}: cannot read it: ${(error as Error).message}`);
  }
}

/**
 * Loads and splits the colours of `--data`: "color-name-list" (default), "x11", or the
 * path of a CSV file (or of an rgb.txt-format file, if its name ends in `.txt`).
 * @example
 * ```ts
 * import { loadColours } from "./colorbot_data.ts";
 * const { train, test } = await loadColours("x11");
 * ```
 */
export async function loadColours(data = "color-name-list"): Promise<ColourData> {
  if (data === "color-name-list") {
    return splitColours("color-name-list (npm)", await loadColorNameList());
  }
  if (data === "x11") {
    return splitColours(X11_RGB_TXT, parseRgbTxt(readText(X11_RGB_TXT), X11_RGB_TXT));
  }
  const text = readText(data);
  const colours = data.endsWith(".txt") ? parseRgbTxt(text, data) : parseColourCsv(text, data);
  return splitColours(data, colours);
}
