import type { BaseLogger } from "pino";
import { SourceFailure } from "../domain/errors.js";
import type { HttpClient } from "./http-client.js";
import { proxyLabel } from "./proxy-label.js";

export { proxyLabel };

/** One way out: direct, or through one proxy, with a plain client and a browser-like one. */
export interface Route {
  /** "direct", or the proxy's address without its credentials (safe to log and show). */
  readonly id: string;
  readonly http: HttpClient;
  readonly browser: HttpClient;
}

export interface ProxyHealth {
  proxy: string;
  pool: string;
  state: "ok" | "resting";
  failures: number;
  lastError: string | null;
}

export interface EgressOptions {
  /** Proxy URLs per upstream name ("tiktok", "tikwm", …) and under "default" (`PROXY_URL`). */
  pools: Readonly<Record<string, readonly string[]>>;
  /** Builds the clients of one route (no proxy URL: direct). */
  clients(proxyUrl?: string): { http: HttpClient; browser: HttpClient };
  now: () => number;
  /** How long a proxy that failed to connect, or got blocked, is left out of its pool. */
  restMs: number;
  log: BaseLogger;
}

interface Member {
  route: Route;
  failures: number;
  restUntil: number;
  lastError: string | null;
}

/**
 * Egress proxies: a pool per upstream (`PROXY_<NAME>`), else the common pool (`PROXY_URL`), else direct.
 * A pool is used in turn; a proxy that fails to connect or gets blocked (403/429, a captcha) rests for
 * `restMs`, and when every proxy of a pool rests, the one whose rest ends first is used. A post's media is
 * relayed through the route its extraction used (TikTok binds media to the session).
 */
export function createEgress(options: EgressOptions) {
  const direct: Route = { id: "direct", ...options.clients() };
  const { routes, pools } = poolsOf(options);
  const turn = new Map<string, number>();

  function poolOf(upstream: string) {
    return pools.get(upstream) ?? pools.get("default");
  }

  return {
    /** The route for one extraction from this upstream. */
    pick(upstream: string): Route {
      const members = poolOf(upstream);
      if (!members) return direct;
      const now = options.now();
      const start = turn.get(upstream) ?? 0;
      for (let i = 0; i < members.length; i++) {
        const member = members[(start + i) % members.length] as Member;
        if (member.restUntil <= now) {
          turn.set(upstream, (start + i + 1) % members.length);
          return member.route;
        }
      }
      return [...members].sort((a, b) => a.restUntil - b.restUntil)[0]?.route ?? direct;
    },
    /** A route by its id: the one a post's extraction used. */
    byId(id: string | undefined): Route | undefined {
      if (id === undefined) return undefined;
      return id === "direct" ? direct : routes.get(id)?.route;
    },
    /**
     * How a route did: a connection failure or a block rests its proxy (and says so: true); a success
     * clears its record.
     */
    report(route: Route, outcome: unknown): boolean {
      const member = routes.get(route.id);
      if (!member) return false;
      if (outcome === "ok") {
        member.failures = 0;
        return false;
      }
      const reason = restReason(outcome);
      if (!reason) return false;
      member.failures++;
      member.lastError = reason;
      member.restUntil = options.now() + options.restMs;
      options.log.warn({ proxy: route.id, reason }, "proxy rests");
      return true;
    },
    health(): ProxyHealth[] {
      const now = options.now();
      return [...pools.entries()].flatMap(([pool, members]) =>
        members.map((member) => ({
          proxy: member.route.id,
          pool,
          state: member.restUntil > now ? ("resting" as const) : ("ok" as const),
          failures: member.failures,
          lastError: member.lastError,
        })),
      );
    },
    /** Closes the proxies' clients (the direct route's belong to whoever made them). */
    async close() {
      await Promise.all(
        [...routes.values()].map(({ route }) => Promise.all([route.http.close(), route.browser.close()])),
      );
    },
  };
}

export type Egress = ReturnType<typeof createEgress>;

/** Each proxy once (a proxy in several pools is one route, with one record), and the pools' members. */
function poolsOf(options: EgressOptions) {
  const routes = new Map<string, Member>();
  const pools = new Map<string, Member[]>();
  for (const [pool, urls] of Object.entries(options.pools)) {
    const members = urls.map((url) => {
      const id = proxyLabel(url);
      let member = routes.get(id);
      if (!member) {
        member = { route: { id, ...options.clients(url) }, failures: 0, restUntil: 0, lastError: null };
        routes.set(id, member);
      }
      return member;
    });
    if (members.length > 0) pools.set(pool, members);
  }
  return { routes, pools };
}

/** Failures that say "this way out is bad now": no connection, or the site blocks this address. */
function restReason(error: unknown): string | undefined {
  if (!(error instanceof SourceFailure)) return undefined;
  if (error.reason === "network" || error.reason === "timeout") return `${error.reason}: ${error.message}`;
  if (error.reason === "blocked") return `blocked: ${error.message}`;
  if (error.reason === "http_status" && /\b(403|429)\b/.test(error.message))
    return `blocked: ${error.message}`;
  return undefined;
}
