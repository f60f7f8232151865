import type { BaseLogger } from "pino";
import type { Store } from "../stores/types.js";
import { storeCall } from "./store-call.js";

/** How long a claim lives unless its holder renews it (every third of that). */
const CLAIM_TTL_MS = 6_000;
/** How often an instance waiting for another's work looks at the shared store. */
const POLL_MS = 50;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface SharedWork<T> {
  /** The work itself, done by the instance that holds the claim (or by anyone, without a shared store). */
  work(): Promise<T>;
  /** The answer the holder left in the shared store since `since` (ms), if it is there yet. */
  answer(since: number): Promise<T | undefined>;
  /** How long to wait for another instance before doing the work here. */
  waitMs: number;
}

/**
 * SingleFlight across instances: with a shared store, one instance claims a key and does the work while
 * the others poll the store for its answer; if the holder gives up without one (or dies: its short claim
 * is renewed only while it works), they do the work themselves. Without claims in the store, the work
 * runs here.
 */
export class SharedFlight {
  private readonly safely: ReturnType<typeof storeCall>;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    log: BaseLogger,
  ) {
    this.safely = storeCall(log);
  }

  async run<T>(key: string, shared: SharedWork<T>): Promise<T> {
    const { claim, isClaimed, release, renew } = this.store;
    if (!claim || !isClaimed || !release) return shared.work();
    const { safely } = this;
    if (await safely(() => claim(key, CLAIM_TTL_MS), true)) {
      const keepAlive = renew
        ? setInterval(() => void safely(() => renew(key, CLAIM_TTL_MS), undefined), CLAIM_TTL_MS / 3)
        : undefined;
      try {
        return await shared.work();
      } finally {
        clearInterval(keepAlive);
        await safely(() => release(key), undefined);
      }
    }
    // Only an answer stored while we waited counts (a request that skips the cache must not get an old one).
    const started = this.now();
    const since = started - POLL_MS;
    while (this.now() - started < shared.waitMs) {
      await sleep(POLL_MS);
      const answer = await safely(() => shared.answer(since), undefined);
      if (answer !== undefined) return answer;
      if (!(await safely(() => isClaimed(key), false))) break;
    }
    return shared.work();
  }
}
