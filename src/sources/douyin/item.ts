/**
 * Douyin's aweme item (slidesinfo's `aweme_details[0]`, the share page's `item_list[0]`) read into our
 * result (docs/upstreams/douyin.md §2.3–2.6): the clean video from the player's `play` address (the item's
 * own is the watermarked `playwm`), a photo post's images (the first address that is not WebP), their
 * watermarked copies, a live photo's clips, the cover, the music, the counts.
 */
import { at, list, num, str } from "../../domain/json-path.js";
import type { Media } from "../../domain/media.js";

const PLAYER = "https://aweme.snssdk.com/aweme/v1";

const urls = (value: unknown) =>
  list(value)
    .map(str)
    .filter((url): url is string => url !== undefined && /^https?:\/\//.test(url));
/** The first address that is not WebP (plays and opens everywhere), else the first. */
const notWebp = (value: unknown) => {
  const all = urls(value);
  return all.find((url) => !/\.webp(\?|$)/i.test(url)) ?? all[0];
};

function videoOf(video: unknown): Media["video"] {
  const uri = str(at(video, ["play_addr", "uri"]));
  if (!uri || /^https?:/.test(uri)) return undefined;
  const id = encodeURIComponent(uri);
  const milliseconds = num(at(video, ["duration"]));
  return {
    noWatermark: `${PLAYER}/play/?video_id=${id}&ratio=1080p&line=0`,
    watermark:
      urls(at(video, ["play_addr", "url_list"])).find((url) => url.includes("/playwm/")) ??
      `${PLAYER}/playwm/?video_id=${id}&ratio=720p&line=0`,
    ...(milliseconds ? { duration: Math.round(milliseconds / 1000) } : {}),
    ...(num(at(video, ["width"])) ? { width: num(at(video, ["width"])) } : {}),
    ...(num(at(video, ["height"])) ? { height: num(at(video, ["height"])) } : {}),
  };
}

/** The post's sound: `music.play_url`, or, for a photo post, the audio address in `video.play_addr.uri`. */
function musicOf(item: Record<string, unknown>): Media["music"] {
  const music = at(item, ["music"]);
  const fromVideo = str(at(item, ["video", "play_addr", "uri"]));
  const url =
    urls(at(music, ["play_url", "url_list"]))[0] ??
    (fromVideo && /^https?:/.test(fromVideo) ? fromVideo : undefined);
  if (!url && !music) return undefined;
  return {
    ...(url ? { url } : {}),
    ...(str(at(music, ["title"])) ? { title: str(at(music, ["title"])) } : {}),
    ...(str(at(music, ["author"])) ? { author: str(at(music, ["author"])) } : {}),
    ...(num(at(music, ["duration"])) ? { duration: num(at(music, ["duration"])) } : {}),
  };
}

function statsOf(item: Record<string, unknown>): Media["stats"] {
  const stat = (name: string) => num(at(item, ["statistics", name]));
  return {
    // play_count is 0 outside the signed API: no count is better than a false one.
    ...(stat("play_count") ? { plays: stat("play_count") } : {}),
    ...(stat("digg_count") !== undefined ? { likes: stat("digg_count") } : {}),
    ...(stat("comment_count") !== undefined ? { comments: stat("comment_count") } : {}),
    ...(stat("share_count") !== undefined ? { shares: stat("share_count") } : {}),
    ...(stat("collect_count") !== undefined ? { saves: stat("collect_count") } : {}),
  };
}

/** An aweme item as our result; a photo post is one with images, whatever its `aweme_type`. */
export function mapDouyinItem(item: Record<string, unknown>): Media & { livePhotos?: string[] } {
  const id = str(at(item, ["aweme_id"])) ?? "";
  const images = list(at(item, ["images"]));
  const photo = images.length > 0;
  const created = num(at(item, ["create_time"]));
  const author = at(item, ["author"]);
  const handle = str(at(author, ["unique_id"])) || str(at(author, ["short_id"])) || str(at(author, ["uid"]));
  const clips = images
    .map((image) => urls(at(image, ["video", "play_addr", "url_list"]))[0])
    .filter((url): url is string => !!url);
  return {
    id,
    type: photo ? "photo" : "video",
    ...(str(at(item, ["desc"])) ? { caption: str(at(item, ["desc"])) } : {}),
    ...(created ? { createdAt: new Date(created * 1000).toISOString() } : {}),
    author: {
      ...(handle ? { username: handle } : {}),
      ...(str(at(author, ["nickname"])) ? { nickname: str(at(author, ["nickname"])) } : {}),
      ...(str(at(author, ["uid"])) ? { id: str(at(author, ["uid"])) } : {}),
      ...(urls(at(author, ["avatar_thumb", "url_list"]))[0]
        ? { avatar: urls(at(author, ["avatar_thumb", "url_list"]))[0] }
        : {}),
    },
    ...(photo ? {} : { video: videoOf(at(item, ["video"])) }),
    ...(photo
      ? {
          images: images
            .map((image) => notWebp(at(image, ["url_list"])))
            .filter((url): url is string => !!url),
        }
      : {}),
    ...(clips.length ? { livePhotos: clips } : {}),
    music: musicOf(item),
    thumb:
      notWebp(at(item, ["video", "origin_cover", "url_list"])) ??
      notWebp(at(item, ["video", "cover", "url_list"])),
    stats: statsOf(item),
  };
}
