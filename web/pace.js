// The page within the server's own limits, as the server states them: the API's and the tunnel's budgets
// apart (as on the server), a spent budget waited out (`X-RateLimit-Remaining: 0` until `-Reset`), and a
// 429 (or a busy tunnel's 503) asked again after its `Retry-After`.

/** The longest wait the page makes on its own; a longer `Retry-After` is shown as the failure it is. */
const MAX_WAIT_S = 120;
const MAX_TRIES = 12;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function createPace() {
  /** When each budget may be used again, and what the server said is left of it. */
  const budgets = { api: { until: 0, remaining: Infinity }, stream: { until: 0, remaining: Infinity } };
  const budgetOf = (url) =>
    new URL(url, location.href).pathname.startsWith("/api/stream/") ? "stream" : "api";

  /**
   * fetch, within the limits. `onWait(seconds)` is told before a wait. `reserve`: requests of the budget
   * to leave for the visitor's own next lookup (a batch keeps that many back, waiting for the reset).
   */
  return async function paced(url, init = {}, { onWait, reserve = 0 } = {}) {
    const budget = budgets[budgetOf(url)];
    for (let tries = 1; ; tries++) {
      if (budget.remaining <= reserve && budget.until <= Date.now()) budget.remaining = Infinity;
      const wait = budget.until - Date.now();
      if (wait > 0 && budget.remaining <= reserve) {
        onWait?.(Math.ceil(wait / 1000));
        await sleep(wait);
        budget.remaining = Infinity;
      }
      const response = await fetch(url, init);
      const remaining = response.headers.get("x-ratelimit-remaining");
      const reset = Number(response.headers.get("x-ratelimit-reset"));
      if (remaining !== null) budget.remaining = Number(remaining);
      if (remaining !== null && reset > 0) budget.until = Date.now() + reset * 1000;
      const retryAfter = Number(response.headers.get("retry-after"));
      const retryable = response.status === 429 || response.status === 503;
      if (!retryable || !(retryAfter > 0) || retryAfter > MAX_WAIT_S || tries >= MAX_TRIES) return response;
      budget.remaining = 0;
      budget.until = Math.max(budget.until, Date.now() + retryAfter * 1000);
    }
  };
}
