import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { CookieJar } from "tough-cookie";
import { SourceFailure } from "../src/domain/errors.js";
import { PLATFORMS } from "../src/domain/platforms.js";
import { createHttpClient } from "../src/net/http-client.js";
import { createUpstreamMap } from "../src/net/upstreams.js";

const isFailure = (reason: string) => (error: unknown) =>
  error instanceof SourceFailure && error.reason === reason;

describe("the upstream HTTP client", () => {
  let server: Server;
  let origin: string;
  const seen: IncomingMessage[] = [];

  before(async () => {
    server = createServer((request, response) => {
      seen.push(request);
      const path = request.url ?? "/";
      if (path === "/redirect-tiktok") {
        response.writeHead(302, { location: "https://m.tiktok.com/landing?x=1" });
        return response.end();
      }
      if (path === "/redirect-away") {
        response.writeHead(302, { location: "https://evil.test/" });
        return response.end();
      }
      if (path === "/big") {
        response.writeHead(200, { "content-length": String(2 * 1024 * 1024) });
        return response.end(Buffer.alloc(2 * 1024 * 1024));
      }
      if (path === "/big-chunked") {
        response.writeHead(200);
        for (let i = 0; i < 40; i++) response.write(Buffer.alloc(64 * 1024));
        return response.end();
      }
      if (path === "/slow") {
        setTimeout(() => response.end("late"), 1500);
        return;
      }
      if (path === "/gzip") {
        response.writeHead(200, { "content-encoding": "gzip" });
        return response.end(gzipSync("hello, compressed"));
      }
      if (path === "/set-cookie") {
        response.writeHead(200, {
          "set-cookie": "tt_chain_token=abc; Domain=.tiktok.com; Path=/; Secure; HttpOnly",
        });
        return response.end("ok");
      }
      response.end(`path=${path} cookie=${request.headers.cookie ?? ""}`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = (
    options: { allowPrivate?: boolean; overrides?: Record<string, string>; maxBytes?: number } = {},
  ) =>
    createHttpClient({
      upstreams: createUpstreamMap(options.overrides ?? { tiktok: origin }, PLATFORMS),
      timeoutMs: 500,
      maxBytes: options.maxBytes ?? 1024 * 1024,
      allowPrivate: options.allowPrivate ?? false,
    });

  it("refuses private and loopback targets that are not configured upstreams", async () => {
    const http = client({ overrides: {} });
    const before = seen.length;
    await assert.rejects(http.request({ url: `${origin}/x` }), isFailure("refused_target"));
    await assert.rejects(
      http.request({ url: origin.replace("127.0.0.1", "localhost") }),
      isFailure("refused_target"),
    );
    await assert.rejects(http.request({ url: "http://[::1]:9/" }), isFailure("refused_target"));
    await assert.rejects(
      http.request({ url: "http://169.254.169.254/latest/meta-data/" }),
      isFailure("refused_target"),
    );
    assert.equal(seen.length, before);
    await http.close();
  });

  it("sends TikTok addresses to the configured origin, path and query kept, redirects mapped too", async () => {
    const http = client();
    const page = await http.request({ url: "https://www.tiktok.com/@a/video/1?lang=en" });
    assert.equal(page.text(), "path=/@a/video/1?lang=en cookie=");
    const followed = await http.request({
      url: "https://vm.tiktok.com/redirect-tiktok",
      redirects: { max: 2, allow: (target) => target.hostname.endsWith("tiktok.com") },
    });
    assert.equal(followed.url.href, "https://m.tiktok.com/landing?x=1");
    assert.equal(followed.text(), "path=/landing?x=1 cookie=");
    const refused = await http.request({
      url: "https://vm.tiktok.com/redirect-away",
      redirects: { max: 2, allow: (target) => target.hostname.endsWith("tiktok.com") },
    });
    assert.equal(refused.status, 302);
    await http.close();
  });

  it("keeps cookies against the real TikTok address, across its subdomains", async () => {
    const http = client();
    const jar = new CookieJar();
    await http.request({ url: "https://www.tiktok.com/set-cookie", jar });
    const next = await http.request({ url: "https://v16-webapp-prime.us.tiktok.com/echo", jar });
    assert.equal(next.text(), "path=/echo cookie=tt_chain_token=abc");
    await http.close();
  });

  it("caps the answer size, declared or streamed", async () => {
    const http = client();
    await assert.rejects(http.request({ url: "https://www.tiktok.com/big" }), isFailure("too_large"));
    await assert.rejects(http.request({ url: "https://www.tiktok.com/big-chunked" }), isFailure("too_large"));
    await http.close();
  });

  it("gives up after its timeout", async () => {
    const http = client();
    await assert.rejects(http.request({ url: "https://www.tiktok.com/slow" }), isFailure("timeout"));
    await http.close();
  });

  it("decompresses gzip answers", async () => {
    const http = client();
    assert.equal((await http.request({ url: "https://www.tiktok.com/gzip" })).text(), "hello, compressed");
    await http.close();
  });
});
