import { SourceFailure } from "../../../domain/errors.js";
import type { ListAnswer } from "../../../domain/lists.js";
import { isTab } from "../../../domain/tiktok-url.js";
import type { ListInput, SourceDeps } from "../../types.js";
import { followingPage } from "./following.js";
import type { ListedStories } from "./listed-stories.js";
import { offsetPage, profilePage } from "./lists.js";
import { tabPage } from "./tabs.js";
import type { TikTokWeb } from "./web.js";
import { withoutLogin } from "./web-app.js";

/**
 * Profiles, collections and playlists from TikTok's web app (docs/upstreams/tiktok.md §6), without
 * any request signature: the profile page gives the account's `secUid`, `/api/creator/item_list/` walks
 * its posts newest first by a time cursor, and collections and playlists page by offset; a person's tabs
 * and the following feed have their own endpoints and cursors (§8). A body that is not JSON is asked
 * again at once on the same session, then once more on another session.
 */
export function createNativeLister(web: TikTokWeb, deps: SourceDeps, stories: ListedStories) {
  const page = (input: ListInput) =>
    web.visit(input.signal, async (visit) => {
      if (input.link.list === "profile") return profilePage(web, visit, input, deps.now());
      if (input.link.list === "following") return followingPage(web, visit, input, stories);
      if (isTab(input.link.list)) return tabPage(web, visit, input, stories);
      // Collections and playlists are public or nothing: never asked with the operator's login.
      return withoutLogin(visit, () => offsetPage(web, visit, input));
    });
  return async (input: ListInput): Promise<ListAnswer> => {
    try {
      return await page(input);
    } catch (error) {
      if (!(error instanceof SourceFailure) || error.reason !== "bad_response" || input.signal.aborted)
        throw error;
      return page(input);
    }
  };
}
