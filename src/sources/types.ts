import type { Extraction } from "../domain/media.js";
import type { CookieFile } from "../net/cookie-file.js";
import type { HttpClient } from "../net/http-client.js";
import type { UpstreamMap } from "../net/upstreams.js";

export interface ParamSpec {
  name: string;
  type: "string" | "boolean" | "number";
  required: boolean;
  description?: string;
}

export interface ExtractInput {
  id: string;
  username?: string;
  /** The canonical post address, for sources that take a link. */
  url: string;
  params: Record<string, unknown>;
  signal: AbortSignal;
}

export type Extract = (input: ExtractInput) => Promise<Extraction>;

/** What every source may use; built once per service. */
export interface SourceDeps {
  http: HttpClient;
  /** Looks like Chrome to TikTok (impersonation); the plain client where that cannot be loaded. */
  browser: HttpClient;
  upstreams: UpstreamMap;
  now: () => number;
  /** The operator's TikTok cookies (`TIKTOK_COOKIES`), for login-only and age-restricted posts. */
  tiktokCookies?: CookieFile;
}

/**
 * A place answers come from, declared once: TikTok itself ("native") or a third-party site, one file
 * each. The registry, the `UPSTREAM_<NAME>` check, /api/providers, the README's table of upstream
 * variables and the tests all read this declaration.
 */
export interface SourceDescriptor {
  readonly name: string;
  /** The real public origin (the configuration may send requests elsewhere). */
  readonly origin: string;
  /** `<name>` of the `UPSTREAM_<NAME>` variable that moves this source's origin (lower case). */
  readonly upstream: string;
  readonly params: readonly ParamSpec[];
  /** Retired: listed with the reason, never called. */
  readonly maintenance?: { reason: string };
  /** Asked first by `random` while nothing is known yet of its health (a fresh instance). */
  readonly preferred?: boolean;
  /** Builds this source's extractor for one service; its state (a WAF clearance…) lives as long. */
  create(deps: SourceDeps): Extract;
}

/** A source as the running service uses it: its declaration and its extractor. */
export interface Source extends Omit<SourceDescriptor, "create"> {
  extract: Extract;
}
