import type { Logger } from "pino";
import type { Relayed, RelayRequest } from "../delivery/relay.js";
import type { ListItem, ListPage } from "../domain/lists.js";
import type { DownloadRequest, ListBounds, ListRequest, Settled } from "../domain/requests.js";
import type { HealthSnapshot } from "../extraction/health.js";
import type { ProxyHealth } from "../net/egress.js";
import type { ApiResult } from "./answers.js";
import type { KeyGrant } from "./api-keys.js";
import type { Config } from "./config.js";
import type { Metrics } from "./metrics.js";
import type { Watches } from "./watches.js";

export type WatchUseCases = Omit<Watches, "check" | "deliver" | "queue" | "count" | "idle">;

export type { ApiResult, KeyGrant, Metrics };

/** A source as /api/providers shows it. */
export interface ProviderInfo {
  name: string;
  url: string;
  /** Whether the operator runs it (`SOURCES`). */
  enabled: boolean;
  maintenance?: { reason: string };
  params: { name: string; type: "string" | "number" | "boolean"; required: boolean }[];
  health: HealthSnapshot;
}

/** /api/health: the store, the work in flight, the proxies and each source's state. */
export interface HealthReport {
  ok: true;
  status: "ok" | "degraded";
  version: string;
  uptimeSeconds: number;
  store: { kind: "redis" | "memory"; up: boolean };
  inFlight: number;
  proxies: ProxyHealth[];
  sources: { name: string; state: string }[];
}

/** One file a stream link names, asked for by a client: the relay's request, with the token and who asks. */
export interface OpenFileRequest extends RelayRequest {
  /** The token of `/api/stream/<token>`. */
  token: string;
  /** Who asks, for the caps on running files (absent: an in-process caller, not capped). */
  client?: string;
}

/** A file ready to pass on. `release()` gives its slot back once the answer is over (idempotent). */
export interface OpenedFile extends Relayed {
  release(): void;
}

/**
 * The core as every face (HTTP app, CLI, library) sees it: the use cases, and the few things a face needs
 * to be one (its settings, log, version, metrics, key check and request counters).
 */
export interface Services {
  /** A post's v1 result, with its tunnel links. */
  download(request: DownloadRequest): Promise<ApiResult>;
  /** Several posts' results in order, `limit` at a time; one extraction per distinct post and options. */
  downloadMany(requests: readonly DownloadRequest[], limit: number): Promise<Settled<ApiResult>[]>;
  /** One page of a profile, collection or playlist. */
  listPage(request: ListRequest): Promise<ListPage>;
  /** The posts of a whole listing the bounds select, newest first, across its pages. */
  list(request: Omit<ListRequest, "cursor" | "limit">, bounds: ListBounds): AsyncGenerator<ListItem>;
  /** The file a stream link names (a post's file, or a photo post's ZIP). */
  openFile(request: OpenFileRequest): Promise<OpenedFile>;
  /** The sources, their parameters and their health. */
  providers(): Promise<ProviderInfo[]>;
  /** Canonical links of the cached posts, newest first. */
  storedLinks(limit: number): Promise<string[]>;
  health(): Promise<HealthReport>;
  /** The grant of a presented API key (absent without a keys file); throws the API's 401/403. */
  checkKey?: (key: string, ip: string, userAgent: string) => Promise<KeyGrant>;
  /** Signed feed links, for readers that cannot send a key (absent without a keys file). */
  feedLinks?: {
    sign(keyId: string, parameters: string): Promise<string>;
    check(
      keyId: string,
      parameters: string,
      signature: string,
      ip: string,
      userAgent: string,
    ): Promise<KeyGrant>;
  };
  /**
   * Counts `amount` hits of a rate-limit key in its window (shared through Redis when there is one);
   * given the key's `limit`, a busy key's hits are reserved in Redis several at a time.
   */
  countHits(
    key: string,
    windowMs: number,
    amount?: number,
    limit?: number,
  ): Promise<{ count: number; ttlMs: number }>;
  /** Watches of lists, each its owner's (an API key's id), and their deliveries. */
  watches: WatchUseCases;
  readonly config: Config;
  readonly log: Logger;
  readonly version: string;
  readonly metrics: Metrics;
  /** Resolves once the keys, the cookies file and Redis have been read or given up on (a few seconds). */
  ready(): Promise<void>;
  /** Closes what the services opened, nothing they were given. */
  close(): Promise<void>;
}
