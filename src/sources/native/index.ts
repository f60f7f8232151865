import { CookieJar } from "tough-cookie";
import { SourceFailure } from "../../domain/errors.js";
import type { Extraction } from "../../domain/media.js";
import { isTikTokHost, TIKTOK_DOMAINS } from "../../domain/tiktok-url.js";
import { DESKTOP_USER_AGENT, junkHeaders, MOBILE_USER_AGENT, pageHeaders } from "../../net/browser.js";
import type { Route } from "../../net/egress.js";
import type { ExtractInput, SourceDeps, SourceDescriptor } from "../types.js";
import { classifyPage, earliestExpiry, mapPost, readPost } from "./page.js";
import { challengeCookies, parseWafChallenge, solveProofOfWork } from "./waf.js";

/** TikTok's own post page, read from its __UNIVERSAL_DATA_FOR_REHYDRATION__ script (docs/upstreams/tiktok.md §2). */
export const nativeSource: SourceDescriptor = {
  name: "native",
  origin: "https://www.tiktok.com",
  upstream: "tiktok",
  params: [],
  provesPostId: true,
  // TikTok's own page is the first choice until the health figures say otherwise.
  preferred: true,
  create: createNativeExtractor,
};

function createNativeExtractor(deps: SourceDeps) {
  async function fetchPage(page: PageRequest, url: string, userAgent: string) {
    const { jar, signal } = page;
    const response = await page.route.browser.request({
      url,
      headers: { ...pageHeaders(userAgent), ...page.junk },
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

  /**
   * One page, through the WAF challenge if TikTok sets one: the challenge this request met is solved,
   * its cookies go to the one retry, then they are deleted (TikTok gives them Max-Age=1; yt-dlp does the
   * same), so they never reach the media requests.
   */
  async function loadPage(request: PageRequest, url: string, userAgent: string) {
    const { jar, signal } = request;
    let page = await fetchPage(request, url, userAgent);
    if (page.kind === "waf") {
      const challenge = parseWafChallenge(page.html);
      const solution = await solveProofOfWork(challenge.seed, challenge.digest, signal);
      const cookies = challengeCookies(challenge, solution);
      for (const [name, value] of cookies) await setTikTokCookie(jar, name, value, "Max-Age=120");
      try {
        page = await fetchPage(request, url, userAgent);
      } finally {
        for (const [name] of cookies)
          await setTikTokCookie(jar, name, "", "Expires=Thu, 01 Jan 1970 00:00:00 GMT");
      }
      if (page.kind === "waf")
        throw new SourceFailure("blocked", "TikTok's WAF challenge came back after it was solved");
    }
    if (page.kind === "captcha") throw new SourceFailure("blocked", "TikTok answered with a captcha");
    return page;
  }

  /**
   * One extraction. Its route is told how it went: a dead proxy or a block rests it, and the extraction
   * tries once more through the next way out of the pool, if there is another.
   */
  return async (input: ExtractInput): Promise<Extraction> => {
    let route = deps.egress.pick("tiktok");
    for (let attempt = 1; ; attempt++) {
      try {
        const extraction = await extractVia(route, input);
        deps.egress.report(route, "ok");
        return extraction;
      } catch (error) {
        const rested = deps.egress.report(route, error);
        const next = rested && attempt < 2 ? deps.egress.pick("tiktok") : undefined;
        if (!next || next.id === route.id || input.signal.aborted) throw error;
        route = next;
      }
    }
  };

  async function extractVia(route: Route, input: ExtractInput): Promise<Extraction> {
    const jar = new CookieJar();
    // The operator's own session (TIKTOK_COOKIES) opens login-only and age-restricted posts.
    for (const cookie of (await deps.tiktokCookies?.current()) ?? []) {
      const domain = cookie.domain.replace(/^\./, "");
      await jar.setCookie(
        `${cookie.name}=${cookie.value}; Domain=${domain}; Path=${cookie.path}`,
        `https://${domain}/`,
        {
          ignoreError: true,
        },
      );
    }
    // One way out, one jar and one set of junk headers per extraction.
    const request: PageRequest = { jar, signal: input.signal, junk: junkHeaders(), route };
    let userAgent = DESKTOP_USER_AGENT;
    let page = await loadPage(
      request,
      `https://www.tiktok.com/@${input.username ?? "i"}/video/${input.id}`,
      userAgent,
    );
    if (page.kind === "stub") {
      // From plain HTTP clients the desktop page is often a stub while the mobile one is whole.
      userAgent = MOBILE_USER_AGENT;
      page = await loadPage(request, `https://m.tiktok.com/v/${input.id}.html`, userAgent);
      if (page.kind === "stub") throw new SourceFailure("blocked", "TikTok served a page without post data");
    }
    const media = mapPost(readPost(page.html, input.id));
    return {
      media,
      // readPost checked that the page's itemStruct is the post asked for.
      verified: true,
      session: {
        headers: { referer: "https://www.tiktok.com/", "user-agent": userAgent },
        // The page's cookies bind its media addresses: sent to TikTok's hosts only, never elsewhere.
        cookie: {
          value: await jar.getCookieString("https://www.tiktok.com/"),
          domains: TIKTOK_DOMAINS,
        },
        // TikTok binds the media to this session, and so to this way out.
        route: route.id,
      },
      expiresAt: earliestExpiry(media),
    };
  }
}

interface PageRequest {
  jar: CookieJar;
  signal: AbortSignal;
  junk: Record<string, string>;
  route: Route;
}

function setTikTokCookie(jar: CookieJar, name: string, value: string, lifetime: string) {
  return jar.setCookie(
    `${name}=${value}; Domain=.tiktok.com; Path=/; ${lifetime}`,
    "https://www.tiktok.com/",
    {
      ignoreError: true,
    },
  );
}
