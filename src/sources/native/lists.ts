import { randomInt } from "node:crypto";
import { postErrors, SourceFailure } from "../../domain/errors.js";
import { scriptById } from "../../domain/html.js";
import { at, list, num, record, str } from "../../domain/json-path.js";
import type { ListAnswer, ListItem, ListOwner } from "../../domain/lists.js";
import type { ListLink } from "../../domain/tiktok-url.js";
import { DESKTOP_USER_AGENT } from "../../net/browser.js";
import type { ListInput, SourceDeps } from "../types.js";
import { DATA_SCRIPT_ID, listItemOf, readPost } from "./page.js";
import type { TikTokWeb, Visit } from "./web.js";

/**
 * Profiles, collections and playlists from TikTok's web app (docs/upstreams/tiktok.md §9), without any
 * request signature: the profile page gives the account's `secUid`, `/api/creator/item_list/` walks its
 * posts newest first by a time cursor, and collections and playlists page by offset.
 */
export function createNativeLister(web: TikTokWeb, deps: SourceDeps) {
  return (input: ListInput): Promise<ListAnswer> =>
    web.visit(input.signal, async (visit) => {
      if (input.link.list === "profile") return profilePage(web, visit, input, deps.now());
      return offsetPage(web, visit, input);
    });
}

const WEEK_MS = 604_800_000;
/** TikTok's web lists begin in September 2016: a cursor before that is the end. */
const EARLIEST_CURSOR_MS = 1_472_706_000_000;
/** Upstream requests one page of ours may make (gaps and stale device ids cost requests). */
const REQUESTS_PER_PAGE = 12;
/** New device ids drawn for one page before TikTok's repeating first page is taken as a block. */
const DEVICE_RETRIES = 3;
/** TikTok's own page size for these endpoints. */
const UPSTREAM_COUNT = 30;

/** A web device id, as yt-dlp draws them: a random integer in TikTok's range, kept for a whole listing. */
const newDeviceId = () => String(7_250_000_000_000_000_000n + BigInt(randomInt(0, 2 ** 47)) * 536_870n);

/** TikTok's query for its web app's list endpoints (the parameters yt-dlp sends). */
function webAppQuery(extra: Record<string, string>): URLSearchParams {
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

interface Account {
  secUid: string;
  owner: ListOwner;
  total?: number;
}

/** The account behind a handle: its profile page, or (a page without secUid) its embed page and one post. */
async function accountOf(web: TikTokWeb, visit: Visit, username: string): Promise<Account> {
  const page = await web.loadPage(visit, `https://www.tiktok.com/@${username}`, DESKTOP_USER_AGENT);
  const detail = page.kind === "data" ? userDetail(page.html) : undefined;
  if (detail) {
    const code = num(detail.statusCode) ?? 0;
    const user = record(at(detail, ["userInfo", "user"]));
    if (code === 10222 || user?.privateAccount === true || user?.secret === true)
      throw postErrors.private("This account is private.");
    if (code !== 0 && !user) throw postErrors.notFound("TikTok has no account by this name.");
    const secUid = str(user?.secUid);
    if (user && secUid) return { secUid, owner: ownerOf(user), total: videoCount(detail) };
    if (!user) throw postErrors.notFound("TikTok has no account by this name.");
  }
  return accountFromEmbed(web, visit, username);
}

function userDetail(html: string): Record<string, unknown> | undefined {
  const text = scriptById(html, DATA_SCRIPT_ID);
  if (text === undefined) return undefined;
  try {
    return record(at(JSON.parse(text), ["__DEFAULT_SCOPE__", "webapp.user-detail"]));
  } catch {
    throw new SourceFailure("bad_response", "the profile page's data script is not valid JSON");
  }
}

function videoCount(detail: Record<string, unknown>): number | undefined {
  const count =
    num(at(detail, ["userInfo", "statsV2", "videoCount"])) ??
    num(at(detail, ["userInfo", "stats", "videoCount"]));
  return count === undefined || count < 0 ? undefined : count;
}

const ownerOf = (user: Record<string, unknown>): ListOwner => ({
  username: str(user.uniqueId),
  nickname: str(user.nickname),
  id: str(user.id),
  avatar: str(user.avatarLarger) ?? str(user.avatarMedium) ?? str(user.avatarThumb),
});

/** A profile page without `secUid` (a stub): the embed page lists post ids; one post's author has it. */
async function accountFromEmbed(web: TikTokWeb, visit: Visit, username: string): Promise<Account> {
  const embed = await web.loadPage(visit, `https://www.tiktok.com/embed/@${username}`, DESKTOP_USER_AGENT);
  const text = scriptById(embed.html, "__FRONTITY_CONNECT_STATE__");
  if (text === undefined)
    throw new SourceFailure("blocked", "the profile page had no secUid and the embed page no post list");
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    throw new SourceFailure("bad_response", "the embed page's state is not valid JSON");
  }
  const ids = list(at(state, ["source", "data", `/embed/@${username}`, "videoList"]))
    .map((video) => str(at(video, ["id"])))
    .filter((id): id is string => id !== undefined && /^\d{1,25}$/.test(id));
  const first = ids[0];
  if (!first) throw new SourceFailure("blocked", "the embed page lists no post to read the account from");
  const post = await web.loadPage(
    visit,
    `https://www.tiktok.com/@${username}/video/${first}`,
    DESKTOP_USER_AGENT,
  );
  const author = record(readPost(post.html, first).author);
  const secUid = str(author?.secUid);
  if (!author || !secUid) throw new SourceFailure("bad_response", "the post's author has no secUid");
  return { secUid, owner: ownerOf(author) };
}

/**
 * One page of a profile, newest first. TikTok answers the posts older than the cursor (ms) within about a
 * week: an empty answer that says there is more is a gap, stepped over a week at a time. For some device
 * ids TikTok repeats its first page whatever the cursor (yt-dlp #14031): an answer with nothing older
 * than the cursor is that, and a new device id is drawn.
 */
async function profilePage(
  web: TikTokWeb,
  visit: Visit,
  input: ListInput,
  nowMs: number,
): Promise<ListAnswer> {
  const account =
    typeof input.position?.u === "string"
      ? { secUid: input.position.u, owner: { username: input.link.username } }
      : await accountOf(web, visit, input.link.username);
  let cursor = typeof input.position?.t === "number" ? input.position.t : nowMs;
  let deviceId = typeof input.position?.d === "string" ? input.position.d : newDeviceId();
  const items: ListItem[] = [];
  let more = true;
  let deviceRetries = 0;
  for (let requests = 0; items.length < input.limit && more && requests < REQUESTS_PER_PAGE; requests++) {
    const query = webAppQuery({
      count: String(Math.min(UPSTREAM_COUNT, Math.max(15, input.limit - items.length))),
      cursor: String(cursor),
      device_id: deviceId,
      secUid: account.secUid,
      type: "1",
    });
    const answer = await web.loadJson(
      visit,
      `https://www.tiktok.com/api/creator/item_list/?${query}`,
      DESKTOP_USER_AGENT,
    );
    const status = num(at(answer, ["statusCode"])) ?? 0;
    if (status !== 0)
      throw new SourceFailure("blocked", `TikTok refused the profile's posts (status ${status})`);
    const upstream = list(at(answer, ["itemList"]))
      .map(record)
      .filter((item) => item !== undefined);
    const older = upstream.filter((item) => (num(item.createTime) ?? 0) * 1000 < cursor);
    more = at(answer, ["hasMorePrevious"]) === true || at(answer, ["hasMore"]) === true;
    if (upstream.length > 0 && older.length === 0) {
      if (++deviceRetries > DEVICE_RETRIES)
        throw new SourceFailure("blocked", "TikTok keeps answering the same page whatever the cursor");
      deviceId = newDeviceId();
      more = true;
      continue;
    }
    if (older.length === 0) {
      // A gap of a week or more without posts.
      cursor -= WEEK_MS;
      if (cursor < EARLIEST_CURSOR_MS) more = false;
      continue;
    }
    const taken = older.slice(0, input.limit - items.length);
    items.push(...taken.map((item) => listItemOf(item, input.link.username)));
    cursor = (num(taken.at(-1)?.createTime) ?? 0) * 1000;
    if (taken.length < older.length) more = true;
    if (cursor < EARLIEST_CURSOR_MS) more = false;
  }
  if (items.length === 0 && !more && cursor === nowMs && (account.total ?? 0) > 0)
    throw postErrors.private("This account's posts are hidden from visitors.");
  return {
    kind: "profile",
    id: account.secUid,
    title: account.owner.username ?? input.link.username,
    owner: account.owner,
    total: account.total,
    items,
    next: more ? { t: cursor, d: deviceId, u: account.secUid } : undefined,
  };
}

const OFFSET_ENDPOINTS = {
  collection: { path: "/api/collection/item_list/", key: "collectionId", extra: { sourceType: "113" } },
  playlist: { path: "/api/mix/item_list/", key: "mixId", extra: {} },
} as const;

/** One page of a collection or a playlist ("mix"), by offset. */
async function offsetPage(web: TikTokWeb, visit: Visit, input: ListInput): Promise<ListAnswer> {
  const link = input.link as ListLink & { list: "collection" | "playlist"; id: string };
  const endpoint = OFFSET_ENDPOINTS[link.list];
  let offset = typeof input.position?.o === "number" ? input.position.o : 0;
  const items: ListItem[] = [];
  let more = true;
  for (let requests = 0; items.length < input.limit && more && requests < REQUESTS_PER_PAGE; requests++) {
    const query = new URLSearchParams({
      aid: "1988",
      [endpoint.key]: link.id,
      count: String(Math.min(UPSTREAM_COUNT, input.limit - items.length)),
      cursor: String(offset),
      ...endpoint.extra,
    });
    const answer = await web.loadJson(
      visit,
      `https://www.tiktok.com${endpoint.path}?${query}`,
      DESKTOP_USER_AGENT,
    );
    const status = num(at(answer, ["statusCode"])) ?? 0;
    if (status !== 0)
      throw postErrors.notFound(`TikTok has no public ${link.list} with this id (status ${status}).`);
    const upstream = list(at(answer, ["itemList"]))
      .map(record)
      .filter((item) => item !== undefined);
    items.push(...upstream.map((item) => listItemOf(item)));
    more = at(answer, ["hasMore"]) === true && upstream.length > 0;
    const next = num(at(answer, ["cursor"]));
    offset = next !== undefined && next > offset ? next : offset + upstream.length;
  }
  return {
    kind: link.list,
    id: link.id,
    title: link.title ?? `${link.list} ${link.id}`,
    owner: { username: link.username },
    items,
    next: more ? { o: offset } : undefined,
  };
}
