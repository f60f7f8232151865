import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createApp } from "../src/http/app.js";
import { ConfigError, loadConfig } from "../src/service/config.js";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import { type Stack, scriptedSource, startStack, videoFrom } from "./helpers.js";

const URL_ = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;

async function limitedStack(env: Record<string, string>) {
  const alpha = scriptedSource("alpha", videoFrom("alpha"));
  return startStack({ env: { RATE_LIMIT: "2", ...env }, deps: { sources: [alpha.descriptor] } });
}

/** Three requests from one socket address, each claiming another client in its headers. */
async function viaProxy(stack: Stack, remoteAddress: string, headers: (i: number) => Record<string, string>) {
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const response = await stack.app.inject({
      method: "GET",
      url: "/api/download",
      query: { url: URL_ },
      remoteAddress,
      headers: headers(i),
    });
    statuses.push(response.statusCode);
  }
  return statuses;
}

describe("rate limiting on /api/download", () => {
  it("counts an IPv6 client by its /64 and an IPv4-mapped one as its IPv4 address", async () => {
    const stack = await limitedStack({});
    try {
      const status = async (remoteAddress: string) =>
        (await stack.app.inject({ method: "GET", url: "/api/download", query: { url: URL_ }, remoteAddress }))
          .statusCode;
      // Three addresses of one /64, written three ways: one budget of two.
      assert.equal(await status("2001:db8:1:2::1"), 200);
      assert.equal(await status("2001:0db8:0001:0002:ffff:0:0:9"), 200);
      assert.equal(await status("2001:DB8:1:2:aaaa::"), 429);
      // The next /64 is another client.
      assert.equal(await status("2001:db8:1:3::1"), 200);
      assert.equal(await status("198.51.100.4"), 200);
      assert.equal(await status("::ffff:198.51.100.4"), 200);
      assert.equal(await status("198.51.100.4"), 429);
    } finally {
      await stack.close();
    }
  });

  it("answers 429 with Retry-After and the JSON error shape past RATE_LIMIT a minute", async () => {
    const stack = await limitedStack({});
    try {
      const hit = (remoteAddress = "203.0.113.7") =>
        stack.app.inject({ method: "GET", url: "/api/download", query: { url: URL_ }, remoteAddress });
      const first = await hit();
      assert.equal(first.statusCode, 200);
      assert.equal(first.headers["x-ratelimit-limit"], "2");
      assert.equal(first.headers["x-ratelimit-remaining"], "1");
      const resetS = Number(first.headers["x-ratelimit-reset"]);
      assert.ok(resetS > 0 && resetS <= 60, `x-ratelimit-reset ${resetS}`);
      assert.equal(first.headers["retry-after"], undefined);
      assert.equal((await hit()).headers["x-ratelimit-remaining"], "0");
      const limited = await hit();
      assert.equal(limited.statusCode, 429);
      assert.ok(Number(limited.headers["retry-after"]) > 0);
      assert.equal(limited.headers["x-ratelimit-remaining"], "0");
      assert.equal(limited.json().code, "RATE_LIMITED");
      assert.match(limited.json().error, /at most 2 a minute/);
      // Another client is not affected; nor are the other endpoints.
      assert.equal((await hit("203.0.113.8")).statusCode, 200);
      const providers = await stack.app.inject({ url: "/api/providers", remoteAddress: "203.0.113.7" });
      assert.equal(providers.statusCode, 200);
      // Bad requests count too: a flood of garbage is limited like anything else.
      const post = await stack.app.inject({
        method: "POST",
        url: "/api/download",
        payload: {},
        remoteAddress: "203.0.113.7",
      });
      assert.equal(post.statusCode, 429);
    } finally {
      await stack.close();
    }
  });

  it("ignores X-Forwarded-For and X-Real-IP unless TRUST_PROXY says so", async () => {
    const stack = await limitedStack({});
    try {
      const statuses = await viaProxy(stack, "198.51.100.1", (i) => ({
        "x-forwarded-for": `192.0.2.${i}`,
        "x-real-ip": `192.0.2.${i}`,
      }));
      assert.deepEqual(statuses, [200, 200, 429]);
      // A client without any proxy header is served (the original refused it).
      const plain = await stack.app.inject({
        method: "GET",
        url: "/api/download",
        query: { url: URL_ },
        remoteAddress: "198.51.100.2",
      });
      assert.equal(plain.statusCode, 200);
    } finally {
      await stack.close();
    }
  });

  it("with TRUST_PROXY, counts the client named by the trusted proxy", async () => {
    const stack = await limitedStack({ TRUST_PROXY: "127.0.0.1" });
    try {
      const statuses = await viaProxy(stack, "127.0.0.1", (i) => ({ "x-forwarded-for": `192.0.2.${i}` }));
      assert.deepEqual(statuses, [200, 200, 200]);
    } finally {
      await stack.close();
    }
  });

  it("RATE_LIMIT=0 turns it off", async () => {
    const stack = await limitedStack({ RATE_LIMIT: "0" });
    try {
      for (let i = 0; i < 5; i++) {
        const response = await stack.app.inject({
          method: "GET",
          url: "/api/download",
          query: { url: URL_ },
        });
        assert.equal(response.statusCode, 200);
      }
    } finally {
      await stack.close();
    }
  });
});

describe("configuration", () => {
  it("has the documented defaults", () => {
    const config = loadConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.cacheTtlSeconds, 3600);
    assert.equal(config.maxAttempts, 3);
    assert.equal(config.rateLimit, 60);
    assert.equal(config.trustProxy, false);
    assert.equal(config.redisUrl, undefined);
    assert.deepEqual(config.upstreams, {});
  });

  it("reads overrides, proxies and upstream origins", () => {
    const config = loadConfig({
      PORT: "8080",
      TRUST_PROXY: "2",
      UPSTREAM_TIKTOK: "http://127.0.0.1:9000/mirror",
      UPSTREAM_TIMEOUT_MS: "5000",
      REDIS_URL: "redis://127.0.0.1:6379/3",
    });
    assert.equal(config.port, 8080);
    assert.equal(config.trustProxy, 2);
    assert.equal(config.upstreamTimeoutMs, 5000);
    assert.deepEqual(config.upstreams, { tiktok: "http://127.0.0.1:9000/mirror" });
    assert.deepEqual(loadConfig({ TRUST_PROXY: "10.0.0.0/8, 127.0.0.1" }).trustProxy, [
      "10.0.0.0/8",
      "127.0.0.1",
    ]);
  });

  it("names every bad variable in one clear message", () => {
    assert.throws(
      () =>
        loadConfig({
          PORT: "http",
          MAX_ATTEMPTS: "0",
          RATE_LIMIT: "-1",
          UPSTREAM_TIKTOK: "ftp://x",
          REDIS_URL: "localhost",
        }),
      (error: unknown) =>
        error instanceof ConfigError &&
        ["PORT", "MAX_ATTEMPTS", "RATE_LIMIT", "UPSTREAM_TIKTOK", "REDIS_URL"].every((name) =>
          error.message.includes(name),
        ),
    );
  });

  it("refuses an override for an upstream it does not know", async () => {
    await assert.rejects(
      createApp(loadConfig({ UPSTREAM_NOPE: "http://127.0.0.1:1" }), { logger: false }),
      (error: unknown) => error instanceof ConfigError && /UPSTREAM_NOPE/.test(error.message),
    );
  });
});

describe("the tunnel's own rate limit, and the API docs", () => {
  it("counts tunnel requests apart from /api/download", async () => {
    const stack = await startStack({
      fake: { waf: false },
      env: { RATE_LIMIT: "5", STREAM_RATE_LIMIT: "1", STREAM_SECRET: "rate-limit-test-secret-0123456789" },
    });
    try {
      const answer = await stack.app.inject({ url: "/api/download", query: { url: URL_ } });
      const stream = answer.json().result.stream as { video: string; music: string };
      assert.equal((await stack.app.inject({ url: stream.music })).statusCode, 200);
      const limited = await stack.app.inject({ url: stream.video });
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.json().code, "RATE_LIMITED");
      assert.equal((await stack.app.inject({ url: "/api/download", query: { url: URL_ } })).statusCode, 200);
    } finally {
      await stack.close();
    }
  });

  it("serves the OpenAPI document built from the route schemas, and the docs page", async () => {
    const stack = await startStack();
    try {
      const document = (await stack.app.inject({ url: "/openapi.json" })).json() as {
        openapi: string;
        paths: Record<string, Record<string, { parameters?: { name: string }[]; requestBody?: unknown }>>;
      };
      assert.match(document.openapi, /^3\./);
      const download = document.paths["/api/download"];
      assert.deepEqual(
        download?.get?.parameters?.map((parameter) => parameter.name),
        // The query's fields, then the optional API key header (issue: public instances).
        ["url", "type", "nocache", "rotateOnError", "authorization"],
      );
      assert.ok(download?.post?.requestBody);
      assert.ok(document.paths["/api/stream/{token}"]?.get);
      assert.ok(document.paths["/api/providers"]);
      const docs = await stack.app.inject({ url: "/docs" });
      assert.equal(docs.statusCode, 200);
      assert.match(docs.body, /<html/i);
    } finally {
      await stack.close();
    }
  });
});
