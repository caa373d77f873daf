/**
 * Reads the declarations of csrc/include/eager.h that the generators need: the EAGER_API
 * prototypes, the `typedef enum`s and the `typedef struct`s. The header's own style is
 * what these patterns expect (one declaration per statement, no macros in signatures).
 * @module
 */

/** One prototype of eager.h. */
export interface Prototype {
  name: string;
  result: string;
  /** Each parameter as written ("const int64_t *shape") and its name alone. */
  params: { text: string; name: string }[];
}

/** The EAGER_API prototypes of a header, in order. */
export function parsePrototypes(header: string): Prototype[] {
  const found: Prototype[] = [];
  const pattern = /EAGER_API\s+([^;(]*?)\b(eager_\w+)\s*\(([^)]*)\)\s*;/g;
  for (const [, result, name, list] of header.matchAll(pattern)) {
    const texts = list.split(",").map((p) => p.replace(/\s+/g, " ").trim());
    const params = texts.length === 1 && texts[0] === "void" ? [] : texts.map((text) => {
      const last = /(\w+)$/.exec(text);
      if (!last) throw new Error(`c_header: cannot name a parameter of ${name}: "${text}"`);
      return { text, name: last[1] };
    });
    found.push({ name, result: result.replace(/\s+/g, " ").trim(), params });
  }
  return found;
}

/** Removes C comments, keeping line structure. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "));
}

/** One `typedef enum { ... } name;` of the header: its members, in order, with values. */
export interface CEnum {
  name: string;
  members: { name: string; value: number }[];
}

export function parseEnums(header: string): CEnum[] {
  const found: CEnum[] = [];
  for (const [, body, name] of stripComments(header).matchAll(/typedef enum \{([^}]*)\} (\w+);/g)) {
    let next = 0;
    const members = body.split(",").map((m) => m.trim()).filter((m) => m).map((m) => {
      const [, member, value] = /^(\w+)(?:\s*=\s*(-?\d+))?$/.exec(m) ?? [];
      if (!member) throw new Error(`c_header: cannot read member "${m}" of ${name}`);
      next = value === undefined ? next : Number(value);
      return { name: member, value: next++ };
    });
    found.push({ name, members });
  }
  return found;
}

/** One `typedef struct { ... } name;` whose fields are all int64_t. */
export interface CStruct {
  name: string;
  fields: string[];
}

export function parseStructs(header: string): CStruct[] {
  const found: CStruct[] = [];
  const text = stripComments(header);
  for (const [, body, name] of text.matchAll(/typedef struct \{([^}]*)\} (\w+);/g)) {
    const fields = body.split(";").map((d) => d.trim()).filter((d) => d).flatMap((d) => {
      const [, type, names] = /^(\w+)\s+(.+)$/.exec(d.replace(/\s+/g, " ")) ?? [];
      if (type !== "int64_t") {
        throw new Error(`c_header: ${name}: only int64_t fields travel to TypeScript ("${d}")`);
      }
      return names.split(",").map((n) => n.trim());
    });
    found.push({ name, fields });
  }
  return found;
}
