import type { BaseLogger } from "pino";
import type { RedisClient } from "./redis-connect.js";

export class StoreUnavailable extends Error {
  override name = "StoreUnavailable";
}

export interface RedisGuardOptions {
  redis: RedisClient;
  now: () => number;
  log: BaseLogger;
  /** The longest any caller waits for one Redis call. */
  callTimeoutMs?: number;
  /** Failures in a row that open the circuit (later calls fail at once). */
  failureThreshold?: number;
  /** How long an open circuit rests before one call probes Redis again. */
  coolDownMs?: number;
}

/**
 * Every Redis call of the service goes through here, so that a Redis that is down, paused or slow costs
 * a request at most one short wait: each call is bounded, and after a few failures in a row the circuit
 * opens and calls fail at once (the caller falls back to memory) until one probe per cool-down
 * succeeds. The outage is logged once when it starts and once when it ends.
 */
export function createRedisGuard(options: RedisGuardOptions) {
  const callTimeoutMs = options.callTimeoutMs ?? 300;
  const failureThreshold = options.failureThreshold ?? 3;
  const coolDownMs = options.coolDownMs ?? 1_000;
  let failures = 0;
  let openedAt: number | undefined;
  let probing = false;

  const isOpen = () => openedAt !== undefined;

  function admit(): boolean {
    if (openedAt === undefined) return true;
    if (probing || options.now() - openedAt < coolDownMs) return false;
    probing = true;
    return true;
  }

  function succeeded() {
    failures = 0;
    if (openedAt !== undefined) {
      options.log.info({ downMs: options.now() - openedAt }, "Redis answers again: using it");
      openedAt = undefined;
    }
  }

  function failed(error: unknown) {
    failures++;
    if (openedAt !== undefined) openedAt = options.now();
    // A call that got no answer at all (paused, black-holed) opens the circuit at once: waiting for two
    // more would make one request pay several timeouts in a row.
    else if (failures >= failureThreshold || isNoAnswer(error)) {
      openedAt = options.now();
      options.log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        "Redis does not answer: going on without it (near cache, in-process single flight and rate limits)",
      );
    }
  }

  return {
    /** Whether Redis is being used (the circuit is closed). */
    get up() {
      return !isOpen();
    },
    async run<T>(work: () => Promise<T>): Promise<T> {
      if (!admit()) throw new StoreUnavailable("Redis is unavailable");
      const probe = isOpen();
      let timer: NodeJS.Timeout | undefined;
      try {
        const result = await Promise.race([
          work(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new StoreUnavailable(`Redis did not answer within ${callTimeoutMs} ms`)),
              callTimeoutMs,
            );
          }),
        ]);
        succeeded();
        return result;
      } catch (error) {
        failed(error);
        throw error instanceof StoreUnavailable ? error : new StoreUnavailable(String(error));
      } finally {
        clearTimeout(timer);
        if (probe) probing = false;
      }
    },
  };
}

export type RedisGuard = ReturnType<typeof createRedisGuard>;

/** Our own timeout, or ioredis's `commandTimeout`: Redis took the command and said nothing. */
const isNoAnswer = (error: unknown) =>
  error instanceof StoreUnavailable || (error instanceof Error && /timed out/i.test(error.message));
