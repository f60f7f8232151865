import { nativeSource } from "./native/index.js";
import { fasttoksave } from "./providers/fasttoksave.js";
import { lovetik } from "./providers/lovetik.js";
import { musicaldown } from "./providers/musicaldown.js";
import { RETIRED_SOURCES } from "./providers/retired.js";
import { savetik } from "./providers/savetik.js";
import { snaptik } from "./providers/snaptik.js";
import { ssstik } from "./providers/ssstik.js";
import { tikmate } from "./providers/tikmate.js";
import { tikwm } from "./providers/tikwm.js";
import { ttdownloader } from "./providers/ttdownloader.js";
import type { Source, SourceDeps, SourceFactory } from "./types.js";

/** The native source reads TikTok itself: its origin override is UPSTREAM_TIKTOK. */
export const upstreamNameOf = (source: Source) => (source.name === "native" ? "tiktok" : source.name);

/** Every third-party site, live ones first. */
export const PROVIDER_FACTORIES: readonly SourceFactory[] = [
  tikwm,
  ssstik,
  snaptik,
  musicaldown,
  lovetik,
  savetik,
  tikmate,
  ttdownloader,
  fasttoksave,
  ...RETIRED_SOURCES,
];

/** Every source the service knows, in the order /api/providers lists them. */
export const SOURCE_FACTORIES: readonly SourceFactory[] = [nativeSource, ...PROVIDER_FACTORIES];

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
