import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, describe, it } from "node:test";
import { ApiError, SourceFailure } from "../src/domain/errors.js";
import { earliestExpiry, mapPost } from "../src/sources/tiktok/web/item.js";
import { classifyPage, readPost } from "../src/sources/tiktok/web/page.js";
import { createPowSolver } from "../src/sources/tiktok/web/pow-solver.js";
import { clearanceValue, parseWafChallenge, solveProofOfWork } from "../src/sources/tiktok/web/waf.js";
import { SAMPLE_IDS, sampleData } from "./fakes/tiktok.js";
import { tiktokSample } from "./fixtures/index.js";

const page = (data: string, attributes = 'id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json"') =>
  `<html><head><script type="application/json" id="other">{"a":1}</script></head><body>` +
  `<script ${attributes}>${data}</script></body></html>`;

const isApiError = (code: string) => (error: unknown) => error instanceof ApiError && error.code === code;
const isFailure = (reason: string) => (error: unknown) =>
  error instanceof SourceFailure && error.reason === reason;

describe("native parser on the shared samples", () => {
  it("maps the video sample: no watermark, watermark, HD (largest rendition), details", () => {
    const media = mapPost(readPost(page(tiktokSample("video")), SAMPLE_IDS.video));
    assert.equal(media.type, "video");
    assert.equal(media.id, SAMPLE_IDS.video);
    assert.equal(media.author?.username, "river.cooks");
    assert.equal(media.author?.nickname, "River Cooks 🍋");
    assert.match(media.caption ?? "", /^one-pan lemon pasta 🍋 <15 min> & done/);
    assert.equal(media.createdAt, "2025-10-08T08:32:25.000Z");
    assert.match(media.video?.noWatermark ?? "", /o-LhmtOx2LMrbKMj6zsJzL1KuJrCsXeFHdS6m.*tk=tt_chain_token$/);
    assert.match(media.video?.watermark ?? "", /tos-useast8-pve-0068-tx2/);
    // The 1080p h265 rendition is the largest one.
    assert.match(media.video?.hd ?? "", /o3OoxGAACNgzINTt9BKOlyZxgf7TcNO-RUoc-/);
    assert.equal(media.video?.duration, 31);
    assert.equal(media.music?.title, "original sound - River Cooks 🍋");
    assert.match(media.music?.url ?? "", /mime_type=audio_mpeg/);
    assert.deepEqual(media.stats, { plays: 1312400, likes: 48213, comments: 611, shares: 1320, saves: 5120 });
    assert.ok(media.thumb?.startsWith("https://p16-common-sign.tiktokcdn-us.com/"));
    assert.equal(earliestExpiry(media), 1760021600 * 1000);
  });

  it("maps the photo sample: the images in order, the soundtrack, no video", () => {
    const media = mapPost(readPost(page(tiktokSample("photo")), SAMPLE_IDS.photo));
    assert.equal(media.type, "photo");
    assert.equal(media.images?.length, 4);
    assert.match(media.images?.[0] ?? "", /photomode-tx2\/f88d87997452c3e0fa1cf/);
    assert.match(media.images?.[3] ?? "", /photomode-tx2\/acf328101d46f84867b19/);
    assert.equal(media.video, undefined);
    assert.equal(media.music?.title, "Lakeside");
  });

  it("finds the script whatever the attribute order, and reads the mobile scope", () => {
    const data = sampleData("video", { mobile: true });
    assert.match(data, /webapp\.reflow\.video\.detail/);
    const media = mapPost(
      readPost(
        page(data, 'type="application/json" id="__UNIVERSAL_DATA_FOR_REHYDRATION__"'),
        SAMPLE_IDS.video,
      ),
    );
    assert.equal(media.author?.username, "river.cooks");
  });

  it("falls back to PlayAddrStruct when playAddr is empty, reads DataSize strings, drops an empty music URL", () => {
    const data = sampleData("video", { structOnly: true });
    const media = mapPost(readPost(page(data), SAMPLE_IDS.video));
    assert.ok(media.video?.noWatermark?.includes("v16-webapp-prime"));
    assert.ok(!media.video?.noWatermark?.includes("/aweme/v1/play/"));
    assert.match(media.video?.hd ?? "", /o3OoxGAACNgzINTt9BKOlyZxgf7TcNO-RUoc-/);
    assert.equal(media.music?.url, undefined);
  });

  const verdicts: [string, string, (error: unknown) => boolean][] = [
    ["deleted", SAMPLE_IDS.deleted, isApiError("NOT_FOUND")],
    ["private", SAMPLE_IDS.private, isApiError("PRIVATE")],
    ["private-account", SAMPLE_IDS.privateAccount, isApiError("PRIVATE")],
    ["age-restricted", SAMPLE_IDS.ageRestricted, isApiError("AGE_RESTRICTED")],
    ["region-blocked", SAMPLE_IDS.regionBlocked, isFailure("region_blocked")],
  ];
  for (const [sample, id, check] of verdicts) {
    it(`maps the ${sample} sample to TikTok's verdict`, () => {
      assert.throws(() => readPost(page(tiktokSample(sample)), id), check);
    });
  }

  it("drops media addresses on www.tiktok.com (the /aweme/v1/play/ redirector) when a CDN address exists", () => {
    const data = JSON.parse(tiktokSample("video"));
    const item = data.__DEFAULT_SCOPE__["webapp.video-detail"].itemInfo.itemStruct;
    item.video.downloadAddr = "https://www.tiktok.com/aweme/v1/play/?video_id=v0&line=0&ratio=540p";
    const media = mapPost(readPost(page(JSON.stringify(data)), SAMPLE_IDS.video));
    assert.equal(media.video?.watermark, undefined);
    assert.match(media.video?.noWatermark ?? "", /^https:\/\/v16-webapp-prime/);
    // With nothing else, the redirector is kept rather than losing the post.
    item.video.playAddr = "https://www.tiktok.com/aweme/v1/play/?video_id=v1";
    item.video.PlayAddrStruct = undefined;
    item.video.bitrateInfo = [];
    const only = mapPost(readPost(page(JSON.stringify(data)), SAMPLE_IDS.video));
    assert.match(only.video?.noWatermark ?? "", /aweme\/v1\/play/);
  });

  it("takes the best CDN rendition when playAddr is the redirector and no size matches, with that rendition's codec", () => {
    const data = JSON.parse(tiktokSample("video"));
    const item = data.__DEFAULT_SCOPE__["webapp.video-detail"].itemInfo.itemStruct;
    item.video.playAddr = "https://www.tiktok.com/aweme/v1/play/?video_id=v1";
    item.video.PlayAddrStruct = undefined;
    item.video.codecType = "h264";
    const rendition = (p: number, codec: string, host: string) => ({
      Bitrate: p * 1000,
      CodecType: codec,
      PlayAddr: {
        UrlKey: `v12044gd0000_${codec === "h265_hvc1" ? "bytevc1" : "h264"}_${p}p_${p * 1000}`,
        UrlList: [`https://${host}/video/tos/useast5/${p}/${codec}/?mime_type=video_mp4`],
      },
    });
    item.video.bitrateInfo = [
      rendition(540, "h264", "v16-webapp-prime.tiktok.com"),
      rendition(1080, "h265_hvc1", "v19-webapp-prime.tiktok.com"),
      rendition(1080, "h264", "www.tiktok.com"),
    ];
    const media = mapPost(readPost(page(JSON.stringify(data)), SAMPLE_IDS.video));
    assert.equal(
      media.video?.noWatermark,
      "https://v19-webapp-prime.tiktok.com/video/tos/useast5/1080/h265_hvc1/?mime_type=video_mp4",
    );
    assert.equal(media.video?.codec, "h265", "the chosen rendition's codec, not video.codecType");
  });

  it("reads a classified post that has its video (the flag alone is not an age gate)", () => {
    const data = JSON.parse(tiktokSample("video"));
    data.__DEFAULT_SCOPE__["webapp.video-detail"].itemInfo.itemStruct.isContentClassified = true;
    const media = mapPost(readPost(page(JSON.stringify(data)), SAMPLE_IDS.video));
    assert.ok(media.video?.noWatermark);
  });

  it("treats a blank 10204, an unknown status, truncated JSON and a missing script as source failures", () => {
    const status = (code: number, msg: string) =>
      page(
        JSON.stringify({
          __DEFAULT_SCOPE__: { "webapp.video-detail": { statusCode: code, statusMsg: msg } },
        }),
      );
    assert.throws(() => readPost(status(10204, ""), SAMPLE_IDS.video), isFailure("blocked"));
    // "doesn't exist" is also what a blocked address is told: not final, another source may find it.
    assert.throws(
      () => readPost(status(10204, "item doesn't exist"), SAMPLE_IDS.video),
      isFailure("not_found"),
    );
    assert.throws(
      () => readPost(status(10204, "item_privacy_authorization&status_deleted"), SAMPLE_IDS.video),
      isApiError("NOT_FOUND"),
    );
    assert.throws(() => readPost(status(10216, ""), SAMPLE_IDS.video), isApiError("PRIVATE"));
    assert.throws(() => readPost(status(31337, "new_thing"), SAMPLE_IDS.video), isFailure("bad_response"));
    assert.throws(
      () => readPost(page(tiktokSample("video").slice(0, 4000)), SAMPLE_IDS.video),
      isFailure("bad_response"),
    );
    assert.throws(
      () => readPost("<html><body>nothing</body></html>", SAMPLE_IDS.video),
      isFailure("bad_response"),
    );
    assert.throws(() => readPost(page(tiktokSample("video")), SAMPLE_IDS.photo), isFailure("bad_response"));
  });

  it("tells data, WAF, captcha and stub pages apart", () => {
    assert.equal(classifyPage(page("{}")), "data");
    assert.equal(
      classifyPage('<p id="wci" class="_wafchallengeid"></p><p id="cs" class="eyJ2Ijp7fX0"></p>'),
      "waf",
    );
    assert.equal(classifyPage('<div id="captcha-verify-container"></div>'), "captcha");
    assert.equal(classifyPage("<html><title>TikTok - Make Your Day</title></html>"), "stub");
  });
});

describe("WAF proof of work", () => {
  const solver = createPowSolver();
  after(() => solver.close());
  function challengePage(solution: number, extras = "") {
    const seed = Buffer.from("seed-bytes-0123456789");
    const digest = createHash("sha256").update(seed).update(String(solution)).digest();
    const challenge = {
      v: { a: seed.toString("base64"), b: 1764000000, c: digest.toString("base64") },
      s: "keep-me",
    };
    const encoded = Buffer.from(JSON.stringify(challenge)).toString("base64").replace(/=+$/, "");
    return `<p id="wci" class="_wafchallengeid"></p><p id="cs" class="${encoded}"></p>${extras}`;
  }

  it("solves the challenge without running its script and keeps unknown keys", async () => {
    const parsed = parseWafChallenge(
      challengePage(31_337, '<p id="rci" class="waforiginalreid"></p><p id="rs" class="abc"></p>'),
    );
    assert.equal(parsed.cookieName, "_wafchallengeid");
    assert.deepEqual(parsed.extraCookie, { name: "waforiginalreid", value: "abc" });
    const solution = await solveProofOfWork(solver, parsed.seed, parsed.digest);
    assert.equal(solution, 31_337);
    const cookie = JSON.parse(Buffer.from(clearanceValue(parsed.challenge, solution), "base64").toString());
    assert.equal(cookie.s, "keep-me");
    assert.equal(Buffer.from(cookie.d, "base64").toString(), "31337");
  });

  it("reads the challenge from any element with the expected ids, not only <p>", () => {
    const page = challengePage(7).replaceAll("<p ", "<div ").replaceAll("</p>", "</div>");
    const parsed = parseWafChallenge(
      `${page}<span id="rci" class="waforiginalreid"></span><i id="rs" class="x1"></i>`,
    );
    assert.equal(parsed.cookieName, "_wafchallengeid");
    assert.deepEqual(parsed.extraCookie, { name: "waforiginalreid", value: "x1" });
  });

  it("gives up past the bound of a million", async () => {
    const parsed = parseWafChallenge(challengePage(1_000_001));
    await assert.rejects(solveProofOfWork(solver, parsed.seed, parsed.digest), isFailure("blocked"));
  });

  it("keeps the event loop turning while it searches", async () => {
    const parsed = parseWafChallenge(challengePage(400_000));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await solveProofOfWork(solver, parsed.seed, parsed.digest);
    clearInterval(timer);
    assert.ok(ticks > 5, `only ${ticks} timer ticks ran during the search`);
  });

  it("refuses pages without a readable challenge", () => {
    assert.throws(() => parseWafChallenge("<p id='wci' class='x'></p>"), isFailure("blocked"));
    assert.throws(
      () => parseWafChallenge('<p id="wci" class="x"></p><p id="cs" class="!!!"></p>'),
      isFailure("blocked"),
    );
  });
});
