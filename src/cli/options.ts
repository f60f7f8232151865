import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { visible } from "../domain/files.js";
import { readLocalFile } from "../domain/local-files.js";
import { templateProblem } from "../domain/output-template.js";

export const USAGE = `Usage: tiktok-dl [options] <url...>

Downloads TikTok posts (videos, photo posts, short links), and every post of a profile, a collection
or a playlist, newest first, to the current folder.

Options:
  -o, --output DIR        where to save the files (default: the current folder)
  -i, --input FILE        read links from FILE, one per line (# starts a comment)
      --audio             save the audio only
      --images            photo posts: every image plus the audio
      --zip               photo posts: one ZIP of the images and the audio
      --hd                videos: the HD file when there is one
      --provider NAME     ask this source first (see /api/providers)
      --force             download files again even when a complete one is already there
      --json              print the results as JSON (a listing's items as JSON lines), download nothing
      --limit N           lists: the newest N posts only
      --since DATE        lists: posts from DATE on (YYYY-MM-DD or an ISO date and time)
      --until DATE        lists: posts up to DATE
      --type video|photo  lists: only this kind of post
      --output-template T name the files with a template, folders made inside -o: {user} {id} {date}
                          (YYYYMMDD) {title} (the caption) {kind} (video or photo) {list} (the profile,
                          collection or playlist saved) {index} (a photo's number) {ext}; for example
                          "{user}/{date}_{id}.{ext}" (default: the server's names, tiktok_<user>_<id>.mp4)
      --write-info-json   save each post's JSON result beside its files (<name>.info.json)
      --break-on-existing with --archive: stop listing at the first post already in the archive (posts
                          come newest first, so a sync of a creator costs one list request)
      --archive FILE      yt-dlp's download archive: skip the posts listed in FILE ("tiktok <id>"),
                          add each post once all its files are saved
      --cookies FILE      your own TikTok login, a Netscape cookies.txt as browser extensions export it:
                          for your private tabs (liked, saved, ...) and /following (the stories of
                          the accounts you follow); sent to TikTok's own hosts only,
                          kept in memory, never written (not with --server: a server never takes them)
      --server URL        use a running tiktok-dl server instead of extracting here
  -c, --concurrency N     posts handled at once (default 3)
  -h, --help              this help
  -V, --version           the version

Without --server, extraction runs in this process and reads the same environment as the server
(UPSTREAM_*, ALLOW_PRIVATE_UPSTREAMS, ...). Exit codes: 0 all done, 1 some failed, 2 usage error.`;

/**
 * A run that cannot start as asked; `showUsage`: the whole help follows (false where the one line says
 * all there is to say: options that do not go together, a folder that cannot be written).
 */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly showUsage = true,
  ) {
    super(message);
  }
}

export interface Options {
  links: string[];
  output: string;
  audio: boolean;
  images: boolean;
  zip: boolean;
  hd: boolean;
  provider?: string;
  json: boolean;
  server?: string;
  concurrency: number;
  limit?: number;
  since?: number;
  until?: number;
  postType?: "video" | "photo";
  archive?: string;
  force: boolean;
  /** File names from a template (`{user}/{id}.{ext}`), inside `output`. */
  template?: string;
  /** The post's result as JSON beside its files. */
  writeInfoJson: boolean;
  /** Stop a listing at the first post the archive has. */
  breakOnExisting: boolean;
  /** The user's own cookies.txt (in-process only). */
  cookies?: string;
  /** Files no download may replace: the archive and the list of links. */
  protectedPaths: Set<string>;
}

/** A list of links, and an archive, are text files of reasonable size. */
const LINKS_FILE_MAX_BYTES = 16 * 1024 * 1024;
export const ARCHIVE_MAX_BYTES = 64 * 1024 * 1024;

/** The command line's options, as node's parseArgs takes them. */
const OPTION_SPEC = {
  output: { type: "string", short: "o" },
  input: { type: "string", short: "i" },
  audio: { type: "boolean" },
  images: { type: "boolean" },
  zip: { type: "boolean" },
  hd: { type: "boolean" },
  provider: { type: "string" },
  json: { type: "boolean" },
  server: { type: "string" },
  concurrency: { type: "string", short: "c" },
  limit: { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
  type: { type: "string" },
  archive: { type: "string" },
  force: { type: "boolean" },
  "output-template": { type: "string" },
  "write-info-json": { type: "boolean" },
  "break-on-existing": { type: "boolean" },
  cookies: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

export async function readOptions(argv: string[]): Promise<Options | "help" | "version"> {
  let parsed: ReturnType<typeof parse>;
  const parse = () => parseArgs({ args: argv, allowPositionals: true, options: OPTION_SPEC });
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  if (values.version) return "version";
  const links = [...positionals];
  if (values.input) {
    const text = await readLocalFile(values.input, LINKS_FILE_MAX_BYTES).catch((error: Error) => {
      throw new UsageError(visible(error.message));
    });
    links.push(
      ...text
        .split(/\r?\n/)
        .map((line) => line.replace(/#.*/, "").trim())
        .filter(Boolean),
    );
  }
  if (links.length === 0) throw new UsageError("give at least one link (or -i FILE)");
  const concurrency = values.concurrency === undefined ? 3 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32)
    throw new UsageError("--concurrency must be a whole number from 1 to 32");
  if (values.server !== undefined && !/^https?:\/\/[^\s]+$/i.test(values.server))
    throw new UsageError("--server must be an http(s) URL");
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new UsageError("--limit must be a whole number of at least 1");
  if (values.cookies !== undefined && values.server !== undefined)
    throw new UsageError("--cookies works without --server: a server never takes your cookies", false);
  if (values["break-on-existing"] && !values.archive)
    throw new UsageError("--break-on-existing needs --archive FILE (the posts already saved)", false);
  if (values.type !== undefined && values.type !== "video" && values.type !== "photo")
    throw new UsageError("--type must be video or photo");
  return {
    links,
    limit,
    since: dateOption("--since", values.since),
    until: dateOption("--until", values.until, true),
    postType: values.type as Options["postType"],
    archive: values.archive,
    force: values.force ?? false,
    template: checkedTemplate(values["output-template"]),
    writeInfoJson: values["write-info-json"] ?? false,
    breakOnExisting: values["break-on-existing"] ?? false,
    cookies: values.cookies,
    protectedPaths: new Set(
      [values.archive, values.input].filter((path) => path !== undefined).map((path) => resolve(path)),
    ),
    output: values.output ?? ".",
    audio: values.audio ?? false,
    images: values.images ?? false,
    zip: values.zip ?? false,
    hd: values.hd ?? false,
    provider: values.provider,
    json: values.json ?? false,
    server: values.server?.replace(/\/+$/, ""),
    concurrency,
  };
}

/** A date option as ms: a day (YYYY-MM-DD, its end for --until) or an ISO date and time. */
function dateOption(name: string, value: string | undefined, endOfDay = false): number | undefined {
  if (value === undefined) return undefined;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const ms = Date.parse(day ? `${value}T${endOfDay ? "23:59:59.999" : "00:00:00.000"}Z` : value);
  if (!Number.isFinite(ms)) throw new UsageError(`${name} must be a date (YYYY-MM-DD or ISO 8601)`);
  return ms;
}

/** --output-template, checked: a template that would leave -o, or names an unknown field, is a usage error. */
function checkedTemplate(template: string | undefined): string | undefined {
  if (template === undefined) return undefined;
  const problem = templateProblem(template);
  if (problem) throw new UsageError(`--output-template ${problem}`);
  return template;
}
