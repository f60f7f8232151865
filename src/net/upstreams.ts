import type { Platform } from "../domain/platforms.js";

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

/**
 * `overrides`: base URL per upstream name (`UPSTREAM_<NAME>`). A platform's own hosts (its pages and its
 * CDN) all go to its upstream's base when that is overridden; a provider's site is opened at its base.
 */
export function createUpstreamMap(
  overrides: Readonly<Record<string, string>>,
  platforms: readonly Pick<Platform, "upstream" | "ownsHost">[],
): UpstreamMap {
  const bases = new Map(
    Object.entries(overrides).map(([name, base]) => [name, withTrailingSlash(new URL(base))]),
  );
  const moved = platforms.flatMap((platform) => {
    const base = bases.get(platform.upstream);
    return base ? [{ owns: platform.ownsHost, base }] : [];
  });
  return {
    toTransport(logical) {
      const base = moved.find(({ owns }) => owns(logical.hostname))?.base;
      return base ? joinBase(base, `${logical.pathname}${logical.search}`) : logical;
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
