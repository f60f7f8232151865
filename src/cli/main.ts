import { mkdir } from "node:fs/promises";
import { mapLimited } from "../domain/concurrency.js";
import { isPostId, visible } from "../domain/files.js";
import { itemsOfPages, type ListItem } from "../domain/lists.js";
import { fileNamer, type PostFacts } from "../domain/output-template.js";
import { parseTikTokListLink } from "../domain/tiktok-url.js";
import { packageVersion } from "../service/version.js";
import { type Backend, type CliPost, localBackend, remoteBackend } from "./backend.js";
import { type Options, readOptions, USAGE, UsageError } from "./options.js";
import { Progress } from "./progress.js";
import { type Archive, openArchive, save, writeInfoJson } from "./saving.js";

/** One post to handle: its link, and where it comes from (a listing's "post 37 of 412"). */
interface Job {
  link: string;
  /** Known before any request when the post came from a listing. */
  id?: string;
  label?: string;
  /** The profile, collection or playlist it was listed from (`{list}` in a template). */
  list?: string;
}

/** Whether a link names a profile, a collection or a playlist (short links are tried as posts first). */
function isListLink(link: string): boolean {
  try {
    return parseTikTokListLink(link).kind === "list";
  } catch {
    return false;
  }
}

interface Failure {
  link: string;
  reason: string;
}

/** What one run did, for the summary line and the exit code. */
interface Tally {
  /** Posts looked up (not the ones skipped by the archive or given twice). */
  posts: number;
  postFailures: Failure[];
  /** Links whose listing failed (a private or unknown profile, a dead server). */
  listFailures: Failure[];
  jsonResults: unknown[];
  saved: number;
  skipped: number;
  twice: number;
  listed: number;
}

/** A failure in plain words, as the page says them; the API's own sentence where it already is plain. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  switch (code) {
    case "UNSUPPORTED_HOST": {
      const host = /"([^"]+)" is not TikTok/.exec(message)?.[1];
      return `not a TikTok link${host ? ` (${host})` : ""}: copy the link from TikTok's Share button`;
    }
    case "INVALID_URL":
    case "MISSING_URL":
      return "this does not look like a TikTok link: copy the link from TikTok's Share button";
    case "UNSUPPORTED_LINK":
      return message.replace(/^The "url" field is/, "this link is");
    case "RATE_LIMITED":
      return "too many requests in a short time: wait a minute, then try again";
    case "AUTH_REQUIRED":
    case "INVALID_API_KEY":
      return "the server needs a valid API key";
    default:
      return message;
  }
}

/** Where a link that is not a post leads, when the answer says it is a profile, collection or playlist. */
const listTarget = (error: unknown) => {
  const list = (error as { list?: unknown } | undefined)?.list;
  return typeof list === "string" ? list : undefined;
};

/**
 * Each post of a listing, in order (with --json, its item printed instead), within the bounds asked;
 * a failed listing is counted as one.
 */
async function walkList(link: string, run: Run, onPost: (job: Job) => Promise<void> | void) {
  const { backend, opts, tally } = run;
  try {
    let total: number | undefined;
    let title: string | undefined;
    const bounds = { limit: opts.limit, since: opts.since, until: opts.until, type: opts.postType };
    const items = itemsOfPages(
      (cursor) => backend.listPage(link, cursor),
      bounds,
      (page) => {
        total ??= page.total;
        title ??= page.title;
      },
    );
    let found = 0;
    for await (const item of items) {
      if (!isPostId(item.id)) {
        tally.listFailures.push({ link, reason: "the listing named a post id that is not TikTok's" });
        continue;
      }
      // Newest first: past the first post already saved, everything is older and saved too.
      if (opts.breakOnExisting && run.archive.has(item.id)) break;
      tally.listed++;
      found++;
      if (opts.json) process.stdout.write(`${JSON.stringify(item satisfies ListItem)}\n`);
      else
        await onPost({
          link: item.url,
          id: item.id,
          label: `post ${found}${total ? ` of ${total}` : ""}`,
          list: title,
        });
    }
  } catch (error) {
    tally.listFailures.push({ link, reason: reasonOf(error) });
  }
}

/** The posts to handle: the links as given, and each listing's posts in their place. */
async function jobsOf(run: Run): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const link of run.opts.links) {
    if (isListLink(link)) await walkList(link, run, (job) => void jobs.push(job));
    else jobs.push({ link });
  }
  return jobs;
}

/**
 * One post: looked up, then (without --json) its files saved and the post archived. A short link that
 * leads to a profile, collection or playlist (TikTok's Share button gives those) is listed in its place.
 */
async function handle(job: Job, index: number, run: Run): Promise<void> {
  const { backend, opts, archive, tally } = run;
  // Archived posts are skipped without any request for them.
  if (job.id && archive.has(job.id)) {
    tally.skipped++;
    return;
  }
  try {
    if (job.label && !opts.json) process.stderr.write(`${job.label}: ${visible(job.link)}\n`);
    const post = await backend.post(job.link, opts, opts.provider);
    if (!isPostId(post.id)) throw new Error("the answer names a post id that is not TikTok's");
    if (opts.json) {
      tally.posts++;
      tally.jsonResults[index] = { url: job.link, result: post.result };
      return;
    }
    await savePost(post, job, run);
  } catch (error) {
    const list = job.id ? undefined : listTarget(error);
    if (list) return walkList(list, run, (item) => handle(item, -1, run));
    tally.posts++;
    tally.postFailures.push({ link: job.link, reason: reasonOf(error) });
    if (opts.json && index >= 0) tally.jsonResults[index] = { url: job.link, error: reasonOf(error) };
  }
}

/** A post's files, once per run and unless the archive has it; then the post is archived. */
async function savePost(post: CliPost, job: Job, run: Run) {
  const { opts, archive, tally, handled, progress } = run;
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
  tally.posts++;
  if (post.files.length === 0) throw new Error("nothing to download for these options");
  const naming = fileNamer(opts.template, { ...(post.result as PostFacts), id: post.id }, job.list);
  for (const file of post.files) {
    await save(file, opts, progress, naming);
    tally.saved++;
  }
  if (opts.writeInfoJson) await writeInfoJson(post.result, naming("", true), opts);
  await archive.add(post.id);
}

interface Run {
  backend: Backend;
  opts: Options;
  archive: Archive;
  tally: Tally;
  handled: Set<string>;
  progress: Progress;
}

/** The summary line, then each failure; never a count below zero. */
function report(tally: Tally, opts: Options) {
  const { postFailures, listFailures, jsonResults, skipped, twice, saved, posts } = tally;
  const failures = [...listFailures, ...postFailures];
  if (opts.json) {
    // In the links' order, whatever order they finished in.
    if (jsonResults.length > 0)
      process.stdout.write(`${JSON.stringify(jsonResults.filter(Boolean), null, 2)}\n`);
    else if (tally.listed === 0)
      for (const failure of failures)
        process.stderr.write(`tiktok-dl: ${visible(failure.link)}: ${visible(failure.reason)}\n`);
    return;
  }
  const parts = [
    `${posts - postFailures.length} of ${posts} posts done`,
    `${saved} files saved`,
    skipped && `${skipped} already in the archive`,
    twice && `${twice} listed twice`,
    postFailures.length && `${postFailures.length} failed`,
    listFailures.length && `${listFailures.length} list${listFailures.length > 1 ? "s" : ""} failed`,
  ].filter(Boolean);
  process.stderr.write(`${parts.join(", ")}${failures.length ? ":" : "."}\n`);
  for (const failure of failures)
    process.stderr.write(`  ${visible(failure.link)}: ${visible(failure.reason)}\n`);
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
    backend = await localBackend(opts.cookies);
    await backend.ready();
    return backend;
  } catch (error) {
    await backend?.close();
    const { TikTokDlError } = await import("../library/index.js");
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
  const run: Run = {
    backend,
    opts,
    archive,
    tally: newTally(),
    handled: new Set(),
    progress: new Progress(process.stderr),
  };
  try {
    if (await providerRefused(backend, opts.provider)) return 2;
    if (!opts.json) await mkdir(opts.output, { recursive: true });
    const jobs = await jobsOf(run);
    await mapLimited(jobs, opts.concurrency, (job, index) => handle(job, index, run));
    report(run.tally, opts);
  } finally {
    await backend.close();
  }
  return run.tally.postFailures.length + run.tally.listFailures.length > 0 ? 1 : 0;
}

const newTally = (): Tally => ({
  posts: 0,
  postFailures: [],
  listFailures: [],
  jsonResults: [],
  saved: 0,
  skipped: 0,
  twice: 0,
  listed: 0,
});
