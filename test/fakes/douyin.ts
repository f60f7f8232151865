/**
 * A local Douyin (docs/upstreams/douyin.md §6): every Douyin host behind one origin (`UPSTREAM_DOUYIN`),
 * told apart by path. It refuses what Douyin refuses: short links answer 302s to read with redirects off;
 * the share page gives a desktop browser the anti-bot shell, and, in the 2026 era (the default), gives
 * anyone a shell without the post; `slidesinfo` answers photo posts only with `request_source=200` and an
 * empty body to any `a_bogus`; the player redirects `play` and `playwm` to different files and 404s an
 * unknown `video_id`; the CDN serves ranges until its addresses expire; the signed web API answers 200
 * with an empty body to anything unsigned.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type LocalServer, listenLocally } from "../support/local-server.js";
import { COVER_IMAGE, realMediaFiles } from "./tiktok.js";

export interface DouyinPost {
  id: string;
  author: { uid: string; unique_id: string; nickname: string; sec_uid: string };
  kind: "video" | "photo" | "live";
  caption: string;
  /** Douyin withholds it: a `filter_list` entry instead of the item. */
  filtered?: "deleted" | "private";
  /** `slidesinfo` answers an empty body this many times first (Douyin's bad moments). */
  emptyAnswers?: number;
  /** Its cover is on a host that is not Douyin's (an answer the tunnel must not follow). */
  coverElsewhere?: boolean;
}

const MOBILE = /Mobile|iPhone|Android/i;
const now = () => Math.floor(Date.now() / 1000);
const hex = (text: string, length = 32) => createHash("sha256").update(text).digest("hex").slice(0, length);
const uriOf = (post: DouyinPost) => `v0200fg10000${hex(post.id, 20)}`;

/** Two owners, each with posts of every kind, plus posts Douyin withholds and one it answers badly. */
export const DOUYIN_AUTHORS = {
  fern: {
    uid: "110000000001",
    unique_id: "fern_cn",
    nickname: "Fern 蕨",
    sec_uid: "MS4wLjABAAAAfernfernfernfernfernfernfernfernfernfern01",
  },
  moss: {
    uid: "110000000002",
    unique_id: "",
    nickname: "Moss 苔",
    sec_uid: "MS4wLjABAAAAmossmossmossmossmossmossmossmossmossmoss02",
  },
};
export const DOUYIN_POSTS = {
  video: {
    id: "7301234567890123456",
    author: DOUYIN_AUTHORS.fern,
    kind: "video",
    caption: "a shelf from one plank #woodwork",
  },
  otherVideo: {
    id: "7301234567890124001",
    author: DOUYIN_AUTHORS.moss,
    kind: "video",
    caption: "gravel at dawn",
  },
  photo: { id: "7301234567890123999", author: DOUYIN_AUTHORS.moss, kind: "photo", caption: "three photos" },
  live: { id: "7301234567890125555", author: DOUYIN_AUTHORS.fern, kind: "live", caption: "a live photo" },
  deleted: {
    id: "7301234567890126666",
    author: DOUYIN_AUTHORS.fern,
    kind: "video",
    caption: "gone",
    filtered: "deleted",
  },
  private: {
    id: "7301234567890127777",
    author: DOUYIN_AUTHORS.moss,
    kind: "video",
    caption: "mine",
    filtered: "private",
  },
  flaky: {
    id: "7301234567890128888",
    author: DOUYIN_AUTHORS.moss,
    kind: "video",
    caption: "flaky",
    emptyAnswers: 1,
  },
  elsewhere: {
    id: "7301234567890129999",
    author: DOUYIN_AUTHORS.fern,
    kind: "video",
    caption: "odd cover",
    coverElsewhere: true,
  },
} satisfies Record<string, DouyinPost>;

export const CLEAN_BYTES = 200_000;
export const WATERMARKED_BYTES = 210_000;
const SHARE_QUERY =
  "?region=CN&mid=7301&u_code=0&did=1&iid=1&with_sec_did=1&titleType=title&share_version=170400&from_aid=6383&from_ssr=1&from=web_code_link";

export class FakeDouyin {
  private server?: LocalServer;
  readonly requests: { path: string; userAgent: string }[] = [];
  readonly posts = new Map<string, DouyinPost>(
    Object.values(DOUYIN_POSTS).map((post) => [post.id, { ...post }]),
  );
  /** The share page's era: "2026" has no post data (since 2026-08-08); "legacy" still carries it. */
  era: "2026" | "legacy" = "2026";
  url = "";

  /** `realMedia`: real MP4s, MP3 and JPEG (the demo), instead of the byte patterns the tests count. */
  constructor(private readonly options: { realMedia?: boolean } = {}) {}

  /** Short codes: to a post's share page, a profile, another short link (a second hop), or nowhere. */
  readonly shortLinks = new Map<string, string>([
    ["iRNBho6u", `https://www.iesdouyin.com/share/video/${DOUYIN_POSTS.video.id}/${SHARE_QUERY}`],
    ["_2ljF4AmKL8", `https://www.iesdouyin.com/share/slides/${DOUYIN_POSTS.photo.id}/${SHARE_QUERY}`],
    [
      "u-fCCopjutU",
      `https://www.iesdouyin.com/share/user/${DOUYIN_AUTHORS.fern.uid}?sec_uid=${DOUYIN_AUTHORS.fern.sec_uid}`,
    ],
    ["jxHop01", "https://v.douyin.com/iRNBho6u/"],
    ["offsite1", "https://www.ixigua.com/6900000000000000000"],
  ]);

  async start() {
    this.server = await listenLocally((request, response) => this.answer(request, response));
    this.url = this.server.url;
    return this;
  }

  async close() {
    await this.server?.close();
  }

  count(prefix: string) {
    return this.requests.filter((request) => request.path.startsWith(prefix)).length;
  }

  private answer(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", "http://fake.invalid");
    const userAgent = String(request.headers["user-agent"] ?? "");
    this.requests.push({ path: url.pathname + url.search, userAgent });
    const path = url.pathname;
    if (path === "/web/api/v2/aweme/slidesinfo/") return this.slidesInfo(url, response);
    if (/^\/aweme\/v1\/web\//.test(path))
      return response.writeHead(200, { "content-type": "application/json" }).end();
    const player = /^\/aweme\/v1\/(play|playwm)\/$/.exec(path)?.[1];
    if (player) return this.play(url, player === "playwm", response);
    const share = /^\/share\/(?:video|note|slides)\/(\d+)\/?$/.exec(path)?.[1];
    if (share) return this.sharePage(share, userAgent, response);
    if (path.startsWith("/cdn/")) return this.cdn(url, request, response);
    const code = /^\/([A-Za-z0-9_-]+)\/?$/.exec(path)?.[1];
    if (code) return this.short(code, response);
    response.writeHead(404, { "content-type": "text/html" }).end("<h1>404</h1>");
  }

  private short(code: string, response: ServerResponse) {
    const target = this.shortLinks.get(code);
    if (!target) return void response.writeHead(404, { "content-type": "text/html" }).end("<h1>404</h1>");
    response
      .writeHead(302, { location: target, "content-type": "text/html" })
      .end(`<a href="${target}">Found</a>`);
  }

  private slidesInfo(url: URL, response: ServerResponse) {
    const json = (body: unknown) =>
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    // A made-up signature empties the answer (2026-08); so does a bad moment.
    if (url.searchParams.has("a_bogus"))
      return void response.writeHead(200, { "content-type": "application/json" }).end();
    const id = /^\[(\d+)\]$/.exec(url.searchParams.get("aweme_ids") ?? "")?.[1];
    const post = id ? this.posts.get(id) : undefined;
    if (!post) return json({ aweme_details: [] });
    if (post.emptyAnswers) {
      post.emptyAnswers--;
      return void response.writeHead(200, { "content-type": "application/json" }).end();
    }
    if (post.filtered) return json({ aweme_details: [], filter_list: [filterOf(post)] });
    if (post.kind !== "video" && url.searchParams.get("request_source") !== "200")
      return json({ aweme_details: [] });
    json({ aweme_details: [this.item(post)] });
  }

  private sharePage(id: string, userAgent: string, response: ServerResponse) {
    const html = (body: string, headers: Record<string, string> = {}) =>
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", ...headers }).end(body);
    if (!MOBILE.test(userAgent))
      return html('<html><head><script src="/sdk/jsvmp.js"></script></head><body></body></html>');
    const post = this.posts.get(id);
    const key = post?.kind === "video" || !post ? "video_(id)/page" : "note_(id)/page";
    if (this.era === "2026")
      return html(
        `<html><script>window._ROUTER_DATA = ${JSON.stringify({ loaderData: { [key]: { itemId: id, renderInSSR: 0 } } })}</script></html>`,
        { "x-modernjs-render": "server" },
      );
    const info = post?.filtered
      ? { item_list: [], filter_list: [filterOf(post)] }
      : { item_list: post ? [this.item(post)] : [], filter_list: [] };
    html(
      `<html><script>window._ROUTER_DATA = ${JSON.stringify({ loaderData: { [key]: { videoInfoRes: info } }, errors: null })}</script></html>`,
    );
  }

  /** The player: `play` to the clean file, `playwm` to the watermarked one, on the CDN, for a while. */
  private play(url: URL, watermarked: boolean, response: ServerResponse) {
    const uri = url.searchParams.get("video_id") ?? "";
    const post = [...this.posts.values()].find((candidate) => uriOf(candidate) === uri);
    if (post?.kind !== "video") return void response.writeHead(404).end();
    const expiry = (now() + 3600).toString(16);
    const file = watermarked ? "wm" : "clean";
    const location = `https://v26-web.douyinvod.com/cdn/${hex(uri)}/${expiry}/video/tos/cn/${file}/${post.id}/?a=1128&mime_type=video_mp4`;
    response.writeHead(302, { location }).end();
  }

  /** Media with `Range`, refused once the address's expiry (its hex path segment) has passed. */
  private cdn(url: URL, request: IncomingMessage, response: ServerResponse) {
    const parts = url.pathname.split("/");
    const expiry = Number.parseInt(parts[3] ?? "0", 16);
    if (!(expiry > now()))
      return void response.writeHead(403, { "content-type": "text/plain" }).end("expired");
    const kind =
      parts[2] === "img" ? "image" : parts[2] === "music" ? "music" : parts[7] === "wm" ? "wm" : "clean";
    const body = this.options.realMedia ? realBody(kind) : patternBody(kind);
    const size = body.length;
    const type = kind === "image" ? "image/jpeg" : kind === "music" ? "audio/mpeg" : "video/mp4";
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(request.headers.range ?? ""));
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      response.writeHead(206, {
        "content-type": type,
        "content-range": `bytes ${start}-${end}/${size}`,
        "content-length": String(end - start + 1),
        "accept-ranges": "bytes",
      });
      return void response.end(body.subarray(start, end + 1));
    }
    response
      .writeHead(200, { "content-type": type, "content-length": String(size), "accept-ranges": "bytes" })
      .end(body);
  }

  /** An aweme item as slidesinfo and the share page give it (§5.1, §5.2). */
  item(post: DouyinPost) {
    const expiry = (now() + 3600).toString(16);
    const image = (name: string, ext: string) =>
      `https://p3-sign.douyinpic.com/cdn/img/${expiry}/tos-cn-i-0813/${post.id}-${name}~tplv-dy-aweme-images:q75.${ext}`;
    const music = `https://sf3-cdn-tos.douyinstatic.com/cdn/music/${expiry}/obj/ies-music/${post.id}.mp3`;
    const common = {
      aweme_id: post.id,
      aweme_type: post.kind === "video" ? 4 : 68,
      desc: post.caption,
      create_time: 1_700_000_000,
      author: {
        ...post.author,
        avatar_thumb: {
          url_list: [`https://p3.douyinpic.com/cdn/img/${expiry}/avatar-${post.author.uid}.jpeg`],
        },
      },
      music: {
        title: "原声",
        author: post.author.nickname,
        duration: 15,
        status: 1,
        play_url: { uri: music, url_list: [music] },
      },
      statistics: { digg_count: 1200, comment_count: 34, share_count: 5, collect_count: 67, play_count: 0 },
      status: { is_delete: false, is_prohibited: false, private_status: 0 },
    };
    if (post.kind === "video")
      return {
        ...common,
        video: {
          play_addr: {
            uri: uriOf(post),
            url_list: [`https://aweme.snssdk.com/aweme/v1/playwm/?video_id=${uriOf(post)}&ratio=720p&line=0`],
            width: 720,
            height: 1280,
          },
          cover: { url_list: [image("cover", "webp"), image("cover", "jpeg")] },
          origin_cover: {
            url_list: [
              post.coverElsewhere ? "https://images.example.net/cover.jpeg" : image("origin", "jpeg"),
            ],
          },
          width: 720,
          height: 1280,
          duration: 15_000,
        },
        images: null,
      };
    const images = [1, 2, 3].map((n) => ({
      url_list: [image(`p${n}`, "webp"), image(`p${n}`, "jpeg")],
      download_url_list: [image(`p${n}-water`, "webp")],
      width: 1080,
      height: 1440,
      ...(post.kind === "live" && n !== 2
        ? {
            video: {
              play_addr: {
                url_list: [
                  `https://v26-web.douyinvod.com/cdn/${hex(post.id)}/${expiry}/video/tos/cn/live/${post.id}-${n}/?mime_type=video_mp4`,
                ],
              },
              duration: 3000,
            },
          }
        : {}),
    }));
    return {
      ...common,
      video: {
        play_addr: { uri: music, url_list: [] },
        cover: { url_list: [image("cover", "jpeg")] },
        duration: 0,
      },
      images,
    };
  }
}

/** The tests' files: a byte per kind, at sizes they check. */
function patternBody(kind: string) {
  const size =
    kind === "wm" ? WATERMARKED_BYTES : kind === "clean" ? CLEAN_BYTES : kind === "music" ? 40_000 : 30_000;
  return Buffer.alloc(size, kind === "wm" ? 0x57 : kind === "clean" ? 0x43 : 0x49);
}

/** The demo's files: real media a player opens. */
function realBody(kind: string) {
  const media = realMediaFiles();
  return kind === "wm"
    ? media.watermark
    : kind === "clean"
      ? media.clean
      : kind === "music"
        ? media.audio
        : COVER_IMAGE;
}

function filterOf(post: DouyinPost) {
  return {
    aweme_id: post.id,
    filter_reason: post.filtered === "private" ? "author_private" : "status_deleted",
    detail_msg: post.filtered === "private" ? "作者设置了私密" : "作品已删除",
  };
}
