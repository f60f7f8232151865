import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { createProxy } from "proxy";
import { ConfigError, loadConfig } from "../src/service/config.js";
import { createServices } from "../src/service/services.js";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import { download, startStack } from "./helpers.js";

const VIDEO = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;

describe("egress proxies", () => {
  let proxy: { url: string; seen: string[]; close(): Promise<void> };
  before(async () => {
    const seen: string[] = [];
    const server = createProxy(createServer());
    const sockets = new Set<Socket>();
    server.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    // The proxy wants the credentials the operator gave in PROXY_TIKTOK.
    server.authenticate = (request) =>
      request.headers["proxy-authorization"] === `Basic ${Buffer.from("scout:hunter2").toString("base64")}`;
    server.on("request", (request) => seen.push(String(request.url)));
    server.on("connect", (request) => seen.push(`CONNECT ${request.url}`));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = {
      url: `http://scout:hunter2@127.0.0.1:${(server.address() as AddressInfo).port}`,
      seen,
      // Tunnelled sockets outlive the server's own bookkeeping: each is destroyed on close.
      close: () =>
        new Promise((resolve) => {
          server.close(() => resolve());
          for (const socket of sockets) socket.destroy();
        }),
    };
  });
  after(() => proxy.close());

  it("sends TikTok's pages and media through the pool, rests a dead proxy, never shows credentials", async () => {
    const stack = await startStack({
      fake: { waf: false },
      env: {
        PROXY_TIKTOK: `http://127.0.0.1:1,${proxy.url}`,
        ALLOW_PRIVATE_UPSTREAMS: "1",
        PROXY_REST_MS: "60000",
      },
    });
    try {
      const { status, body } = await download(stack.app, { url: VIDEO });
      assert.equal(status, 200, JSON.stringify(body));
      assert.ok(
        proxy.seen.some((line) => line.includes(`/@river.cooks/video/${SAMPLE_IDS.video}`)),
        proxy.seen.join("\n"),
      );

      const before = proxy.seen.length;
      const file = await stack.app.inject({ url: body.result.stream.video });
      assert.equal(file.statusCode, 200, file.body.slice(0, 200));
      // undici tunnels through the proxy (CONNECT to the fake's host), impit sends absolute-form requests.
      const fakeHost = new URL(stack.fake.url).host;
      assert.ok(
        proxy.seen
          .slice(before)
          .some((line) => line.includes("/video/tos/") || line === `CONNECT ${fakeHost}`),
        `the media went the same way: ${proxy.seen.slice(before).join(", ")}`,
      );

      const health = (await stack.app.inject({ url: "/api/health" })).json();
      const port = new URL(proxy.url).port;
      assert.deepEqual(
        health.proxies.map((entry: { proxy: string; state: string }) => [entry.proxy, entry.state]),
        [
          ["http://127.0.0.1:1", "resting"],
          [`http://127.0.0.1:${port}`, "ok"],
        ],
      );
      const metrics = (await stack.app.inject({ url: "/metrics" })).body;
      assert.match(metrics, /tiktokdl_proxy_up\{proxy="http:\/\/127\.0\.0\.1:1",pool="tiktok"\} 0/);
      for (const text of [JSON.stringify(health), metrics, JSON.stringify(body)])
        assert.doesNotMatch(text, /hunter2|scout/);
    } finally {
      await stack.close();
    }
  });

  it("a dead proxy is named (without credentials) in the failure, not only the host it could not reach", async () => {
    const stack = await startStack({
      fake: { waf: false },
      env: { PROXY_TIKTOK: "http://scout:hunter2@127.0.0.1:1", ALLOW_PRIVATE_UPSTREAMS: "1" },
    });
    try {
      const { status, body } = await download(stack.app, { url: VIDEO });
      assert.equal(status, 502);
      assert.match(
        body.error,
        /www\.tiktok\.com could not be reached through the proxy http:\/\/127\.0\.0\.1:1/,
      );
      assert.doesNotMatch(body.error, /hunter2|scout/);
    } finally {
      await stack.close();
    }
  });

  it("refuses a proxy URL of another scheme, and a pool for an unknown upstream, at start", () => {
    const bad: Record<string, string>[] = [
      { PROXY_URL: "ftp://127.0.0.1:21" },
      { PROXY_NOWHERE: "http://127.0.0.1:3128" },
    ];
    for (const env of bad)
      assert.throws(
        () => createServices(loadConfig(env), { logger: false }),
        (error: unknown) => error instanceof ConfigError && /PROXY_/.test(error.message),
      );
  });
});
