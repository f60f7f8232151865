import { lookup, VIDEO_POST } from "./catalogue.js";
import { type FakeHandler, json, type ProviderFake } from "./server.js";

/** GET /api/action?url=… → JSON; 400 when the video is not found. */
const handler: FakeHandler = (request) => {
  if (request.path !== "/api/action") return json({ error: "Not found" }, 404);
  const found = lookup(request.query.get("url"));
  if (found.kind === "missing") return json({ error: "Video not found" }, 400);
  if (found.kind === "broken") return json({ error: "Something went wrong, please try again" });
  const post = found.post;
  const photo = post.images !== undefined;
  return json({
    downloadUrl: photo ? undefined : `https://d.rapidcdn.app/d?token=nwm-${post.id}`,
    hdDownloadUrl: photo ? undefined : `https://d.rapidcdn.app/d?token=hd-${post.id}`,
    duration: post.duration,
    cover: post.cover,
    musicUrl: post.music,
    postinfo: {
      media_title: post.caption,
      unique_id: post.username,
      uid: post.authorId,
      username: post.nickname,
      avatar_url: post.avatar,
    },
    stats: {
      playCount: post.stats.plays,
      shareCount: post.stats.shares,
      commentCount: post.stats.comments,
      likeCount: post.stats.likes,
    },
    ...(photo ? { items: post.images } : {}),
  });
};

export const savetikFake: ProviderFake = {
  handler,
  expected: {
    video: () => ({
      noWatermark: `https://d.rapidcdn.app/d?token=nwm-${VIDEO_POST.id}`,
      hd: `https://d.rapidcdn.app/d?token=hd-${VIDEO_POST.id}`,
    }),
    musicUrl: VIDEO_POST.music,
    photo: true,
    missing: [404, "NOT_FOUND"],
    details: true,
  },
};
