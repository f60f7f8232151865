import { stat } from "node:fs/promises";
import type { BaseLogger } from "pino";
import { LocalFileError, readLocalFile, SETTINGS_FILE_MAX_BYTES } from "../domain/local-files.js";

/**
 * An operator's file, read again whenever it changes (its modification time, looked at no more than once
 * a second). A file that disappears, cannot be read or does not parse keeps the last good value, and the
 * log says why once. `describe` says what to log of a good value: never secrets.
 */
export function watchedFile<T>(options: {
  path: string;
  label: string;
  parse: (text: string) => T;
  initial: T;
  describe: (value: T) => Record<string, unknown>;
  /** What is wrong with a value that parsed but is of no use (then the read is a warning). */
  problem?: (value: T) => string | undefined;
  now: () => number;
  log: BaseLogger;
}) {
  let value = options.initial;
  let modified = -1;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let failing = false;

  async function read() {
    checkedAt = options.now();
    const info = await stat(options.path).catch((error: NodeJS.ErrnoException) => {
      throw new LocalFileError(options.path, error.code ?? error.message);
    });
    if (info.mtimeMs === modified) return;
    const parsed = options.parse(await readLocalFile(options.path, SETTINGS_FILE_MAX_BYTES));
    modified = info.mtimeMs;
    value = parsed;
    failing = false;
    const problem = options.problem?.(parsed);
    if (problem)
      options.log.warn(
        { path: options.path, ...options.describe(parsed) },
        `${options.label} read: ${problem}`,
      );
    else options.log.info({ path: options.path, ...options.describe(parsed) }, `${options.label} read`);
  }

  async function refresh() {
    if (options.now() - checkedAt < 1_000) return;
    try {
      await read();
    } catch (error) {
      if (!failing)
        options.log.warn(
          { path: options.path, err: (error as Error).message },
          `${options.label} unusable: keeping the last good one`,
        );
      failing = true;
    }
  }

  return {
    /** Reads the file now; throws when it cannot be read or parsed (at start, where that must stop us). */
    async load(): Promise<T> {
      await read();
      return value;
    },
    /** The file's value, read again first if the file changed. */
    async current(): Promise<T> {
      await refresh();
      return value;
    },
  };
}
