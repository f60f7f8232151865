import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { SourceFailure } from "../src/domain/errors.js";
import { PLATFORMS } from "../src/domain/platforms.js";
import { createBrowserClient } from "../src/net/browser-client.js";
import { createHttpClient } from "../src/net/http-client.js";
import { createUpstreamMap } from "../src/net/upstreams.js";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import { download, startStack } from "./helpers.js";

const VIDEO = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;

describe("the browser-like client for TikTok's pages", () => {
  it("sends Chrome's header set, a current Chrome user agent and new junk headers per extraction", async () => {
    const stack = await startStack({ fake: { waf: false } });
    try {
      const pages = () => stack.fake.requests.filter((request) => request.path.includes(SAMPLE_IDS.video));
      await download(stack.app, { url: VIDEO, nocache: "1" });
      await download(stack.app, { url: VIDEO, nocache: "1" });
      const [first, second] = pages().map((request) => request.headers);
      for (const headers of [first, second] as IncomingHttpHeaders[]) {
        assert.match(String(headers["user-agent"]), /Chrome\/14\d\./);
        assert.ok(headers["sec-ch-ua"], "Chrome's client hints");
        assert.equal(headers["sec-fetch-mode"], "navigate");
        const junk = Object.keys(headers).filter((name) => /^[bcdfghjklmnpqrstvwxz]{8,24}$/.test(name));
        assert.ok(junk.length >= 2 && junk.length <= 8, junk.join());
      }
      const junkOf = (headers: IncomingHttpHeaders | undefined) =>
        Object.keys(headers ?? {})
          .filter((name) => /^[bcdfghjklmnpqrstvwxz]{8,24}$/.test(name))
          .sort()
          .join();
      assert.notEqual(junkOf(first), junkOf(second));
    } finally {
      await stack.close();
    }
  });

  it("sends the junk headers with page requests only, not with list API calls (as yt-dlp does)", async () => {
    const stack = await startStack({ fake: { waf: false } });
    try {
      const listed = await stack.app.inject({
        url: "/api/list",
        query: { url: "https://www.tiktok.com/@tiny.list", type: "native" },
      });
      assert.equal(listed.statusCode, 200, listed.body);
      const junkOf = (headers: IncomingHttpHeaders) =>
        Object.keys(headers).filter((name) => /^[bcdfghjklmnpqrstvwxz]{8,24}$/.test(name));
      const page = stack.fake.requests.find((request) => request.path.startsWith("/@tiny.list"));
      const calls = stack.fake.requests.filter((request) =>
        request.path.startsWith("/api/creator/item_list/"),
      );
      assert.ok(page && junkOf(page.headers).length >= 2, "the profile page has them");
      assert.ok(calls.length > 0);
      for (const call of calls) {
        assert.deepEqual(junkOf(call.headers), [], "a list call has none");
        assert.match(String(call.headers.accept), /^application\/json/);
      }
    } finally {
      await stack.close();
    }
  });

  describe("keeps the plain client's guards", () => {
    let server: { url: string; close(): Promise<void> };
    before(async () => {
      const listener = createServer((request, response) => {
        if (request.url === "/redirect")
          response.writeHead(302, { location: "http://127.0.0.1:9/private" }).end();
        else if (request.url === "/large") response.writeHead(200).end("x".repeat(10_000));
        else response.writeHead(200, { "set-cookie": "seen=1; Path=/" }).end("ok");
      });
      await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
      server = {
        url: `http://127.0.0.1:${(listener.address() as AddressInfo).port}`,
        close: () => new Promise((resolve) => listener.close(() => resolve())),
      };
    });
    after(() => server.close());

    const client = (overrides: Record<string, string>, allowPrivate = false) => {
      const upstreams = createUpstreamMap(overrides, PLATFORMS);
      const plain = createHttpClient({ upstreams, timeoutMs: 2000, maxBytes: 1024, allowPrivate });
      return createBrowserClient({
        upstreams,
        timeoutMs: 2000,
        maxBytes: 1024,
        allowPrivate,
        log: pino({ level: "silent" }),
        plain,
      });
    };

    it("refuses a private address unless it is an operator's origin", async () => {
      await assert.rejects(
        client({}).request({ url: `${server.url}/` }),
        (error: unknown) => error instanceof SourceFailure && error.reason === "refused_target",
      );
      const trusted = await client({ tiktok: server.url }).request({ url: "https://www.tiktok.com/" });
      assert.equal(trusted.text(), "ok");
    });

    it("checks every redirect hop, and caps the size", async () => {
      const trusted = client({ tiktok: server.url });
      await assert.rejects(
        trusted.request({ url: "https://www.tiktok.com/redirect", redirects: { max: 3, allow: () => true } }),
        (error: unknown) => error instanceof SourceFailure && error.reason === "refused_target",
      );
      await assert.rejects(
        trusted.request({ url: "https://www.tiktok.com/large" }),
        (error: unknown) => error instanceof SourceFailure && error.reason === "too_large",
      );
    });
  });
});
