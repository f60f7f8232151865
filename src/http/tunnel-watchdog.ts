import type { ServerResponse } from "node:http";

export interface WatchdogLimits {
  /** No byte passed for this long: the tunnel is cut. */
  stallMs: number;
  /** Bytes a second over the last RATE_WINDOW_S, below which a client that holds the tunnel back is cut. */
  minRate: number;
}

/**
 * The read rate is judged over this many seconds, once that much of the tunnel has run. What we see is
 * what enters the socket, and the kernel's buffers (megabytes, on a fast link) let it in by bursts: a
 * client reading 32 KiB/s steadily may show no progress for 50 s on loopback. A minute tells a slow
 * reader from one that holds the slot.
 */
export const RATE_WINDOW_S = 60;
const TICK_MS = 1_000;

/**
 * Cuts a tunnel whose client holds a slot without reading: no progress for `stallMs`, or, while the
 * client is the bottleneck (the response is waiting for it to drain), fewer than `minRate` bytes a
 * second over the last minute. Progress is what the socket has taken (`bytesWritten`, read once a
 * second: nothing runs per chunk), kept per second in a ring, so the first seconds' burst into the
 * kernel's buffers does not hide a client that reads a trickle afterwards.
 */
export function watchTunnel(
  response: ServerResponse,
  limits: WatchdogLimits,
  onCut: (why: "stalled" | "too slow") => void,
) {
  const socket = response.socket;
  if (!socket) return () => {};
  const perSecond = new Array<number>(RATE_WINDOW_S).fill(0);
  let second = 0;
  let ticks = 0;
  let written = socket.bytesWritten;
  let lastProgressAt = Date.now();
  const timer = setInterval(() => {
    ticks++;
    second = (second + 1) % RATE_WINDOW_S;
    const progress = socket.bytesWritten - written;
    written = socket.bytesWritten;
    perSecond[second] = progress;
    if (progress > 0) lastProgressAt = Date.now();
    const stalled = Date.now() - lastProgressAt >= limits.stallMs;
    const slow =
      limits.minRate > 0 &&
      ticks >= RATE_WINDOW_S &&
      response.writableNeedDrain &&
      perSecond.reduce((sum, bytes) => sum + bytes, 0) < limits.minRate * RATE_WINDOW_S;
    if (!stalled && !slow) return;
    stop();
    onCut(stalled ? "stalled" : "too slow");
    response.destroy();
  }, TICK_MS);
  timer.unref();
  const stop = () => clearInterval(timer);
  response.once("close", stop);
  return stop;
}
