import { cdnLinksExpected, lookup } from "./catalogue.js";
import { type FakeHandler, json, type ProviderFake } from "./server.js";

/** POST /api/ajax/search form `query=…` (XHR) → JSON with ordered `links`. */
const handler: FakeHandler = (request) => {
  if (request.method !== "POST" || request.path !== "/api/ajax/search")
    return json({ status: "error", mess: "Bad request" }, 404);
  if (request.headers["x-requested-with"] !== "XMLHttpRequest")
    return json({ status: "error", mess: "Forbidden" }, 403);
  const found = lookup(request.form.get("query"));
  if (found.kind === "missing")
    return json({ status: "error", mess: "Invalid TikTok video url. Please try again." });
  if (found.kind === "broken") return json({ status: "ok", mess: "", links: [] });
  const post = found.post;
  const photo = post.images !== undefined;
  const links = photo
    ? [
        { a: "https://lovetik.com/slideshow/render.mp4", t: "<b>Slideshow</b> MP4", s: "", ft: 1, c: 1 },
        { a: post.music, t: "♪ MP3", s: "", ft: 3 },
      ]
    : [
        { a: post.play, t: "<b> MP4</b> No watermark", s: "576x1024", ft: 1 },
        { a: post.hdplay, t: "<b> MP4 HD</b>", s: "1080x1920", ft: 1 },
        { a: post.wmplay, t: "<b> MP4</b> Watermark", s: "576x1024", ft: 1 },
        { a: post.music, t: "♪ MP3", s: "128kbps", ft: 3 },
      ];
  return json({
    status: "ok",
    mess: "",
    vid: post.id,
    desc: `<span>${post.caption.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")}</span>`,
    author: `<a href="https://www.tiktok.com/@${post.username}">${post.nickname}</a>`,
    author_name: post.username,
    cover: post.cover,
    images: post.images ?? [],
    links,
  });
};

export const lovetikFake: ProviderFake = {
  handler,
  expected: cdnLinksExpected([404, "NOT_FOUND"]),
};
