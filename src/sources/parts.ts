import type { SourceDeps, SourceDescriptor, SourceParts } from "./types.js";

/** What a descriptor builds, as parts: a bare extractor is a source that does not list. */
export function buildParts(create: SourceDescriptor["create"], deps: SourceDeps): SourceParts {
  const built = create(deps);
  return typeof built === "function" ? { extract: built } : built;
}
