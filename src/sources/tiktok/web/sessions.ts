import type { CookieJar } from "tough-cookie";
import { newCookieJar } from "../../../net/cookie-jar.js";

/**
 * TikTok sessions kept between extractions (docs/upstreams/tiktok.md §7): a fresh cookie jar meets
 * the WAF's proof of work on its first page; once past it, the session cookies TikTok sets (`ttwid`,
 * `tt_chain_token`, `tt_csrf_token`, `msToken`, …) let the next pages through for a while. So each way
 * out (direct, each proxy) keeps a few sessions and reuses them. A session that has not passed the WAF
 * yet is lent to one extraction at a time, so it meets one challenge, not one per waiting request; given
 * back without a page of data (an error page, a stub), it is dropped and its slot made anew, so a slot is
 * never held by a session nothing will lend again. A blocked session, or one past its age or use count,
 * is dropped. Each extraction works on its own copy
 * of the jar (the challenge cookies never leave it) and hands back what TikTok set. Sessions live in
 * this process only: they are cheap to rebuild, and a jar bound to one instance's address is worth
 * little to another.
 */
export interface SessionPoolOptions {
  /** Sessions kept per way out. */
  size: number;
  /** A session older than this is not lent again. */
  maxAgeMs: number;
  /** A session is retired after this many extractions. */
  maxUses: number;
  now: () => number;
}

/** What one extraction borrowed: its own copy of the session's cookies. */
export interface SessionLease {
  /** The extraction's jar: the session's cookies at lending time, and what the extraction's pages set. */
  readonly jar: CookieJar;
  /** Gives the session back; `passed`: a page got past the WAF; `blocked`: TikTok refused it (dropped). */
  release(outcome: { passed: boolean; blocked: boolean }): Promise<void>;
}

interface Session {
  readonly id: number;
  /** None until the session's first extraction. */
  jar?: CookieJar;
  readonly createdAt: number;
  uses: number;
  passed: boolean;
  busy: number;
  dropped: boolean;
}

/** Cookies that belong to one page request only (the WAF's solution): never kept in a session. */
const ONE_USE_COOKIES = new Set(["_wafchallengeid", "waforiginalreid"]);

export function createSessionPool(options: SessionPoolOptions) {
  const byRoute = new Map<string, Session[]>();
  /** Extractions waiting for a session that is still meeting its first challenge. */
  const waiters = new Map<string, (() => void)[]>();
  let nextId = 0;

  const usable = (session: Session) =>
    !session.dropped &&
    options.now() - session.createdAt < options.maxAgeMs &&
    session.uses < options.maxUses;

  function choose(route: string): Session | undefined {
    const kept = (byRoute.get(route) ?? []).filter(usable);
    byRoute.set(route, kept);
    const passed = kept.filter((session) => session.passed).sort((a, b) => a.busy - b.busy);
    const idle = passed.find((session) => session.busy === 0);
    if (idle) return idle;
    if (kept.length < options.size) {
      const session = newSession(nextId++, options.now());
      kept.push(session);
      return session;
    }
    // Every slot taken: share the least busy session that passed; none yet, wait for one that warms up.
    return passed[0];
  }

  function wake(route: string) {
    const queue = waiters.get(route) ?? [];
    waiters.delete(route);
    for (const resume of queue) resume();
  }

  async function acquire(route: string, signal?: AbortSignal): Promise<SessionLease> {
    for (;;) {
      signal?.throwIfAborted();
      const session = choose(route);
      if (session) return lend(route, session);
      await new Promise<void>((resolve, reject) => {
        const queue = waiters.get(route) ?? [];
        queue.push(resolve);
        waiters.set(route, queue);
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    }
  }

  async function lend(route: string, session: Session): Promise<SessionLease> {
    session.busy++;
    session.uses++;
    let jar: CookieJar;
    try {
      jar = session.jar ? await session.jar.clone() : await newCookieJar();
    } catch (error) {
      giveBack(route, session, true);
      throw error;
    }
    return {
      jar,
      async release({ passed, blocked }) {
        try {
          if (passed && !blocked) session.jar = await keptCookies(jar);
        } finally {
          giveBack(route, session, blocked || !(passed || session.passed));
        }
      },
    };
  }

  /** The session is free again; `drop`: blocked, or still cold after its one try (its slot goes to a new one). */
  function giveBack(route: string, session: Session, drop: boolean) {
    session.busy--;
    if (drop) session.dropped = true;
    else session.passed = true;
    wake(route);
  }

  return { acquire };
}

export type SessionPool = ReturnType<typeof createSessionPool>;

const newSession = (id: number, now: number): Session => ({
  id,
  createdAt: now,
  uses: 0,
  passed: false,
  busy: 0,
  dropped: false,
});

/** The extraction's jar without the one-use WAF cookies: what the session keeps. */
async function keptCookies(jar: CookieJar): Promise<CookieJar> {
  const kept = await newCookieJar();
  for (const cookie of await jar.getCookies("https://www.tiktok.com/", { allPaths: true })) {
    if (ONE_USE_COOKIES.has(cookie.key)) continue;
    await kept.setCookie(cookie, `https://${cookie.domain ?? "www.tiktok.com"}/`, { ignoreError: true });
  }
  return kept;
}
