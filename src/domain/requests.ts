/** What every face asks of the core: the use cases' requests, in one place. */

export interface DownloadRequest {
  url: string;
  /** A source name, or "random" (the API's `type`). */
  source: string;
  nocache: boolean;
  rotateOnError: boolean;
  params: Record<string, unknown>;
  /** The sources this client may use (its API key's); absent, all. */
  allowedSources?: readonly string[];
  /** A re-extraction the service asks for (a tunnel link's): its source is not the client's choice. */
  refresh?: boolean;
  /**
   * The client may be given what only the operator's login shows (see ListRequest): a story listed
   * with that login, whose own page fails, is answered from its list item to such a client only.
   */
  readsViaLogin?: boolean;
}

export interface ListRequest {
  url: string;
  cursor?: string;
  /** Items per page, 1-100. */
  limit: number;
  /** A source name, or "random". */
  source: string;
  /** The sources this client may use (its API key's); absent, all. */
  allowedSources?: readonly string[];
  /**
   * The client may read what TikTok serves only because of the operator's login (an API key marked
   * `privateTabs`, or the library and CLI, which are the operator's own).
   */
  readsViaLogin?: boolean;
  /** Skip reading the cache (a fresh page, still shared with whoever asks for it at the same time). */
  nocache?: boolean;
  /** The client's own request: when every client waiting for a page has gone, the page is not fetched on. */
  signal?: AbortSignal;
}

/** Which posts of a whole listing are wanted (the CLI's and the library's `list`). */
export interface ListBounds {
  /** The newest this many posts. */
  limit?: number;
  /** Posts from this time on (ms since the epoch): a listing stops at the first older post. */
  since?: number;
  /** Posts up to this time. */
  until?: number;
  /** Only this kind of post. */
  type?: "video" | "photo";
  /**
   * Whether a post is already saved (an archive): the walk stops at the first such post (newest first,
   * the rest are older and saved too), and its first page asks for no more than one upstream page holds.
   */
  known?: (id: string) => boolean;
}

/** One of several requests, settled: its value or its error. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Who asks, as every use case takes it: the sources its API key allows (absent: all), and whether it may
 * read what the operator's login shows (a key marked `privateTabs`, or the library and the CLI, which run
 * as their user). A face says this once, in `askerOf` (HTTP) or `OWN_PROCESS` (the library).
 */
export type Asker = Pick<DownloadRequest, "allowedSources" | "readsViaLogin">;

/** The library and the CLI in process: their user's own settings, and their own login. */
export const OWN_PROCESS: Asker = { readsViaLogin: true };

/** What a download asks for, past its link: the API's defaults (any source, the cache, rotation). */
export type DownloadChoice = Partial<
  Pick<DownloadRequest, "source" | "nocache" | "rotateOnError" | "params">
>;

/** A download request from a link, a face's choices and who asks: built here, for every face. */
export function downloadRequest(url: string, choice: DownloadChoice, asker: Asker): DownloadRequest {
  return {
    url,
    source: choice.source ?? "random",
    nocache: choice.nocache ?? false,
    rotateOnError: choice.rotateOnError ?? true,
    params: choice.params ?? {},
    ...(asker.allowedSources ? { allowedSources: asker.allowedSources } : {}),
    ...(asker.readsViaLogin ? { readsViaLogin: true } : {}),
  };
}

/** A page of a listing: from a link, a face's choices and who asks, built here for every face. */
export function listRequest(
  url: string,
  choice: Partial<Pick<ListRequest, "cursor" | "limit" | "source" | "nocache" | "signal">>,
  asker: Asker,
): ListRequest {
  return {
    url,
    ...(choice.cursor ? { cursor: choice.cursor } : {}),
    limit: Math.min(100, Math.max(1, choice.limit ?? 30)),
    source: choice.source ?? "random",
    ...(choice.nocache ? { nocache: true } : {}),
    ...(choice.signal ? { signal: choice.signal } : {}),
    ...(asker.allowedSources ? { allowedSources: asker.allowedSources } : {}),
    ...(asker.readsViaLogin ? { readsViaLogin: true } : {}),
  };
}
