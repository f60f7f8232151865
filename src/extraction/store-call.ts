import type { BaseLogger } from "pino";

/**
 * The store is a cache: when a call fails the request goes on without it, with `fallback`. (The shared
 * store handles its own outages and says so once; this is the last net.)
 */
export const storeCall =
  (log: BaseLogger) =>
  async <T>(work: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      log.debug({ err: error }, "cache store call failed");
      return fallback;
    }
  };
