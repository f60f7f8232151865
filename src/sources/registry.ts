import type { Platform } from "../domain/platforms.js";
import { douyinSource } from "./douyin/index.js";
import { buildParts } from "./parts.js";
import { fasttoksave } from "./tiktok/providers/fasttoksave.js";
import { lovetik } from "./tiktok/providers/lovetik.js";
import { musicaldown } from "./tiktok/providers/musicaldown.js";
import { RETIRED_SOURCES } from "./tiktok/providers/retired.js";
import { savetik } from "./tiktok/providers/savetik.js";
import { snaptik } from "./tiktok/providers/snaptik.js";
import { ssstik } from "./tiktok/providers/ssstik.js";
import { tikmate } from "./tiktok/providers/tikmate.js";
import { tikwm } from "./tiktok/providers/tikwm.js";
import { ttdownloader } from "./tiktok/providers/ttdownloader.js";
import { nativeSource } from "./tiktok/web/index.js";
import type { Source, SourceDeps, SourceDescriptor } from "./types.js";

export { buildParts };

/** Every third-party site, live ones first. */
export const PROVIDERS: readonly SourceDescriptor[] = [
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
export const SOURCES: readonly SourceDescriptor[] = [nativeSource, ...PROVIDERS, douyinSource];

/** The `UPSTREAM_<NAME>` overrides these platforms and sources understand (a platform's own hosts always). */
export const upstreamNames = (
  platforms: readonly Pick<Platform, "upstream">[],
  descriptors: readonly SourceDescriptor[],
): string[] => [
  ...new Set([
    ...platforms.map((platform) => platform.upstream),
    ...descriptors.map((descriptor) => descriptor.upstream),
  ]),
];

export interface SourceRegistry {
  readonly all: readonly Source[];
  get(name: string): Source | undefined;
  readonly names: readonly string[];
  /** Ends what the sources started. */
  close(): Promise<void>;
}

export function createRegistry(descriptors: readonly SourceDescriptor[], deps: SourceDeps): SourceRegistry {
  const all: Source[] = descriptors.map(({ create, ...declaration }) => ({
    ...declaration,
    ...buildParts(create, deps),
  }));
  const byName = new Map(all.map((source) => [source.name, source]));
  if (byName.size !== all.length) throw new Error("two sources share one name");
  return {
    all,
    get: (name) => byName.get(name),
    names: all.map((source) => source.name),
    close: async () => {
      await Promise.all(all.map((source) => source.close?.()));
    },
  };
}
