import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError, SourceFailure } from "../src/domain/errors.js";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import {
  delay,
  download,
  failing,
  json,
  type ScriptedSource,
  scriptedSource,
  startStack,
  videoFrom,
} from "./helpers.js";

const URL_ = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;
const OTHER = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.photo}`;

async function withSources(sources: ScriptedSource[], env: Record<string, string> = {}) {
  return startStack({
    env,
    deps: { sources: sources.map((source) => source.descriptor), random: () => 0.5 },
  });
}

describe("POST /api/download", () => {
  it("takes a JSON body with real booleans and params", async () => {
    const alpha = scriptedSource("alpha", videoFrom("alpha"), {
      params: [{ name: "hd", type: "boolean", required: false }],
    });
    const stack = await withSources([alpha]);
    try {
      const response = await stack.app.inject({
        method: "POST",
        url: "/api/download",
        payload: { url: URL_, type: "alpha", nocache: true, rotateOnError: false, params: { hd: true } },
      });
      assert.equal(response.statusCode, 200);
      assert.equal(json(response).result.provider, "alpha");
      const wrongParam = await stack.app.inject({
        method: "POST",
        url: "/api/download",
        payload: { url: URL_, type: "alpha", params: { hd: "yes" } },
      });
      assert.equal(wrongParam.statusCode, 400);
      assert.match(json(wrongParam).error, /params\.hd/);
    } finally {
      await stack.close();
    }
  });

  it("takes a urlencoded form with the same fields", async () => {
    const alpha = scriptedSource("alpha", videoFrom("alpha"));
    const stack = await withSources([alpha]);
    try {
      const response = await stack.app.inject({
        method: "POST",
        url: "/api/download",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: new URLSearchParams({
          url: URL_,
          type: "alpha",
          nocache: "yes",
          rotateOnError: "no",
        }).toString(),
      });
      assert.equal(response.statusCode, 200);
      assert.equal(json(response).result.id, SAMPLE_IDS.video);
      assert.equal(json(response).result.cached, false);
    } finally {
      await stack.close();
    }
  });

  it("refuses bodies over 16 KiB (413), other media types (415) and broken JSON (400)", async () => {
    const alpha = scriptedSource("alpha", videoFrom("alpha"));
    const stack = await withSources([alpha]);
    try {
      const big = await stack.app.inject({
        method: "POST",
        url: "/api/download",
        payload: { url: URL_, padding: "x".repeat(17 * 1024) },
      });
      assert.equal(big.statusCode, 413);
      assert.equal(json(big).code, "BODY_TOO_LARGE");
      const justUnder = await stack.app.inject({
        method: "POST",
        url: "/api/download",
        payload: JSON.stringify({ url: URL_, type: "alpha" }).padEnd(16 * 1024 - 10, " "),
        headers: { "content-type": "application/json" },
      });
      assert.equal(justUnder.statusCode, 200);
      const text = await stack.app.inject({
        method: "POST",
        url: "/api/download",
        headers: { "content-type": "text/plain" },
        payload: URL_,
      });
      assert.equal(text.statusCode, 415);
      assert.equal(json(text).code, "UNSUPPORTED_MEDIA_TYPE");
      const broken = await stack.app.inject({
        method: "POST",
        url: "/api/download",
        headers: { "content-type": "application/json" },
        payload: '{"url": ',
      });
      assert.equal(broken.statusCode, 400);
      assert.equal(json(broken).code, "INVALID_JSON");
      assert.equal(alpha.calls, 1);
    } finally {
      await stack.close();
    }
  });
});

describe("type and rotateOnError", () => {
  it("uses the named source first and answers from another when it fails (rotateOnError defaults to true)", async () => {
    const alpha = scriptedSource("alpha", failing("timeout"));
    const beta = scriptedSource("beta", videoFrom("beta"));
    const stack = await withSources([alpha, beta]);
    try {
      const response = await download(stack.app, { url: URL_, type: "alpha" });
      assert.equal(response.status, 200);
      assert.equal(response.body.result.provider, "beta");
      assert.equal(alpha.calls, 1);
      assert.equal(beta.calls, 1);
    } finally {
      await stack.close();
    }
  });

  it("with rotateOnError=false, only the named source is tried and its failure is the answer", async () => {
    const alpha = scriptedSource("alpha", failing("http_status"));
    const beta = scriptedSource("beta", videoFrom("beta"));
    const stack = await withSources([alpha, beta]);
    try {
      const response = await download(stack.app, { url: URL_, type: "alpha", rotateOnError: "false" });
      assert.equal(response.status, 502);
      assert.equal(response.body.code, "ALL_SOURCES_FAILED");
      assert.match(response.body.error, /alpha \(http_status: scripted http_status\)/);
      assert.doesNotMatch(response.body.error, /beta/);
      assert.equal(beta.calls, 0);
    } finally {
      await stack.close();
    }
  });

  it("a named source's answer is always that source's, even when another's is cached", async () => {
    const alpha = scriptedSource("alpha", videoFrom("alpha"));
    const beta = scriptedSource("beta", videoFrom("beta"));
    const stack = await withSources([alpha, beta]);
    try {
      assert.equal((await download(stack.app, { url: URL_, type: "alpha" })).body.result.provider, "alpha");
      const named = await download(stack.app, { url: URL_, type: "beta" });
      assert.equal(named.body.result.provider, "beta");
      assert.equal(named.body.result.cached, false);
      assert.match(named.body.result.urls[0], /cdn\.beta\.example/);
      const again = await download(stack.app, { url: URL_, type: "beta" });
      assert.equal(again.body.result.cached, true);
      assert.equal(again.body.result.provider, "beta");
      const random = await download(stack.app, { url: URL_ });
      assert.equal(random.body.result.cached, true);
    } finally {
      await stack.close();
    }
  });

  it("never tries a source twice and skips sources in maintenance", async () => {
    const sources = ["a", "b", "c", "d"].map((name) => scriptedSource(name, failing("network")));
    const resting = scriptedSource("resting", videoFrom("resting"), {
      maintenance: { reason: "site redesign" },
    });
    const stack = await withSources([resting, ...sources], { MAX_ATTEMPTS: "3" });
    try {
      const response = await download(stack.app, { url: URL_ });
      assert.equal(response.status, 502);
      assert.equal(resting.calls, 0);
      // Failures that cost nothing (here: at once) do not use up MAX_ATTEMPTS, but no source is asked
      // twice; slow failures stopping at MAX_ATTEMPTS are tested in sources-choice.test.ts.
      assert.deepEqual(sources.map((source) => source.calls).sort(), [1, 1, 1, 1]);
      const providers = (await stack.app.inject({ url: "/api/providers" })).json() as {
        name: string;
        maintenance?: object;
      }[];
      assert.deepEqual(providers[0]?.maintenance, { reason: "site redesign" });
      const named = await download(stack.app, { url: URL_, type: "resting", rotateOnError: "0" });
      assert.equal(named.status, 502);
      assert.match(named.body.error, /resting \(maintenance: site redesign\)/);
    } finally {
      await stack.close();
    }
  });

  it("stops rotating on TikTok's verdict and remembers it briefly", async () => {
    let verdicts = 0;
    const alpha = scriptedSource("alpha", () => {
      verdicts++;
      throw new ApiError(404, "NOT_FOUND", "TikTok says this post does not exist.", true);
    });
    const beta = scriptedSource("beta", videoFrom("beta"));
    const stack = await withSources([alpha, beta]);
    try {
      assert.equal((await download(stack.app, { url: URL_, type: "alpha" })).status, 404);
      assert.equal((await download(stack.app, { url: URL_, type: "beta" })).status, 404);
      assert.equal(beta.calls, 0);
      assert.equal(verdicts, 1);
      const fresh = await download(stack.app, { url: URL_, type: "beta", nocache: "1" });
      assert.equal(fresh.status, 200);
    } finally {
      await stack.close();
    }
  });

  it("answers REGION_BLOCKED only when a source saw a region block and none answered", async () => {
    const alpha = scriptedSource("alpha", failing("region_blocked"));
    const beta = scriptedSource("beta", failing("timeout"));
    const stack = await withSources([alpha, beta]);
    try {
      const response = await download(stack.app, { url: URL_ });
      assert.equal(response.status, 403);
      assert.equal(response.body.code, "REGION_BLOCKED");
    } finally {
      await stack.close();
    }
  });

  it("treats a source that throws an unexpected error, or answers for another post, as a failure", async () => {
    const buggy = scriptedSource("buggy", () => {
      throw new TypeError("Cannot read properties of undefined (reading 'x')");
    });
    const confused = scriptedSource("confused", (input) =>
      videoFrom("confused")({ ...input, id: SAMPLE_IDS.photo }),
    );
    const empty = scriptedSource("empty", (input) => ({
      id: input.id,
      type: "video",
      video: { noWatermark: "ftp://x/y" },
    }));
    const logged: string[] = [];
    const stack = await startStack({
      deps: {
        sources: [buggy, confused, empty].map((source) => source.descriptor),
        random: () => 0.5,
        logger: { level: "error" },
        logStream: { write: (line: string) => logged.push(line) },
      },
    });
    try {
      const response = await download(stack.app, { url: URL_ });
      assert.equal(response.status, 502);
      assert.match(response.body.error, /buggy \(bug: /);
      // Our bug, not the site's: logged with its stack, and counted apart in /metrics.
      const bug = logged.map((line) => JSON.parse(line)).find((entry) => entry.msg === "bug in a source");
      assert.equal(bug?.source, "buggy");
      assert.match(bug?.err?.stack ?? "", /TypeError: Cannot read properties/);
      const metrics = (await stack.app.inject({ url: "/metrics" })).body;
      assert.match(metrics, /tiktokdl_source_attempts_total\{source="buggy",outcome="bug"\} 1/);
      assert.match(metrics, /tiktokdl_source_attempts_total\{source="confused",outcome="invalid_result"\} 1/);
      assert.match(response.body.error, /confused \(invalid_result/);
      assert.match(response.body.error, /empty \(invalid_result/);
      assert.doesNotMatch(JSON.stringify(response.body), /at .*\.ts:\d+/);
    } finally {
      await stack.close();
    }
  });

  it("lists the valid names when type is unknown", async () => {
    const stack = await withSources([
      scriptedSource("alpha", videoFrom("alpha")),
      scriptedSource("beta", videoFrom("beta")),
    ]);
    try {
      const response = await download(stack.app, { url: URL_, type: "gamma" });
      assert.equal(response.status, 400);
      assert.equal(response.body.code, "INVALID_TYPE");
      assert.match(response.body.error, /"random" or one of: alpha, beta/);
    } finally {
      await stack.close();
    }
  });
});

describe("one upstream extraction per post", () => {
  it("shares one extraction among concurrent requests for the same post", async () => {
    const slow = scriptedSource("slow", async (input) => {
      await delay(150);
      return videoFrom("slow")(input);
    });
    const stack = await withSources([slow]);
    try {
      const forms = [URL_, `https://m.tiktok.com/v/${SAMPLE_IDS.video}.html`, `${URL_}?lang=en`];
      const responses = await Promise.all(
        Array.from({ length: 24 }, (_, i) => download(stack.app, { url: forms[i % forms.length] as string })),
      );
      assert.ok(responses.every((response) => response.status === 200));
      assert.equal(slow.calls, 1);
      const other = await download(stack.app, { url: OTHER });
      assert.equal(other.status, 200);
      assert.equal(slow.calls, 2);
    } finally {
      await stack.close();
    }
  });

  it("shares one TikTok page request among concurrent requests (native)", async () => {
    const stack = await startStack({ fake: { waf: false } });
    try {
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => download(stack.app, { url: URL_ })),
      );
      assert.ok(responses.every((response) => response.status === 200));
      assert.equal(stack.fake.pageRequests(SAMPLE_IDS.video), 1);
    } finally {
      await stack.close();
    }
  });

  it("shares one failure too, and does not cache it", async () => {
    const flaky = scriptedSource("flaky", async (input, call) => {
      await delay(100);
      if (call === 1) throw new SourceFailure("timeout", "slow");
      return videoFrom("flaky")(input);
    });
    const stack = await withSources([flaky]);
    try {
      const responses = await Promise.all(
        Array.from({ length: 5 }, () => download(stack.app, { url: URL_ })),
      );
      assert.ok(responses.every((response) => response.status === 502));
      assert.equal(flaky.calls, 1);
      assert.equal((await download(stack.app, { url: URL_ })).status, 200);
    } finally {
      await stack.close();
    }
  });
});

describe("the rest of the API", () => {
  it("answers /api, /api/ping, /api/health and unknown routes in JSON", async () => {
    const stack = await withSources([scriptedSource("alpha", videoFrom("alpha"))]);
    try {
      const index = await stack.app.inject({ url: "/api" });
      assert.ok(
        (json(index).endpoints as { path: string }[]).some(
          (endpoint) => endpoint.path === "/api/stored-links",
        ),
      );
      assert.deepEqual(json(await stack.app.inject({ url: "/api/ping" })), { ok: true });
      const health = await stack.app.inject({ url: "/api/health" });
      assert.equal(health.statusCode, 200);
      assert.equal(json(health).store.kind, "memory");
      const missing = await stack.app.inject({ url: "/nope/<script>" });
      assert.equal(missing.statusCode, 404);
      assert.equal(json(missing).code, "ROUTE_NOT_FOUND");
      assert.match(missing.headers["content-type"] as string, /application\/json/);
      const wrongMethod = await stack.app.inject({ method: "DELETE", url: "/api/download" });
      assert.equal(wrongMethod.statusCode, 404);
      assert.equal(json(wrongMethod).code, "ROUTE_NOT_FOUND");
    } finally {
      await stack.close();
    }
  });
});
