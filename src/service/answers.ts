import { STREAM_PATH, type StreamLinks, streamLinksFor } from "../delivery/links.js";
import type { StreamTokens } from "../delivery/token.js";
import type { ListPage } from "../domain/lists.js";
import type { Extraction, Subtitle } from "../domain/media.js";
import { toApiResult } from "../domain/media.js";
import { isTikTokHost } from "../domain/tiktok-url.js";
import type { Answer } from "../extraction/pipeline.js";

export type ApiResult = Omit<ReturnType<typeof toApiResult>, "subtitles"> & {
  /** Each track with its tunnel link. */
  subtitles?: (Subtitle & { stream: string })[];
  stream?: StreamLinks;
};

/**
 * The v1 result of an answer, with its tunnel links. A cache hit of the in-memory store hands back the
 * same extraction object every time, so its result is built once and reused while its links keep at
 * least three quarters of their life.
 */
export function createAnswers(options: { tokens: StreamTokens; now: () => number; streamTtlMs: number }) {
  const reuseMs = options.streamTtlMs / 4;
  const hits = new WeakMap<Extraction, { result: ApiResult; builtAt: number }>();

  const build = ({ extraction, source, cached, platform }: Answer): ApiResult => {
    const result = toApiResult(extraction.media, { provider: source, cached, platform });
    const { links, subtitles } = streamLinksFor(
      options.tokens,
      platform,
      extraction.media,
      source,
      extraction.viaLogin === true,
    );
    return {
      ...result,
      subtitles: result.subtitles?.map((track, index) => ({ ...track, stream: subtitles[index] as string })),
      stream: links,
    };
  };

  return (answer: Answer): ApiResult => {
    if (!answer.cached) return build(answer);
    const known = hits.get(answer.extraction);
    if (known && options.now() - known.builtAt < reuseMs) return known.result;
    const result = build(answer);
    hits.set(answer.extraction, { result, builtAt: options.now() });
    return result;
  };
}

/** A listing's page with its pictures (covers, the owner's avatar) as tunnel links on TikTok's hosts. */
export function withPictureLinks(page: ListPage, tokens: StreamTokens): ListPage {
  const link = (url: string | undefined) =>
    url && isTikTokImage(url) ? `${STREAM_PATH}${tokens.forPicture(url)}` : undefined;
  const avatar = link(page.owner.avatar);
  return {
    ...page,
    owner: avatar ? { ...page.owner, stream: { avatar } } : page.owner,
    items: page.items.map((item) => {
      const thumb = link(item.thumb);
      return thumb ? { ...item, stream: { thumb } } : item;
    }),
  };
}

function isTikTokImage(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const { protocol, hostname } = new URL(url);
  return protocol === "https:" && isTikTokHost(hostname);
}
