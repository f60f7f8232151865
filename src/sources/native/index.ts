import type { CookieJar } from "tough-cookie";
import { SourceFailure } from "../../domain/errors.js";
import type { Extraction } from "../../domain/media.js";
import { isTikTokHost } from "../../domain/tiktok-url.js";
import { DESKTOP_USER_AGENT, junkHeaders, MOBILE_USER_AGENT, pageHeaders } from "../../net/browser.js";
import type { Route } from "../../net/egress.js";
import type { ScopedCookie } from "../../net/http-client.js";
import type { ExtractInput, SourceDeps, SourceDescriptor } from "../types.js";
import { classifyPage, earliestExpiry, mapPost, readPost } from "./page.js";
import { createSessionPool } from "./sessions.js";
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
  const sessions = createSessionPool({
    size: deps.tiktokSessions.size,
    maxAgeMs: deps.tiktokSessions.maxAgeMs,
    maxUses: SESSION_MAX_USES,
    now: deps.now,
  });

  async function fetchPage(page: PageRequest, url: string, userAgent: string) {
    const response = await page.route.browser.request({
      url,
      headers: { ...pageHeaders(userAgent), ...page.junk },
      jar: page.jar,
      // The operator's login goes with each page request; it never enters a kept session or the cache.
      cookie: page.operatorCookie,
      signal: page.signal,
      redirects: { max: 3, allow: (target) => isTikTokHost(target.hostname) },
    });
    if (response.url.pathname.startsWith("/login")) {
      page.blocked = true;
      throw new SourceFailure("blocked", "TikTok asks for a login");
    }
    if (response.status === 403 || response.status === 429) page.blocked = true;
    if (response.status !== 200)
      throw new SourceFailure("http_status", `TikTok answered HTTP ${response.status}`);
    const html = response.text();
    return { html, kind: classifyPage(html) };
  }

  /**
   * One page, through the WAF challenge if TikTok sets one: the challenge this request met is solved,
   * its cookies go to the one retry, then they are deleted (TikTok gives them Max-Age=1; yt-dlp does the
   * same), so they never reach the media requests or the kept session.
   */
  async function loadPage(request: PageRequest, url: string, userAgent: string) {
    const { jar, signal } = request;
    let page = await fetchPage(request, url, userAgent);
    if (page.kind === "waf") {
      const challenge = parseWafChallenge(page.html);
      const solution = await solveProofOfWork(deps.powSolver, challenge.seed, challenge.digest, signal);
      const cookies = challengeCookies(challenge, solution);
      for (const [name, value] of cookies) await setTikTokCookie(jar, name, value, "Max-Age=120");
      try {
        page = await fetchPage(request, url, userAgent);
      } finally {
        for (const [name] of cookies)
          await setTikTokCookie(jar, name, "", "Expires=Thu, 01 Jan 1970 00:00:00 GMT");
      }
      if (page.kind === "waf") {
        request.blocked = true;
        throw new SourceFailure("blocked", "TikTok's WAF challenge came back after it was solved");
      }
    }
    if (page.kind === "captcha") {
      request.blocked = true;
      throw new SourceFailure("blocked", "TikTok answered with a captcha");
    }
    if (page.kind === "data") request.passed = true;
    return page;
  }

  /**
   * One extraction. Its route is told how it went: a dead proxy or a block rests it, and the extraction
   * tries once more through the next way out of the pool, if there is another.
   */
  const extract = async (input: ExtractInput): Promise<Extraction> => {
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

  /** One extraction through one way out, on a session borrowed from that way out's pool. */
  async function extractVia(route: Route, input: ExtractInput): Promise<Extraction> {
    const lease = await sessions.acquire(route.id, input.signal);
    const operator = (await deps.tiktokCookies?.current()) ?? [];
    const request: PageRequest = {
      jar: lease.jar,
      operatorCookie: operator.length
        ? {
            value: operator.map((cookie) => `${cookie.name}=${cookie.value}`).join("; "),
            domains: ["tiktok.com"],
          }
        : undefined,
      signal: input.signal,
      // New junk headers for each extraction, as yt-dlp draws them per run.
      junk: junkHeaders(),
      route,
      passed: false,
      blocked: false,
    };
    try {
      return await readPage(request, input);
    } finally {
      await lease.release({ passed: request.passed, blocked: request.blocked });
    }
  }

  async function readPage(request: PageRequest, input: ExtractInput): Promise<Extraction> {
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
        // The page's own cookies bind its media addresses. They follow their domain (.tiktok.com), so
        // media on tiktokcdn.com hosts get none; the operator's login is never among them.
        cookie: {
          value: await request.jar.getCookieString("https://www.tiktok.com/"),
          domains: SESSION_COOKIE_DOMAINS,
        },
        // TikTok binds the media to this session, and so to this way out.
        route: request.route.id,
      },
      expiresAt: earliestExpiry(media),
    };
  }

  return extract;
}

/** A kept session is retired after this many extractions, however young. */
const SESSION_MAX_USES = 500;
/** The domain TikTok's page sets its cookies on: media hosts elsewhere (tiktokcdn.com) never get them. */
const SESSION_COOKIE_DOMAINS = ["tiktok.com"] as const;

interface PageRequest {
  jar: CookieJar;
  operatorCookie?: ScopedCookie;
  signal: AbortSignal;
  junk: Record<string, string>;
  route: Route;
  /** A page of post data came back: the session got past the WAF. */
  passed: boolean;
  /** TikTok refused the session (403, 429, login wall, captcha, a challenge that comes back). */
  blocked: boolean;
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
