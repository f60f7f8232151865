/**
 * Tolerant readers for deep, loosely typed JSON (TikTok pages, provider answers).
 * `at(obj, ["a", 0, "b"])` never throws; the typed readers turn "", null and wrong types into undefined.
 */
export type PathKey = string | number;

export function at(value: unknown, path: readonly PathKey[]): unknown {
  let current: unknown = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PathKey, unknown>)[key];
  }
  return current;
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

/** Numbers, or integer-looking strings ("71400", as TikTok's statsV2 sends them). */
export function num(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return undefined;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** First defined value among several candidate paths. */
export function firstOf<T>(read: (value: unknown) => T | undefined, value: unknown, paths: PathKey[][]) {
  for (const path of paths) {
    const found = read(at(value, path));
    if (found !== undefined) return found;
  }
  return undefined;
}
