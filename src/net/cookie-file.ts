import type { BaseLogger } from "pino";
import { type FileCookie, parseCookiesTxt } from "../domain/cookies-txt.js";
import { watchedFile } from "./watched-file.js";

/**
 * An operator's cookies.txt, read again whenever the file changes. Only the cookies of `domain` and its
 * subdomains are kept, expired ones dropped. The values are never logged.
 */
export function createCookieFile(options: {
  path: string;
  domain: string;
  now: () => number;
  log: BaseLogger;
}) {
  const belongs = (cookie: FileCookie) => {
    const host = cookie.domain.replace(/^\./, "");
    return host === options.domain || host.endsWith(`.${options.domain}`);
  };
  const file = watchedFile<FileCookie[]>({
    path: options.path,
    label: "cookies file",
    parse: (text) => parseCookiesTxt(text).filter(belongs),
    initial: [],
    describe: (cookies) => ({ cookies: cookies.map((cookie) => cookie.name) }),
    problem: (cookies) =>
      cookies.some((cookie) => cookie.expires === 0 || cookie.expires > options.now() / 1000)
        ? undefined
        : `it holds no live cookie for ${options.domain} (expired, or for other sites): nothing will be sent`,
    now: options.now,
    log: options.log,
  });

  return {
    /** Reads the file now; throws when it cannot be read (at start, where that must be said). */
    async ready(): Promise<void> {
      await file.load();
    },
    /** The file's live cookies for the domain, read again first if the file changed. */
    async current(): Promise<FileCookie[]> {
      const nowSeconds = options.now() / 1000;
      return (await file.current()).filter((cookie) => cookie.expires === 0 || cookie.expires > nowSeconds);
    },
  };
}

export type CookieFile = ReturnType<typeof createCookieFile>;

/**
 * A user's own cookies.txt, given as its text (the CLI's `--cookies`, the library's `cookies`): held in
 * memory for the run, never written and never logged; only `domain`'s live cookies are kept.
 */
export function cookiesFromText(text: string, domain: string, now: () => number): CookieFile {
  const cookies = parseCookiesTxt(text).filter((cookie) => {
    const host = cookie.domain.replace(/^\./, "");
    return host === domain || host.endsWith(`.${domain}`);
  });
  return {
    ready: async () => {
      if (cookies.length === 0) throw new Error(`the cookies hold no cookie for ${domain}`);
    },
    current: async () => cookies.filter((cookie) => cookie.expires === 0 || cookie.expires > now() / 1000),
  };
}
