import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SAMPLE_IDS, SCENARIO_IDS } from "./fakes/tiktok.js";
import { download, json, type Stack, startStack } from "./helpers.js";

const link = (id: string, user = "river.cooks") => `https://www.tiktok.com/@${user}/video/${id}`;

describe("GET /api/download against the fake TikTok", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { UPSTREAM_TIMEOUT_MS: "800" } });
  });
  after(() => stack.close());

  it("answers a video post, through the WAF challenge, with the v1 shape", async () => {
    const { status, body } = await download(stack.app, {
      url: `${link(SAMPLE_IDS.video)}?is_from_webapp=1&sender_device=pc`,
    });
    assert.equal(status, 200);
    const result = body.result;
    assert.equal(result.id, SAMPLE_IDS.video);
    assert.equal(result.type, "video");
    assert.equal(result.provider, "native");
    assert.equal(result.cached, false);
    assert.equal(result.urls[0], result.video.noWatermark);
    assert.equal(result.urls.at(-1), result.video.watermark);
    assert.ok(result.urls.includes(result.video.hd));
    assert.equal(new Set(result.urls).size, result.urls.length);
    for (const url of result.urls) assert.match(url, /^https:\/\//);
    assert.match(result.thumb, /^https:\/\/p16-common-sign/);
    assert.match(result.additional.musicUrl, /mime_type=audio_mpeg/);
    assert.equal(result.author.username, "river.cooks");
    assert.equal(result.createdAt, "2025-10-08T08:32:25.000Z");
    assert.equal(result.stats.plays, 1312400);
    assert.equal(result.music.title, "original sound - River Cooks 🍋");
    assert.equal(result.images, undefined);
    // First visit: the WAF page, then the page with the solved cookie.
    assert.equal(stack.fake.pageRequests(SAMPLE_IDS.video), 2);
  });

  it("lists the subtitle tracks, each with a tunnel link to its file", async () => {
    const { body } = await download(stack.app, { url: link(SAMPLE_IDS.video) });
    const tracks = body.result.subtitles as Record<string, string>[];
    assert.deepEqual(
      tracks.map(({ language, format, source }) => ({ language, format, source })),
      [
        { language: "eng-US", format: "webvtt", source: "auto" },
        { language: "spa-ES", format: "webvtt", source: "translated" },
      ],
    );
    assert.match(tracks[0]?.url ?? "", /^https:\/\/v16-webapp\.tiktok\.com\//);
    const file = await stack.app.inject({ url: tracks[0]?.stream });
    assert.equal(file.statusCode, 200, file.body);
    assert.match(String(file.headers["content-type"]), /^text\/vtt/);
    assert.match(
      String(file.headers["content-disposition"]),
      /tiktok_river\.cooks_7558765792041131240_eng-US\.vtt/,
    );
    assert.match(file.body, /^WEBVTT/);
  });

  it("serves every link form of the same post from one cache entry", async () => {
    const before = stack.fake.requests.length;
    for (const url of [
      link(SAMPLE_IDS.video),
      `https://m.tiktok.com/v/${SAMPLE_IDS.video}.html`,
      `www.tiktok.com/@/video/${SAMPLE_IDS.video}#x`,
      `https://www.tiktok.com/embed/v2/${SAMPLE_IDS.video}`,
    ]) {
      const { status, body } = await download(stack.app, { url });
      assert.equal(status, 200, url);
      assert.equal(body.result.cached, true, url);
      assert.equal(body.result.provider, "native");
    }
    assert.equal(stack.fake.requests.length, before);
  });

  it("nocache skips the cache but refreshes it", async () => {
    const pages = stack.fake.pageRequests(SAMPLE_IDS.video);
    const fresh = await download(stack.app, { url: link(SAMPLE_IDS.video), nocache: "TRUE" });
    assert.equal(fresh.status, 200);
    assert.equal(fresh.body.result.cached, false);
    // The kept session got past the WAF on an earlier extraction: one page request, no challenge.
    assert.equal(stack.fake.pageRequests(SAMPLE_IDS.video), pages + 1);
    const again = await download(stack.app, { url: link(SAMPLE_IDS.video), nocache: "0" });
    assert.equal(again.body.result.cached, true);
  });

  it("answers a photo post with its images in order and its music", async () => {
    const { status, body } = await download(stack.app, {
      url: `https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}`,
    });
    assert.equal(status, 200);
    assert.equal(body.result.type, "photo");
    assert.equal(body.result.urls.length, 4);
    assert.deepEqual(body.result.urls, body.result.images);
    assert.match(body.result.additional.musicUrl, /^https:\/\//);
    assert.equal(body.result.video, undefined);
  });

  it("reads a page whose playAddr is empty (PlayAddrStruct, DataSize strings, no music URL)", async () => {
    const { status, body } = await download(stack.app, { url: link(SCENARIO_IDS.structOnly) });
    assert.equal(status, 200);
    assert.ok(body.result.video.noWatermark.includes("v16-webapp-prime"));
    assert.deepEqual(body.result.additional, {});
  });

  it("falls back to the mobile page when the desktop one is a stub", async () => {
    const { status, body } = await download(stack.app, { url: link(SCENARIO_IDS.desktopStub) });
    assert.equal(status, 200, JSON.stringify(body));
    assert.ok(stack.fake.requests.some((request) => request.path === `/v/${SCENARIO_IDS.desktopStub}.html`));
  });

  const verdicts: [string, string, number, string][] = [
    ["deleted", SAMPLE_IDS.deleted, 404, "NOT_FOUND"],
    ["never existed", SCENARIO_IDS.missing, 404, "NOT_FOUND"],
    ["private", SAMPLE_IDS.private, 403, "PRIVATE"],
    ["private account", SAMPLE_IDS.privateAccount, 403, "PRIVATE"],
    ["age-restricted", SAMPLE_IDS.ageRestricted, 403, "AGE_RESTRICTED"],
    ["region-blocked", SAMPLE_IDS.regionBlocked, 403, "REGION_BLOCKED"],
  ];
  for (const [label, id, status, code] of verdicts) {
    it(`answers a ${label} post with ${status} ${code}`, async () => {
      const response = await download(stack.app, { url: link(id) });
      assert.equal(response.status, status);
      assert.equal(response.body.code, code);
      assert.equal(typeof response.body.error, "string");
    });
  }

  it("caches TikTok's verdicts briefly, but not region blocks", async () => {
    const deleted = stack.fake.pageRequests(SAMPLE_IDS.deleted);
    assert.equal((await download(stack.app, { url: link(SAMPLE_IDS.deleted) })).status, 404);
    assert.equal(stack.fake.pageRequests(SAMPLE_IDS.deleted), deleted);
    const region = stack.fake.pageRequests(SAMPLE_IDS.regionBlocked);
    assert.equal((await download(stack.app, { url: link(SAMPLE_IDS.regionBlocked) })).status, 403);
    assert.ok(stack.fake.pageRequests(SAMPLE_IDS.regionBlocked) > region);
  });

  const failures: [string, string, RegExp][] = [
    ["a captcha page", SCENARIO_IDS.captcha, /captcha/],
    ["a malformed page", SCENARIO_IDS.malformed, /not valid JSON/],
    ["a stub on both routes", SCENARIO_IDS.stub, /without post data/],
    ["a login wall", SCENARIO_IDS.login, /login/],
    ["HTTP 403", SCENARIO_IDS.http403, /HTTP 403/],
    ["HTTP 429", SCENARIO_IDS.http429, /HTTP 429/],
    ["HTTP 500", SCENARIO_IDS.http500, /HTTP 500/],
    ["a slow page", SCENARIO_IDS.slow, /timeout/],
    ["a WAF that never clears", SCENARIO_IDS.wafAlways, /WAF/],
    ["a blank 10204", SCENARIO_IDS.blank10204, /refused/],
  ];
  for (const [label, id, reason] of failures) {
    it(`answers 502 naming the source and the reason for ${label}`, async () => {
      const response = await download(stack.app, { url: link(id) });
      assert.equal(response.status, 502);
      assert.equal(response.body.code, "ALL_SOURCES_FAILED");
      assert.match(response.body.error, /native/);
      assert.match(response.body.error, reason);
    });
  }

  it("lists the native source with its health in /api/providers", async () => {
    const response = await stack.app.inject({ method: "GET", url: "/api/providers" });
    assert.equal(response.statusCode, 200);
    const [native] = json(response) as unknown as Record<string, any>[];
    assert.equal(native?.name, "native");
    assert.equal(native?.url, "https://www.tiktok.com");
    assert.deepEqual(native?.params, []);
    assert.ok(native?.health.successes >= 3);
    assert.ok(native?.health.failures >= 5);
    assert.ok(native?.health.lastError.reason);
    assert.equal(typeof native?.health.latency.p50, "number");
  });

  it("exposes Prometheus metrics: requests, source attempts, cache lookups", async () => {
    const response = await stack.app.inject({ url: "/metrics" });
    assert.equal(response.statusCode, 200);
    assert.match(response.headers["content-type"] as string, /^text\/plain/);
    const text = response.body;
    assert.match(text, /tiktokdl_source_attempts_total\{source="native",outcome="ok"\} [1-9]/);
    assert.match(text, /tiktokdl_source_attempts_total\{source="native",outcome="timeout"\} [1-9]/);
    assert.match(text, /tiktokdl_cache_lookups_total\{result="hit"\} [1-9]/);
    assert.match(
      text,
      /tiktokdl_http_request_duration_seconds_count\{route="\/api\/download",method="GET",status="200"\} [1-9]/,
    );
    assert.match(text, /tiktokdl_tunnels_active 0/);
  });

  it("lists cached posts newest first in /api/stored-links", async () => {
    const response = await stack.app.inject({ method: "GET", url: "/api/stored-links" });
    const links = response.json() as string[];
    assert.equal(links[0], `https://www.tiktok.com/@river.cooks/video/${SCENARIO_IDS.desktopStub}`);
    assert.equal(links[1], `https://www.tiktok.com/@river.cooks/video/${SCENARIO_IDS.structOnly}`);
    assert.ok(links.includes(`https://www.tiktok.com/@trail.notes/video/${SAMPLE_IDS.photo}`));
    assert.ok(links.includes(link(SAMPLE_IDS.video)));
    assert.ok(!links.some((entry) => entry.includes(SAMPLE_IDS.deleted)));
    const limited = await stack.app.inject({ method: "GET", url: "/api/stored-links?limit=1" });
    assert.deepEqual(limited.json(), [links[0]]);
    for (const limit of ["0", "1001", "abc", "-1", "1.5"]) {
      const bad = await stack.app.inject({ method: "GET", url: `/api/stored-links?limit=${limit}` });
      assert.equal(bad.statusCode, 400, limit);
      assert.equal(bad.json().code, "INVALID_PARAMETER");
    }
  });
});

describe("short links", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ fake: { waf: false } });
  });
  after(() => stack.close());

  const cases: [string, number, string][] = [
    ["https://vm.tiktok.com/ZMriver01/", 200, SAMPLE_IDS.video],
    ["https://vt.tiktok.com/ZMnouser1/", 200, SAMPLE_IDS.video],
    ["https://www.tiktok.com/t/ZMphoto01/", 200, SAMPLE_IDS.photo],
    ["vm.tiktok.com/ZMbody001", 200, SAMPLE_IDS.video],
    ["https://vm.tiktok.com/ZMhop0001/", 200, SAMPLE_IDS.video],
    ["https://vm.tiktok.com/ZMevil001/", 400, "UNSUPPORTED_LINK"],
    ["https://vm.tiktok.com/ZMgone001/", 404, "NOT_FOUND"],
    ["https://vm.tiktok.com/ZMnotfnd1/", 404, "NOT_FOUND"],
    ["https://vm.tiktok.com/ZMloop001/", 404, "NOT_FOUND"],
    ["https://vm.tiktok.com/ZMerr5001/", 502, "ALL_SOURCES_FAILED"],
    ["https://vm.tiktok.com/ZMdeleted/", 404, "NOT_FOUND"],
    // A 200 page instead of a redirect (the WAF, a stub) is a failure to resolve, not "not found".
    ["https://vm.tiktok.com/ZMwafpage/", 502, "ALL_SOURCES_FAILED"],
    ["https://www.tiktok.com/t/ZMstub001/", 502, "ALL_SOURCES_FAILED"],
    ["https://lite.tiktok.com/t/ZMriver01/", 200, SAMPLE_IDS.video],
    ["shared from the app: https://vm.tiktok.com/ZMphoto01/ 🍋", 200, SAMPLE_IDS.photo],
  ];
  for (const [url, status, expected] of cases) {
    it(`${url} → ${status} ${expected}`, async () => {
      const response = await download(stack.app, { url });
      assert.equal(response.status, status, JSON.stringify(response.body));
      if (status === 200) assert.equal(response.body.result.id, expected);
      else assert.equal(response.body.code, expected);
    });
  }

  it("follows at most five hops and never fetches an off-TikTok target", () => {
    assert.equal(
      stack.fake.count((request) => request.path.startsWith("/ZMloop001")),
      5,
    );
    assert.ok(stack.fetched.includes("https://vt.tiktok.com/ZMevil001/"));
    assert.equal(stack.fetched.filter((url) => new URL(url).hostname.includes("evil")).length, 0);
  });

  it("resolves a short link once, then from the store", async () => {
    const before = stack.fake.count((request) => request.path.startsWith("/ZMriver01"));
    const response = await download(stack.app, { url: "https://vm.tiktok.com/ZMriver01/" });
    assert.equal(response.body.result.cached, true);
    assert.equal(
      stack.fake.count((request) => request.path.startsWith("/ZMriver01")),
      before,
    );
  });
});
