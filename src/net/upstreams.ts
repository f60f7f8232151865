import { isTikTokHost } from "../domain/tiktok-url.js";

/**
 * Operators (and our tests) point the service at other servers with one base URL per upstream.
 * Code always speaks in real addresses; this map swaps the origin just before the request leaves.
 */
export interface UpstreamMap {
  /** Where a request for `logical` really goes. */
  toTransport(logical: URL): URL;
  /** Base URL of a named upstream (override or the real origin), always ending in "/". */
  baseOf(name: string, realOrigin: string): URL;
  /** Origins the operator configured: trusted even on private addresses. */
  readonly trustedOrigins: ReadonlySet<string>;
}

export function createUpstreamMap(overrides: Readonly<Record<string, string>>): UpstreamMap {
  const bases = new Map(
    Object.entries(overrides).map(([name, base]) => [name, withTrailingSlash(new URL(base))]),
  );
  const tiktok = bases.get("tiktok");
  return {
    toTransport(logical) {
      if (!tiktok || !isTikTokHost(logical.hostname)) return logical;
      return joinBase(tiktok, `${logical.pathname}${logical.search}`);
    },
    baseOf(name, realOrigin) {
      return bases.get(name) ?? withTrailingSlash(new URL(realOrigin));
    },
    trustedOrigins: new Set([...bases.values()].map((base) => base.origin)),
  };
}

/** `base` may carry a path prefix; `pathAndQuery` is appended to it, prefix kept. */
export function joinBase(base: URL, pathAndQuery: string): URL {
  const prefix = base.pathname.replace(/\/$/, "");
  const rest = pathAndQuery.startsWith("/") ? pathAndQuery : `/${pathAndQuery}`;
  return new URL(`${base.origin}${prefix}${rest}`);
}

function withTrailingSlash(url: URL): URL {
  const copy = new URL(url.href);
  if (!copy.pathname.endsWith("/")) copy.pathname += "/";
  copy.search = "";
  copy.hash = "";
  return copy;
}
