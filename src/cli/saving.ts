import { randomBytes } from "node:crypto";
import { appendFile, mkdir, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { Readable, Transform } from "node:stream";
import { isPostId, safeRelativePath, visible } from "../domain/files.js";
import { type LocalFileError, readLocalFile } from "../domain/local-files.js";
import { PLATFORMS } from "../domain/platforms.js";
import { writeFileAtomically } from "../library/files.js";
import type { PostFile } from "../library/index.js";
import { ARCHIVE_MAX_BYTES, type Options, UsageError } from "./options.js";
import type { Progress } from "./progress.js";

/** The platforms' names as archive lines spell them (yt-dlp's `<extractor> <id>`). */
const NAMES = PLATFORMS.map((platform) => platform.name).join("|");
const ARCHIVE_LINE = new RegExp(`^(${NAMES})\\s+(\\d{1,25})\\s*$`);
const FAILED_LINE = new RegExp(`^(${NAMES})\\s+(\\d{1,25})\\s+(https://\\S+)\\s*$`);

/** yt-dlp's download archive: one `tiktok <id>` line per saved post. */
export async function openArchive(path: string | undefined) {
  const ids = new Set<string>();
  if (path) {
    const text = await readLocalFile(path, ARCHIVE_MAX_BYTES).catch((error: LocalFileError) => {
      if (error.why === "ENOENT") return "";
      throw new UsageError(`the archive: ${visible(error.message)}`);
    });
    for (const line of text.split(/\r?\n/)) {
      const match = ARCHIVE_LINE.exec(line.trim());
      if (match?.[1] && match[2]) ids.add(archiveKey(match[1], match[2]));
    }
  }
  return {
    path: path === undefined ? undefined : resolve(path),
    /** Whether the archive has a post, by its key (`archiveKey`). */
    has: (key: string) => ids.has(key),
    async add(key: string) {
      const line = archiveLine(key);
      // Only a post id ever becomes a line: nothing a source answers can add another.
      if (!path || ids.has(key) || !ARCHIVE_LINE.test(line)) return;
      ids.add(key);
      await appendFile(path, `${line}\n`);
    },
  };
}

/** A post as the archive and the run name it, `<platform>:<id>`; its line is yt-dlp's `<platform> <id>`. */
export const archiveKey = (platform: string, id: string) => `${platform}:${id}`;

/** A key as yt-dlp's archive line, `<platform> <id>`. */
const archiveLine = (key: string) => key.replace(":", " ");

/** What a file-system error means, in plain words. */
const PLAIN_ERRORS: Record<string, string> = {
  EACCES: "there is no permission to write there",
  EPERM: "writing there is not permitted",
  EROFS: "it is on a read-only file system",
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is used up",
  ENOENT: "a folder cannot be made there",
  ENOTDIR: "a part of the path is a file, not a folder",
  EEXIST: "a file stands where a folder must be",
  ENAMETOOLONG: "the path is too long",
  ELOOP: "the path loops through links",
};
const plainly = (error: unknown) =>
  PLAIN_ERRORS[(error as { code?: string }).code ?? ""] ?? (error as Error).message;

/**
 * The output folder, made if it is missing, one level at a time (Node's recursive mkdir can loop for
 * ever under /proc), and proven writable with a file of its own: a path that cannot be one is a usage
 * error in plain words, before anything is downloaded.
 */
export async function prepareOutput(output: string): Promise<void> {
  const refused = (why: string) => new UsageError(`-o ${visible(output)}: ${why}`, false);
  const target = resolve(output);
  const missing: string[] = [];
  let at = target;
  for (;;) {
    const found = await stat(at).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw refused(plainly(error));
    });
    if (found?.isDirectory()) break;
    if (found)
      throw refused(
        at === target ? "this is a file, not a folder" : `${visible(at)} is a file, not a folder`,
      );
    missing.unshift(at);
    if (dirname(at) === at) throw refused("no part of this path exists");
    at = dirname(at);
  }
  for (const folder of missing)
    await mkdir(folder).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw refused(`the folder cannot be made: ${plainly(error)}`);
    });
  const probe = join(target, `.tiktok-dl-${randomBytes(6).toString("hex")}.probe`);
  try {
    await writeFile(probe, "", { flag: "wx" });
  } catch (error) {
    throw refused(`files cannot be written there: ${plainly(error)}`);
  } finally {
    await rm(probe, { force: true });
  }
}

/** A post that failed in a run: its key (`archiveKey`) and link, kept beside the archive for the next run. */
export interface FailedPost {
  id: string;
  link: string;
}

/**
 * The posts that failed in the last run (`<archive>.failed`, one `tiktok <id> <link>` line each): a run
 * tries them again, with or without --break-on-existing (which would stop before the older ones), and
 * leaves the file holding what failed this time.
 */
export async function openFailures(archivePath: string | undefined) {
  const path = archivePath === undefined ? undefined : `${archivePath}.failed`;
  const earlier: FailedPost[] = [];
  if (path) {
    const text = await readLocalFile(path, ARCHIVE_MAX_BYTES).catch((error: LocalFileError) => {
      if (error.why === "ENOENT") return "";
      throw new UsageError(`the failed posts beside the archive: ${visible(error.message)}`);
    });
    for (const line of text.split(/\r?\n/)) {
      const match = FAILED_LINE.exec(line.trim());
      if (match?.[1] && match[2] && match[3] && isPostId(match[2]))
        earlier.push({ id: archiveKey(match[1], match[2]), link: match[3] });
    }
  }
  return {
    path,
    earlier,
    /** Keeps this run's failures (and nothing else) for the next run; no file when none failed. */
    async keep(failed: readonly FailedPost[]) {
      if (!path) return;
      if (failed.length === 0) return void (await rm(path, { force: true }));
      const lines = failed.map((post) => `${archiveLine(post.id)} ${post.link}\n`).join("");
      await writeFileAtomically(Readable.from([Buffer.from(lines)]), path, [], { replace: true });
    },
  };
}

/**
 * Saves one file under a temporary name, placed only once it is complete. A complete file of the same
 * size already there is kept; otherwise nothing is replaced (a free name is taken, `name (2).mp4`) unless
 * --force asks for it, and never the archive or the list of links, whatever the server calls its file.
 */
export async function save(
  file: PostFile,
  options: Options,
  progress: Progress,
  nameOf: (serverName: string) => string = (serverName) => serverName,
  written: Set<string> = new Set(),
): Promise<string> {
  const abort = new AbortController();
  const opened = await file.open(abort.signal);
  const name = safeRelativePath(nameOf(opened.name), `tiktok_${Date.now()}.bin`);
  const final = join(options.output, name);
  await mkdir(dirname(final), { recursive: true });
  const isProtected = (path: string) => options.protectedPaths.has(resolve(path));
  // A file this run wrote under the same name is another file: it is never taken for this one.
  const mine = written.has(final);
  const existing =
    options.force || mine || isProtected(final) ? undefined : await stat(final).catch(() => undefined);
  if (existing?.isFile() && opened.size !== undefined && existing.size === opened.size) {
    abort.abort();
    opened.body.destroy();
    process.stderr.write(`already there: ${visible(name)} (the same size; --force downloads it again)\n`);
    written.add(final);
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
      replace: options.force && !mine,
      refuse: isProtected,
    });
    task.finish();
    written.add(final);
    written.add(placed);
    return placed;
  } catch (error) {
    abort.abort();
    task.fail();
    throw error;
  }
}

export type Archive = Awaited<ReturnType<typeof openArchive>>;

/** The post's result as JSON beside its files (yt-dlp's `--write-info-json`), written like them. */
export async function writeInfoJson(result: unknown, name: string, options: Options): Promise<string> {
  const path = join(options.output, safeRelativePath(name, "tiktok.info.json"));
  await mkdir(dirname(path), { recursive: true });
  const body = Readable.from([Buffer.from(`${JSON.stringify(result, null, 2)}\n`)]);
  return writeFileAtomically(body, path, [], {
    replace: true,
    refuse: (target) => options.protectedPaths.has(resolve(target)),
  });
}
