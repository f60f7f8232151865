/**
 * The "packed" answers of snaptik, tikmate and old savetik: the decoder `function(h,u,n,t,e,r){…}` called
 * on six arguments, the whole wrapped in an eval call
 * (docs/upstreams/providers.md, "Packed-script obfuscation"). The function is always the same decoder, so we read the six
 * arguments from the text and apply its arithmetic here. Nothing in the script is ever run.
 */

export const MAX_PACKED_BYTES = 2 * 1024 * 1024;
/** A chunk encodes one byte plus the offset: a handful of digits even in base 2. */
const MAX_CHUNK_LENGTH = 64;

export class PackedScriptError extends Error {
  override name = "PackedScriptError";
}

export interface PackedArguments {
  payload: string;
  alphabet: string;
  offset: number;
  base: number;
}

/** Decodes a packed script into the JavaScript text it hides. Throws PackedScriptError on bad input. */
export function decodePackedScript(text: string): string {
  if (text.length > MAX_PACKED_BYTES)
    throw new PackedScriptError(`packed script over ${MAX_PACKED_BYTES} bytes`);
  const args = findArguments(text);
  if (!args) throw new PackedScriptError("no packed-script call found");
  return decodeArguments(args);
}

export function decodeArguments({ payload, alphabet, offset, base }: PackedArguments): string {
  if (!Number.isInteger(base) || base < 2 || base >= alphabet.length || base > 36)
    throw new PackedScriptError(`unusable base ${base} for an alphabet of ${alphabet.length}`);
  const delimiter = alphabet[base] as string;
  const digits = new Map<string, number>();
  for (let j = 0; j < base; j++) {
    const symbol = alphabet[j] as string;
    if (digits.has(symbol) || symbol === delimiter)
      throw new PackedScriptError("the alphabet repeats a symbol");
    digits.set(symbol, j);
  }
  const bytes: number[] = [];
  let chunkStart = 0;
  for (let i = 0; i <= payload.length; i++) {
    if (i < payload.length && payload[i] !== delimiter) continue;
    if (i === payload.length && chunkStart === i) break; // the empty tail after the last delimiter
    if (i === payload.length) throw new PackedScriptError("the payload does not end with its delimiter");
    bytes.push(chunkValue(payload.slice(chunkStart, i), digits, base) - offset);
    chunkStart = i + 1;
  }
  for (const byte of bytes)
    if (!Number.isInteger(byte) || byte < 0 || byte > 255)
      throw new PackedScriptError("a decoded byte is out of range");
  return Buffer.from(bytes).toString("utf8");
}

function chunkValue(chunk: string, digits: Map<string, number>, base: number): number {
  if (chunk.length === 0 || chunk.length > MAX_CHUNK_LENGTH)
    throw new PackedScriptError("a chunk has a bad length");
  let value = 0;
  for (const symbol of chunk) {
    const digit = digits.get(symbol);
    if (digit === undefined)
      throw new PackedScriptError(`"${symbol.slice(0, 4)}" is not a digit of the alphabet`);
    value = value * base + digit;
  }
  return value;
}

/** Reads the final `}("h", u, "n", t, e, r))` call: a tiny scanner, no regular-expression backtracking. */
export function findArguments(text: string): PackedArguments | undefined {
  let from = text.length;
  for (let tries = 0; tries < 8; tries++) {
    const start = text.lastIndexOf('}("', from);
    if (start === -1) return undefined;
    const parsed = parseCall(text, start + 2);
    if (parsed) return parsed;
    from = start - 1;
    if (from < 0) return undefined;
  }
  return undefined;
}

function parseCall(text: string, position: number): PackedArguments | undefined {
  const scanner = new Scanner(text, position);
  const payload = scanner.string();
  const unused = scanner.comma() && scanner.integer();
  const alphabet = scanner.comma() ? scanner.string() : undefined;
  const offset = scanner.comma() ? scanner.integer() : undefined;
  const base = scanner.comma() ? scanner.integer() : undefined;
  const last = scanner.comma() ? scanner.integer() : undefined;
  if (payload === undefined || unused === undefined || unused === false || alphabet === undefined)
    return undefined;
  if (offset === undefined || base === undefined || last === undefined || !scanner.closing())
    return undefined;
  return { payload, alphabet, offset, base };
}

class Scanner {
  constructor(
    private readonly text: string,
    private position: number,
  ) {}

  private skipSpace() {
    while (/\s/.test(this.text[this.position] ?? "")) this.position++;
  }

  comma(): boolean {
    this.skipSpace();
    if (this.text[this.position] !== ",") return false;
    this.position++;
    return true;
  }

  closing(): boolean {
    this.skipSpace();
    return this.text[this.position] === ")";
  }

  integer(): number | undefined {
    this.skipSpace();
    const match = /^-?\d{1,9}/.exec(this.text.slice(this.position, this.position + 10));
    if (!match) return undefined;
    this.position += match[0].length;
    return Number(match[0]);
  }

  /** A double-quoted literal; the payload and alphabet never need escapes, so one is refused. */
  string(): string | undefined {
    this.skipSpace();
    if (this.text[this.position] !== '"') return undefined;
    const end = this.text.indexOf('"', this.position + 1);
    if (end === -1) return undefined;
    const value = this.text.slice(this.position + 1, end);
    if (value.includes("\\")) return undefined;
    this.position = end + 1;
    return value;
  }
}

/** The HTML a decoded script writes with `….innerHTML = "…"`, its JavaScript string escapes undone. */
export function innerHtmlOf(script: string): string | undefined {
  const start = /innerHTML\s*=\s*(["'])/.exec(script);
  if (!start || start.index === undefined) return undefined;
  const quote = start[1];
  let html = "";
  for (let i = start.index + start[0].length; i < script.length; i++) {
    const char = script[i] as string;
    if (char === quote) return html;
    if (char !== "\\") {
      html += char;
      continue;
    }
    const next = script[++i] ?? "";
    if (next === "n") html += "\n";
    else if (next === "t") html += "\t";
    else if (next === "u" && /^[0-9a-fA-F]{4}$/.test(script.slice(i + 1, i + 5))) {
      html += String.fromCharCode(Number.parseInt(script.slice(i + 1, i + 5), 16));
      i += 4;
    } else html += next;
  }
  return undefined;
}
