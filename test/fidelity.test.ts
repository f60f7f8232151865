import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { filenameOf } from "../src/delivery/links.js";
import { at, record } from "../src/domain/json-path.js";
import { DESKTOP_USER_AGENT, junkHeaders, MOBILE_USER_AGENT } from "../src/net/browser.js";
import { impersonationFor } from "../src/net/browser-client.js";
import { mapPost } from "../src/sources/tiktok/web/item.js";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import { tiktokSample } from "./fixtures/index.js";
import { download, startStack } from "./helpers.js";

/** The itemStruct of a page payload in test/fixtures/tiktok/. */
const itemOf = (fixture: string) =>
  record(
    at(JSON.parse(tiktokSample(fixture)), [
      "__DEFAULT_SCOPE__",
      "webapp.video-detail",
      "itemInfo",
      "itemStruct",
    ]),
  ) as Record<string, unknown>;
const onWww = (url: string | undefined) => url?.startsWith("https://www.tiktok.com/");

describe("fidelity to real pages (compared with yt-dlp and gallery-dl)", () => {
  it("1. playAddr is the www redirector: the clean file is its CDN copy in PlayAddrStruct", () => {
    const media = mapPost(itemOf("video-www-playaddr"));
    assert.match(
      media.video?.noWatermark ?? "",
      /^https:\/\/v16-webapp-prime\.us\.tiktok\.com\/video\/tos\//,
    );
    assert.ok(!onWww(media.video?.noWatermark));
  });

  it("1. the clean file only in the same-size bitrateInfo rendition is found there", () => {
    const item = itemOf("video-www-bitrate-only");
    const media = mapPost(item);
    const renditions = at(item, ["video", "bitrateInfo"]) as {
      PlayAddr: { DataSize: number; UrlList: string[] };
    }[];
    const sameSize = renditions.find((rendition) => rendition.PlayAddr.DataSize === 3_496_455);
    assert.equal(media.video?.noWatermark, sameSize?.PlayAddr.UrlList[0]);
    assert.equal(media.video?.codec, "h264");
  });

  it("3. a short link that leads to TikTok's home page is not found, not a 502", async () => {
    const stack = await startStack({ fake: { waf: false } });
    try {
      const dead = await download(stack.app, { url: "https://vm.tiktok.com/ZMdead001/" });
      assert.equal(dead.status, 404, JSON.stringify(dead.body));
      assert.equal(dead.body.code, "NOT_FOUND");
    } finally {
      await stack.close();
    }
  });

  it("4. a short-link host that answers a page is asked again as a link-preview crawler", async () => {
    const stack = await startStack({ fake: { waf: false } });
    try {
      const resolved = await download(stack.app, { url: "https://vm.tiktok.com/ZMcrawl01/" });
      assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
      assert.equal(resolved.body.result.id, SAMPLE_IDS.video);
      const asks = stack.fake.requests.filter((request) => request.path.startsWith("/ZMcrawl01"));
      assert.deepEqual(
        asks.map((request) => /facebookexternalhit/.test(String(request.headers["user-agent"]))),
        [false, true],
      );
    } finally {
      await stack.close();
    }
  });

  it("5. junk headers look like yt-dlp's: 2-8 random consonant names of 8-24, values of 16-32 consonants, no prefix", () => {
    const counts = new Set<number>();
    for (let draw = 0; draw < 200; draw++) {
      const headers = junkHeaders();
      const names = Object.keys(headers);
      counts.add(names.length);
      assert.ok(names.length >= 2 && names.length <= 8, `${names.length} headers`);
      for (const name of names) {
        assert.match(name, /^[bcdfghjklmnpqrstvwxz]{8,24}$/);
        assert.match(headers[name] ?? "", /^[bcdfghjklmnpqrstvwxz]{16,32}$/);
      }
    }
    assert.ok(counts.size >= 5, "the count varies");
  });

  it("6. m.tiktok.com pages go out with Safari on iOS's fingerprint, desktop pages with Chrome's", async () => {
    assert.equal(impersonationFor(MOBILE_USER_AGENT), "ios18");
    assert.equal(impersonationFor(DESKTOP_USER_AGENT), "chrome142");
    const stack = await startStack({ fake: { waf: false } });
    try {
      // This post's desktop page is a stub: the mobile page is fetched next.
      const id = "7558765792041131241";
      stack.fake.scenarios.set(id, { kind: "desktop-stub", sample: "video" });
      const { status } = await download(stack.app, {
        url: `https://www.tiktok.com/@river.cooks/video/${id}`,
      });
      assert.equal(status, 200);
      const desktop = stack.fake.requests.find((request) => request.path.startsWith("/@river.cooks/video/"));
      const mobile = stack.fake.requests.find((request) => request.path === `/v/${id}.html`);
      assert.ok(desktop?.headers["sec-ch-ua"], "Chrome sends its client hints");
      assert.match(String(mobile?.headers["user-agent"]), /iPhone/);
      assert.equal(mobile?.headers["sec-ch-ua"], undefined, "Safari on iOS sends no client hints");
    } finally {
      await stack.close();
    }
  });

  describe("7. the smaller points", () => {
    const media = mapPost(itemOf("video-details"));

    it("reads the watermarked file from video.download.url when downloadAddr is empty", () => {
      assert.match(media.video?.watermark ?? "", /^https:\/\/v16-webapp-prime\.us\.tiktok\.com\//);
    });

    it("names an audio_mp4 soundtrack .m4a, an audio_mpeg one .mp3", () => {
      assert.match(filenameOf("tiktok", media, "music"), /_audio\.m4a$/);
      assert.match(filenameOf("tiktok", mapPost(itemOf("video")), "music"), /_audio\.mp3$/);
    });

    it("keeps a subtitle track without a language (as en), and names an srt track .srt", () => {
      assert.equal(media.subtitles?.length, 2);
      assert.equal(media.subtitles?.[0]?.language, "en");
      assert.match(filenameOf("tiktok", media, "subtitle", 0), /_en\.vtt$/);
      assert.equal(media.subtitles?.[1]?.format, "srt");
      assert.match(filenameOf("tiktok", media, "subtitle", 1), /_spa-ES\.srt$/);
    });

    it("says which codec each file is, and takes h264 over h265 at the same size", () => {
      assert.equal(media.video?.codec, "h264");
      assert.equal(media.video?.hdCodec, "h264");
      assert.match(media.video?.hd ?? "", /\/h264o/);
      const original = mapPost(itemOf("video"));
      assert.equal(original.video?.hdCodec, "h265", "the only 1080p rendition of the sample is h265");
    });
  });
});
