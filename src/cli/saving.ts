import { appendFile, mkdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { Readable, Transform } from "node:stream";
import { isPostId, safeRelativePath, visible } from "../domain/files.js";
import { type LocalFileError, readLocalFile } from "../domain/local-files.js";
import { writeFileAtomically } from "../library/files.js";
import type { PostFile } from "../library/index.js";
import { ARCHIVE_MAX_BYTES, type Options, UsageError } from "./options.js";
import type { Progress } from "./progress.js";

/** yt-dlp's download archive: one `tiktok <id>` line per saved post. */
export async function openArchive(path: string | undefined) {
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
export async function save(
  file: PostFile,
  options: Options,
  progress: Progress,
  nameOf: (serverName: string) => string = (serverName) => serverName,
): Promise<string> {
  const abort = new AbortController();
  const opened = await file.open(abort.signal);
  const name = safeRelativePath(nameOf(opened.name), `tiktok_${Date.now()}.bin`);
  const final = join(options.output, name);
  await mkdir(dirname(final), { recursive: true });
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
