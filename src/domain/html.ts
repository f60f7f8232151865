/** Small, bounded helpers for reading HTML without a DOM: tags by regex, attributes by a strict parser. */

const ATTRIBUTE = /([a-zA-Z_:][-\w:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

export function parseAttributes(tag: string): Record<string, string> {
  const inner = tag.replace(/^<\s*[a-zA-Z][\w-]*/, "").replace(/\/?>$/, "");
  const attributes: Record<string, string> = {};
  for (const match of inner.matchAll(ATTRIBUTE)) {
    const name = match[1]?.toLowerCase();
    if (name && !(name in attributes))
      attributes[name] = decodeEntities(match[2] ?? match[3] ?? match[4] ?? "");
  }
  return attributes;
}

/** Every opening tag of one element name, with its attributes and where it ends in the text. */
export function* openingTags(html: string, element: string) {
  const pattern = new RegExp(`<${element}\\b[^>]*>`, "gi");
  for (const match of html.matchAll(pattern)) {
    yield { attributes: parseAttributes(match[0]), end: (match.index ?? 0) + match[0].length };
  }
}

/** The text of the first `<script>` whose id is `id`, whatever its other attributes and their order. */
export function scriptById(html: string, id: string): string | undefined {
  for (const tag of openingTags(html, "script")) {
    if (tag.attributes.id !== id) continue;
    const close = html.indexOf("</script>", tag.end);
    return close === -1 ? undefined : html.slice(tag.end, close);
  }
  return undefined;
}

/** The attributes of the first element whose id is `id`: of that name, or of any name with "*". */
export function elementById(html: string, element: string, id: string): Record<string, string> | undefined {
  for (const tag of openingTags(html, element === "*" ? "[a-zA-Z][\\w-]*" : element))
    if (tag.attributes.id === id) return tag.attributes;
  return undefined;
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  "#39": "'",
  "#x2F": "/",
};

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name in ENTITIES) return ENTITIES[name] ?? whole;
    if (name[0] === "#") {
      const code =
        name[1]?.toLowerCase() === "x" ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return whole;
  });
}

/** Non-nested elements of one name (`<a …>…</a>`, `<p>…</p>`): attributes and inner HTML. */
export function* elements(html: string, element: string) {
  const close = `</${element}>`;
  for (const tag of openingTags(html, element)) {
    const end = html.toLowerCase().indexOf(close, tag.end);
    if (end === -1) continue;
    yield { attributes: tag.attributes, inner: html.slice(tag.end, end) };
  }
}

/** Visible text of an HTML fragment: tags dropped, entities decoded, spaces collapsed. */
export function textOf(fragment: string): string {
  return decodeEntities(fragment.replace(/<[^>]*>/g, " "))
    .replace(/\s+/g, " ")
    .trim();
}

/** Whether a class attribute holds every one of these class names. */
export function hasClasses(attributes: Record<string, string>, ...names: string[]): boolean {
  const classes = new Set((attributes.class ?? "").split(/\s+/));
  return names.every((name) => classes.has(name));
}
