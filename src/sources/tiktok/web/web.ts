import type { CookieJar } from "tough-cookie";
import { SourceFailure } from "../../../domain/errors.js";
import { isTikTokHost } from "../../../domain/tiktok-url.js";
import { junkHeaders, pageHeaders } from "../../../net/browser.js";
import type { Route } from "../../../net/egress.js";
import type { ScopedCookie } from "../../../net/http-client.js";
import type { SourceDeps } from "../../types.js";
import { classifyPage } from "./page.js";
import { createPowSolver, type PowSolver } from "./pow-solver.js";
import { createSessionPool } from "./sessions.js";
import { challengeCookies, parseWafChallenge, solveProofOfWork } from "./waf.js";

/** TikTok sent the visit to its login page: a block for most pages, and the answer for some (`/following`). */
export class LoginWall extends SourceFailure {
  constructor() {
    super("blocked", "TikTok asks for a login");
  }
}

/** A kept session is retired after this many extractions, however young. */
const SESSION_MAX_USES = 500;

/** One visit to TikTok: a way out, a session's jar, the operator's cookies, this visit's junk headers. */
export interface Visit {
  jar: CookieJar;
  operatorCookie?: ScopedCookie;
  signal: AbortSignal;
  junk: Record<string, string>;
  route: Route;
  /** A page of data came back: the session got past the WAF. */
  passed: boolean;
  /** TikTok refused the session (403, 429, login wall, captcha, a challenge that comes back). */
  blocked: boolean;
}

/**
 * TikTok's web pages and JSON endpoints as the native source reads them (posts and lists alike): the
 * browser-like client through a way out, a kept session per visit (docs/upstreams/tiktok.md §2.10
 * "Sessions"), the WAF solved when it shows, one more way out when the first is dead or blocked.
 */
export function createTikTokWeb(deps: SourceDeps) {
  const sessions = createSessionPool({
    size: deps.tiktok.sessions.size,
    maxAgeMs: deps.tiktok.sessions.maxAgeMs,
    maxUses: SESSION_MAX_USES,
    now: deps.now,
  });
  // Solves TikTok's WAF proof of work off the event loop; its threads start with the first challenge.
  const powSolver = createPowSolver();

  const loadPage = (visit: Visit, url: string, userAgent: string, json = false) =>
    loadThroughWaf(powSolver, visit, url, userAgent, json);

  /** A JSON endpoint of TikTok's web app (the lists), on the visit's session; its WAF page is solved too. */
  async function loadJson(visit: Visit, url: string, userAgent: string): Promise<unknown> {
    const page = await loadPage(visit, url, userAgent, true);
    try {
      const data: unknown = JSON.parse(page.html);
      visit.passed = true;
      return data;
    } catch {
      throw new SourceFailure("bad_response", "TikTok's list endpoint answered something other than JSON");
    }
  }

  /**
   * Runs `work` on a visit: a way out and one of its kept sessions. The route is told how it went: a
   * dead proxy or a block rests it, and the work is tried once more through the next way out, if any.
   */
  async function visit<T>(signal: AbortSignal, work: (visit: Visit) => Promise<T>): Promise<T> {
    let route = deps.egress.pick("tiktok");
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await visitVia(route, signal, work);
        deps.egress.report(route, "ok");
        return result;
      } catch (error) {
        const rested = deps.egress.report(route, error);
        const next = rested && attempt < 2 ? deps.egress.pick("tiktok") : undefined;
        if (!next || next.id === route.id || signal.aborted) throw error;
        route = next;
      }
    }
  }

  async function visitVia<T>(route: Route, signal: AbortSignal, work: (visit: Visit) => Promise<T>) {
    const lease = await sessions.acquire(route.id, signal);
    const operator = (await deps.tiktok.cookies?.current()) ?? [];
    const current: Visit = {
      jar: lease.jar,
      operatorCookie: operator.length
        ? {
            value: operator.map((cookie) => `${cookie.name}=${cookie.value}`).join("; "),
            domains: ["tiktok.com"],
          }
        : undefined,
      signal,
      // New junk headers for each visit, as yt-dlp draws them per run.
      junk: junkHeaders(),
      route,
      passed: false,
      blocked: false,
    };
    try {
      return await work(current);
    } finally {
      await lease.release({ passed: current.passed, blocked: current.blocked });
    }
  }

  return { visit, loadPage, loadJson, close: () => powSolver.close() };
}

export type TikTokWeb = ReturnType<typeof createTikTokWeb>;

/**
 * One page on the visit's session; a login wall, 403 or 429 marks the session blocked. The visit's junk
 * headers go with page requests only, as yt-dlp sends its "blockbuster headers" with page requests and
 * not with its list API calls; a JSON request asks for JSON as the web app does.
 */
async function fetchPage(visit: Visit, url: string, userAgent: string, json: boolean) {
  const response = await visit.route.browser.request({
    url,
    headers: {
      ...pageHeaders(userAgent),
      ...(json ? { accept: "application/json, text/plain, */*" } : visit.junk),
    },
    jar: visit.jar,
    // The operator's login goes with each page request; it never enters a kept session or the cache.
    cookie: visit.operatorCookie,
    signal: visit.signal,
    redirects: { max: 3, allow: (target) => isTikTokHost(target.hostname) },
  });
  if (response.url.pathname.startsWith("/login")) {
    visit.blocked = true;
    throw new LoginWall();
  }
  if (response.status === 403 || response.status === 429) visit.blocked = true;
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
async function loadThroughWaf(
  powSolver: PowSolver,
  visit: Visit,
  url: string,
  userAgent: string,
  json: boolean,
) {
  let page = await fetchPage(visit, url, userAgent, json);
  if (page.kind === "waf") {
    const challenge = parseWafChallenge(page.html);
    const solution = await solveProofOfWork(powSolver, challenge.seed, challenge.digest, visit.signal);
    const cookies = challengeCookies(challenge, solution);
    for (const [name, value] of cookies) await setTikTokCookie(visit.jar, name, value, "Max-Age=120");
    try {
      page = await fetchPage(visit, url, userAgent, json);
    } finally {
      for (const [name] of cookies)
        await setTikTokCookie(visit.jar, name, "", "Expires=Thu, 01 Jan 1970 00:00:00 GMT");
    }
    if (page.kind === "waf") {
      visit.blocked = true;
      throw new SourceFailure("blocked", "TikTok's WAF challenge came back after it was solved");
    }
  }
  if (page.kind === "captcha") {
    visit.blocked = true;
    throw new SourceFailure("blocked", "TikTok answered with a captcha");
  }
  if (page.kind === "data") visit.passed = true;
  return page;
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
