import { appendFile, mkdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Transform } from "node:stream";
import { parseArgs } from "node:util";
import { mapLimited } from "../domain/concurrency.js";
import { isPostId, safeFileName, visible } from "../domain/files.js";
import { itemsOfPages } from "../domain/lists.js";
import { type LocalFileError, readLocalFile } from "../domain/local-files.js";
import { parseTikTokListLink } from "../domain/tiktok-url.js";
import { writeFileAtomically } from "../library/files.js";
import { type PostFile, TikTokDlError } from "../library/index.js";
import { packageVersion } from "../service/version.js";
import { type Backend, localBackend, remoteBackend } from "./backend.js";
import { Progress } from "./progress.js";

const USAGE = `Usage: tiktok-dl [options] <url...>

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
      --archive FILE      yt-dlp's download archive: skip the posts listed in FILE ("tiktok <id>"),
                          add each post once all its files are saved
      --server URL        use a running tiktok-dl server instead of extracting here
  -c, --concurrency N     posts handled at once (default 3)
  -h, --help              this help
  -V, --version           the version

Without --server, extraction runs in this process and reads the same environment as the server
(UPSTREAM_*, ALLOW_PRIVATE_UPSTREAMS, ...). Exit codes: 0 all done, 1 some failed, 2 usage error.`;

class UsageError extends Error {}

interface Options {
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
  /** Files no download may replace: the archive and the list of links. */
  protectedPaths: Set<string>;
}

/** A list of links, and an archive, are text files of reasonable size. */
const LINKS_FILE_MAX_BYTES = 16 * 1024 * 1024;
const ARCHIVE_MAX_BYTES = 64 * 1024 * 1024;

async function readOptions(argv: string[]): Promise<Options | "help" | "version"> {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
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
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    });
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

/** One post to handle: its link, and where it comes from (a listing's "post 37 of 412"). */
interface Job {
  link: string;
  /** Known before any request when the post came from a listing. */
  id?: string;
  label?: string;
}

/** Whether a link names a profile, a collection or a playlist (short links are tried as posts first). */
function isListLink(link: string): boolean {
  try {
    return parseTikTokListLink(link).kind === "list";
  } catch {
    return false;
  }
}

/** yt-dlp's download archive: one `tiktok <id>` line per saved post. */
async function openArchive(path: string | undefined) {
  const ids = new Set<string>();
  if (path) {
    const text = await readLocalFile(path, ARCHIVE_MAX_BYTES).catch((error: LocalFileError) => {
      if (error.why === "ENOENT") return "";
      throw new UsageError(`the archive: ${visible(error.message)}`);
    });
    for (const line of text.split(/\r?\n/)) {
      const match = /^tiktok\s+(\d+)\s*$/.exec(line.trim());
      if (match?.[1]) ids.add(match[1]);
    }
  }
  return {
    path: path === undefined ? undefined : resolve(path),
    has: (id: string) => ids.has(id),
    async add(id: string) {
      // Only a TikTok id ever becomes a line: nothing a source answers can add another.
      if (!path || ids.has(id) || !isPostId(id)) return;
      ids.add(id);
      await appendFile(path, `tiktok ${id}\n`);
    },
  };
}

/**
 * Saves one file under a temporary name, placed only once it is complete. A complete file of the same
 * size already there is kept; otherwise nothing is replaced (a free name is taken, `name (2).mp4`) unless
 * --force asks for it, and never the archive or the list of links, whatever the server calls its file.
 */
async function save(file: PostFile, options: Options, progress: Progress): Promise<string> {
  const abort = new AbortController();
  const opened = await file.open(abort.signal);
  const name = safeFileName(opened.name, `tiktok_${Date.now()}.bin`);
  const final = join(options.output, name);
  const isProtected = (path: string) => options.protectedPaths.has(resolve(path));
  const existing = options.force || isProtected(final) ? undefined : await stat(final).catch(() => undefined);
  if (existing?.isFile() && opened.size !== undefined && existing.size === opened.size) {
    abort.abort();
    opened.body.destroy();
    process.stderr.write(`already there: ${visible(name)} (the same size; --force downloads it again)\n`);
    return final;
  }
  const task = progress.start(visible(name), opened.size);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      task.advance(chunk.length);
      done(null, chunk);
    },
  });
  try {
    const placed = await writeFileAtomically(opened.body, final, [counter], {
      replace: options.force,
      refuse: isProtected,
    });
    task.finish();
    return placed;
  } catch (error) {
    abort.abort();
    task.fail();
    throw error;
  }
}

/** What one run did, for the summary line and the exit code. */
interface Tally {
  failures: { link: string; reason: string }[];
  jsonResults: unknown[];
  saved: number;
  skipped: number;
  twice: number;
  listed: number;
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The posts to handle: the links as given, and each listing's posts in their place. */
async function jobsOf(backend: Backend, opts: Options, tally: Tally): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const link of opts.links) {
    if (!isListLink(link)) {
      jobs.push({ link });
      continue;
    }
    try {
      let total: number | undefined;
      const bounds = { limit: opts.limit, since: opts.since, until: opts.until, type: opts.postType };
      const items = itemsOfPages(
        (cursor) => backend.listPage(link, cursor),
        bounds,
        (page) => {
          total ??= page.total;
        },
      );
      let found = 0;
      for await (const item of items) {
        if (!isPostId(item.id)) {
          tally.failures.push({ link, reason: "the listing named a post id that is not TikTok's" });
          continue;
        }
        tally.listed++;
        found++;
        if (opts.json) process.stdout.write(`${JSON.stringify(item)}\n`);
        else jobs.push({ link: item.url, id: item.id, label: `post ${found}${total ? ` of ${total}` : ""}` });
      }
    } catch (error) {
      tally.failures.push({ link, reason: reasonOf(error) });
    }
  }
  return jobs;
}

type Archive = Awaited<ReturnType<typeof openArchive>>;

/** One post: looked up, then (without --json) its files saved and the post archived. */
async function handle(job: Job, index: number, run: Run) {
  const { backend, opts, archive, tally, handled, progress } = run;
  try {
    // Archived posts are skipped without any request for them.
    if (job.id && archive.has(job.id)) {
      tally.skipped++;
      return;
    }
    if (job.label && !opts.json) process.stderr.write(`${job.label}: ${visible(job.link)}\n`);
    const post = await backend.post(job.link, opts, opts.provider);
    if (!isPostId(post.id)) throw new Error("the answer names a post id that is not TikTok's");
    if (opts.json) {
      tally.jsonResults[index] = { url: job.link, result: post.result };
      return;
    }
    // Posts being saved, by id: the same post twice (a short and a long link) is saved once.
    if (handled.has(post.id)) {
      tally.twice++;
      return;
    }
    if (archive.has(post.id)) {
      tally.skipped++;
      return;
    }
    handled.add(post.id);
    if (post.files.length === 0) throw new Error("nothing to download for these options");
    for (const file of post.files) {
      await save(file, opts, progress);
      tally.saved++;
    }
    await archive.add(post.id);
  } catch (error) {
    tally.failures.push({ link: job.link, reason: reasonOf(error) });
    if (opts.json) tally.jsonResults[index] = { url: job.link, error: reasonOf(error) };
  }
}

interface Run {
  backend: Backend;
  opts: Options;
  archive: Archive;
  tally: Tally;
  handled: Set<string>;
  progress: Progress;
}

function report(tally: Tally, jobs: number, opts: Options) {
  const { failures, jsonResults, skipped, twice, saved } = tally;
  if (opts.json && jsonResults.length > 0)
    // In the links' order, whatever order they finished in.
    process.stdout.write(`${JSON.stringify(jsonResults.filter(Boolean), null, 2)}\n`);
  else if (!opts.json) {
    const posts = jobs - skipped - twice;
    const done = posts - failures.length;
    process.stderr.write(
      `${done} of ${posts} posts done, ${saved} files saved${skipped ? `, ${skipped} already in the archive` : ""}` +
        `${twice ? `, ${twice} listed twice` : ""}` +
        `${failures.length ? `, ${failures.length} failed:` : "."}\n`,
    );
    for (const failure of failures)
      process.stderr.write(`  ${visible(failure.link)}: ${visible(failure.reason)}\n`);
  }
  if (opts.json && tally.listed === 0 && jsonResults.length === 0 && failures.length > 0)
    for (const failure of failures)
      process.stderr.write(`tiktok-dl: ${visible(failure.link)}: ${visible(failure.reason)}\n`);
}

/** The options, or the exit code of a run that ends before any work (help, version, a usage error). */
async function start(argv: string[]): Promise<{ opts: Options; archive: Archive } | number> {
  try {
    const options = await readOptions(argv);
    if (options === "help") {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (options === "version") {
      process.stdout.write(`tiktok-dl ${packageVersion()}\n`);
      return 0;
    }
    return { opts: options, archive: await openArchive(options.archive) };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`tiktok-dl: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
}

/** The library here, or the server named by --server; a bad setting in the environment is a usage error. */
async function backendFor(opts: Options): Promise<Backend | number> {
  if (opts.server) return remoteBackend(opts.server);
  let backend: Backend | undefined;
  try {
    backend = localBackend();
    await backend.ready();
    return backend;
  } catch (error) {
    await backend?.close();
    if (!(error instanceof TikTokDlError) || error.code !== "INVALID_OPTIONS") throw error;
    process.stderr.write(`tiktok-dl: ${error.message}\n`);
    return 2;
  }
}

/** --provider must name a live source (a usage error otherwise, listing them). */
async function providerRefused(backend: Backend, provider: string | undefined): Promise<boolean> {
  if (!provider) return false;
  const live = await backend.liveSources().catch(() => undefined);
  if (!live || live.includes(provider)) return false;
  process.stderr.write(
    `tiktok-dl: --provider ${provider.slice(0, 64)} is not a source here; live sources: ${live.join(", ")}\n`,
  );
  return true;
}

export async function main(argv: string[]): Promise<number> {
  const started = await start(argv);
  if (typeof started === "number") return started;
  const { opts, archive } = started;
  const backend = await backendFor(opts);
  if (typeof backend === "number") return backend;
  const tally: Tally = { failures: [], jsonResults: [], saved: 0, skipped: 0, twice: 0, listed: 0 };
  try {
    if (await providerRefused(backend, opts.provider)) return 2;
    if (!opts.json) await mkdir(opts.output, { recursive: true });
    const jobs = await jobsOf(backend, opts, tally);
    const run: Run = {
      backend,
      opts,
      archive,
      tally,
      handled: new Set(),
      progress: new Progress(process.stderr),
    };
    await mapLimited(jobs, opts.concurrency, (job, index) => handle(job, index, run));
    report(tally, jobs.length, opts);
  } finally {
    await backend.close();
  }
  return tally.failures.length > 0 ? 1 : 0;
}
