import { readLocalFile, SETTINGS_FILE_MAX_BYTES } from "../domain/local-files.js";
import { type CookieFile, cookiesFromText } from "../net/cookie-file.js";
import { ConfigError } from "./config.js";

/** The services' dependencies for a user's own login, if one is given (`option` names it in errors). */
export const userLoginDeps = (given: string | undefined, option: string) =>
  given === undefined ? {} : { tiktokCookies: userCookies(given, option, Date.now) };

/**
 * A user's own TikTok login for the library and the CLI: a Netscape cookies.txt, as its path or its text.
 * Read once, kept in memory for the run, sent to TikTok's own hosts only (as the operator's login is),
 * never written anywhere and never logged. A file that cannot be read, or holds no TikTok cookie, is said
 * at `ready()` or the first call, naming `option`.
 */
export function userCookies(given: string, option: string, now: () => number): CookieFile {
  const isText = /[\t\n]/.test(given);
  let loaded: Promise<CookieFile> | undefined;
  const load = () => {
    loaded ??= (isText ? Promise.resolve(given) : readLocalFile(given, SETTINGS_FILE_MAX_BYTES))
      .then(async (text) => {
        const cookies = cookiesFromText(text, "tiktok.com", now);
        await cookies.ready();
        return cookies;
      })
      .catch((error: unknown) => {
        throw new ConfigError(`${option}: ${error instanceof Error ? error.message : String(error)}`);
      });
    return loaded;
  };
  return {
    ready: async () => {
      await load();
    },
    current: async () => (await load()).current(),
  };
}
