import { appendFile, mkdir, readFile, stat } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { parseArgs } from "node:util";
import { filesToSave, safeFileName, writeFileAtomically } from "../delivery/save.js";
import { mapLimited } from "../domain/concurrency.js";
import { parseTikTokListLink } from "../domain/tiktok-url.js";
import { createApp } from "../http/app.js";
import type { ApiResult } from "../service/answers.js";
import { ConfigError, loadConfig } from "../service/config.js";
import { packageVersion } from "../service/version.js";
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
}

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
    const text = await readFile(values.input, "utf8").catch(() => {
      throw new UsageError(`cannot read ${values.input}`);
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

/** The sources the server runs and that are not retired (what --provider may name). */
async function liveSources(base: string): Promise<string[]> {
  const response = await ask(`${base}/api/providers`);
  const sources = (await response.json()) as { name: string; enabled?: boolean; maintenance?: unknown }[];
  return sources
    .filter((source) => source.enabled !== false && !source.maintenance)
    .map((source) => source.name);
}

/** A date option as ms: a day (YYYY-MM-DD, its end for --until) or an ISO date and time. */
function dateOption(name: string, value: string | undefined, endOfDay = false): number | undefined {
  if (value === undefined) return undefined;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const ms = Date.parse(day ? `${value}T${endOfDay ? "23:59:59.999" : "00:00:00.000"}Z` : value);
  if (!Number.isFinite(ms)) throw new UsageError(`${name} must be a date (YYYY-MM-DD or ISO 8601)`);
  return ms;
}

/** The files to save for one result, as tunnel paths. */
function filesOf(result: ApiResult, options: Options): string[] {
  const stream = result.stream ?? {};
  const offer = {
    type: result.type,
    imageCount: stream.images?.length ?? 0,
    has: (kind: "video" | "hd" | "music" | "zip") => Boolean(stream[kind]),
  };
  return filesToSave(offer, options).flatMap((file) => {
    const path =
      file.kind === "image" ? stream.images?.[file.index ?? 0] : stream[file.kind as keyof typeof stream];
    return typeof path === "string" ? [path] : [];
  });
}

function nameFromDisposition(disposition: string | null, fallback: string): string {
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition ?? "")?.[1];
  const plain = /filename="([^"]+)"/i.exec(disposition ?? "")?.[1];
  return safeFileName(encoded ? decodeURIComponent(encoded) : (plain ?? fallback), fallback);
}

/** Saves one file under a temporary name, renamed only once it is complete. */
async function save(base: string, path: string, options: Options, progress: Progress): Promise<string> {
  const response = await ask(`${base}${path}`);
  if (!response.ok || !response.body) {
    const body = (await response.json().catch(() => undefined)) as { error?: string } | undefined;
    throw new Error(body?.error ?? `the server answered HTTP ${response.status}`);
  }
  const name = nameFromDisposition(response.headers.get("content-disposition"), `tiktok_${Date.now()}.bin`);
  const final = join(options.output, name);
  const total = Number(response.headers.get("content-length")) || undefined;
  // A complete file already there (the same size) is kept, and said so; --force downloads it again.
  const existing = options.force ? undefined : await stat(final).catch(() => undefined);
  if (existing?.isFile() && total !== undefined && existing.size === total) {
    await response.body.cancel().catch(() => {});
    process.stderr.write(`already there: ${name} (the same size; --force downloads it again)\n`);
    return final;
  }
  const task = progress.start(name, total);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      task.advance(chunk.length);
      done(null, chunk);
    },
  });
  try {
    await writeFileAtomically(Readable.fromWeb(response.body as never), final, [counter]);
    task.finish();
    return final;
  } catch (error) {
    task.fail();
    throw error;
  }
}

/** fetch, with a failure that says which server could not be reached and why. */
async function ask(url: string): Promise<Response> {
  try {
    return await fetch(url);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(
      `cannot reach the server at ${new URL(url).origin} (${cause?.code ?? cause?.message ?? (error as Error).message})`,
    );
  }
}

async function lookUp(base: string, link: string, options: Options): Promise<ApiResult> {
  const query = new URLSearchParams({ url: link });
  if (options.provider) query.set("type", options.provider);
  const response = await ask(`${base}/api/download?${query}`);
  const body = (await response.json().catch(() => ({}))) as { result?: ApiResult; error?: string };
  if (!response.ok || !body.result)
    throw new Error(body.error ?? `the server answered HTTP ${response.status}`);
  return body.result;
}

/**
 * In-process mode: the service itself on a loopback port, for this run only. Its only client is this
 * process, so it does not rate-limit itself (a list of a hundred links must not fail at the 61st).
 */
async function localServer() {
  const config = { ...loadConfig(process.env), rateLimit: 0, streamRateLimit: 0 };
  const app = await createApp(config, { logger: false });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** One post to handle: its link, and where it comes from (a listing's "post 37 of 412"). */
interface Job {
  link: string;
  /** Known before any request when the post came from a listing. */
  id?: string;
  label?: string;
}

interface ListedItem {
  id: string;
  url: string;
  type: "video" | "photo";
  createdAt?: string;
}

/** Whether a link names a profile, a collection or a playlist (short links are tried as posts first). */
function isListLink(link: string): boolean {
  try {
    return parseTikTokListLink(link).kind === "list";
  } catch {
    return false;
  }
}

/**
 * The posts of a listing the options select, newest first: page after page of /api/list, stopping at
 * --limit or at the first post older than --since.
 */
async function listedPosts(
  base: string,
  link: string,
  opts: Options,
  onItem: (item: ListedItem, total?: number) => void,
) {
  let cursor: string | undefined;
  let taken = 0;
  do {
    const query = new URLSearchParams({ url: link, limit: "100" });
    if (cursor) query.set("cursor", cursor);
    const response = await ask(`${base}/api/list?${query}`);
    const body = (await response.json().catch(() => ({}))) as {
      result?: { items: ListedItem[]; cursor?: string; total?: number };
      error?: string;
    };
    if (!response.ok || !body.result)
      throw new Error(body.error ?? `the server answered HTTP ${response.status}`);
    for (const item of body.result.items) {
      const time = item.createdAt ? Date.parse(item.createdAt) : Number.NaN;
      if (opts.since !== undefined && time < opts.since) return;
      if (opts.until !== undefined && time > opts.until) continue;
      if (opts.postType && item.type !== opts.postType) continue;
      onItem(item, body.result.total);
      if (opts.limit !== undefined && ++taken >= opts.limit) return;
    }
    cursor = body.result.cursor;
  } while (cursor);
}

/** yt-dlp's download archive: one `tiktok <id>` line per saved post. */
async function openArchive(path: string | undefined) {
  const ids = new Set<string>();
  if (path) {
    const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return "";
      throw new UsageError(`cannot read the archive ${path}`);
    });
    for (const line of text.split(/\r?\n/)) {
      const match = /^tiktok\s+(\d+)\s*$/.exec(line.trim());
      if (match?.[1]) ids.add(match[1]);
    }
  }
  return {
    has: (id: string) => ids.has(id),
    async add(id: string) {
      if (!path || ids.has(id)) return;
      ids.add(id);
      await appendFile(path, `tiktok ${id}\n`);
    },
  };
}

export async function main(argv: string[]): Promise<number> {
  let options: Options | "help" | "version";
  let archive: Awaited<ReturnType<typeof openArchive>>;
  try {
    options = await readOptions(argv);
    archive = await openArchive(typeof options === "string" ? undefined : options.archive);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`tiktok-dl: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options === "version") {
    process.stdout.write(`tiktok-dl ${packageVersion()}\n`);
    return 0;
  }
  let server: { base: string; close(): Promise<void> };
  try {
    server = options.server ? { base: options.server, close: async () => {} } : await localServer();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`tiktok-dl: ${error.message}\n`);
    return 2;
  }
  const opts = options;
  if (opts.provider) {
    const live = await liveSources(server.base).catch(() => undefined);
    if (live && !live.includes(opts.provider)) {
      await server.close();
      process.stderr.write(
        `tiktok-dl: --provider ${opts.provider.slice(0, 64)} is not a source here; live sources: ${live.join(", ")}\n`,
      );
      return 2;
    }
  }
  const failures: { link: string; reason: string }[] = [];
  const jsonResults: unknown[] = [];
  const progress = new Progress(process.stderr);
  let saved = 0;
  let skipped = 0;
  let twice = 0;
  let listed = 0;
  try {
    if (!opts.json) await mkdir(opts.output, { recursive: true });
    const jobs: Job[] = [];
    for (const link of opts.links) {
      if (!isListLink(link)) {
        jobs.push({ link });
        continue;
      }
      try {
        const found: Job[] = [];
        await listedPosts(server.base, link, opts, (item, total) => {
          listed++;
          if (opts.json) process.stdout.write(`${JSON.stringify(item)}\n`);
          else
            found.push({
              link: item.url,
              id: item.id,
              label: `post ${found.length + 1}${total ? ` of ${total}` : ""}`,
            });
        });
        jobs.push(...found);
      } catch (error) {
        failures.push({ link, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    // Posts being saved, by id: the same post twice (a short and a long link) is saved once.
    const handled = new Set<string>();
    await mapLimited(jobs, opts.concurrency, async (job, index) => {
      try {
        // Archived posts are skipped without any request for them.
        if (job.id && archive.has(job.id)) {
          skipped++;
          return;
        }
        if (job.label && !opts.json) process.stderr.write(`${job.label}: ${job.link}\n`);
        const result = await lookUp(server.base, job.link, opts);
        if (opts.json) {
          jsonResults[index] = { url: job.link, result };
          return;
        }
        if (handled.has(result.id)) {
          twice++;
          return;
        }
        if (archive.has(result.id)) {
          skipped++;
          return;
        }
        handled.add(result.id);
        const files = filesOf(result, opts);
        if (files.length === 0) throw new Error("nothing to download for these options");
        for (const file of files) {
          await save(server.base, file, opts, progress);
          saved++;
        }
        await archive.add(result.id);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        failures.push({ link: job.link, reason });
        if (opts.json) jsonResults[index] = { url: job.link, error: reason };
      }
    });
    if (opts.json && jsonResults.length > 0)
      // In the links' order, whatever order they finished in.
      process.stdout.write(`${JSON.stringify(jsonResults.filter(Boolean), null, 2)}\n`);
    else if (!opts.json) {
      const posts = jobs.length - skipped - twice;
      const done = posts - failures.length;
      process.stderr.write(
        `${done} of ${posts} posts done, ${saved} files saved${skipped ? `, ${skipped} already in the archive` : ""}` +
          `${twice ? `, ${twice} listed twice` : ""}` +
          `${failures.length ? `, ${failures.length} failed:` : "."}\n`,
      );
      for (const failure of failures) process.stderr.write(`  ${failure.link}: ${failure.reason}\n`);
    }
    if (opts.json && listed === 0 && jsonResults.length === 0 && failures.length > 0)
      for (const failure of failures) process.stderr.write(`tiktok-dl: ${failure.link}: ${failure.reason}\n`);
  } finally {
    await server.close();
  }
  return failures.length > 0 ? 1 : 0;
}
