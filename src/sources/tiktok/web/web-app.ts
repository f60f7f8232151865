import { randomBytes, randomInt } from "node:crypto";
import { SourceFailure } from "../../../domain/errors.js";
import { at, list, num, record } from "../../../domain/json-path.js";
import { DESKTOP_USER_AGENT } from "../../../net/browser.js";
import type { TikTokWeb, Visit } from "./web.js";

/**
 * What every list of TikTok's web app shares (docs/upstreams/tiktok.md §6, §8): the device id and the query
 * both references send, the JSON request with its one retry, what an answer's status and items say, and a
 * visit without the operator's login. The listers (profiles and collections in lists.ts, tabs.ts,
 * following.ts) are built on it.
 */

/** Upstream requests one page of ours may make, in any list (gaps and stale device ids cost requests). */
export const REQUESTS_PER_PAGE = 12;

/** New device ids drawn for one page of a list before TikTok's repeating page is taken as its answer. */
export const DEVICE_RETRIES = 3;

/** TikTok's web device ids: a random integer in the range both references draw from. */
const DEVICE_ID_MIN = 7_250_000_000_000_000_000n;
const DEVICE_ID_MAX = 7_325_099_899_999_994_577n;

/** A web device id, as yt-dlp and gallery-dl draw them, kept for a whole listing. */
export function newDeviceId(): string {
  const span = DEVICE_ID_MAX - DEVICE_ID_MIN + 1n;
  return String(DEVICE_ID_MIN + (randomBytes(8).readBigUInt64BE() % span));
}

/** TikTok's query for its web app's list endpoints (the parameters yt-dlp and gallery-dl send). */
export function webAppQuery(extra: Record<string, string>): URLSearchParams {
  return new URLSearchParams({
    aid: "1988",
    app_language: "en",
    app_name: "tiktok_web",
    browser_language: "en-US",
    browser_name: "Mozilla",
    browser_online: "true",
    browser_platform: "Win32",
    browser_version: "5.0 (Windows)",
    channel: "tiktok_web",
    cookie_enabled: "true",
    device_platform: "web_pc",
    focus_state: "true",
    from_page: "user",
    history_len: "2",
    is_fullscreen: "false",
    is_page_visible: "true",
    language: "en",
    os: "windows",
    priority_region: "",
    referer: "",
    region: "US",
    screen_height: "1080",
    screen_width: "1920",
    tz_name: "UTC",
    verifyFp: `verify_${randomInt(0, 0xfffffff).toString(16).padStart(7, "0")}`,
    webcast_language: "en",
    ...extra,
  });
}

/**
 * A list endpoint's JSON: a body that is empty or not JSON is asked for again at once (gallery-dl);
 * twice, the session is given up, and the lister tries once more on another.
 */
export async function listJson(web: TikTokWeb, visit: Visit, url: string): Promise<unknown> {
  try {
    return await web.loadJson(visit, url, DESKTOP_USER_AGENT);
  } catch (error) {
    if (!(error instanceof SourceFailure) || error.reason !== "bad_response") throw error;
    try {
      return await web.loadJson(visit, url, DESKTOP_USER_AGENT);
    } catch (again) {
      if (again instanceof SourceFailure && again.reason === "bad_response") visit.blocked = true;
      throw again;
    }
  }
}

/** Runs `work` on the visit without the operator's login (handed to it), which is put back after. */
export async function withoutLogin<T>(
  visit: Visit,
  work: (login: Visit["operatorCookie"]) => Promise<T>,
): Promise<T> {
  const login = visit.operatorCookie;
  visit.operatorCookie = undefined;
  try {
    return await work(login);
  } finally {
    visit.operatorCookie = login;
  }
}

/** Nothing to list for this visitor: no `itemList` and no "more" flag at all (docs/upstreams/tiktok.md §6). */
export const withholds = (answer: unknown) =>
  !Array.isArray(at(answer, ["itemList"])) &&
  at(answer, ["hasMore"]) === undefined &&
  at(answer, ["hasMorePrevious"]) === undefined &&
  at(answer, ["HasMoreAfter"]) === undefined;

/** A list answer whose `statusCode` is not 0: TikTok refused `what` (a failure of this source). */
export function checkListStatus(answer: unknown, what: string): void {
  const status = num(at(answer, ["statusCode"])) ?? 0;
  if (status !== 0) throw new SourceFailure("blocked", `TikTok refused ${what} (status ${status})`);
}

/** An answer's `itemList`, the records only. */
export const itemsOf = (answer: unknown) =>
  list(at(answer, ["itemList"]))
    .map(record)
    .filter((item) => item !== undefined);
