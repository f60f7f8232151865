import assert from "node:assert/strict";
import { type ClientRequest, get } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { SAMPLE_IDS, SCENARIO_IDS } from "./fakes/tiktok.js";
import { delay, download, startStack } from "./helpers.js";

const link = (id: string) => `https://www.tiktok.com/@river.cooks/video/${id}`;

describe("tunnel fairness", () => {
  it("one client runs at most STREAM_MAX_PER_CLIENT tunnels: 429 with Retry-After beyond", async () => {
    const stack = await startStack({
      fake: { waf: false },
      env: { ALLOW_PRIVATE_UPSTREAMS: "1", STREAM_MAX_PER_CLIENT: "2", STREAM_MAX_CONCURRENT: "10" },
    });
    const held: ClientRequest[] = [];
    try {
      await stack.app.listen({ port: 0, host: "127.0.0.1" });
      const base = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
      const { body } = await download(stack.app, { url: link(SCENARIO_IDS.large) });
      for (let i = 0; i < 2; i++) {
        const status = await new Promise<number>((resolve) => {
          held.push(
            get(`${base}${body.result.stream.video}`, (response) => resolve(response.statusCode ?? 0)),
          );
        });
        assert.equal(status, 200);
      }
      const over = await fetch(`${base}${body.result.stream.video}`);
      assert.equal(over.status, 429);
      assert.equal(over.headers.get("retry-after"), "5");
      assert.equal(((await over.json()) as { code: string }).code, "RATE_LIMITED");
      for (const request of held) request.destroy();
      await delay(200);
      const again = await fetch(`${base}${body.result.stream.music}`);
      assert.equal(again.status, 200);
      await again.arrayBuffer();
    } finally {
      for (const request of held) request.destroy();
      await stack.close();
    }
  });

  it("stale links re-extract a post once, for everyone at once, and not again within a minute", async () => {
    const stack = await startStack({
      fake: { waf: false },
      env: { ALLOW_PRIVATE_UPSTREAMS: "1", STREAM_MAX_PER_CLIENT: "20" },
    });
    try {
      const { body } = await download(stack.app, { url: link(SAMPLE_IDS.video) });
      const pages = stack.fake.pageRequests(SAMPLE_IDS.video);
      stack.fake.revokeSessions();
      const files = await Promise.all(
        Array.from({ length: 10 }, () => stack.app.inject({ url: body.result.stream.music })),
      );
      assert.deepEqual(
        files.map((file) => file.statusCode),
        Array(10).fill(200),
      );
      assert.equal(stack.fake.pageRequests(SAMPLE_IDS.video), pages + 1);
      stack.fake.revokeSessions();
      const refused = await stack.app.inject({ url: body.result.stream.music });
      assert.equal(refused.statusCode, 502);
      assert.equal(
        stack.fake.pageRequests(SAMPLE_IDS.video),
        pages + 1,
        "no second extraction within a minute",
      );
    } finally {
      await stack.close();
    }
  });
});

describe("stale links and the download budget", () => {
  it("an extraction made for a tunnel link is charged to the client's download limit", async () => {
    const stack = await startStack({
      fake: { waf: false },
      env: { ALLOW_PRIVATE_UPSTREAMS: "1", RATE_LIMIT: "2" },
    });
    try {
      const video = await download(stack.app, { url: link(SAMPLE_IDS.video) });
      const photo = await download(stack.app, {
        url: `https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}`,
      });
      assert.equal(photo.status, 200);
      // A link whose file still answers is no download: the budget is not touched.
      const served = await stack.app.inject({ url: video.body.result.stream.music });
      assert.equal(served.statusCode, 200);
      const pages = stack.fake.pageRequests(SAMPLE_IDS.video);
      stack.fake.revokeSessions();
      const refused = await stack.app.inject({ url: video.body.result.stream.music });
      assert.equal(refused.statusCode, 429, refused.body);
      assert.equal(refused.json().code, "RATE_LIMITED");
      assert.ok(Number(refused.headers["retry-after"]) > 0);
      assert.equal(stack.fake.pageRequests(SAMPLE_IDS.video), pages, "no extraction past the budget");
    } finally {
      await stack.close();
    }
  });
});
