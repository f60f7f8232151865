import type { KeptStories } from "../domain/kept-stories.js";
import type { ListAnswer, ListPosition } from "../domain/lists.js";
import type { Extraction } from "../domain/media.js";
import type { ListKind, ListLink } from "../domain/tiktok-url.js";
import type { CookieFile } from "../net/cookie-file.js";
import type { Egress } from "../net/egress.js";
import type { UpstreamMap } from "../net/upstreams.js";

export interface ParamSpec {
  name: string;
  type: "string" | "boolean" | "number";
  required: boolean;
  description?: string;
}

export interface ExtractInput {
  /** The post's platform (the source's own) and its id there. */
  platform: string;
  id: string;
  username?: string;
  /** The canonical post address, for sources that take a link. */
  url: string;
  params: Record<string, unknown>;
  signal: AbortSignal;
  /** The client may be given what only the operator's login shows (a story listed with it). */
  readsViaLogin?: boolean;
}

export type Extract = (input: ExtractInput) => Promise<Extraction>;

/** One page of a listing, asked of a source: the link, where to go on from, how many items. */
export interface ListInput {
  link: ListLink;
  position?: ListPosition;
  limit: number;
  signal: AbortSignal;
  /** The client may see what only the operator's login shows: only then is it asked for. */
  readsViaLogin?: boolean;
}

/** Reads one page of a profile, collection or playlist. */
export type Lister = (input: ListInput) => Promise<ListAnswer>;

/** What a source builds for one service: its extractor, and its lister if it lists. */
export interface SourceParts {
  extract: Extract;
  list?: Lister;
  /** Ends what the source started (worker threads): called once when the service closes. */
  close?: () => Promise<void>;
}

/** What every source may use; built once per service. */
export interface SourceDeps {
  /**
   * The ways out: `egress.pick(upstream)` gives the route of one extraction (direct, or a proxy of the
   * pool), with a plain client and a browser-like one; `report` tells the pool how it went.
   */
  egress: Egress;
  upstreams: UpstreamMap;
  now: () => number;
  /** What TikTok's own web client (the `native` source) is given, and only it reads. */
  tiktok: TikTokClientDeps;
}

/** What TikTok's own web client is given: the operator's settings for it, and where it keeps stories. */
export interface TikTokClientDeps {
  /** The operator's TikTok cookies (`TIKTOK_COOKIES`), for login-only and age-restricted posts. */
  cookies?: CookieFile;
  /** How many TikTok sessions to keep per way out, and for how long. */
  sessions: { size: number; maxAgeMs: number };
  /** Stories as their listing gave them, for the downloads that follow (shared with other instances). */
  stories: KeptStories;
}

/**
 * A place answers come from, declared once: TikTok itself ("native") or a third-party site, one file
 * each. The registry, the `UPSTREAM_<NAME>` check, /api/providers, the configuration page's table of upstream
 * variables and the tests all read this declaration.
 */
export interface SourceDescriptor {
  readonly name: string;
  /** The platform whose posts it answers for (`Platform.name`): rotation asks it only for those. */
  readonly platform: string;
  /** The real public origin (the configuration may send requests elsewhere). */
  readonly origin: string;
  /** `<name>` of the `UPSTREAM_<NAME>` variable that moves this source's origin (lower case). */
  readonly upstream: string;
  readonly params: readonly ParamSpec[];
  /** Retired: listed with the reason, never called. */
  readonly maintenance?: { reason: string };
  /**
   * Whether this source's answers name the post they describe (TikTok's page, tikwm's `id`): with such a
   * source running, an unproven answer of another never becomes everyone's cached entry.
   */
  readonly provesPostId?: boolean;
  /** Asked first by `random` while nothing is known yet of its health (a fresh instance). */
  readonly preferred?: boolean;
  /** The kinds of list this source can read (`/api/list`); absent, none. */
  readonly lists?: readonly ListKind[];
  /** Builds this source's extractor (and lister) for one service; their state lives as long. */
  create(deps: SourceDeps): Extract | SourceParts;
}

/** A source as the running service uses it: its declaration, its extractor, and its lister. */
export interface Source extends Omit<SourceDescriptor, "create">, SourceParts {}
