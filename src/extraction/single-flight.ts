interface Flight<T> {
  promise: Promise<T>;
  controller: AbortController;
  /** Callers waiting that can leave (they gave a signal). */
  leavable: number;
  /** A caller that gave no signal waits: the work is never abandoned. */
  held: boolean;
}

/**
 * Callers asking for the same key while a call runs share its promise: one upstream request for all. A
 * caller may give the signal of its own request: it stops waiting when that aborts, and the work's own
 * signal aborts once every caller has left (nobody waits for it any more).
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, Flight<T>>();

  get size(): number {
    return this.running.size;
  }

  run(key: string, work: (signal: AbortSignal) => Promise<T>, caller?: AbortSignal): Promise<T> {
    caller?.throwIfAborted();
    let flight = this.running.get(key);
    // A flight everyone left is winding down: a newcomer starts its own.
    if (!flight || flight.controller.signal.aborted) {
      const controller = new AbortController();
      const started: Flight<T> = {
        controller,
        leavable: 0,
        held: false,
        promise: Promise.resolve() as never,
      };
      started.promise = work(controller.signal).finally(() => {
        if (this.running.get(key) === started) this.running.delete(key);
      });
      this.running.set(key, started);
      flight = started;
    }
    return join(flight, caller);
  }
}

function join<T>(flight: Flight<T>, caller: AbortSignal | undefined): Promise<T> {
  if (!caller) {
    flight.held = true;
    return flight.promise;
  }
  flight.leavable++;
  return new Promise<T>((resolve, reject) => {
    const leave = () => {
      if (--flight.leavable === 0 && !flight.held) flight.controller.abort(caller.reason);
      reject(caller.reason);
    };
    caller.addEventListener("abort", leave, { once: true });
    flight.promise.then(resolve, reject).finally(() => caller.removeEventListener("abort", leave));
  });
}
