import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import { download, type Stack, startStack, videoSourceAt } from "./helpers.js";

const VIDEO = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;

describe("the WAF challenge, per request", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ fake: { waf: true }, env: { ALLOW_PRIVATE_UPSTREAMS: "1" } });
  });
  after(() => stack.close());

  it("solves, for each extraction, the challenge it met, even when several meet different ones at once", async () => {
    const answers = await Promise.all(
      [SAMPLE_IDS.video, SAMPLE_IDS.photo, SAMPLE_IDS.video].map((id, n) =>
        download(stack.app, {
          url: `https://www.tiktok.com/@x/video/${id}`,
          nocache: "1",
          type: n === 2 ? "native" : "",
        }),
      ),
    );
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [200, 200, 200],
    );
  });

  it("deletes the challenge cookies after the retry: media requests never carry them", async () => {
    const { body } = await download(stack.app, { url: VIDEO, nocache: "1" });
    const file = await stack.app.inject({ url: body.result.stream.video });
    assert.equal(file.statusCode, 200);
    const media = stack.fake.requests.filter((request) => request.path.startsWith("/video/tos/"));
    const cookie = String(media.at(-1)?.headers.cookie ?? "");
    assert.match(cookie, /tt_chain_token=/);
    assert.doesNotMatch(cookie, /_wafchallengeid|waforiginalreid/);
  });
});

describe("the page's cookies go to TikTok's hosts only", () => {
  let elsewhere: { url: string; seen: IncomingHttpHeaders[]; close(): Promise<void> };
  before(async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((request, response) => {
      seen.push(request.headers);
      response.writeHead(200, { "content-type": "video/mp4", "content-length": "4" }).end("mp4!");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    elsewhere = {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.mp4`,
      seen,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  });
  after(() => elsewhere.close());

  it("a media redirect off TikTok is followed without the session cookie", async () => {
    const offsite = videoSourceAt(
      "offsite",
      `https://v16-webapp-prime.tiktok.com/video/tos/offsite/x/?to=${encodeURIComponent(elsewhere.url)}`,
      {
        headers: { referer: "https://www.tiktok.com/" },
        cookie: { value: "tt_chain_token=secret-session", domains: ["tiktok.com"] },
      },
    );
    const stack = await startStack({ env: { ALLOW_PRIVATE_UPSTREAMS: "1" }, deps: { sources: [offsite] } });
    try {
      const { body } = await download(stack.app, { url: VIDEO });
      const file = await stack.app.inject({ url: body.result.stream.video });
      assert.equal(file.statusCode, 200, file.body);
      const first = stack.fake.requests.find((request) => request.path.startsWith("/video/tos/offsite/"));
      assert.equal(first?.headers.cookie, "tt_chain_token=secret-session");
      assert.equal(elsewhere.seen.length, 1);
      assert.equal(elsewhere.seen[0]?.cookie, undefined);
    } finally {
      await stack.close();
    }
  });
});
