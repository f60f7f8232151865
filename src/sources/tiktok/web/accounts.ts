import { ApiError, postErrors, SourceFailure } from "../../../domain/errors.js";
import { scriptById } from "../../../domain/html.js";
import { at, list, num, record, str } from "../../../domain/json-path.js";
import type { ListOwner } from "../../../domain/lists.js";
import { isSecUid } from "../../../domain/tiktok-url.js";
import { DESKTOP_USER_AGENT } from "../../../net/browser.js";
import type { ListInput } from "../../types.js";
import { pageScope, readPost } from "./page.js";
import type { TikTokWeb, Visit } from "./web.js";
import { withoutLogin } from "./web-app.js";

/** Posts of the embed page tried, one after another, for the account's `secUid`. */
const EMBED_POSTS_TRIED = 5;

export interface Account {
  secUid: string;
  owner: ListOwner;
  total?: number;
  /** TikTok marks the account private; it is listed only with the operator's login. */
  private?: boolean;
  /** The profile page says anyone may see its liked videos (`openFavorite`): answered nothing, that tab is empty. */
  likedOpen?: boolean;
}

/**
 * The account behind a handle: its profile page, or (a page without secUid) its embed page and a post.
 */
async function accountOf(web: TikTokWeb, visit: Visit, username: string): Promise<Account> {
  const page = await web.loadPage(visit, `https://www.tiktok.com/@${username}`, DESKTOP_USER_AGENT);
  const detail = page.kind === "data" ? userDetail(page.html) : undefined;
  if (detail) {
    const code = num(detail.statusCode) ?? 0;
    const user = record(at(detail, ["userInfo", "user"]));
    const total = videoCount(detail);
    const secUid = str(user?.secUid);
    if (code === 10222 || user?.privateAccount === true || user?.secret === true) {
      // TikTok marks it private even for a login that may see it: with posts to see, its list is asked,
      // with or without a login (yt-dlp and gallery-dl do the same); the answer says what a visitor sees.
      if (!secUid || !total) throw postErrors.private("This account is private.");
      return { secUid, owner: ownerOf(user ?? {}), total, private: true };
    }
    if (code !== 0 && !user) throw postErrors.notFound("TikTok has no account by this name.");
    if (user && secUid)
      return {
        secUid,
        owner: ownerOf(user),
        total,
        ...(user.openFavorite === true ? { likedOpen: true } : {}),
      };
    if (!user) throw postErrors.notFound("TikTok has no account by this name.");
  }
  return accountFromEmbed(web, visit, username);
}

const userDetail = (html: string) => record(pageScope(html)?.["webapp.user-detail"]);

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

/**
 * A profile page without `secUid` (a stub): the embed page lists post ids; the first of them whose page
 * names its author's `secUid` gives it (a deleted or region-blocked post is passed over, as yt-dlp does).
 */
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
  if (ids.length === 0)
    throw new SourceFailure("blocked", "the embed page lists no post to read the account from");
  let last: unknown;
  for (const id of ids.slice(0, EMBED_POSTS_TRIED)) {
    try {
      const post = await web.loadPage(
        visit,
        `https://www.tiktok.com/@${username}/video/${id}`,
        DESKTOP_USER_AGENT,
      );
      const author = record(readPost(post.html, id).author);
      const secUid = str(author?.secUid);
      if (author && secUid) return { secUid, owner: ownerOf(author) };
    } catch (error) {
      if (!(error instanceof ApiError) && !(error instanceof SourceFailure)) throw error;
      last = error;
    }
  }
  throw last instanceof SourceFailure
    ? last
    : new SourceFailure("bad_response", "no post of the embed page names its author's secUid");
}

/**
 * The account a page of a profile lists: from the cursor, from a `secUid` link, or from TikTok's pages
 * (asked without the operator's login: what they say of the account is what TikTok tells anyone).
 */
export async function accountFor(web: TikTokWeb, visit: Visit, input: ListInput): Promise<Account> {
  const { username } = input.link;
  if (typeof input.position?.u === "string")
    return { secUid: input.position.u, owner: isSecUid(username) ? {} : { username } };
  // A link by `secUid` needs no profile page (yt-dlp's tiktokuser: links).
  if (isSecUid(username)) return { secUid: username, owner: {} };
  return withoutLogin(visit, () => accountOf(web, visit, username));
}
