import { postErrors, SourceFailure } from "../../domain/errors.js";
import { at, list, str } from "../../domain/json-path.js";
import type { Extraction } from "../../domain/media.js";
import { DOUYIN } from "../../domain/platforms.js";
import { MOBILE_USER_AGENT } from "../../net/browser.js";
import type { HttpClient } from "../../net/http-client.js";
import type { ExtractInput, SourceDescriptor } from "../types.js";
import { mapDouyinItem } from "./item.js";

/** Douyin's JSON, share pages, player and CDN answer a mobile browser (docs/upstreams/douyin.md §2). */
const HEADERS = { "user-agent": MOBILE_USER_AGENT, referer: "https://www.douyin.com/" };
const PAGE_MAX_BYTES = 2 * 1024 * 1024;

type Answer = { item?: Record<string, unknown>; gone?: string };

/**
 * Douyin's own endpoints, without request signing: the `slidesinfo` JSON (`request_source=200`, which
 * photo posts need; no `a_bogus`: a made-up one empties the answer), else the share page in case its
 * server-rendered data is back. What Douyin says of a post (its `filter_list`) is a verdict; an empty
 * answer is this source failing, never a verdict.
 */
export const douyinSource: SourceDescriptor = {
  name: "douyin",
  platform: DOUYIN.name,
  origin: "https://www.douyin.com",
  upstream: DOUYIN.upstream,
  params: [],
  provesPostId: true,
  preferred: true,
  create: (deps) => async (input: ExtractInput) => {
    const http = deps.egress.pick(DOUYIN.upstream).http;
    const fromJson = await slidesInfo(http, input);
    const answer = fromJson.item || fromJson.gone ? fromJson : await sharePage(http, input);
    if (answer.gone)
      throw answer.gone === "private"
        ? postErrors.private("Douyin says this post is private.")
        : postErrors.notFound("Douyin says this post is not available.");
    if (!answer.item) throw new SourceFailure("blocked", "Douyin answered without the post's data");
    return extractionOf(answer.item, input.id);
  },
};

async function ask(http: HttpClient, url: string, input: ExtractInput, accept: string) {
  return http.request({
    url,
    headers: { ...HEADERS, accept },
    maxBytes: PAGE_MAX_BYTES,
    signal: input.signal,
  });
}

/** `slidesinfo`: `{aweme_details: [item]}`, an empty list (with Douyin's `filter_list` when it says why), or an empty body. */
async function slidesInfo(http: HttpClient, input: ExtractInput): Promise<Answer> {
  const url = `https://www.iesdouyin.com/web/api/v2/aweme/slidesinfo/?aweme_ids=%5B${input.id}%5D&request_source=200`;
  const response = await ask(http, url, input, "application/json");
  if (response.status !== 200 || response.body.length === 0) return {};
  let data: unknown;
  try {
    data = JSON.parse(response.text());
  } catch {
    return {};
  }
  const item = list(at(data, ["aweme_details"])).find((entry) => str(at(entry, ["aweme_id"])) === input.id);
  if (item) return { item: item as Record<string, unknown> };
  return { gone: goneReason(at(data, ["filter_list"]), input.id) };
}

/** Why Douyin withholds a post, from a `filter_list` entry for it (its words are opaque: private or not). */
function goneReason(filters: unknown, id: string): string | undefined {
  const entry = list(filters).find((candidate) => str(at(candidate, ["aweme_id"])) === id);
  if (!entry) return undefined;
  const words = `${str(at(entry, ["filter_reason"])) ?? ""} ${str(at(entry, ["detail_msg"])) ?? ""}`;
  return /private|私密|friend/i.test(words) ? "private" : "gone";
}

/** The share page: its `_ROUTER_DATA` when it carries the post (the page before 2026-08), nothing otherwise. */
async function sharePage(http: HttpClient, input: ExtractInput): Promise<Answer> {
  const response = await ask(http, `https://www.iesdouyin.com/share/video/${input.id}/`, input, "text/html");
  if (response.status !== 200) return {};
  const html = response.text();
  const start = html.indexOf("window._ROUTER_DATA");
  if (start < 0) return {};
  const json = html.slice(html.indexOf("=", start) + 1, html.indexOf("</script>", start)).trim();
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return {};
  }
  const loader = at(data, ["loaderData"]);
  for (const key of ["video_(id)/page", "note_(id)/page"]) {
    const info = at(loader, [key, "videoInfoRes"]);
    if (!info) continue;
    const item = list(at(info, ["item_list"])).find((entry) => str(at(entry, ["aweme_id"])) === input.id);
    if (item) return { item: item as Record<string, unknown> };
    const gone = goneReason(at(info, ["filter_list"]), input.id);
    if (gone) return { gone };
  }
  return {};
}

/** The item as our result; it must name the post asked for. */
function extractionOf(item: Record<string, unknown>, id: string): Extraction {
  const media = mapDouyinItem(item);
  if (media.id !== id) throw new SourceFailure("invalid_result", "Douyin answered another post");
  if (!media.video?.noWatermark && !media.images?.length)
    throw postErrors.notFound("This Douyin post has nothing to download.");
  return {
    media,
    verified: true,
    // The player and the CDN answer a mobile browser; no cookie is needed.
    session: { headers: HEADERS },
  };
}
