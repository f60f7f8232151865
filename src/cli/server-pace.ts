/** The most a client waits at once for a server's limit; a longer `Retry-After` is a refusal for good. */
const MAX_WAIT_S = 15 * 60;
/** Waits one request may make before its 429 is taken as final. */
const MAX_WAITS = 40;

/** A wait the server asked for: how long, and why (its limit, or its being busy). */
export interface ServerWait {
  seconds: number;
  why: "limit" | "busy";
}

/**
 * Keeps a client within a server's own limits as the server states them: a budget that the answer's
 * `X-RateLimit-Remaining: 0` says is spent waits its `X-RateLimit-Reset`; a 429 (or a 503 for a busy
 * tunnel) with `Retry-After` is asked again after it. The API's and the tunnel's budgets are apart, as
 * on the server. `onWait` is told once per wait, however many requests share it.
 */
export function createServerPace(onWait: (wait: ServerWait) => void, now: () => number = Date.now) {
  const until = new Map<string, number>();
  const announced = new Map<string, number>();
  const budgetOf = (url: string) => (new URL(url).pathname.startsWith("/api/stream/") ? "stream" : "api");

  const hold = (budget: string, ms: number) =>
    until.set(budget, Math.max(until.get(budget) ?? 0, now() + ms));

  async function waitFor(budget: string, why: ServerWait["why"], signal?: AbortSignal) {
    const end = until.get(budget) ?? 0;
    const ms = end - now();
    if (ms <= 0) return;
    if (announced.get(budget) !== end) {
      announced.set(budget, end);
      onWait({ seconds: Math.ceil(ms / 1000), why });
    }
    await sleep(ms, signal);
  }

  return async function paced(url: string, send: () => Promise<Response>, signal?: AbortSignal) {
    const budget = budgetOf(url);
    let why: ServerWait["why"] = "limit";
    for (let waits = 0; ; waits++) {
      await waitFor(budget, why, signal);
      const response = await send();
      const remaining = response.headers.get("x-ratelimit-remaining");
      const reset = Number(response.headers.get("x-ratelimit-reset"));
      if (remaining === "0" && reset > 0 && reset <= MAX_WAIT_S) hold(budget, reset * 1000);
      const retryable = response.status === 429 || response.status === 503;
      const retryAfter = retryAfterMs(response.headers.get("retry-after"), now());
      if (!retryable || retryAfter === undefined || retryAfter > MAX_WAIT_S * 1000 || waits >= MAX_WAITS)
        return response;
      await response.body?.cancel().catch(() => undefined);
      why = response.status === 429 ? "limit" : "busy";
      hold(budget, Math.max(retryAfter, 1000));
    }
  };
}

/** `Retry-After` in ms: seconds, or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
