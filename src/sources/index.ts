import { nativeSource } from "./native/index.js";
import type { Source, SourceDeps, SourceFactory } from "./types.js";

/** The native source reads TikTok itself: its origin override is UPSTREAM_TIKTOK. */
export const upstreamNameOf = (source: Source) => (source.name === "native" ? "tiktok" : source.name);

/** Every source the service knows, in the order /api/providers lists them. */
export const SOURCE_FACTORIES: readonly SourceFactory[] = [nativeSource];

export interface SourceRegistry {
  readonly all: readonly Source[];
  get(name: string): Source | undefined;
  readonly names: readonly string[];
}

export function createRegistry(factories: readonly SourceFactory[], deps: SourceDeps): SourceRegistry {
  const all = factories.map((factory) => factory(deps));
  const byName = new Map(all.map((source) => [source.name, source]));
  if (byName.size !== all.length) throw new Error("two sources share one name");
  return { all, get: (name) => byName.get(name), names: all.map((source) => source.name) };
}
