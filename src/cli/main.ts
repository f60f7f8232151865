import { mapLimited } from "../domain/concurrency.js";
import { isPostId, visible } from "../domain/files.js";
import { itemsOfPages, type ListItem, pageSizes } from "../domain/lists.js";
import { fileNamer, type PostFacts } from "../domain/output-template.js";
import { PLATFORMS, parsePostLink, platformNamed, TIKTOK } from "../domain/platforms.js";
import { parseTikTokListLink } from "../domain/tiktok-url.js";
import { packageVersion } from "../service/version.js";
import { type Backend, type CliPost, localBackend, remoteBackend } from "./backend.js";
import { type Options, readOptions, USAGE, UsageError } from "./options.js";
import { Progress } from "./progress.js";
import {
  type Archive,
  archiveKey,
  type FailedPost,
  openArchive,
  openFailures,
  prepareOutput,
  save,
  writeInfoJson,
} from "./saving.js";

/** One post to handle: its link, and where it comes from (a listing's "post 37 of 412"). */
interface Job {
  link: string;
  /** Its archive key (`archiveKey`), known before any request when the post came from a listing. */
  id?: string;
  label?: string;
  /** The profile, collection or playlist it was listed from (`{list}` in a template). */
  list?: string;
  /** A post that failed in the run before, tried again. */
  retry?: boolean;
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
  /** The post's archive key, when it is known: kept for the next run to try again. */
  id?: string;
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
  /** Earlier failures tried again, and how many of them are done now. */
  retried: number;
  retriedDone: number;
}

/** A failure in plain words, as the page says them; the API's own sentence where it already is plain. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const { code, host } = (error ?? {}) as { code?: unknown; host?: unknown };
  switch (code) {
    case "UNSUPPORTED_HOST":
      return `not a TikTok link${typeof host === "string" ? ` (${host})` : ""}: copy the link from TikTok's Share button`;
    case "INVALID_URL":
    case "MISSING_URL":
      return "this does not look like a TikTok link: copy the link from TikTok's Share button";
    case "UNSUPPORTED_LINK":
      return listTarget(error)
        ? `this link is a list (${listTarget(error)}): it is downloaded post by post`
        : "this link is not a post, a profile, a collection or a playlist (tags, sounds and lives are not supported)";
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
    const bounds = {
      limit: opts.limit,
      since: opts.since,
      until: opts.until,
      type: opts.postType,
      // Newest first: past the first post already saved, everything is older and saved too.
      // (A listing's posts are TikTok's.)
      ...(opts.breakOnExisting
        ? { known: (id: string) => run.archive.has(archiveKey(TIKTOK.name, id)) }
        : {}),
    };
    // With --break-on-existing, a creator whose newest post is saved costs one list request.
    const size = pageSizes(opts.breakOnExisting === true);
    const items = itemsOfPages(
      (cursor) => backend.listPage(link, cursor, size()),
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
      tally.listed++;
      found++;
      if (opts.json) process.stdout.write(`${JSON.stringify(item satisfies ListItem)}\n`);
      else
        await onPost({
          link: item.url,
          id: archiveKey(TIKTOK.name, item.id),
          label: `post ${found}${total ? ` of ${total}` : ""}`,
          list: title,
        });
    }
  } catch (error) {
    tally.listFailures.push({ link, reason: reasonOf(error) });
  }
}

/**
 * The posts to handle: the links as given, each listing's posts in their place, then the posts that
 * failed in the run before (not archived since, not listed again now).
 */
async function jobsOf(run: Run): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const link of run.opts.links) {
    if (isListLink(link)) await walkList(link, run, (job) => void jobs.push(job));
    else jobs.push({ link });
  }
  const listed = new Set(jobs.map((job) => job.id));
  const retries = run.failures.earlier.filter((post) => !listed.has(post.id) && !run.archive.has(post.id));
  run.tally.retried = retries.length;
  for (const [index, post] of retries.entries())
    jobs.push({
      link: post.link,
      id: post.id,
      label: `earlier failure ${index + 1} of ${retries.length}`,
      retry: true,
    });
  return jobs;
}

/** A post link's id, when the link itself says it (a short link does not). */
function idOfLink(link: string): string | undefined {
  try {
    const parsed = parsePostLink(link, PLATFORMS);
    return parsed.kind === "post" ? archiveKey(parsed.platform, parsed.id) : undefined;
  } catch {
    return undefined;
  }
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
    const answered = await backend.post(job.link, opts, opts.provider);
    if (!isPostId(answered.id))
      throw new Error("the answer names a post id that is not TikTok's or Douyin's");
    const platform = (answered.result as { platform?: unknown }).platform;
    const post = {
      ...answered,
      // A server from before platforms answers TikTok's posts only.
      key: archiveKey(typeof platform === "string" ? platform : TIKTOK.name, answered.id),
    };
    if (opts.json) {
      tally.posts++;
      tally.jsonResults[index] = { url: job.link, result: post.result };
      return;
    }
    await savePost(post, job, run);
    if (job.retry) tally.retriedDone++;
  } catch (error) {
    const list = job.id ? undefined : listTarget(error);
    if (list) return walkList(list, run, (item) => handle(item, -1, run));
    tally.posts++;
    tally.postFailures.push({ link: job.link, reason: reasonOf(error), id: job.id ?? idOfLink(job.link) });
    if (opts.json && index >= 0) tally.jsonResults[index] = { url: job.link, error: reasonOf(error) };
  }
}

/** A post's files, once per run and unless the archive has it; then the post is archived. */
async function savePost(post: CliPost & { key: string }, job: Job, run: Run) {
  const { opts, archive, tally, handled, progress } = run;
  // Posts being saved, by id: the same post twice (a short and a long link) is saved once.
  if (handled.has(post.key)) {
    tally.twice++;
    return;
  }
  if (archive.has(post.key)) {
    tally.skipped++;
    return;
  }
  handled.add(post.key);
  tally.posts++;
  if (post.files.length === 0) throw new Error("nothing to download for these options");
  const facts = post.result as PostFacts;
  const naming = fileNamer(opts.template, { ...facts, id: post.id }, job.list);
  if (opts.template && !opts.template.includes("{index}") && facts.type === "photo" && !run.indexNoted) {
    run.indexNoted = true;
    progress.note("the template has no {index}: a post's numbered files (a photo post's images) get _<n>");
  }
  for (const file of post.files) {
    await save(file, opts, progress, naming, run.written);
    tally.saved++;
  }
  if (opts.writeInfoJson) await writeInfoJson(post.result, naming("", true), opts);
  await archive.add(post.key);
}

interface Run {
  backend: Backend;
  opts: Options;
  archive: Archive;
  failures: Awaited<ReturnType<typeof openFailures>>;
  tally: Tally;
  handled: Set<string>;
  /** The files this run wrote: another file under the same name is never taken for one of them. */
  written: Set<string>;
  indexNoted: boolean;
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
    tally.retried &&
      `${tally.retried} earlier failure${tally.retried > 1 ? "s" : ""} tried again (${tally.retriedDone} done)`,
    listFailures.length && `${listFailures.length} list${listFailures.length > 1 ? "s" : ""} failed`,
  ].filter(Boolean);
  process.stderr.write(`${parts.join(", ")}${failures.length ? ":" : "."}\n`);
  for (const failure of failures)
    process.stderr.write(`  ${visible(failure.link)}: ${visible(failure.reason)}\n`);
}

/** The options, or the exit code of a run that ends before any work (help, version, a usage error). */
async function start(
  argv: string[],
): Promise<{ opts: Options; archive: Archive; failures: Run["failures"] } | number> {
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
    if (!options.json) await prepareOutput(options.output);
    return {
      opts: options,
      archive: await openArchive(options.archive),
      failures: await openFailures(options.archive),
    };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const help = error.showUsage ? `\n${USAGE}` : "(tiktok-dl --help lists the options)";
    process.stderr.write(`tiktok-dl: ${error.message}\n${help}\n`);
    return 2;
  }
}

/** The library here, or the server named by --server; a bad setting in the environment is a usage error. */
async function backendFor(opts: Options, progress: Progress): Promise<Backend | number> {
  if (opts.server)
    return remoteBackend(opts.server, ({ seconds, why }) =>
      progress.note(
        `waiting ${seconds} s: the server's ${why === "limit" ? "limit" : "downloads are all busy"}`,
      ),
    );
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
  const { opts, archive, failures } = started;
  const progress = new Progress(process.stderr);
  const backend = await backendFor(opts, progress);
  if (typeof backend === "number") return backend;
  const run: Run = {
    backend,
    opts,
    archive,
    failures,
    tally: newTally(),
    handled: new Set(),
    written: new Set(),
    indexNoted: false,
    progress,
  };
  try {
    if (await providerRefused(backend, opts.provider)) return 2;
    const jobs = await jobsOf(run);
    await mapLimited(jobs, opts.concurrency, (job, index) => handle(job, index, run));
    report(run.tally, opts);
    if (!opts.json) await failures.keep(failedPosts(run.tally));
  } finally {
    await backend.close();
  }
  return run.tally.postFailures.length + run.tally.listFailures.length > 0 ? 1 : 0;
}

/** A post's own address, from its key (`archiveKey`). */
function postUrlOfKey(key: string): string {
  const [platform = "", id = ""] = key.split(":");
  return (platformNamed(PLATFORMS, platform) ?? TIKTOK).postUrl(id);
}

/**
 * This run's failed posts whose id is known, once each, with a link the failures file can keep: the one
 * given when it is a whole https address (a listing's are), else the post's own.
 */
function failedPosts(tally: Tally): FailedPost[] {
  const kept = new Map<string, FailedPost>();
  for (const { id, link } of tally.postFailures)
    if (id) kept.set(id, { id, link: /^https:\/\/\S+$/.test(link) ? link : postUrlOfKey(id) });
  return [...kept.values()];
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
  retried: 0,
  retriedDone: 0,
});
