import { deadline } from "../domain/deadline.js";
import { ApiError, type FailureReason, isAbortError, SourceFailure } from "../domain/errors.js";
import { type Extraction, validateMedia } from "../domain/media.js";
import type { Source } from "../sources/types.js";
import { isFault, type SourceHealth } from "./health.js";

export interface RotationRequest {
  /** The post's platform: only its sources are asked. */
  platform: string;
  id: string;
  username?: string;
  url: string;
  /** The source the client named, or undefined for "random". */
  source?: string;
  rotateOnError: boolean;
  params: Record<string, unknown>;
  /** Only these sources may be asked (an API key's); absent, all. */
  allowedSources?: readonly string[];
  /**
   * Whether `source` is the client's own choice (`type=<name>`), rather than the service's (a tunnel
   * link's re-extraction): a client's choice never steers the health everyone's rotation reads.
   */
  clientChose?: boolean;
  /** The client may be given what only the operator's login shows. */
  readsViaLogin?: boolean;
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
  /** For a bug: what our own code threw, stack included. */
  error?: unknown;
}

/** A source that was asked and did not answer: why. */
export interface Attempted {
  source: string;
  reason: FailureReason;
  message: string;
}

type Settled =
  | { source: Source; ok: true; extraction: Extraction }
  | { source: Source; ok: false; error: ApiError | SourceFailure; ms: number };

/**
 * A failure this fast (connection refused, no such host, an immediate 5xx or garbage) cost nothing: it
 * does not count against `maxAttempts`, so a fresh instance facing several dead sources still reaches
 * a live one. The whole search stays bounded by its time budget and by the number of sources.
 */
const QUICK_FAILURE_MS = 1_000;

/**
 * Asks sources until one answers: the requested one first; then (if allowed) the others, healthiest
 * first, never one twice, at most `maxAttempts`, skipping open circuits. For "random", a source that
 * is slower than its usual p90 gets a second one started beside it: the first valid answer wins and
 * the other is aborted. TikTok's own verdicts (ApiError) end the search.
 */
export async function extractWithRotation(
  deps: RotationDeps,
  request: RotationRequest,
): Promise<{ extraction: Extraction; source: string }> {
  const { queue, skipped } = await attemptOrder(deps, request);
  const attempted: Attempted[] = [...skipped];
  const running = new Map<Source, { done: Promise<Settled>; abort: AbortController }>();
  const hedging = request.source === undefined && request.rotateOnError;
  const deadline = deps.now() + deps.attemptTimeoutMs * deps.maxAttempts;
  let launched = 0;

  const launch = () => {
    if (launched >= deps.maxAttempts || deps.now() >= deadline) return;
    const source = queue.shift();
    if (!source) return;
    launched++;
    const abort = new AbortController();
    running.set(source, { done: attempt(deps, source, request, abort.signal), abort });
  };
  const stopAll = () => {
    for (const { abort } of running.values()) abort.abort();
  };

  launch();
  while (running.size > 0) {
    const newest = [...running.keys()].at(-1) as Source;
    const hedge =
      hedging && queue.length > 0 && launched < deps.maxAttempts
        ? deps.health.hedgeDelay(newest.name)
        : undefined;
    const settled = await raceWithTimer(
      [...running.values()].map((entry) => entry.done),
      hedge,
    );
    if (settled === "timer") {
      launch();
      continue;
    }
    running.delete(settled.source);
    if (settled.ok) {
      stopAll();
      return { extraction: settled.extraction, source: settled.source.name };
    }
    if (settled.error instanceof ApiError) {
      stopAll();
      throw settled.error;
    }
    attempted.push({
      source: settled.source.name,
      reason: settled.error.reason,
      message: settled.error.message,
    });
    if (settled.ms < QUICK_FAILURE_MS && settled.error.reason !== "timeout") launched--;
    if (request.rotateOnError && running.size === 0) launch();
    else if (!request.rotateOnError) break;
  }
  throw finalError(attempted);
}

/** One source's try, settled (never rejected), its outcome recorded unless it lost a race. */
async function attempt(
  deps: RotationDeps,
  source: Source,
  request: RotationRequest,
  race: AbortSignal,
): Promise<Settled> {
  const started = deps.now();
  const limit = deadline(deps.attemptTimeoutMs, race);
  const signal = limit.signal;
  try {
    const extraction = await source.extract({
      platform: request.platform,
      id: request.id,
      username: request.username,
      url: request.url,
      params: request.params,
      signal,
      ...(request.readsViaLogin ? { readsViaLogin: true } : {}),
    });
    if (extraction.media.id !== request.id)
      throw new SourceFailure(
        "invalid_result",
        `answered for post ${extraction.media.id}, not ${request.id}`,
      );
    const valid = { ...extraction, media: validateMedia(extraction.media) };
    report(deps, source, request, started, { ok: true });
    return { source, ok: true, extraction: valid };
  } catch (error) {
    if (error instanceof ApiError) {
      // TikTok answered: the source did its job.
      report(deps, source, request, started, { ok: true, message: error.code });
      return { source, ok: false, error, ms: deps.now() - started };
    }
    const failure = race.aborted
      ? new SourceFailure("timeout", "lost the race to a faster source")
      : asFailure(error);
    if (!race.aborted)
      report(deps, source, request, started, {
        ok: false,
        reason: failure.reason,
        message: failure.message,
        ...(failure.reason === "bug" ? { error } : {}),
      });
    return { source, ok: false, error: failure, ms: deps.now() - started };
  } finally {
    limit.release();
  }
}

function report(
  deps: RotationDeps,
  source: Source,
  request: RotationRequest,
  started: number,
  outcome: Omit<AttemptEvent, "source" | "ms">,
) {
  const ms = deps.now() - started;
  const healthy = outcome.ok || (outcome.reason !== undefined && !isFault(outcome.reason));
  const forced = request.source === source.name && request.clientChose !== false;
  deps.health.record(
    source.name,
    { ok: healthy, ms, reason: outcome.reason, message: outcome.message, post: request.id },
    { forced },
  );
  deps.onAttempt?.({ source: source.name, ms, ...outcome });
}

function raceWithTimer<T>(promises: Promise<T>[], delayMs: number | undefined): Promise<T | "timer"> {
  if (delayMs === undefined) return Promise.race(promises);
  let timer: NodeJS.Timeout | undefined;
  const fired = new Promise<"timer">((resolve) => {
    timer = setTimeout(() => resolve("timer"), delayMs);
  });
  return Promise.race([...promises, fired]).finally(() => clearTimeout(timer));
}

/** The sources this request may use that are not retired, in the health module's order. */
async function attemptOrder(deps: RotationDeps, request: RotationRequest) {
  const skipped: Attempted[] = [];
  const allowed = request.allowedSources;
  const named = deps.sources.find((source) => source.name === request.source);
  if (named && named.platform !== request.platform)
    throw new ApiError(
      400,
      "INVALID_TYPE",
      `The source "${named.name}" does not serve ${request.platform} posts.`,
    );
  const live = deps.sources.filter((source) => {
    if (source.platform !== request.platform) return false;
    if (allowed && !allowed.includes(source.name)) return false;
    if (!source.maintenance) return true;
    if (source.name === request.source)
      skipped.push({ source: source.name, reason: "maintenance", message: source.maintenance.reason });
    return false;
  });
  if (request.source !== undefined && !request.rotateOnError)
    return { queue: live.filter((source) => source.name === request.source), skipped };
  return { queue: await deps.health.order(live, request.source, deps.random), skipped };
}

/**
 * A source that answered badly throws a SourceFailure (the site changed, or is down); anything else
 * thrown from its code is our bug. Either way the request goes on with the next source.
 */
export function asFailure(error: unknown): SourceFailure {
  if (error instanceof SourceFailure) return error;
  if (isAbortError(error)) return new SourceFailure("timeout", "took too long");
  return new SourceFailure("bug", "our code failed on its answer; the error is in the server's log");
}

/**
 * The answer when no source answered: what they agree on, else a 502 that names each. `what` is the
 * thing asked for ("post", "profile", …).
 */
export function finalError(attempted: readonly Attempted[], what = "post"): ApiError {
  // Every site agreeing that the post is gone or private is as good as TikTok saying so.
  const unanimous = (reason: FailureReason) =>
    attempted.length > 0 && attempted.every((entry) => entry.reason === reason);
  // Said by the sources, not by TikTok's page: the answer for this request, never cached for everyone.
  if (unanimous("not_found"))
    return new ApiError(
      404,
      "NOT_FOUND",
      `Every source tried says this ${what} does not exist (${describe(attempted)}).`,
    );
  if (unanimous("private"))
    return new ApiError(
      403,
      "PRIVATE",
      `Every source tried says this ${what} is private (${describe(attempted)}).`,
    );
  if (attempted.some((entry) => entry.reason === "region_blocked")) {
    const only = attempted.every((entry) => entry.reason === "region_blocked");
    return new ApiError(
      403,
      "REGION_BLOCKED",
      only
        ? `This ${what} is not available in the server's region.`
        : `This ${what} is not available in the server's region (${describe(attempted)}).`,
    );
  }
  if (attempted.length === 0)
    return new ApiError(502, "ALL_SOURCES_FAILED", "No source is available to answer right now.");
  return new ApiError(502, "ALL_SOURCES_FAILED", `Every source tried failed: ${describe(attempted)}.`);
}

const describe = (attempted: readonly Attempted[]) =>
  attempted.map((entry) => `${entry.source} (${entry.reason}: ${entry.message})`).join("; ");
