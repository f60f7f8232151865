import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ApiError } from "../src/domain/errors.js";
import { PLATFORMS, parsePostLink } from "../src/domain/platforms.js";
import { douyinSource } from "../src/sources/douyin/index.js";
import { nativeSource } from "../src/sources/tiktok/web/index.js";
import { CLEAN_BYTES, DOUYIN_POSTS, FakeDouyin, WATERMARKED_BYTES } from "./fakes/douyin.js";
import { download, type Stack, startStack } from "./helpers.js";
import { runCli } from "./support/cli.js";

const ID = DOUYIN_POSTS.video.id;

describe("Douyin links", () => {
  const posts: [string, string][] = [
    [`https://www.douyin.com/video/${ID}`, ID],
    [`https://douyin.com/note/${ID}`, ID],
    [`https://www.douyin.com/slides/${ID}`, ID],
    [`https://www.douyin.com/jingxuan?modal_id=${ID}`, ID],
    [`https://www.douyin.com/discover?modal_id=${ID}`, ID],
    [`https://www.douyin.com/user/MS4wLjABAAAAabc?modal_id=${ID}`, ID],
    [`https://www.douyin.com/user/MS4wLjABAAAAabc?vid=${ID}`, ID],
    [`https://www.douyin.com/search/cats?aid=1&modal_id=${ID}`, ID],
    [`https://www.iesdouyin.com/share/video/${ID}/?region=CN&mid=1&from=web_code_link`, ID],
    [`https://www.iesdouyin.com/share/note/${ID}`, ID],
    [`https://www.iesdouyin.com/share/slides/${ID}/`, ID],
    [`https://m.douyin.com/share/video/${ID}`, ID],
    [`https://jingxuan.douyin.com/m/video/${ID}?app=yumme&utm_source=copy_link`, ID],
    [`7.87 Pjm:/ 复制打开抖音，看看【Fern的作品】 https://www.douyin.com/video/${ID} 一块木板`, ID],
  ];
  for (const [link, id] of posts)
    it(`reads ${link.slice(0, 70)}`, () => {
      const post = parsePostLink(link, PLATFORMS);
      assert.deepEqual(post, { kind: "post", platform: "douyin", id });
    });

  it("reads short links and the share text around them", () => {
    const short = parsePostLink("7.87 Pjm:/ 复制打开抖音 https://v.douyin.com/iRNBho6u/ ok", PLATFORMS);
    assert.equal(short.kind, "short");
    assert.equal(short.kind === "short" && short.platform, "douyin");
    assert.equal(short.kind === "short" && short.url, "https://v.douyin.com/iRNBho6u/");
    const jx = parsePostLink("https://jx.douyin.com/jxHop01", PLATFORMS);
    assert.equal(jx.kind === "short" && jx.url, "https://jx.douyin.com/jxHop01/");
  });

  for (const link of [
    "https://www.douyin.com/user/MS4wLjABAAAAabcdef",
    "https://www.douyin.com/collection/7360898383181809676",
    "https://live.douyin.com/895627289314",
    "https://www.iesdouyin.com/share/user/110000000001?sec_uid=MS4wLjABAAAAabc",
  ])
    it(`refuses the list ${link} as not supported yet`, () => {
      assert.throws(
        () => parsePostLink(link, PLATFORMS),
        (error: unknown) =>
          error instanceof ApiError &&
          error.code === "UNSUPPORTED_LINK" &&
          /not supported yet/.test(error.message),
      );
    });

  it("refuses an id that is not Douyin's, and a look-alike host", () => {
    assert.throws(() => parsePostLink("https://www.douyin.com/video/123", PLATFORMS), /not a Douyin post id/);
    assert.throws(
      () => parsePostLink(`https://www.douyin.com.evil.test/video/${ID}`, PLATFORMS),
      (error: unknown) => error instanceof ApiError && error.code === "UNSUPPORTED_HOST",
    );
  });
});

describe("Douyin posts", () => {
  let stack: Stack;
  let douyin: FakeDouyin;
  let base: string;
  before(async () => {
    douyin = await new FakeDouyin().start();
    stack = await startStack({
      fake: { waf: false },
      env: { UPSTREAM_DOUYIN: douyin.url, ALLOW_PRIVATE_UPSTREAMS: "1", STREAM_SECRET: "d".repeat(32) },
      deps: { sources: [nativeSource, douyinSource] },
    });
    await stack.app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await stack.close();
    await douyin.close();
  });

  it("answers a video with its clean and watermarked files, in the shape a TikTok post has", async () => {
    const { status, body } = await download(stack.app, { url: `https://www.douyin.com/video/${ID}` });
    assert.equal(status, 200, JSON.stringify(body));
    const result = body.result;
    assert.equal(result.platform, "douyin");
    assert.equal(result.provider, "douyin");
    assert.equal(result.type, "video");
    assert.match(result.video.noWatermark, /^https:\/\/aweme\.snssdk\.com\/aweme\/v1\/play\/\?video_id=/);
    assert.match(result.video.watermark, /\/aweme\/v1\/playwm\//);
    assert.equal(result.video.duration, 15);
    assert.equal(result.author.username, "fern_cn");
    assert.match(result.thumb, /\.jpeg$/);
    assert.match(result.additional.musicUrl, /douyinstatic\.com/);
    assert.deepEqual(result.urls.slice(0, 1), [result.video.noWatermark]);
    const asked = douyin.requests.find((request) => request.path.startsWith("/web/api/v2/aweme/slidesinfo/"));
    assert.match(asked?.path ?? "", /request_source=200/);
    assert.doesNotMatch(asked?.path ?? "", /a_bogus/);
    assert.equal(stack.fake.requests.length, 0, "TikTok is never asked about a Douyin post");
  });

  it("relays the files through the tunnel from Douyin's player and CDN, named for Douyin", async () => {
    const { body } = await download(stack.app, { url: `https://www.douyin.com/video/${ID}` });
    const clean = await fetch(`${base}${body.result.stream.video}`);
    assert.equal(clean.status, 200);
    assert.equal((await clean.arrayBuffer()).byteLength, CLEAN_BYTES);
    assert.match(
      clean.headers.get("content-disposition") ?? "",
      new RegExp(`filename="douyin_fern_cn_${ID}\\.mp4"`),
    );
    const marked = await fetch(`${base}${body.result.stream.videoWatermark}`);
    assert.equal((await marked.arrayBuffer()).byteLength, WATERMARKED_BYTES, "playwm is another file");
    const ranged = await fetch(`${base}${body.result.stream.video}`, { headers: { range: "bytes=0-99" } });
    assert.equal(ranged.status, 206);
    assert.equal((await ranged.arrayBuffer()).byteLength, 100);
  });

  it("relays a Douyin post's files from Douyin's hosts only", async () => {
    const { body } = await download(stack.app, {
      url: `https://www.douyin.com/video/${DOUYIN_POSTS.elsewhere.id}`,
    });
    assert.equal(body.result.thumb, "https://images.example.net/cover.jpeg");
    const cover = await fetch(`${base}${body.result.stream.thumb}`);
    assert.equal(cover.status, 502);
    const refusal = (await cover.json()) as { code: string; error: string };
    assert.equal(refusal.code, "UPSTREAM_FAILED");
    assert.match(refusal.error, /refused_target/, "refused before any request, not a host that failed");
    const video = await fetch(`${base}${body.result.stream.video}`);
    assert.equal(video.status, 200, "its own files still come");
    await video.arrayBuffer();
  });

  it("answers a photo post's images (not WebP), their sound, and a live photo's clips", async () => {
    const photo = await download(stack.app, { url: `https://www.douyin.com/note/${DOUYIN_POSTS.photo.id}` });
    assert.equal(photo.status, 200, JSON.stringify(photo.body));
    assert.equal(photo.body.result.type, "photo");
    assert.equal(photo.body.result.images.length, 3);
    for (const image of photo.body.result.images) assert.match(image, /\.jpeg$/);
    assert.match(photo.body.result.music.url, /\.mp3$/);
    const zip = await fetch(`${base}${photo.body.result.stream.zip}`);
    assert.equal(zip.status, 200);
    assert.match(zip.headers.get("content-disposition") ?? "", /douyin_110000000002_/);

    const live = await download(stack.app, {
      url: `https://www.iesdouyin.com/share/slides/${DOUYIN_POSTS.live.id}/`,
    });
    assert.equal(live.status, 200, JSON.stringify(live.body));
    assert.equal(live.body.result.livePhotos.length, 2);
  });

  it("takes a verdict for a post Douyin withholds, and caches it; an empty answer is a failure, not cached", async () => {
    const gone = await download(stack.app, {
      url: `https://www.douyin.com/video/${DOUYIN_POSTS.deleted.id}`,
    });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.code, "NOT_FOUND");
    const asked = douyin.count("/web/api/v2/aweme/slidesinfo/");
    assert.equal(
      (await download(stack.app, { url: `https://www.douyin.com/video/${DOUYIN_POSTS.deleted.id}` })).status,
      404,
    );
    assert.equal(douyin.count("/web/api/v2/aweme/slidesinfo/"), asked, "the verdict was cached");
    const secret = await download(stack.app, {
      url: `https://www.douyin.com/video/${DOUYIN_POSTS.private.id}`,
    });
    assert.equal(secret.status, 403);
    assert.equal(secret.body.code, "PRIVATE");

    const flaky = await download(stack.app, { url: `https://www.douyin.com/video/${DOUYIN_POSTS.flaky.id}` });
    assert.equal(flaky.status, 502, JSON.stringify(flaky.body));
    const again = await download(stack.app, { url: `https://www.douyin.com/video/${DOUYIN_POSTS.flaky.id}` });
    assert.equal(again.status, 200, "the empty answer was not kept as a verdict");
  });

  it("follows short links hop by hop with redirects off, and refuses one that leads to a profile", async () => {
    const short = await download(stack.app, {
      url: "7.87 Pjm:/ 复制打开抖音 https://v.douyin.com/iRNBho6u/ 看看",
    });
    assert.equal(short.status, 200, JSON.stringify(short.body));
    assert.equal(short.body.result.id, ID);
    const twoHops = await download(stack.app, { url: "https://jx.douyin.com/jxHop01" });
    assert.equal(twoHops.body.result?.id, ID, JSON.stringify(twoHops.body));
    const slides = await download(stack.app, { url: "https://v.douyin.com/_2ljF4AmKL8/" });
    assert.equal(slides.body.result?.type, "photo");
    const profile = await download(stack.app, { url: "https://v.douyin.com/u-fCCopjutU/" });
    assert.equal(profile.status, 400);
    assert.equal(profile.body.code, "UNSUPPORTED_LINK");
    const offsite = await download(stack.app, { url: "https://v.douyin.com/offsite1/" });
    assert.equal(offsite.status, 400);
    const unknown = await download(stack.app, { url: "https://v.douyin.com/nosuchcode/" });
    assert.equal(unknown.status, 404);
  });

  it("keeps TikTok's sources and Douyin's apart, and says a Douyin profile is not supported yet", async () => {
    const wrong = await download(stack.app, { url: `https://www.douyin.com/video/${ID}`, type: "native" });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.code, "INVALID_TYPE");
    const profile = await download(stack.app, { url: "https://www.douyin.com/user/MS4wLjABAAAAabcdef" });
    assert.equal(profile.status, 400);
    assert.match(profile.body.error, /Douyin lists are not supported yet/);
    assert.equal(douyin.count("/aweme/v1/web/"), 0, "the signed web API is never asked");
  });
});

describe("the CLI with Douyin links", () => {
  it("saves a post from pasted share text, archives it as `douyin <id>`, and skips it the next time", async () => {
    const douyin = await new FakeDouyin().start();
    const dir = await mkdtemp(join(tmpdir(), "tiktok-dl-douyin-cli-"));
    try {
      const env = { UPSTREAM_DOUYIN: douyin.url, ALLOW_PRIVATE_UPSTREAMS: "1", SOURCES: "douyin" };
      const args = [
        "7.87 Pjm:/ 复制打开抖音 https://v.douyin.com/iRNBho6u/",
        "-o",
        dir,
        "--archive",
        join(dir, "archive.txt"),
      ];
      const first = await runCli(args, env, dir);
      assert.equal(first.code, 0, first.stderr);
      assert.ok((await readdir(dir)).includes(`douyin_fern_cn_${ID}.mp4`), (await readdir(dir)).join(", "));
      assert.equal(await readFile(join(dir, "archive.txt"), "utf8"), `douyin ${ID}\n`);
      const played = douyin.count("/aweme/v1/play/");
      const second = await runCli(
        [`https://www.douyin.com/video/${ID}`, "-o", dir, "--archive", join(dir, "archive.txt")],
        env,
        dir,
      );
      assert.equal(second.code, 0, second.stderr);
      assert.equal(douyin.count("/aweme/v1/play/"), played, "archived: not downloaded again");
    } finally {
      await douyin.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
