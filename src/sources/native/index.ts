import { CookieJar } from "tough-cookie";
import { SourceFailure } from "../../domain/errors.js";
import type { Extraction } from "../../domain/media.js";
import { isTikTokHost } from "../../domain/tiktok-url.js";
import { DESKTOP_USER_AGENT, MOBILE_USER_AGENT, pageHeaders } from "../../net/browser.js";
import type { ExtractInput, SourceDeps, SourceDescriptor } from "../types.js";
import { WafClearance } from "./clearance.js";
import { classifyPage, earliestExpiry, mapPost, readPost } from "./page.js";

/** TikTok's own post page, read from its __UNIVERSAL_DATA_FOR_REHYDRATION__ script (docs/upstreams/tiktok.md §2). */
export const nativeSource: SourceDescriptor = {
  name: "native",
  origin: "https://www.tiktok.com",
  upstream: "tiktok",
  params: [],
  create: createNativeExtractor,
};

function createNativeExtractor(deps: SourceDeps) {
  const clearance = new WafClearance(deps.now);

  async function fetchPage(url: string, userAgent: string, jar: CookieJar, signal: AbortSignal) {
    await clearance.applyTo(jar);
    const response = await deps.http.request({
      url,
      headers: pageHeaders(userAgent),
      jar,
      signal,
      redirects: { max: 3, allow: (target) => isTikTokHost(target.hostname) },
    });
    if (response.url.pathname.startsWith("/login"))
      throw new SourceFailure("blocked", "TikTok asks for a login");
    if (response.status !== 200)
      throw new SourceFailure("http_status", `TikTok answered HTTP ${response.status}`);
    const html = response.text();
    return { html, kind: classifyPage(html) };
  }

  /** One page, through the WAF challenge if TikTok sets one (solved once, then retried once). */
  async function loadPage(url: string, userAgent: string, jar: CookieJar, signal: AbortSignal) {
    let page = await fetchPage(url, userAgent, jar, signal);
    if (page.kind === "waf") {
      await clearance.solve(page.html);
      page = await fetchPage(url, userAgent, jar, signal);
      if (page.kind === "waf") {
        clearance.forget();
        throw new SourceFailure("blocked", "TikTok's WAF challenge came back after it was solved");
      }
    }
    if (page.kind === "captcha") throw new SourceFailure("blocked", "TikTok answered with a captcha");
    return page;
  }

  return async (input: ExtractInput): Promise<Extraction> => {
    const jar = new CookieJar();
    let userAgent = DESKTOP_USER_AGENT;
    let page = await loadPage(
      `https://www.tiktok.com/@${input.username ?? "i"}/video/${input.id}`,
      userAgent,
      jar,
      input.signal,
    );
    if (page.kind === "stub") {
      // From plain HTTP clients the desktop page is often a stub while the mobile one is whole.
      userAgent = MOBILE_USER_AGENT;
      page = await loadPage(`https://m.tiktok.com/v/${input.id}.html`, userAgent, jar, input.signal);
      if (page.kind === "stub") throw new SourceFailure("blocked", "TikTok served a page without post data");
    }
    const media = mapPost(readPost(page.html, input.id));
    const cookie = await jar.getCookieString("https://www.tiktok.com/");
    return {
      media,
      session: { headers: { cookie, referer: "https://www.tiktok.com/", "user-agent": userAgent } },
      expiresAt: earliestExpiry(media),
    };
  };
}
