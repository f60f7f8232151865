import type { ApiErrorCode, FailureReason } from "../domain/errors.js";
import type { Extraction } from "../domain/media.js";

export type CacheEntry =
  | { kind: "result"; extraction: Extraction; source: string; link: string; storedAt: number }
  | { kind: "error"; status: number; code: ApiErrorCode; message: string; storedAt: number };

/** Where answers are kept: in memory on one machine, or in Redis shared by several instances. */
export interface Store {
  getPost(id: string): Promise<CacheEntry | undefined>;
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
  isClaimed?(key: string): Promise<boolean>;
  release?(key: string): Promise<void>;
  /** Whether the backing service answers (always true in memory). */
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
}

/** Where several instances pool their outcomes (Redis); absent on a single machine. */
export interface HealthShare {
  push(name: string, outcome: Outcome): Promise<void>;
  pull(
    names: readonly string[],
  ): Promise<Map<string, { outcomes: Outcome[]; successes: number; failures: number }>>;
}
