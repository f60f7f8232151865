/**
 * Data that must last (the watches of issue 38 and their pending deliveries), beside the caches. Unlike a
 * `Store`, which may forget anything and never fails a request, a record written here is kept until it is
 * deleted, survives a crash (`kill -9`) and a restart, and a write that could not be made throws
 * `LastingWriteFailed`, so that the caller can say so instead of losing it. One machine keeps it in an
 * embedded database file; several instances in Redis (which must then persist).
 */
export interface LastingStore {
  /** Writes a record of a collection under its id (replacing one that is there). */
  put(collection: string, id: string, record: unknown): Promise<void>;
  get(collection: string, id: string): Promise<unknown | undefined>;
  delete(collection: string, id: string): Promise<void>;
  /** The records of a collection whose ids start with `prefix` (all of them without one). */
  list(collection: string, prefix?: string): Promise<{ id: string; record: unknown }[]>;
  /** How many records of a collection have ids that start with `prefix` (all of them without one). */
  count(collection: string, prefix?: string): Promise<number>;
  close(): Promise<void>;
}

/** A write to lasting data that did not happen: nothing was kept. */
export class LastingWriteFailed extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LastingWriteFailed";
  }
}
