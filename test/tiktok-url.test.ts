import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "../src/domain/errors.js";
import {
  canonicalPostUrl,
  isPlausiblePostId,
  isTikTokHost,
  parseTikTokLink,
  postIdTime,
} from "../src/domain/tiktok-url.js";

const NOW = Date.UTC(2026, 10, 25);
const ID = "7558765792041131240";

describe("parseTikTokLink: every form users paste", () => {
  const posts: [string, string, string?][] = [
    [`https://www.tiktok.com/@river.cooks/video/${ID}`, ID, "river.cooks"],
    [
      `https://www.tiktok.com/@river.cooks/video/${ID}?is_from_webapp=1&sender_device=pc&web_id=123`,
      ID,
      "river.cooks",
    ],
    [`https://www.tiktok.com/@river.cooks/video/${ID}/?_r=1&_t=8pXyz#comments`, ID, "river.cooks"],
    [`http://tiktok.com/@river.cooks/video/${ID}`, ID, "river.cooks"],
    [`HTTPS://WWW.TIKTOK.COM/@river.cooks/video/${ID}`, ID, "river.cooks"],
    [`www.tiktok.com/@river.cooks/video/${ID}`, ID, "river.cooks"],
    [`  https://m.tiktok.com/@river.cooks/video/${ID}?lang=en  `, ID, "river.cooks"],
    [`https://www.tiktok.com/@trail.notes/photo/7554852699390611157`, "7554852699390611157", "trail.notes"],
    [`https://www.tiktok.com/@/video/${ID}`, ID],
    [`https://m.tiktok.com/v/${ID}.html`, ID],
    [`https://www.tiktok.com/i18n/share/video/${ID}`, ID],
    [`https://www.tiktokv.com/share/video/${ID}`, ID],
    [`https://www.tiktok.com/share/video/${ID}/`, ID],
    [`https://www.tiktok.com/embed/v2/${ID}`, ID],
    [`https://www.tiktok.com/embed/${ID}`, ID],
    [`https://www.tiktok.com.//@river.cooks/video/${ID}`, ID, "river.cooks"],
    // TikTok's own short links redirect through this form; you-get and cobalt accept it.
    [`https://t.tiktok.com/i18n/share/video/${ID}/?_d=secCgYIASAHKAE&share_item_id=${ID}`, ID],
    // TikTok Lite.
    [`https://lite.tiktok.com/@river.cooks/video/${ID}?_r=1`, ID, "river.cooks"],
    // A pasted share message with one link in it.
    [
      `Check out River Cooks's video! #TikTok https://www.tiktok.com/@river.cooks/video/${ID}?_t=8q&_r=1`,
      ID,
      "river.cooks",
    ],
    [`lol\nhttps://www.tiktok.com/@river.cooks/video/${ID}.\nsee?`, ID, "river.cooks"],
  ];
  for (const [input, id, username] of posts) {
    it(`reads ${input.trim()}`, () => {
      const link = parseTikTokLink(input, NOW);
      assert.equal(link.kind, "post");
      assert.equal(link.kind === "post" && link.id, id);
      assert.equal(link.kind === "post" ? link.username : undefined, username);
    });
  }

  const shorts: [string, string, string][] = [
    ["https://vm.tiktok.com/ZMriver01/", "ZMriver01", "https://vt.tiktok.com/ZMriver01/"],
    ["vm.tiktok.com/ZMriver01", "ZMriver01", "https://vt.tiktok.com/ZMriver01/"],
    ["https://vt.tiktok.com/ZSabc123/?_r=1", "ZSabc123", "https://vt.tiktok.com/ZSabc123/"],
    ["https://www.tiktok.com/t/ZTdef456/", "ZTdef456", "https://vt.tiktok.com/ZTdef456/"],
    ["https://tiktok.com/t/ZTdef456", "ZTdef456", "https://vt.tiktok.com/ZTdef456/"],
    // TikTok Lite share links.
    ["https://lite.tiktok.com/t/ZTlite123/", "ZTlite123", "https://vt.tiktok.com/ZTlite123/"],
    ["https://t.tiktok.com/ZNghi789", "ZNghi789", "https://vt.tiktok.com/ZNghi789/"],
    ["look at this https://vm.tiktok.com/ZMriver01/ lol", "ZMriver01", "https://vt.tiktok.com/ZMriver01/"],
    [
      "the same link twice: vm.tiktok.com/ZMriver01 https://vm.tiktok.com/ZMriver01",
      "ZMriver01",
      "https://vt.tiktok.com/ZMriver01/",
    ],
  ];
  for (const [input, code, url] of shorts) {
    it(`reads the short link ${input}`, () => {
      const { shared, ...link } = parseTikTokLink(input, NOW) as { shared: string };
      assert.deepEqual(link, { kind: "short", platform: "tiktok", code, url });
      assert.match(shared, new RegExp(`^[a-z.]*tiktok\\.com/(t/)?${code}/?$`), "the link as it was shared");
    });
  }
});

describe("parseTikTokLink: refusals, before any network call", () => {
  const refusals: [string, string][] = [
    ["", "MISSING_URL"],
    ["   ", "MISSING_URL"],
    ["not a link at all", "INVALID_URL"],
    [`https://www.tiktok.com@evil.test/@a/video/${ID}`, "UNSUPPORTED_HOST"],
    [`https://tiktok.com.evil.test/@a/video/${ID}`, "UNSUPPORTED_HOST"],
    [`https://eviltiktok.com/@a/video/${ID}`, "UNSUPPORTED_HOST"],
    [`https://www.tiktok.com:8443/@a/video/${ID}`, "UNSUPPORTED_HOST"],
    [`ftp://www.tiktok.com/@a/video/${ID}`, "INVALID_URL"],
    [`javascript:alert(1)//www.tiktok.com/@a/video/${ID}`, "INVALID_URL"],
    [`https://v16-webapp-prime.tiktok.com/@a/video/${ID}`, "UNSUPPORTED_HOST"],
    ["https://www.tiktok.com/@river.cooks", "UNSUPPORTED_LINK"],
    ["https://www.tiktok.com/tag/cooking", "UNSUPPORTED_LINK"],
    ["https://www.tiktok.com/music/original-sound-7558765839632951450", "UNSUPPORTED_LINK"],
    ["https://www.tiktok.com/@river.cooks/live", "UNSUPPORTED_LINK"],
    ["https://www.tiktok.com/@a/video/123", "INVALID_URL"],
    ["https://www.tiktok.com/@a/video/0000000000000000001", "INVALID_URL"],
    ["https://www.tiktok.com/@a/video/9999999999999999999", "INVALID_URL"],
    [`https://www.tiktok.com/@a/video/${ID}${"0".repeat(5)}`, "INVALID_URL"],
    [`https://www.tiktok.com/@a/video/${ID}?x=${"a".repeat(3000)}`, "INVALID_URL"],
    ["https://vm.tiktok.com/ZM-bad!/", "UNSUPPORTED_LINK"],
    ["https://vm.tiktok.com/ZMabc/extra/", "UNSUPPORTED_LINK"],
    ["two posts: https://vm.tiktok.com/ZMriver01/ and https://vm.tiktok.com/ZMphoto01/", "INVALID_URL"],
    ["a message with no TikTok link in it", "INVALID_URL"],
    // A TikTok address inside another address is not a link of its own.
    [`see https://evil.test/?next=https://www.tiktok.com/@a/video/${ID} now`, "INVALID_URL"],
  ];
  for (const [input, code] of refusals) {
    it(`refuses ${JSON.stringify(input.slice(0, 80))} with ${code}`, () => {
      assert.throws(
        () => parseTikTokLink(input, NOW),
        (error: unknown) => error instanceof ApiError && error.status === 400 && error.code === code,
      );
    });
  }

  it("names the list a list link is, so a face lists it without reading links itself", () => {
    const lists = [
      ["https://www.tiktok.com/@River.Cooks?lang=en", "https://www.tiktok.com/@River.Cooks"],
      [
        "https://www.tiktok.com/@a/collection/Soups-7300000000000000001",
        "https://www.tiktok.com/@a/collection/Soups-7300000000000000001",
      ],
      ["m.tiktok.com/@a/likes", "https://www.tiktok.com/@a/liked"],
    ];
    for (const [input, list] of lists)
      assert.throws(
        () => parseTikTokLink(input as string, NOW),
        (error: unknown) =>
          error instanceof ApiError && error.code === "UNSUPPORTED_LINK" && error.list === list,
      );
  });
});

describe("post ids and hosts", () => {
  it("decodes the creation time from the id's top bits", () => {
    assert.equal(postIdTime(ID), 1759912304);
    assert.equal(new Date(postIdTime(ID) * 1000).toISOString(), "2025-10-08T08:31:44.000Z");
  });
  it("rejects ids from before 2016 or the future", () => {
    assert.equal(isPlausiblePostId(ID, NOW), true);
    const future = ((BigInt(Math.floor(NOW / 1000)) + 5n * 86_400n) << 32n).toString();
    assert.equal(isPlausiblePostId(future, NOW), false);
    const old = (BigInt(Date.UTC(2015, 0, 1) / 1000) << 32n).toString();
    assert.equal(isPlausiblePostId(old, NOW), false);
  });
  it("knows TikTok's web and CDN domains, not look-alikes", () => {
    for (const host of [
      "www.tiktok.com",
      "v16-webapp-prime.us.tiktok.com",
      "p16-sign.tiktokcdn-us.com",
      "www.tiktokv.com",
    ])
      assert.equal(isTikTokHost(host), true, host);
    for (const host of ["tiktok.com.evil.test", "eviltiktok.com", "tiktokcdn.com.attacker.net", "localhost"])
      assert.equal(isTikTokHost(host), false, host);
  });
  it("builds the canonical link", () => {
    assert.equal(canonicalPostUrl(ID, "river.cooks"), `https://www.tiktok.com/@river.cooks/video/${ID}`);
    assert.equal(canonicalPostUrl(ID), `https://www.tiktok.com/@i/video/${ID}`);
  });
});
