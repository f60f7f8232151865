import { type FakePost, lookup, VIDEO_POST } from "./catalogue.js";
import { type FakeHandler, json, type ProviderFake } from "./server.js";

/** tikwm's `data`, its media links given relative to the site as it often does. */
export function tikwmData(post: FakePost, hd: boolean) {
  const photo = post.images !== undefined;
  return {
    id: post.id,
    region: "US",
    title: post.caption,
    cover: `/video/cover/${post.id}.webp`,
    origin_cover: post.cover,
    duration: photo ? 0 : post.duration,
    play: photo ? post.music : `/video/media/play/${post.id}.mp4`,
    wmplay: photo ? undefined : `/video/media/wmplay/${post.id}.mp4`,
    ...(hd && !photo ? { hdplay: `/video/media/hdplay/${post.id}.mp4` } : {}),
    size: 3496455,
    music: post.music,
    music_info: {
      id: "7558765839632951450",
      title: post.musicTitle,
      author: post.nickname,
      duration: post.duration,
      original: true,
    },
    play_count: post.stats.plays,
    digg_count: post.stats.likes,
    comment_count: post.stats.comments,
    share_count: post.stats.shares,
    download_count: 12,
    collect_count: 40,
    create_time: post.createTime,
    author: { id: post.authorId, unique_id: post.username, nickname: post.nickname, avatar: post.avatar },
    ...(photo ? { images: post.images } : {}),
  };
}

/** GET /api/?url=…&hd=1 (or the same as a form POST). */
const handler: FakeHandler = (request) => {
  if (request.path !== "/api/" && request.path !== "/api") return json({ code: -1, msg: "Not Found" }, 404);
  const url = request.query.get("url") ?? request.form.get("url");
  const hd = (request.query.get("hd") ?? request.form.get("hd")) === "1";
  const found = lookup(url);
  if (found.kind === "missing")
    return json({ code: -1, msg: "Url parsing is failed! Please check url.", processed_time: 0.1 });
  if (found.kind === "broken") return json({ code: 0, msg: "success", data: { id: "", play: null } });
  return json({ code: 0, msg: "success", processed_time: 0.12, data: tikwmData(found.post, hd) });
};

export const tikwmFake: ProviderFake = {
  handler,
  expected: {
    video: (base) => ({
      noWatermark: `${base}/video/media/play/${VIDEO_POST.id}.mp4`,
      watermark: `${base}/video/media/wmplay/${VIDEO_POST.id}.mp4`,
      hd: `${base}/video/media/hdplay/${VIDEO_POST.id}.mp4`,
    }),
    musicUrl: VIDEO_POST.music,
    photo: true,
    missing: [404, "NOT_FOUND"],
    details: true,
  },
};
