import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { type LastingStore, LastingWriteFailed } from "./lasting.js";

/**
 * Lasting data in one embedded database file (SQLite through `node:sqlite`, in WAL mode: a write is
 * on disk when `put` returns, and a `kill -9` loses nothing written). The file is made with the first
 * write: an instance that never keeps anything leaves no file behind.
 */
export function createSqliteLasting(path: string): LastingStore {
  let db: DatabaseSync | undefined;
  let statements:
    | Record<"put" | "get" | "del" | "all" | "prefixed" | "count" | "countPrefixed", StatementSync>
    | undefined;

  function open(create: boolean) {
    if (db) return statements;
    if (!create && !existsSync(path)) return undefined;
    mkdirSync(dirname(path), { recursive: true });
    db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    db.exec(
      "CREATE TABLE IF NOT EXISTS records (collection TEXT NOT NULL, id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (collection, id)) WITHOUT ROWID",
    );
    statements = {
      put: db.prepare(
        "INSERT INTO records (collection, id, record) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET record = excluded.record",
      ),
      get: db.prepare("SELECT record FROM records WHERE collection = ? AND id = ?"),
      del: db.prepare("DELETE FROM records WHERE collection = ? AND id = ?"),
      all: db.prepare("SELECT id, record FROM records WHERE collection = ? ORDER BY id"),
      // `prefix || char(0x10FFFF)` bounds every id that starts with the prefix, without LIKE's wildcards.
      count: db.prepare("SELECT count(*) AS n FROM records WHERE collection = ?"),
      countPrefixed: db.prepare(
        "SELECT count(*) AS n FROM records WHERE collection = ? AND id >= ? AND id < ?",
      ),
      prefixed: db.prepare(
        "SELECT id, record FROM records WHERE collection = ? AND id >= ? AND id < ? ORDER BY id",
      ),
    };
    return statements;
  }

  return {
    async put(collection, id, record) {
      try {
        open(true)?.put.run(collection, id, JSON.stringify(record));
      } catch (error) {
        throw new LastingWriteFailed(`could not write ${collection} ${id} to ${path}`, { cause: error });
      }
    },
    async get(collection, id) {
      const row = open(false)?.get.get(collection, id) as { record: string } | undefined;
      return row ? JSON.parse(row.record) : undefined;
    },
    async delete(collection, id) {
      try {
        open(false)?.del.run(collection, id);
      } catch (error) {
        throw new LastingWriteFailed(`could not delete ${collection} ${id} from ${path}`, { cause: error });
      }
    },
    async list(collection, prefix) {
      const found = open(false);
      if (!found) return [];
      const rows = (
        prefix ? found.prefixed.all(collection, prefix, `${prefix}\u{10FFFF}`) : found.all.all(collection)
      ) as { id: string; record: string }[];
      return rows.map((row) => ({ id: row.id, record: JSON.parse(row.record) }));
    },
    async count(collection, prefix) {
      const found = open(false);
      if (!found) return 0;
      const row = (
        prefix
          ? found.countPrefixed.get(collection, prefix, `${prefix}\u{10FFFF}`)
          : found.count.get(collection)
      ) as { n: number };
      return Number(row.n);
    },
    async close() {
      db?.close();
      db = undefined;
      statements = undefined;
    },
  };
}
