import { ApiError, badRequest, postErrors } from "../domain/errors.js";
import { isTikTokHost, postIdFromTikTokUrl, type ShortLink } from "../domain/tiktok-url.js";
import { DESKTOP_USER_AGENT, pageHeaders } from "../net/browser.js";
import type { HttpClient } from "../net/http-client.js";
import { classifyPage } from "../sources/native/page.js";

const MAX_HOPS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const SHORT_LINK_BODY_BYTES = 64 * 1024;

/**
 * Reads where a short link points without fetching the target (docs/upstreams/tiktok.md §1.3): Location first,
 * the `<a href>` of the body second, at most five hops, never off TikTok.
 */
export async function resolveShortLink(
  http: HttpClient,
  link: ShortLink,
  signal?: AbortSignal,
): Promise<{ id: string; username?: string }> {
  let current = new URL(link.url);
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    let response: Awaited<ReturnType<HttpClient["request"]>>;
    try {
      response = await http.request({
        url: current,
        headers: pageHeaders(DESKTOP_USER_AGENT),
        maxBytes: SHORT_LINK_BODY_BYTES,
        signal,
      });
    } catch (error) {
      throw shortLinkFailure(error instanceof Error ? error.message : String(error));
    }
    if (response.status === 404) throw postErrors.notFound("TikTok says this short link leads nowhere.");
    // A page instead of a redirect is not a verdict: the WAF's "Please wait...", a stub or a captcha.
    if (response.status >= 200 && response.status < 300)
      throw shortLinkFailure(`TikTok answered a ${classifyPage(response.text())} page instead of a redirect`);
    if (!REDIRECTS.has(response.status)) throw shortLinkFailure(`TikTok answered HTTP ${response.status}`);
    const target = redirectTarget(response.header("location"), response.text(), current);
    if (!target) throw postErrors.notFound("This short link does not lead to a post.");
    if (!isTikTokHost(target.hostname))
      throw badRequest(
        "UNSUPPORTED_LINK",
        `This short link leads outside TikTok (${target.hostname}); it was not followed.`,
      );
    if (/notfound/i.test(target.pathname))
      throw postErrors.notFound("TikTok says this short link leads nowhere.");
    const post = postIdFromTikTokUrl(target);
    if (post) return post;
    current = target;
  }
  throw postErrors.notFound("This short link does not lead to a post.");
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

const shortLinkFailure = (detail: string) =>
  new ApiError(502, "ALL_SOURCES_FAILED", `TikTok did not resolve the short link (${detail}).`);
