/**
 * A signal that aborts when `parent` does or after `ms`, and that lets go of both once released.
 * `AbortSignal.timeout()` cannot be cleared: it, and every listener a library adds to a signal built from
 * it (impit and undici hold the response in theirs), stay alive until the timer fires, so a request's
 * answer would outlive it by the whole timeout. Release it as soon as the work is done.
 */
export function deadline(ms: number, parent?: AbortSignal): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`timed out after ${ms} ms`, "TimeoutError")),
    ms,
  );
  const follow = () => controller.abort(parent?.reason);
  if (parent?.aborted) follow();
  else parent?.addEventListener("abort", follow, { once: true });
  return {
    signal: controller.signal,
    release() {
      clearTimeout(timer);
      parent?.removeEventListener("abort", follow);
    },
  };
}
