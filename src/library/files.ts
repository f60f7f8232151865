import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { link, rename, rm, stat } from "node:fs/promises";
import { extname } from "node:path";
import type { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

export interface PlaceOptions {
  /** Replace a file already at `path` (default); otherwise a free name beside it is taken (`name (2).ext`). */
  replace?: boolean;
  /** Paths that must never be written, whatever is asked: a free name is taken instead. */
  refuse?: (path: string) => boolean;
}

/** Names tried beside a taken one before giving up. */
const FREE_NAME_TRIES = 100;

/**
 * Writes a body under a temporary name of its own (created exclusively, so it never lands on another
 * file), placed at `path` only once it is complete, and removed if anything fails; the body is destroyed
 * then too, so its error is never left unhandled. Returns where the file was placed.
 */
export async function writeFileAtomically(
  body: Readable,
  path: string,
  through: Transform[] = [],
  options: PlaceOptions = {},
): Promise<string> {
  const partial = `${path}.${randomBytes(4).toString("hex")}.part`;
  try {
    await pipeline([body, ...through, createWriteStream(partial, { flags: "wx" })]);
    return await place(partial, path, options);
  } catch (error) {
    body.destroy();
    await rm(partial, { force: true });
    throw error;
  }
}

/** Moves the finished file to `path`, or to the first free name beside it when it may not replace. */
async function place(partial: string, path: string, options: PlaceOptions): Promise<string> {
  const replace = options.replace ?? true;
  for (let attempt = 1; attempt <= FREE_NAME_TRIES; attempt++) {
    const target = attempt === 1 ? path : numbered(path, attempt);
    if (options.refuse?.(target)) continue;
    if (replace && attempt === 1) {
      await rename(partial, target);
      return target;
    }
    if (await placeIfFree(partial, target)) return target;
  }
  throw new Error(`no free name beside ${path}`);
}

/** A hard link fails when the name is taken: no check-then-write race. */
async function placeIfFree(partial: string, target: string): Promise<boolean> {
  try {
    await link(partial, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    // File systems without hard links: look, then rename.
    if (
      await stat(target).then(
        () => true,
        () => false,
      )
    )
      return false;
    await rename(partial, target);
    return true;
  }
  await rm(partial, { force: true });
  return true;
}

const numbered = (path: string, n: number) => {
  const extension = extname(path);
  return `${path.slice(0, path.length - extension.length)} (${n})${extension}`;
};
