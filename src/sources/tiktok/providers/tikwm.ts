import { SourceFailure } from "../../../domain/errors.js";
import { at, list, num, record, str } from "../../../domain/json-path.js";
import { type ListItem, listItemUrl } from "../../../domain/lists.js";
import { buildParts } from "../../parts.js";
import type { ExtractInput, Lister, SourceDeps, SourceDescriptor } from "../../types.js";
import {
  defineProvider,
  openSite,
  parseJson,
  type Site,
  type SiteAnswer,
  siteAnswer,
  siteError,
} from "./common.js";

/** tikwm's `data` object (also relayed by fasttoksave): links may be relative to the site. */
export function mapTikwmData(input: ExtractInput, site: Site, data: Record<string, unknown>): SiteAnswer {
  const seconds = num(data.create_time);
  const images = site.links(data.images);
  const photo = images.length > 0;
  const music = record(data.music_info);
  return siteAnswer(
    input,
    {
      caption: str(data.title),
      createdAt: seconds ? new Date(seconds * 1000).toISOString() : undefined,
      author: {
        id: str(at(data, ["author", "id"])),
        username: str(at(data, ["author", "unique_id"])),
        nickname: str(at(data, ["author", "nickname"])),
        avatar: site.link(at(data, ["author", "avatar"])),
      },
      // For a photo post `play` is the soundtrack, not a video.
      video: photo
        ? undefined
        : {
            noWatermark: site.link(data.play),
            watermark: site.link(data.wmplay),
            hd: site.link(data.hdplay),
            duration: num(data.duration),
          },
      music: {
        url: site.link(data.music) ?? (photo ? site.link(data.play) : undefined) ?? site.link(music?.play),
        title: str(music?.title),
        author: str(music?.author),
        cover: site.link(music?.cover),
        duration: num(music?.duration),
      },
      images: photo ? images : undefined,
      thumb: site.link(data.origin_cover) ?? site.link(data.cover),
      stats: {
        plays: num(data.play_count),
        likes: num(data.digg_count),
        comments: num(data.comment_count),
        shares: num(data.share_count),
        saves: num(data.collect_count),
      },
    },
    data.id ?? data.video_id ?? data.aweme_id,
  );
}

/** `{code, msg, data}` answers of tikwm and its relays. */
export function readTikwmAnswer(body: unknown, name: string): Record<string, unknown> {
  const code = num(at(body, ["code"]));
  const message = str(at(body, ["msg"])) ?? "";
  const data = record(at(body, ["data"]));
  if (code === 0 && data) return data;
  if (/limit/i.test(message)) throw new SourceFailure("blocked", `${name} is rate-limiting us: ${message}`);
  if (code === undefined) throw new SourceFailure("bad_response", `${name} answered an unknown shape`);
  throw siteError(name, message || `code ${code}`);
}

/** tikwm: one JSON request, no token (docs/upstreams/providers.md "tikwm"). */
const tikwmPosts = defineProvider(
  {
    name: "tikwm",
    origin: "https://www.tikwm.com",
    namesPosts: true,
    params: [
      { name: "hd", type: "boolean", required: false, description: "Ask for the HD address (default true)." },
    ],
  },
  async (site, input) => {
    const hd = input.params.hd === false ? "0" : "1";
    const response = await site.request({ path: "/api/", query: { url: input.url, hd } });
    return mapTikwmData(input, site, readTikwmAnswer(parseJson(response, site.name), site.name));
  },
);

/** A profile through tikwm (docs/upstreams/providers.md "tikwm lists"): its user info, then its posts by cursor. */
function createTikwmLister(deps: SourceDeps): Lister {
  return async (input) => {
    const site = openSite(deps, tikwmPosts.name, tikwmPosts.origin, input);
    const handle = input.link.username;
    const first = input.position === undefined;
    const info = first ? await userInfo(site, handle).catch(cardMissing) : undefined;
    const response = await site.request({
      path: "/api/user/posts",
      query: {
        unique_id: handle,
        count: String(Math.min(34, input.limit)),
        cursor: typeof input.position?.c === "string" ? input.position.c : "0",
      },
    });
    const data = readTikwmAnswer(parseJson(response, site.name), site.name);
    const items = list(data.videos)
      .map(record)
      .filter((video) => video !== undefined)
      .slice(0, input.limit)
      .map((video) => listItemFromTikwm(site, video, handle));
    const cursor = str(data.cursor) ?? (typeof data.cursor === "number" ? String(data.cursor) : undefined);
    return {
      kind: "profile",
      id:
        str(at(info, ["user", "secUid"])) ??
        (typeof input.position?.u === "string" ? input.position.u : handle),
      title: handle,
      owner: {
        username: str(at(info, ["user", "uniqueId"])) ?? handle,
        nickname: str(at(info, ["user", "nickname"])),
        id: str(at(info, ["user", "id"])),
        avatar: site.link(at(info, ["user", "avatarLarger"])),
      },
      total: num(at(info, ["stats", "videoCount"])),
      items,
      next: data.hasMore === true && cursor ? { c: cursor, u: handle } : undefined,
    };
  };
}

/** The account's card is only its name and picture: when tikwm fails it, the posts are listed without. */
function cardMissing(error: unknown): undefined {
  if (error instanceof SourceFailure && error.reason !== "private") return undefined;
  throw error;
}

async function userInfo(site: Site, handle: string) {
  const response = await site.request({ path: "/api/user/info", query: { unique_id: handle } });
  const data = readTikwmAnswer(parseJson(response, site.name), site.name);
  if (at(data, ["user", "privateAccount"]) === true)
    throw new SourceFailure("private", "tikwm: this account is private");
  return data;
}

function listItemFromTikwm(site: Site, video: Record<string, unknown>, handle: string): ListItem {
  const id = str(video.video_id) ?? str(video.id) ?? String(video.id);
  const photo = list(video.images).length > 0;
  const type = photo ? "photo" : "video";
  const seconds = num(video.create_time);
  return {
    id,
    url: listItemUrl(str(at(video, ["author", "unique_id"])) ?? handle, id, type),
    type,
    caption: str(video.title),
    createdAt: seconds ? new Date(seconds * 1000).toISOString() : undefined,
    thumb: site.link(video.cover) ?? site.link(video.origin_cover),
    duration: photo ? undefined : num(video.duration) || undefined,
    stats: {
      plays: num(video.play_count),
      likes: num(video.digg_count),
      comments: num(video.comment_count),
      shares: num(video.share_count),
      saves: num(video.collect_count),
    },
    author: str(at(video, ["author", "unique_id"]))
      ? {
          username: str(at(video, ["author", "unique_id"])),
          nickname: str(at(video, ["author", "nickname"])),
          id: str(at(video, ["author", "id"])),
        }
      : undefined,
  };
}

export const tikwm: SourceDescriptor = {
  ...tikwmPosts,
  lists: ["profile"],
  create: (deps) => ({ ...buildParts(tikwmPosts.create, deps), list: createTikwmLister(deps) }),
};
