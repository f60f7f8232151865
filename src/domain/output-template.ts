import { badRequest } from "./errors.js";
import { MAX_NAME_BYTES, safeFileName } from "./files.js";

/**
 * File names people choose (yt-dlp's `-o`, gallery-dl's format strings): `{user}/{date}_{id}.{ext}`. Each
 * field is made safe for a file name before it is put in, so a value can never add a folder; `/` in the
 * template itself makes folders, always inside the output folder.
 */
export const TEMPLATE_FIELDS = ["user", "id", "date", "title", "kind", "list", "index", "ext"] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];
export type TemplateValues = Partial<Record<TemplateField, string | number | undefined>>;

/** A caption in a name: one line, at most this many characters (the whole name is capped in bytes anyway). */
const TITLE_CHARACTERS = 80;

/** The template's problem, if any: unknown fields, an absolute path, `..`, an empty folder or name. */
export function templateProblem(template: string): string | undefined {
  if (template.trim() === "") return "is empty";
  const unknown = [...template.matchAll(/\{([^{}]*)\}/g)]
    .map((match) => match[1] as string)
    .filter((name) => !(TEMPLATE_FIELDS as readonly string[]).includes(name));
  if (unknown.length > 0)
    return `has unknown field(s) ${unknown.map((name) => `{${name}}`).join(", ")}; known: ${TEMPLATE_FIELDS.map((name) => `{${name}}`).join(" ")}`;
  if (/^[/\\]|^[A-Za-z]:/.test(template)) return "must be a relative path (it is put inside -o)";
  const segments = template.split(/[/\\]/);
  if (segments.some((segment) => segment.trim() === ".." || segment.trim() === "."))
    return "may not leave the output folder (no . or .. folders)";
  if (segments.some((segment) => segment.trim() === "")) return "has an empty folder or file name";
  return undefined;
}

/** Checks a template as a request field (a 400 that names the problem). */
export function checkTemplate(template: string): void {
  const problem = templateProblem(template);
  if (problem) throw badRequest("INVALID_PARAMETER", `The output template ${problem}.`);
}

/**
 * The relative path a template gives for these values: each field made safe (no slash, no control
 * character), each folder and the file name shortened to what file systems allow, the extension kept.
 */
export function renderTemplate(template: string, values: TemplateValues): string {
  const segments = template.split(/[/\\]/);
  return segments
    .map((segment, position) => {
      const last = position === segments.length - 1;
      const text = segment.replace(/\{(\w+)\}/g, (_, name: TemplateField) => fieldText(name, values));
      return safeFileName(text, last ? `tiktok_${values.id ?? "file"}.${values.ext ?? "bin"}` : "_");
    })
    .join("/");
}

function fieldText(name: TemplateField, values: TemplateValues): string {
  const value = values[name];
  if (value === undefined || value === "") return name === "title" ? "untitled" : "";
  const text = String(value);
  if (name === "title")
    return [...text.replace(/\s+/g, " ").trim()].slice(0, TITLE_CHARACTERS).join("").replace(/[/\\]/g, "_");
  // A value never makes a folder, whatever it holds.
  return safeFileName(text.replace(/[/\\]/g, "_"), "_").slice(0, MAX_NAME_BYTES);
}

/** A post's date as YYYYMMDD (UTC), as yt-dlp's `upload_date`. */
export const templateDate = (iso: string | undefined) =>
  iso && !Number.isNaN(Date.parse(iso))
    ? new Date(iso).toISOString().slice(0, 10).replaceAll("-", "")
    : undefined;

/** What a file's server name says of it: its extension, and a photo's number. */
export function fileNameFacts(name: string): { ext: string; index?: number } {
  const ext = /\.([A-Za-z0-9]{1,10})$/.exec(name)?.[1]?.toLowerCase() ?? "bin";
  const photo = /_photo_(\d+)\.[^.]+$/.exec(name)?.[1];
  return { ext, ...(photo ? { index: Number(photo) } : {}) };
}

/**
 * A template that names a post's numbered files (a photo post's images) alike gets `_{index}` before its
 * extension (or at its end): one post's files never share a name.
 */
export function withIndex(template: string): string {
  if (template.includes("{index}")) return template;
  return template.endsWith(".{ext}")
    ? `${template.slice(0, -".{ext}".length)}_{index}.{ext}`
    : `${template}_{index}`;
}

/** What a template may say of a post (its API result has these fields), and the listing it came from. */
export interface PostFacts {
  id: string;
  author?: { username?: string };
  caption?: string;
  createdAt?: string;
  type?: string;
}

/**
 * How a post's files are named: the server's names, or the template filled from the post (its author,
 * id, date, caption, kind), the listing it came from, and the file (a photo's number, its type).
 * `info`: the name of the post's `.info.json`.
 */
export function fileNamer(template: string | undefined, post: PostFacts, list?: string) {
  const user = post.author?.username;
  return (serverName: string, info = false): string => {
    if (!template) return info ? `tiktok_${user || "unknown"}_${post.id}.info.json` : serverName;
    const file = fileNameFacts(serverName);
    return renderTemplate(file.index !== undefined && !info ? withIndex(template) : template, {
      user,
      id: post.id,
      date: templateDate(post.createdAt),
      title: post.caption,
      kind: post.type,
      list,
      index: info ? undefined : file.index,
      ext: info ? "info.json" : file.ext,
    });
  };
}
