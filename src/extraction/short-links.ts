import { ApiError, badRequest, postErrors } from "../domain/errors.js";
import type { PostLink as AnyPostLink, Platform } from "../domain/platforms.js";
import {
  isTikTokHost,
  type ListLink,
  listFromTikTokUrl,
  type PostLink,
  postIdFromTikTokUrl,
  type ShortLink,
} from "../domain/tiktok-url.js";
import { DESKTOP_USER_AGENT, MOBILE_USER_AGENT, pageHeaders } from "../net/browser.js";
import { type HttpClient, REDIRECT_STATUSES } from "../net/http-client.js";
import { classifyPage } from "../sources/tiktok/web/page.js";

const MAX_HOPS = 5;
const SHORT_LINK_BODY_BYTES = 64 * 1024;

/**
 * Reads where a short link points without fetching the target (docs/upstreams/tiktok.md §1.3): Location first,
 * the `<a href>` of the body second, at most five hops, never off TikTok.
 */
export async function resolveShortLink(
  http: HttpClient,
  link: ShortLink,
  signal?: AbortSignal,
): Promise<PostLink | ListLink> {
  let current = new URL(link.url);
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    let response = await ask(
      http,
      { link, site: "TikTok" },
      current,
      pageHeaders(DESKTOP_USER_AGENT),
      signal,
    );
    // A page instead of a redirect (the WAF's "Please wait...", a stub, a captcha) is not a verdict. TikTok
    // answers link-preview crawlers with plain redirects: ask once more as one, as yt-dlp and gallery-dl do.
    if (response.status >= 200 && response.status < 300)
      response = await ask(
        http,
        { link, site: "TikTok" },
        current,
        { "user-agent": LINK_PREVIEW_AGENT, accept: "*/*" },
        signal,
      );
    if (response.status === 404) throw postErrors.notFound("TikTok says this short link leads nowhere.");
    if (response.status >= 200 && response.status < 300)
      throw shortLinkFailure(
        link,
        `TikTok answered a ${classifyPage(response.text())} page instead of a redirect`,
      );
    if (!REDIRECT_STATUSES.has(response.status))
      throw shortLinkFailure(link, `TikTok answered HTTP ${response.status}`);
    const target = redirectTarget(response.header("location"), response.text(), current);
    if (!target) throw postErrors.notFound("This short link does not lead to a post.");
    if (!isTikTokHost(target.hostname))
      throw badRequest(
        "UNSUPPORTED_LINK",
        `This short link leads outside TikTok (${target.hostname}); it was not followed.`,
      );
    // A dead code leads to TikTok's home page (`https://www.tiktok.com/?_r=1`), or to a notfound page.
    if (/notfound/i.test(target.pathname) || target.pathname === "/" || target.pathname === "")
      throw postErrors.notFound("TikTok says this short link leads nowhere.");
    const post = postIdFromTikTokUrl(target);
    if (post) return post;
    const list = listFromTikTokUrl(target);
    if (list) return list;
    current = target;
  }
  throw postErrors.notFound("This short link does not lead to a post.");
}

/** The user agent TikTok serves plain redirects to (Facebook's link-preview crawler). */
const LINK_PREVIEW_AGENT = "facebookexternalhit/1.1";

async function ask(
  http: HttpClient,
  { link, site }: { link: ShortLink; site: string },
  url: URL,
  headers: Record<string, string>,
  signal?: AbortSignal,
) {
  try {
    return await http.request({ url, headers, maxBytes: SHORT_LINK_BODY_BYTES, signal });
  } catch (error) {
    // The failure names the site we asked (every TikTok code is asked of vt.tiktok.com), not the host shared.
    const detail = error instanceof Error ? error.message : String(error);
    throw shortLinkFailure(link, detail.replace(/^\S+ (could not be reached|did not answer)/, `${site} $1`));
  }
}

function redirectTarget(location: string | undefined, body: string, base: URL): URL | undefined {
  const fromBody = /<a\s+href="([^"]+)"/i.exec(body)?.[1]?.replaceAll("&amp;", "&");
  for (const candidate of [location, fromBody]) {
    if (!candidate) continue;
    try {
      const url = new URL(candidate, base);
      if (url.protocol === "https:" || url.protocol === "http:") return url;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

const shortLinkFailure = (link: ShortLink, detail: string) =>
  new ApiError(502, "ALL_SOURCES_FAILED", `Could not follow the short link ${link.shared}: ${detail}.`);

/**
 * Another platform's short link: its `Location` read with redirects off, hop by hop (at most five), never
 * off the platform's own hosts, until an address the platform reads as a post. A list is its 400.
 */
export async function followShortLink(
  http: HttpClient,
  link: ShortLink,
  platform: Pick<Platform, "label" | "ownsHost" | "parsePost">,
  signal?: AbortSignal,
): Promise<AnyPostLink> {
  let current = new URL(link.url);
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const response = await ask(
      http,
      { link, site: platform.label },
      current,
      { "user-agent": MOBILE_USER_AGENT, accept: "text/html,*/*" },
      signal,
    );
    if (response.status === 404)
      throw postErrors.notFound(`${platform.label} says this short link leads nowhere.`);
    if (!REDIRECT_STATUSES.has(response.status))
      throw shortLinkFailure(
        link,
        `${platform.label} answered HTTP ${response.status} instead of a redirect`,
      );
    const target = redirectTarget(response.header("location"), "", current);
    if (!target) throw postErrors.notFound("This short link does not lead to a post.");
    if (!platform.ownsHost(target.hostname))
      throw badRequest(
        "UNSUPPORTED_LINK",
        `This short link leads outside ${platform.label} (${target.hostname}); it was not followed.`,
      );
    const host = target.hostname.toLowerCase();
    const read = platform.parsePost(
      { url: target, host, path: target.pathname.replace(/\/{2,}/g, "/") },
      Date.now(),
    );
    if (read.kind === "post") return read;
    current = new URL(read.url);
  }
  throw postErrors.notFound("This short link does not lead to a post.");
}
