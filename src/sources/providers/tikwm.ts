import { SourceFailure } from "../../domain/errors.js";
import { at, num, record, str } from "../../domain/json-path.js";
import type { ExtractInput } from "../types.js";
import { defineProvider, mediaOf, parseJson, type Site, type SiteAnswer, siteError } from "./common.js";

/** tikwm's `data` object (also relayed by fasttoksave): links may be relative to the site. */
export function mapTikwmData(input: ExtractInput, site: Site, data: Record<string, unknown>): SiteAnswer {
  const seconds = num(data.create_time);
  const images = site.links(data.images);
  const photo = images.length > 0;
  const music = record(data.music_info);
  return mediaOf(
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
export const tikwm = defineProvider(
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
