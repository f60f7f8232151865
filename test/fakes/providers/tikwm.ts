import { type FakeProfile, SAMPLE_PROFILES } from "../profiles.js";
import { type FakePost, lookup, VIDEO_POST } from "./catalogue.js";
import { type FakeHandler, type FakeRequest, json, type ProviderFake } from "./server.js";

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

/** A profile through tikwm (docs/upstreams/providers.md "tikwm lists"): user info, then posts by cursor. */
function profileAnswer(request: FakeRequest) {
  const handle = request.query.get("unique_id") ?? "";
  const profile = SAMPLE_PROFILES.get(handle);
  // A missing user is a message, not a 404.
  if (!profile) return json({ code: -1, msg: "User not found", processed_time: 0.1 });
  if (request.path === "/api/user/info" && profile.tikwm === "no-info")
    return json({ code: -1, msg: "Failed to fetch user info, please try again later", processed_time: 0.2 });
  if (request.path === "/api/user/info")
    return json({
      code: 0,
      msg: "success",
      data: {
        user: {
          id: profile.userId,
          uniqueId: profile.username,
          nickname: profile.nickname,
          avatarLarger: `/avatar/${profile.userId}.jpeg`,
          secUid: profile.secUid,
          privateAccount: profile.private === true,
        },
        stats: { videoCount: profile.posts.length, followerCount: 12 },
      },
    });
  const offset = Number(request.query.get("cursor") ?? 0) || 0;
  const count = Math.min(Number(request.query.get("count") ?? 10) || 10, 34);
  // An evil or broken tikwm: another account's posts, or the same page for ever, saying there is more.
  if (profile.tikwm === "foreign" || profile.tikwm === "repeat") {
    const shown = profile.tikwm === "foreign" ? (SAMPLE_PROFILES.get("grid.maker") as FakeProfile) : profile;
    return postsPage(shown, shown.posts.slice(0, count), offset, true);
  }
  const page = profile.posts.slice(offset, offset + count);
  return postsPage(profile, page, offset, offset + page.length < profile.posts.length);
}

/** A page of `/api/user/posts`: tikwm's post fields, each naming `owner` as its author. */
function postsPage(owner: FakeProfile, page: FakeProfile["posts"], offset: number, hasMore: boolean) {
  return json({
    code: 0,
    msg: "success",
    data: {
      videos: page.map((post) => ({
        video_id: post.id,
        aweme_id: `v${post.id}`,
        title: `post ${post.id.slice(-4)} #fake`,
        cover: `/video/cover/${post.id}.webp`,
        duration: post.photo ? 0 : 21,
        play: `/video/media/play/${post.id}.mp4`,
        ...(post.photo ? { images: [`/image/${post.id}.jpeg`] } : {}),
        create_time: post.createTime,
        play_count: 1000,
        digg_count: 50,
        comment_count: 3,
        share_count: 1,
        author: { id: owner.userId, unique_id: owner.username, nickname: owner.nickname },
      })),
      cursor: String(offset + page.length),
      hasMore,
    },
  });
}

/** GET /api/?url=…&hd=1 (or the same as a form POST); /api/user/info and /api/user/posts for profiles. */
const handler: FakeHandler = (request) => {
  if (request.path === "/api/user/info" || request.path === "/api/user/posts") return profileAnswer(request);
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
