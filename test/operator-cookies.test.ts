import assert from "node:assert/strict";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseCookiesTxt } from "../src/domain/cookies-txt.js";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import { download, startStack } from "./helpers.js";

const VIDEO = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;
const file = (sessionId: string) =>
  [
    "# Netscape HTTP Cookie File",
    "# This is a generated file! Do not edit.",
    "",
    `.tiktok.com\tTRUE\t/\tTRUE\t0\tsessionid\t${sessionId}`,
    `#HttpOnly_.tiktok.com\tTRUE\t/\tTRUE\t4102444800\tsid_tt\tsid-${sessionId}`,
    ".tiktok.com\tTRUE\t/\tTRUE\t1000000000\texpired\tgone",
    ".youtube.com\tTRUE\t/\tTRUE\t0\tSID\tnot-for-tiktok",
    "not a cookie line",
  ].join("\n");

describe("operator cookies (TIKTOK_COOKIES)", () => {
  it("reads a Netscape cookies.txt: HttpOnly lines, comments and malformed lines", () => {
    const cookies = parseCookiesTxt(file("abc"));
    assert.deepEqual(
      cookies.map((cookie) => `${cookie.domain} ${cookie.name}=${cookie.value}`),
      [
        ".tiktok.com sessionid=abc",
        ".tiktok.com sid_tt=sid-abc",
        ".tiktok.com expired=gone",
        ".youtube.com SID=not-for-tiktok",
      ],
    );
  });

  it("sends the file's live .tiktok.com cookies with page requests, follows its changes, and never shows them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tiktok-dl-cookies-"));
    const path = join(dir, "cookies.txt");
    await writeFile(path, file("first-secret"));
    let clock = 0;
    const stack = await startStack({
      fake: { waf: false },
      env: { TIKTOK_COOKIES: path, ALLOW_PRIVATE_UPSTREAMS: "1" },
      deps: { now: () => Date.now() + clock },
    });
    try {
      const pageCookies = () =>
        String(
          stack.fake.requests.filter((request) => request.path.includes(SAMPLE_IDS.video)).at(-1)?.headers
            .cookie,
        );
      const first = await download(stack.app, { url: VIDEO, nocache: "1" });
      assert.equal(first.status, 200);
      assert.match(pageCookies(), /sessionid=first-secret/);
      assert.match(pageCookies(), /sid_tt=sid-first-secret/);
      assert.doesNotMatch(pageCookies(), /expired=|not-for-tiktok/);
      assert.doesNotMatch(JSON.stringify(first.body), /secret/);

      await writeFile(path, file("second-secret"));
      await utimes(path, new Date(), new Date(Date.now() + 5_000));
      clock += 2_000;
      const second = await download(stack.app, { url: VIDEO, nocache: "1" });
      assert.equal(second.status, 200);
      assert.match(pageCookies(), /sessionid=second-secret/);
      const file404 = await stack.app.inject({ url: `${second.body.result.stream.video}x` });
      assert.doesNotMatch(file404.body, /secret/);
    } finally {
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
