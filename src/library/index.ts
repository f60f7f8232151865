import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { ApiError, type ApiErrorCode } from "../domain/errors.js";
import { linksToSave, type SaveChoice, safeRelativePath } from "../domain/files.js";
import type { ListItem, ListPage } from "../domain/lists.js";
import type { Media, toApiResult } from "../domain/media.js";
import { checkTemplate, fileNamer } from "../domain/output-template.js";
import { downloadRequest, listRequest, OWN_PROCESS } from "../domain/requests.js";
import { ConfigError, loadConfig, SETTING_NAMES, type SettingName } from "../service/config.js";
import { createServices } from "../service/services.js";
import type { ApiResult, ProviderInfo, Services } from "../service/types.js";
import { userLoginDeps } from "../service/user-cookies.js";
import { writeFileAtomically } from "./files.js";

/**
 * The server's settings in camelCase (`cacheTtl` is `CACHE_TTL`, `allowPrivateUpstreams` is
 * `ALLOW_PRIVATE_UPSTREAMS`, ...; see docs/configuration.md). Missing ones default as in the
 * server, except the log, which is silent unless `logLevel` says otherwise.
 */
/** `CACHE_TTL` → `cacheTtl`: a setting's name as an option. */
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Lowercase<Head>}${Capitalize<CamelCase<Tail>>}`
  : Lowercase<S>;

/** An option's value: what its variable would hold (numbers, flags and lists are written for you). */
type OptionValue = string | number | boolean | readonly string[];

/**
 * Every setting of docs/configuration.md, in camelCase (`cacheTtl` for `CACHE_TTL`), derived from the
 * configuration's schema: a misspelt option (`cacheTTL`) does not type-check. Plus the origin and proxy
 * maps.
 */
export type ClientOptions = { [Name in SettingName as CamelCase<Name>]?: OptionValue } & {
  /** Origins that replace a source's site: `{ tiktok: "http://mirror" }` is `UPSTREAM_TIKTOK`. */
  upstreams?: Record<string, string>;
  /** Egress proxies per upstream: `{ tikwm: ["socks5://..."] }` is `PROXY_TIKWM`. */
  proxies?: Record<string, string | string[]>;
  /** All upstream traffic through these proxies (`PROXY_URL`). */
  proxyUrl?: string | string[];
};

export interface DownloadOptions {
  /** A source name, or "random" (the API's `type`). */
  source?: string;
  nocache?: boolean;
  rotateOnError?: boolean;
}

export interface SaveOptions extends SaveChoice {
  /** The folder to save into (made if missing). */
  dir: string;
  source?: string;
  /**
   * File names from a template, inside `dir` (the CLI's `--output-template`): `{user}`, `{id}`, `{date}`
   * (YYYYMMDD), `{title}`, `{kind}`, `{list}`, `{index}`, `{ext}`; `/` makes folders. Default: the
   * server's names (`tiktok_<user>_<id>.mp4`).
   */
  template?: string;
}

/** The API's result, with the files' own addresses (no tunnel links: a program fetches them itself). */
/** What every post's result has, whatever its kind. */
export interface PostCommon
  extends Omit<ReturnType<typeof toApiResult>, "type" | "video" | "images" | "additional"> {
  /** v1: the soundtrack's address, when there is one. */
  additional: { musicUrl?: string };
}

/** A video: `video` always holds at least one of its addresses. */
export interface VideoPost extends PostCommon {
  type: "video";
  video: NonNullable<Media["video"]>;
  images?: undefined;
}

/** A photo post: `images` always holds its images, in order. */
export interface PhotoPost extends PostCommon {
  type: "photo";
  images: string[];
  video?: undefined;
}

/** A post's result, discriminated by `type`: `if (post.type === "photo") post.images…` type-checks. */
export type PostResult = VideoPost | PhotoPost;

/**
 * The API's result without its tunnel links (a program fetches the files itself), as the union: validated
 * media always have their video or their images.
 */
function asPostResult(answer: ApiResult): PostResult {
  const { stream: _links, subtitles, ...rest } = answer;
  const result = {
    ...rest,
    subtitles: subtitles?.map(({ stream: _link, ...track }) => track),
  };
  const additional = { ...(result.additional as { musicUrl?: string }) };
  if (result.type === "photo" && result.images?.length)
    return { ...result, type: "photo", images: result.images, video: undefined, additional };
  if (result.type === "video" && result.video)
    return { ...result, type: "video", video: result.video, images: undefined, additional };
  throw new TikTokDlError("INTERNAL_ERROR", 500, "The post's result has neither its video nor its images.");
}

export interface ListPageOptions {
  /** The cursor of the previous page. */
  cursor?: string;
  /** Items per page, 1-100 (default 30). */
  limit?: number;
  /** A source that lists ("native", "tikwm"); default: the healthiest. */
  source?: string;
}

export interface ListOptions {
  /** The newest this many posts. */
  limit?: number;
  /** Posts from this date on (a Date, or anything Date parses). */
  since?: Date | string | number;
  /** Posts up to this date. */
  until?: Date | string | number;
  /** Only videos, or only photo posts. */
  type?: "video" | "photo";
  source?: string;
  /**
   * Posts already saved, by id (a `Set`, or anything with `has`): the listing stops at the first of them
   * (newest first, the rest are older and saved too), as the CLI's `--break-on-existing` does, and its
   * first page asks TikTok for one page only, so a creator with nothing new costs one request.
   */
  archive?: { has(id: string): boolean };
}

export type { ListItem, ListPage };

/** Every failure the library throws: the API's error code and HTTP status, and a sentence. */
export class TikTokDlError extends Error {
  constructor(
    readonly code: ApiErrorCode | "INVALID_OPTIONS",
    readonly status: number,
    message: string,
    options?: { cause?: unknown; list?: string; host?: string },
  ) {
    super(message, options);
    this.name = "TikTokDlError";
    this.list = options?.list;
    this.host = options?.host;
  }

  /** With UNSUPPORTED_LINK, for a short link that leads to a profile, collection or playlist: its address. */
  readonly list?: string;
  /** With UNSUPPORTED_HOST: the host the link named. */
  readonly host?: string;
}

const toEnvName = (key: string) => key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase();
const envValue = (value: unknown) =>
  Array.isArray(value) ? value.join(",") : typeof value === "boolean" ? (value ? "1" : "0") : String(value);

/** The options as the environment the server reads, checked by the same schema. */
function configOf(options: ClientOptions) {
  const env: Record<string, string> = { LOG_LEVEL: "silent" };
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (key === "upstreams" || key === "proxies") {
      const prefix = key === "upstreams" ? "UPSTREAM_" : "PROXY_";
      for (const [name, target] of Object.entries(value as Record<string, unknown>))
        env[`${prefix}${name.toUpperCase()}`] = envValue(target);
      continue;
    }
    const name = toEnvName(key);
    if (!SETTING_NAMES.has(name)) throw new TikTokDlError("INVALID_OPTIONS", 400, `Unknown option "${key}".`);
    env[name] = envValue(value);
  }
  return asOptionError(options, () => loadConfig(env));
}

/**
 * Runs `work`; a ConfigError becomes a TikTokDlError INVALID_OPTIONS whose message names the options as
 * the caller wrote them (`cacheTtl`, not `CACHE_TTL`).
 */
function asOptionError<T>(options: ClientOptions, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw error instanceof ConfigError ? optionError(options, error) : error;
  }
}

function optionError(options: ClientOptions, error: ConfigError): TikTokDlError {
  let message = error.message;
  for (const key of Object.keys(options)) message = message.replaceAll(`${toEnvName(key)}:`, `${key}:`);
  return new TikTokDlError("INVALID_OPTIONS", 400, message, { cause: error });
}

/** What the library throws: always a TikTokDlError (a file the options name, found bad at start, is INVALID_OPTIONS). */
function asLibraryError(error: unknown, options: ClientOptions): TikTokDlError {
  if (error instanceof TikTokDlError) return error;
  if (error instanceof ConfigError) return optionError(options, error);
  if (error instanceof ApiError)
    return new TikTokDlError(error.code, error.status, error.message, {
      cause: error,
      list: error.list,
      host: error.host,
    });
  return new TikTokDlError("INTERNAL_ERROR", 500, (error as Error)?.message ?? String(error), {
    cause: error,
  });
}

/**
 * One file of a post, opened when asked: its name (as the server names it), size, and body. Read the body
 * to its end, or destroy it: until then it holds a connection to the media host.
 */
export interface PostFile {
  open(signal?: AbortSignal): Promise<{ name: string; size?: number; body: Readable }>;
}

/** Writes a post's files into `dir` (made if missing), one after another; the paths, in order. */
async function saveFiles(
  files: PostFile[],
  dir: string,
  name: (serverName: string) => string = (serverName) => serverName,
): Promise<string[]> {
  if (files.length === 0)
    throw new TikTokDlError("NOT_FOUND", 404, "The post has nothing to save for these options.");
  const saved: string[] = [];
  for (const file of files) {
    const abort = new AbortController();
    const opened = await file.open(abort.signal);
    const path = join(dir, safeRelativePath(name(opened.name), "tiktok.bin"));
    await mkdir(dirname(path), { recursive: true });
    const placed = await writeFileAtomically(opened.body, path).catch((error: unknown) => {
      abort.abort();
      throw error;
    });
    saved.push(placed);
  }
  return saved;
}

/** A tunnel link's file, opened in this process the way the tunnel opens it. */
function fileOf(services: Services, link: string, use: Use): PostFile {
  return {
    open: (signal) =>
      use(async () => {
        const file = await services.openFile({
          token: link.slice(link.lastIndexOf("/") + 1),
          method: "GET",
          signal: signal ?? new AbortController().signal,
        });
        const size = Number(file.headers["content-length"]);
        return { name: file.filename, size: Number.isFinite(size) ? size : undefined, body: file.body };
      }),
  };
}

/** Runs a use case once the services are ready; whatever fails is a TikTokDlError. */
type Use = <T>(work: () => Promise<T>) => Promise<T>;

/** A saved or openable post: its result, and the files the options select, in order. */
export interface PostFiles {
  post: PostResult;
  files: PostFile[];
}

const dateMs = (value: Date | string | number | undefined) =>
  value === undefined ? undefined : new Date(value).getTime();

/**
 * tiktok-dl inside your program: the same core as the server (sources, rotation, cache, single flight;
 * Redis when `redisUrl` is set), without HTTP. Close it when done.
 */
export function createClient(options: ClientOptions & { cookies?: string } = {}) {
  const { cookies, ...settings } = options;
  const config = configOf(settings);
  return clientOf(
    // close() ends what the caller left running (a file body it never read) at once.
    asOptionError(settings, () =>
      createServices(config, { ...userLoginDeps(cookies, "cookies"), closeGraceMs: 0 }),
    ),
    settings,
  );
}

/**
 * A client configured by environment variables, as the server is (`UPSTREAM_TIKTOK`, `REDIS_URL`, ...):
 * what the command-line downloader runs on. Its log stays silent. A bad variable is a TikTokDlError
 * INVALID_OPTIONS that names it.
 */
export function createClientFromEnv(env: NodeJS.ProcessEnv = process.env, extra: { cookies?: string } = {}) {
  const deps = { ...userLoginDeps(extra.cookies, "--cookies"), closeGraceMs: 0 };
  return clientOf(
    asOptionError({}, () => createServices(loadConfig({ ...env, LOG_LEVEL: "silent" }), deps)),
    {},
  );
}

function clientOf(services: Services, options: ClientOptions) {
  const ready = services.ready();
  // A start that fails (an unreadable keys file) is told to the first call, not thrown into the process.
  ready.catch(() => {});
  const use: Use = async (work) => {
    try {
      await ready;
      return await work();
    } catch (error) {
      throw asLibraryError(error, options);
    }
  };
  const extract = (url: string, choice: DownloadOptions) =>
    services.download(downloadRequest(url, choice, OWN_PROCESS));
  const client = {
    /** The post's result: the API's result object, with the files' own addresses. */
    download: (url: string, choice: DownloadOptions = {}): Promise<PostResult> =>
      use(async () => asPostResult(await extract(url, choice))),

    /** The post's result and the files `choice` selects, each opened when asked (to write them your way). */
    files: (url: string, choice: SaveChoice & DownloadOptions = {}): Promise<PostFiles> =>
      use(async () => {
        const answer = await extract(url, choice);
        const links = linksToSave(answer.type, answer.stream ?? {}, choice);
        return { post: asPostResult(answer), files: links.map((link) => fileOf(services, link, use)) };
      }),

    /** Saves a post's files into `dir` (named as the server names them); the paths saved, in order. */
    save: (url: string, choice: SaveOptions): Promise<string[]> =>
      use(async () => {
        if (choice.template !== undefined) checkTemplate(choice.template);
        const { post, files } = await client.files(url, choice);
        return saveFiles(files, choice.dir, fileNamer(choice.template, post));
      }),

    /** One page of a profile, collection or playlist: pass `cursor` from the previous page to go on. */
    listPage: (url: string, choice: ListPageOptions = {}): Promise<ListPage> =>
      use(() =>
        services.listPage(
          listRequest(
            url,
            { cursor: choice.cursor, limit: choice.limit, source: choice.source },
            OWN_PROCESS,
          ),
        ),
      ),

    /**
     * Every post of a profile, collection or playlist, newest first, across its pages:
     * `for await (const item of client.list(url)) …`. `since`/`until` bound the posts' dates (a profile
     * stops at the first post older than `since`), `limit` the number of posts, `type` their kind; with
     * `archive`, the listing stops at the first post already saved.
     */
    async *list(url: string, choice: ListOptions = {}): AsyncGenerator<ListItem> {
      await client.ready();
      const items = services.list(listRequest(url, { source: choice.source }, OWN_PROCESS), {
        limit: choice.limit,
        since: dateMs(choice.since),
        until: dateMs(choice.until),
        type: choice.type,
        ...(choice.archive ? { known: (id: string) => choice.archive?.has(id) === true } : {}),
      });
      while (true) {
        const next = await use(() => items.next());
        if (next.done) return;
        yield next.value;
      }
    },

    /** Resolves once the client has read the files its options name and reached Redis (or given up on it). */
    ready: (): Promise<void> => use(async () => {}),

    /** The sources, whether this client runs them, their parameters and their health. */
    providers: (): Promise<ProviderInfo[]> => use(() => services.providers()),

    /** Closes the connections and the store it opened. */
    close: () => services.close(),
  };
  return client;
}

export type TikTokDlClient = ReturnType<typeof clientOf>;
export type { ProviderInfo };
