import { ApiError, SourceFailure } from "../../../domain/errors.js";
import { at } from "../../../domain/json-path.js";
import type { Extraction } from "../../../domain/media.js";
import { TIKTOK } from "../../../domain/platforms.js";
import { DESKTOP_USER_AGENT, MOBILE_USER_AGENT } from "../../../net/browser.js";
import type { ExtractInput, SourceDescriptor } from "../../types.js";
import { extractionOf } from "./item.js";
import { createListedStories, type ListedStories } from "./listed-stories.js";
import { createNativeLister } from "./lister.js";
import { readPost } from "./page.js";
import { createTikTokWeb, type TikTokWeb, type Visit } from "./web.js";

/** TikTok's own post page, read from its __UNIVERSAL_DATA_FOR_REHYDRATION__ script (docs/upstreams/tiktok.md §2). */
export const nativeSource: SourceDescriptor = {
  name: "native",
  platform: TIKTOK.name,
  origin: "https://www.tiktok.com",
  upstream: TIKTOK.upstream,
  params: [],
  provesPostId: true,
  // TikTok's own page is the first choice until the health figures say otherwise.
  preferred: true,
  lists: ["profile", "collection", "playlist", "liked", "saved", "reposts", "stories", "following"],
  create: (deps) => {
    // Posts and lists share one web client, and so the kept sessions; stories listed are kept for a while.
    const web = createTikTokWeb(deps);
    const stories = createListedStories(deps.tiktok.stories, deps.now);
    return {
      extract: createNativeExtractor(web, stories),
      list: createNativeLister(web, deps, stories),
      close: web.close,
    };
  },
};

/** The post's page; for a story whose page fails, the item its listing returned (with that session). */
function createNativeExtractor(web: TikTokWeb, stories: ListedStories) {
  return async (input: ExtractInput): Promise<Extraction> => {
    try {
      return await web.visit(input.signal, (visit) => readPage(web, visit, input));
    } catch (error) {
      const listed = input.signal.aborted
        ? undefined
        : await stories.extraction(input.id, input.readsViaLogin === true);
      if (!listed) throw error;
      return listed;
    }
  };
}

/** The post's page (the mobile one when the desktop page is a stub), read into the common result. */
async function readPage(web: TikTokWeb, visit: Visit, input: ExtractInput): Promise<Extraction> {
  let userAgent = DESKTOP_USER_AGENT;
  let page = await web.loadPage(
    visit,
    `https://www.tiktok.com/@${input.username ?? "i"}/video/${input.id}`,
    userAgent,
  );
  if (page.kind === "stub") {
    // From plain HTTP clients the desktop page is often a stub while the mobile one is whole.
    userAgent = MOBILE_USER_AGENT;
    page = await web.loadPage(visit, `https://m.tiktok.com/v/${input.id}.html`, userAgent);
    if (page.kind === "stub") throw new SourceFailure("blocked", "TikTok served a page without post data");
  }
  // readPost checks that the page's itemStruct is the post asked for; TikTok binds its media to this
  // session's cookies, and so to this way out.
  const item = readPost(page.html, input.id);
  const extraction = extractionOf(item, {
    userAgent,
    cookie: await visit.jar.getCookieString("https://www.tiktok.com/"),
    route: visit.route.id,
  });
  if (!visit.operatorCookie || !byPrivateAccount(item)) return extraction;
  // TikTok showed a private account's post because of the operator's login: that login's private data.
  // Refused to this client only, not TikTok's word on the post: no verdict is cached for everyone.
  if (!input.readsViaLogin) throw new ApiError(403, "PRIVATE", "This post belongs to a private account.");
  return { ...extraction, viaLogin: true };
}

const byPrivateAccount = (item: Record<string, unknown>) =>
  at(item, ["author", "privateAccount"]) === true || at(item, ["author", "secret"]) === true;
