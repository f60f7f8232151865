import type { Source } from "../sources/types.js";
import { ApiError, type FailureReason, isAbortError, postErrors, SourceFailure } from "./errors.js";
import type { SourceHealth } from "./health.js";
import { type Extraction, validateMedia } from "./media.js";

export interface RotationRequest {
  id: string;
  username?: string;
  url: string;
  /** A source name, or undefined for "random". */
  requested?: string;
  rotateOnError: boolean;
  params: Record<string, unknown>;
}

export interface RotationDeps {
  sources: readonly Source[];
  health: SourceHealth;
  maxAttempts: number;
  /** Upper bound for one source's whole extraction (it may make several requests). */
  attemptTimeoutMs: number;
  now: () => number;
  random: () => number;
  onAttempt?: (event: AttemptEvent) => void;
}

export interface AttemptEvent {
  source: string;
  ok: boolean;
  ms: number;
  reason?: FailureReason;
  message?: string;
}

interface Attempted {
  source: string;
  reason: FailureReason;
  message: string;
}

/**
 * Asks sources in turn until one answers: the requested one first, then (if allowed) the others,
 * healthiest first, never one twice, at most `maxAttempts`. TikTok's own verdicts (ApiError) end it.
 */
export async function extractWithRotation(
  deps: RotationDeps,
  request: RotationRequest,
): Promise<{ extraction: Extraction; source: string }> {
  const attempted: Attempted[] = [];
  let tries = 0;
  for (const source of attemptOrder(deps, request)) {
    if (tries >= deps.maxAttempts) break;
    if (source.maintenance) {
      attempted.push({ source: source.name, reason: "maintenance", message: source.maintenance.reason });
      if (!request.rotateOnError) break;
      continue;
    }
    tries++;
    const started = deps.now();
    try {
      const extraction = await runOnce(deps, source, request);
      const ms = deps.now() - started;
      deps.health.recordSuccess(source.name, ms);
      deps.onAttempt?.({ source: source.name, ok: true, ms });
      return { extraction, source: source.name };
    } catch (error) {
      const ms = deps.now() - started;
      if (error instanceof ApiError) {
        // TikTok answered; the source worked.
        deps.health.recordSuccess(source.name, ms);
        deps.onAttempt?.({ source: source.name, ok: true, ms, message: error.code });
        throw error;
      }
      const failure = asFailure(error);
      deps.health.recordFailure(source.name, failure.reason, failure.message, ms);
      deps.onAttempt?.({
        source: source.name,
        ok: false,
        ms,
        reason: failure.reason,
        message: failure.message,
      });
      attempted.push({ source: source.name, reason: failure.reason, message: failure.message });
      if (!request.rotateOnError) break;
    }
  }
  throw finalError(attempted);
}

function attemptOrder(deps: RotationDeps, request: RotationRequest): Source[] {
  const requested = request.requested
    ? deps.sources.filter((source) => source.name === request.requested)
    : [];
  const others = deps.sources.filter((source) => source.name !== request.requested);
  return [...requested, ...weightedShuffle(others, (source) => deps.health.weight(source.name), deps.random)];
}

/** Weighted random order without replacement: healthy sources tend to come first, none starves. */
export function weightedShuffle<T>(items: readonly T[], weightOf: (item: T) => number, random: () => number) {
  return items
    .map((item) => ({ item, key: random() ** (1 / Math.max(weightOf(item), 1e-6)) }))
    .sort((a, b) => b.key - a.key)
    .map((entry) => entry.item);
}

async function runOnce(deps: RotationDeps, source: Source, request: RotationRequest): Promise<Extraction> {
  const signal = AbortSignal.timeout(deps.attemptTimeoutMs);
  const extraction = await source.extract({
    id: request.id,
    username: request.username,
    url: request.url,
    params: request.params,
    signal,
  });
  if (extraction.media.id !== request.id)
    throw new SourceFailure("invalid_result", `answered for post ${extraction.media.id}, not ${request.id}`);
  return { ...extraction, media: validateMedia(extraction.media) };
}

function asFailure(error: unknown): SourceFailure {
  if (error instanceof SourceFailure) return error;
  if (isAbortError(error)) return new SourceFailure("timeout", "took too long");
  // A bug or an unexpected page shape inside one source must not take the request down.
  const message = error instanceof Error ? error.message : String(error);
  return new SourceFailure("bad_response", `unexpected error: ${message.slice(0, 200)}`);
}

function finalError(attempted: Attempted[]): ApiError {
  // Every site agreeing that the post is gone or private is as good as TikTok saying so.
  const unanimous = (reason: FailureReason) =>
    attempted.length > 0 && attempted.every((entry) => entry.reason === reason);
  if (unanimous("not_found"))
    return postErrors.notFound(`Every source tried says this post does not exist (${describe(attempted)}).`);
  if (unanimous("private"))
    return postErrors.private(`Every source tried says this post is private (${describe(attempted)}).`);
  if (attempted.some((entry) => entry.reason === "region_blocked")) {
    const only = attempted.every((entry) => entry.reason === "region_blocked");
    return postErrors.regionBlocked(
      only
        ? "This post is not available in the server's region."
        : `This post is not available in the server's region (${describe(attempted)}).`,
    );
  }
  if (attempted.length === 0)
    return new ApiError(502, "ALL_SOURCES_FAILED", "No source is available to answer right now.");
  return new ApiError(502, "ALL_SOURCES_FAILED", `Every source tried failed: ${describe(attempted)}.`);
}

const describe = (attempted: Attempted[]) =>
  attempted.map((entry) => `${entry.source} (${entry.reason}: ${entry.message})`).join("; ");
