import { Readable } from "node:stream";
import { linksToSave, type SaveChoice, safeFileName } from "../domain/files.js";
import type { ListPage } from "../domain/lists.js";
import type { PostFile } from "../library/index.js";
import type { ApiResult } from "../service/types.js";
import { createServerPace, type ServerWait } from "./server-pace.js";

/** A post as the CLI handles it: its id, its result (for --json), and the files the options select. */
export interface CliPost {
  id: string;
  result: unknown;
  files: PostFile[];
}

/**
 * What the CLI runs on: the library in this process, or a tiktok-dl server's HTTP API (`--server`).
 * Everything else (links, listings, progress, file writing, the archive) is the same for both.
 */
export interface Backend {
  /** Started: the files the settings name read (a bad one is INVALID_OPTIONS). */
  ready(): Promise<void>;
  /** The sources that run and are not retired (what --provider may name). */
  liveSources(): Promise<string[]>;
  post(link: string, choice: SaveChoice, provider?: string): Promise<CliPost>;
  /** One page of a listing, of at most `limit` posts (1–100). */
  listPage(
    link: string,
    cursor: string | undefined,
    limit: number,
  ): Promise<Pick<ListPage, "items" | "cursor" | "total" | "title">>;
  close(): Promise<void>;
}

/** The library, configured by the environment as the server would be. */
export async function localBackend(cookies?: string): Promise<Backend> {
  // The library (and the whole service under it) loads only here: with --server, or for a usage
  // error, the CLI starts without it.
  const { createClientFromEnv } = await import("../library/index.js");
  const client = createClientFromEnv(process.env, { cookies });
  return {
    ready: () => client.ready(),
    async liveSources() {
      const sources = await client.providers();
      return sources.filter((source) => source.enabled && !source.maintenance).map((source) => source.name);
    },
    async post(link, choice, provider) {
      const { post, files } = await client.files(link, { ...choice, source: provider });
      return { id: post.id, result: post, files };
    },
    listPage: (link, cursor, limit) => client.listPage(link, { cursor, limit }),
    close: () => client.close(),
  };
}

/**
 * A running server, through its HTTP API, within the limits it states (`onWait` is told when a request
 * waits for them): a run through a server ends with every post unless the server refuses for good.
 */
export function remoteBackend(base: string, onWait: (wait: ServerWait) => void = () => {}): Backend {
  const paced = createServerPace(onWait);
  const ask = (url: string, signal?: AbortSignal) => paced(url, () => reach(url, signal), signal);
  const json = async <T>(url: string): Promise<T> => {
    const response = await ask(url);
    if (!response.ok) throw await failureOf(response);
    return (await response.json()) as T;
  };
  const file = (link: string): PostFile => ({
    async open(signal) {
      const response = await ask(`${base}${link}`, signal);
      if (!response.ok || !response.body) throw await failureOf(response);
      const size = Number(response.headers.get("content-length"));
      return {
        name: nameFromDisposition(response.headers.get("content-disposition"), `tiktok_${Date.now()}.bin`),
        size: size > 0 ? size : undefined,
        body: Readable.fromWeb(response.body as never),
      };
    },
  });
  return {
    ready: async () => {},
    async liveSources() {
      const sources = await json<{ name: string; enabled?: boolean; maintenance?: unknown }[]>(
        `${base}/api/providers`,
      );
      return sources.filter((source) => source.enabled !== false && !source.maintenance).map((s) => s.name);
    },
    async post(link, choice, provider) {
      const query = new URLSearchParams({ url: link });
      if (provider) query.set("type", provider);
      const { result } = await json<{ result: ApiResult }>(`${base}/api/download?${query}`);
      return {
        id: result.id,
        result,
        files: linksToSave(result.type, result.stream ?? {}, choice).map(file),
      };
    },
    async listPage(link, cursor, limit) {
      const query = new URLSearchParams({ url: link, limit: String(limit) });
      if (cursor) query.set("cursor", cursor);
      return (await json<{ result: ListPage }>(`${base}/api/list?${query}`)).result;
    },
    close: async () => {},
  };
}

/** The server's failure: its sentence, and (a short link that leads to a list) where the link leads. */
class ServerFailure extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly list?: string,
    readonly host?: string,
  ) {
    super(message);
  }
}

async function failureOf(response: Response): Promise<ServerFailure> {
  const body = (await response.json().catch(() => undefined)) as
    | { error?: string; code?: string; list?: string; host?: string }
    | undefined;
  return new ServerFailure(
    body?.error ?? `the server answered HTTP ${response.status}`,
    body?.code,
    body?.list,
    body?.host,
  );
}

/** fetch, with a failure that says which server could not be reached and why. */
async function reach(url: string, signal?: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { signal });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(
      `cannot reach the server at ${new URL(url).origin} (${cause?.code ?? cause?.message ?? (error as Error).message})`,
    );
  }
}

function nameFromDisposition(disposition: string | null, fallback: string): string {
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition ?? "")?.[1];
  const plain = /filename="([^"]+)"/i.exec(disposition ?? "")?.[1];
  return safeFileName(encoded ? decodeURIComponent(encoded) : (plain ?? fallback), fallback);
}
