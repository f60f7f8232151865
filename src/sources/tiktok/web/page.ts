import { postErrors, SourceFailure } from "../../../domain/errors.js";
import { scriptById } from "../../../domain/html.js";
import { at, num, record, str } from "../../../domain/json-path.js";
import { hasMedia } from "./item.js";

export const DATA_SCRIPT_ID = "__UNIVERSAL_DATA_FOR_REHYDRATION__";
const DETAIL_KEYS = ["webapp.video-detail", "webapp.reflow.video.detail"];

export type PageKind = "data" | "waf" | "captcha" | "stub";

export function classifyPage(html: string): PageKind {
  if (html.includes(`id="${DATA_SCRIPT_ID}"`) || html.includes(`id='${DATA_SCRIPT_ID}'`)) return "data";
  if (/id=["']?cs["']?/.test(html) && /id=["']?wci["']?/.test(html)) return "waf";
  if (/captcha-verify-container|captcha_container|captcha_verify_container/.test(html)) return "captcha";
  return "stub";
}

/**
 * The `__DEFAULT_SCOPE__` of a page's data script (a post's, a profile's, /following's): undefined
 * when the page has no data script, a failure of this source when the script is not JSON.
 */
export function pageScope(html: string): Record<string, unknown> | undefined {
  const text = scriptById(html, DATA_SCRIPT_ID);
  if (text === undefined) return undefined;
  try {
    return record(at(JSON.parse(text), ["__DEFAULT_SCOPE__"])) ?? {};
  } catch {
    throw new SourceFailure("bad_response", "the page's data script is not valid JSON");
  }
}

/** The post object of a page, or TikTok's own verdict on it, or a failure of this source. */
export function readPost(html: string, requestedId: string): Record<string, unknown> {
  const scope = pageScope(html);
  if (scope === undefined) throw new SourceFailure("bad_response", "the page has no data script");
  const detail = DETAIL_KEYS.map((key) => record(at(scope, [key]))).find(Boolean);
  if (!detail) throw new SourceFailure("bad_response", "the page's data has no post details");
  throwOnStatus(num(detail.statusCode) ?? 0, typeof detail.statusMsg === "string" ? detail.statusMsg : "");

  const item = record(at(detail, ["itemInfo", "itemStruct"]));
  if (!item || !record(item.author)) throw new SourceFailure("bad_response", "the page's post has no author");
  // The flag alone is not a gate (yt-dlp): only a classified post that comes without its media is.
  if (item.isContentClassified === true && !hasMedia(item)) throw postErrors.ageRestricted();
  if (str(item.id) !== requestedId)
    throw new SourceFailure("bad_response", `the page describes post ${String(item.id)}, not ${requestedId}`);
  return item;
}

/** TikTok answers 200 for every state; the verdict is in statusCode and statusMsg (docs/upstreams/tiktok.md §3). */
function throwOnStatus(code: number, message: string): void {
  if (code === 0 && message === "") return;
  const tokens = new Set(message.split(/[&,]/).map((token) => token.trim()));
  const has = (...names: string[]) => names.some((name) => tokens.has(name));
  if (has("status_deleted")) throw postErrors.notFound("This post was removed.");
  if (has("status_self_see") || code === 10216) throw postErrors.private("The owner made this post private.");
  if (has("author_secret") || code === 10222)
    throw postErrors.private("This post belongs to a private account.");
  if (has("status_reviewing", "status_audit_not_pass"))
    throw postErrors.notFound(`TikTok hides this post (${message}).`);
  if (has("cross_border_violation_ur", "person_geo_fencing", "copyright_geo_filter") || code === 10231)
    throw new SourceFailure(
      "region_blocked",
      `TikTok withholds this post in the server's region (${message || code})`,
    );
  if (code === 10204 && message === "")
    throw new SourceFailure("blocked", "TikTok refused this post to our address");
  // Without a deleted status, 10204 is not TikTok's last word: it also means "not for this server's
  // address" (yt-dlp reads every 10204 so). Another source may find the post; nothing is cached.
  if (code === 10204)
    throw new SourceFailure("not_found", `TikTok says the post does not exist here (10204 "${message}")`);
  if (code === 10217) throw postErrors.notFound("TikTok took this post down.");
  throw new SourceFailure("bad_response", `TikTok answered status ${code} "${message}"`);
}
