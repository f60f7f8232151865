import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";

/**
 * Files the operator or the user names (settings, keys, cookies, an archive, a list of links) are read
 * only when they are regular files within a size cap: a FIFO, a device (`/dev/zero`) or a huge file is
 * refused at once instead of hanging the start or filling the memory. The file is opened without blocking
 * (a FIFO with no writer would block the open itself) and checked on the descriptor that is read.
 */
export class LocalFileError extends Error {
  constructor(
    readonly path: string,
    readonly why: string,
  ) {
    super(`cannot read ${path} (${why})`);
    this.name = "LocalFileError";
  }
}

/** Settings, keys and cookies files are small; a megabyte is far more than any of them needs. */
export const SETTINGS_FILE_MAX_BYTES = 1024 * 1024;

const FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

const failure = (path: string, error: unknown) => {
  if (error instanceof LocalFileError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  // The usual cause: a root-only file (chmod 600) read by the service's own user.
  if (code === "EACCES") return new LocalFileError(path, "EACCES: the user this runs as may not read it");
  return new LocalFileError(path, code ?? (error as Error).message);
};

function checkSize(path: string, stats: { isFile(): boolean; size: number }, maxBytes: number) {
  if (!stats.isFile()) throw new LocalFileError(path, "not a regular file");
  if (stats.size > maxBytes) throw new LocalFileError(path, `larger than ${maxBytes} bytes`);
}

/** The file's text, read at once (for start-up, where nothing else runs yet). */
export function readLocalFileSync(path: string, maxBytes: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, FLAGS);
    checkSize(path, fstatSync(fd), maxBytes);
    // One byte more than allowed: a file that grew since fstat is caught too.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length; length += read)
      read = readSync(fd, buffer, length, buffer.length - length, length);
    if (length > maxBytes) throw new LocalFileError(path, `larger than ${maxBytes} bytes`);
    return buffer.subarray(0, length).toString("utf8");
  } catch (error) {
    throw failure(path, error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The file's text, read off the event loop (for files read again while serving). */
export async function readLocalFile(path: string, maxBytes: number): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, FLAGS);
    const stats = await handle.stat();
    checkSize(path, stats, maxBytes);
    const buffer = Buffer.alloc(Math.min(stats.size, maxBytes) + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length; length += read)
      ({ bytesRead: read } = await handle.read(buffer, length, buffer.length - length, length));
    if (length > maxBytes) throw new LocalFileError(path, `larger than ${maxBytes} bytes`);
    return buffer.subarray(0, length).toString("utf8");
  } catch (error) {
    throw failure(path, error);
  } finally {
    await handle?.close();
  }
}
