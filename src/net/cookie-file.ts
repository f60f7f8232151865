import { readFile, stat } from "node:fs/promises";
import type { BaseLogger } from "pino";
import { type FileCookie, parseCookiesTxt } from "../domain/cookies-txt.js";

/**
 * An operator's cookies.txt, read again whenever the file changes (its modification time, looked at no
 * more than once a second). Only the cookies of `domain` and its subdomains are kept, expired ones
 * dropped. A file that disappears or cannot be read keeps the last good cookies, and says why once.
 * The values are never logged.
 */
export function createCookieFile(options: {
  path: string;
  domain: string;
  now: () => number;
  log: BaseLogger;
}) {
  let cookies: FileCookie[] = [];
  let modified = -1;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let failing = false;
  const belongs = (cookie: FileCookie) => {
    const host = cookie.domain.replace(/^\./, "");
    return host === options.domain || host.endsWith(`.${options.domain}`);
  };

  async function refresh() {
    if (options.now() - checkedAt < 1_000) return;
    checkedAt = options.now();
    try {
      const info = await stat(options.path);
      if (info.mtimeMs === modified) return;
      const parsed = parseCookiesTxt(await readFile(options.path, "utf8")).filter(belongs);
      modified = info.mtimeMs;
      cookies = parsed;
      failing = false;
      options.log.info(
        { path: options.path, cookies: parsed.map((cookie) => cookie.name) },
        "cookies file read",
      );
    } catch (error) {
      if (!failing)
        options.log.warn(
          { path: options.path, err: (error as Error).message },
          "cookies file unreadable: keeping the last good one",
        );
      failing = true;
    }
  }

  return {
    /** The file's live cookies for the domain, read again first if the file changed. */
    async current(): Promise<FileCookie[]> {
      await refresh();
      const nowSeconds = options.now() / 1000;
      return cookies.filter((cookie) => cookie.expires === 0 || cookie.expires > nowSeconds);
    },
  };
}

export type CookieFile = ReturnType<typeof createCookieFile>;
