/**
 * A second platform that exists only in the tests ("Clipnest"): the proof that a site other than TikTok
 * goes through link parsing, a source, the pipeline, the cache and the tunnel by adding only what
 * docs/adding-a-platform.md names. Its site is strict the way real ones are: a post's JSON answers only a
 * browser-like request, its media only with the cookie the post's answer set and the site as Referer,
 * and an unknown post is a 404.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest, postErrors, SourceFailure } from "../../src/domain/errors.js";
import type { Address } from "../../src/domain/links.js";
import type { Media } from "../../src/domain/media.js";
import type { Platform, PostLink } from "../../src/domain/platforms.js";
import type { SourceDescriptor } from "../../src/sources/types.js";
import { type LocalServer, listenLocally } from "../support/local-server.js";

const HOSTS = new Set(["clipnest.example", "www.clipnest.example"]);
const POST_PATH = /^\/p\/(\d{1,20})\/?$/;

export const CLIPNEST: Platform = {
  name: "clipnest",
  label: "Clipnest",
  accepts: (host) => HOSTS.has(host),
  ownsHost: (host) => host === "clipnest.example" || host.endsWith(".clipnest.example"),
  upstream: "clipnest",
  parsePost({ path }: Address): PostLink {
    const id = POST_PATH.exec(path)?.[1];
    if (!id) throw badRequest("UNSUPPORTED_LINK", 'The "url" field is a Clipnest link but not a post.');
    return { kind: "post", platform: "clipnest", id };
  },
  postUrl: (id) => `https://www.clipnest.example/p/${id}`,
};

/** Clipnest's own API as a source: one JSON answer per post. */
export const clipnestSource: SourceDescriptor = {
  name: "clipnest",
  platform: "clipnest",
  origin: "https://www.clipnest.example",
  upstream: "clipnest",
  params: [],
  provesPostId: true,
  create: (deps) => async (input) => {
    const answer = await deps.egress.pick("clipnest").http.request({
      url: `https://www.clipnest.example/api/posts/${input.id}`,
      headers: { accept: "application/json", "user-agent": "Mozilla/5.0 (X11; Linux x86_64)" },
      maxBytes: 64 * 1024,
      signal: input.signal,
    });
    if (answer.status === 404) throw postErrors.notFound("Clipnest says this post does not exist.");
    if (answer.status !== 200)
      throw new SourceFailure("bad_response", `Clipnest answered HTTP ${answer.status}`);
    const post = JSON.parse(answer.text()) as { id: string; caption: string; author: string; file: string };
    const media: Media = {
      id: post.id,
      type: "video",
      caption: post.caption,
      author: { username: post.author },
      video: { noWatermark: post.file },
    };
    const cookie = answer.header("set-cookie")?.split(";")[0];
    return {
      media,
      verified: post.id === input.id,
      session: {
        headers: { referer: "https://www.clipnest.example/" },
        ...(cookie ? { cookie: { value: cookie, domains: ["clipnest.example"] } } : {}),
      },
    };
  },
};

export class FakeClipnest {
  private server?: LocalServer;
  readonly requests: { path: string; headers: IncomingMessage["headers"] }[] = [];
  url = "";

  constructor(private readonly posts: Record<string, { author: string; caption: string; bytes: Buffer }>) {}

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
    const path = request.url ?? "/";
    this.requests.push({ path, headers: request.headers });
    const api = /^\/api\/posts\/(\d+)$/.exec(path);
    if (api?.[1]) return this.post(api[1], request, response);
    const file = /^\/media\/(\d+)\.mp4$/.exec(path);
    if (file?.[1]) return this.file(file[1], request, response);
    response.writeHead(404, { "content-type": "text/html" }).end("<h1>Not found</h1>");
  }

  private post(id: string, request: IncomingMessage, response: ServerResponse) {
    if (!/Mozilla/.test(request.headers["user-agent"] ?? ""))
      return void response.writeHead(403, { "content-type": "text/html" }).end("<h1>Forbidden</h1>");
    const post = this.posts[id];
    if (!post)
      return void response
        .writeHead(404, { "content-type": "application/json" })
        .end('{"error":"no such post"}');
    response.writeHead(200, {
      "content-type": "application/json",
      "set-cookie": `cn_session=s${id}; Path=/; Domain=clipnest.example; HttpOnly`,
    });
    response.end(
      JSON.stringify({
        id,
        caption: post.caption,
        author: post.author,
        file: `https://cdn.clipnest.example/media/${id}.mp4`,
      }),
    );
  }

  private file(id: string, request: IncomingMessage, response: ServerResponse) {
    const post = this.posts[id];
    const cookie = request.headers.cookie ?? "";
    if (
      !post ||
      !cookie.includes(`cn_session=s${id}`) ||
      request.headers.referer !== "https://www.clipnest.example/"
    )
      return void response.writeHead(403, { "content-type": "text/plain" }).end("Forbidden");
    response.writeHead(200, { "content-type": "video/mp4", "content-length": String(post.bytes.length) });
    response.end(post.bytes);
  }
}
