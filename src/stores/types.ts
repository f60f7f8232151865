import type { ApiErrorCode, FailureReason } from "../domain/errors.js";
import type { ListPage } from "../domain/lists.js";
import type { Extraction } from "../domain/media.js";

/** When it was stored and when it stops being valid (ms since the epoch). */
interface Lifetime {
  storedAt: number;
  expiresAt: number;
}

export type CacheEntry =
  | ({
      kind: "result";
      extraction: Extraction;
      source: string;
      link: string;
      /** Kept only for requests and links that name its source: left out of the stored-links index. */
      unlisted?: boolean;
    } & Lifetime)
  | ({ kind: "error"; status: number; code: ApiErrorCode; message: string } & Lifetime)
  | ({ kind: "list"; page: Omit<ListPage, "cached"> } & Lifetime);

/**
 * Where answers are kept: in memory on one machine, or in Redis shared by several instances (with a
 * near copy in memory). Every store is a cache: its callers go on without it when a call fails.
 */
export interface Store {
  /** `shared`: skip any near copy and read what every instance sees (a wait for another's answer). */
  getPost(id: string, options?: { shared?: boolean }): Promise<CacheEntry | undefined>;
  setPost(id: string, entry: CacheEntry, ttlMs: number): Promise<void>;
  /** Short-link code → post id, so a short link is resolved once. */
  getShortLink(code: string): Promise<string | undefined>;
  setShortLink(code: string, id: string, ttlMs: number): Promise<void>;
  /** Canonical links of the posts currently cached, newest first. */
  storedLinks(limit: number): Promise<string[]>;
  /**
   * Cross-instance de-duplication (Redis only): take the right to extract a post for `ttlMs`, see
   * whether someone holds it, give it back. A store without them leaves it to the in-process one.
   */
  claim?(key: string, ttlMs: number): Promise<boolean>;
  /** Keeps a claim alive for another `ttlMs` while its holder works. */
  renew?(key: string, ttlMs: number): Promise<void>;
  isClaimed?(key: string): Promise<boolean>;
  release?(key: string): Promise<void>;
  /** Whether the backing service answers (always true in memory); answers at once when it is known down. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** One attempt's outcome, as kept in the rolling window (most recent first). */
export interface Outcome {
  ok: boolean;
  ms: number;
  at: number;
  reason?: FailureReason;
  message?: string;
  /** The post it was for: failures on one post count once toward a circuit. */
  post?: string;
}

/** Where several instances pool their outcomes (Redis); absent on a single machine. */
export interface HealthShare {
  push(name: string, outcome: Outcome): Promise<void>;
  /** Counts an outcome in the totals only (one a client forced). */
  count(name: string, ok: boolean): Promise<void>;
  pull(
    names: readonly string[],
  ): Promise<Map<string, { outcomes: Outcome[]; successes: number; failures: number }>>;
}
