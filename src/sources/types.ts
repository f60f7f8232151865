import type { Extraction } from "../domain/media.js";
import type { HttpClient } from "../net/http-client.js";
import type { UpstreamMap } from "../net/upstreams.js";

export interface ParamSpec {
  name: string;
  type: "string" | "boolean" | "number";
  required: boolean;
  description?: string;
}

export interface ExtractInput {
  id: string;
  username?: string;
  /** The canonical post address, for sources that take a link. */
  url: string;
  params: Record<string, unknown>;
  signal: AbortSignal;
}

/** One place answers come from: TikTok itself ("native") or a third-party site. One file each. */
export interface Source {
  readonly name: string;
  /** The real public origin (the configuration may send requests elsewhere). */
  readonly origin: string;
  readonly params: readonly ParamSpec[];
  readonly maintenance?: { reason: string };
  extract(input: ExtractInput): Promise<Extraction>;
}

/** What every source may use; built once per app. */
export interface SourceDeps {
  http: HttpClient;
  upstreams: UpstreamMap;
  now: () => number;
}

export type SourceFactory = (deps: SourceDeps) => Source;
