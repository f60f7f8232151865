import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import { type Stack, startStack } from "./helpers.js";

const ID = SAMPLE_IDS.video;
const GOOD = `https://www.tiktok.com/@river.cooks/video/${ID}`;

/** Hostile or broken `url` values: each must be a 400 before anything leaves the machine. */
const HOSTILE_URLS: string[] = [
  "",
  " ",
  "\t\n",
  "tiktok",
  "https://",
  `https:///@river.cooks/video/${ID}`,
  `https://www.tiktok.com@evil.test/@river.cooks/video/${ID}`,
  `https://user:pass@www.tiktok.com/@river.cooks/video/${ID}`,
  `https://tiktok.com.evil.test/@river.cooks/video/${ID}`,
  `https://www.tiktok.com.evil.test/@river.cooks/video/${ID}`,
  `https://evil.test/www.tiktok.com/@river.cooks/video/${ID}`,
  `https://eviltiktok.com/@river.cooks/video/${ID}`,
  `https://tiktok.co/@river.cooks/video/${ID}`,
  `https://www.tіktok.com/@river.cooks/video/${ID}`,
  `https://xn--tktok-8ve.com/@river.cooks/video/${ID}`,
  `https://www.tiktok.com%2F@evil.test/@river.cooks/video/${ID}`,
  `https://evil.test\\@www.tiktok.com/@river.cooks/video/${ID}`,
  `https://evil.test#@www.tiktok.com/@river.cooks/video/${ID}`,
  `https://evil.test?@www.tiktok.com/@river.cooks/video/${ID}`,
  `//evil.test/@river.cooks/video/${ID}`,
  `https:/\\evil.test/@river.cooks/video/${ID}`,
  `https://127.0.0.1/@river.cooks/video/${ID}`,
  `http://[::1]/@river.cooks/video/${ID}`,
  `http://169.254.169.254/latest/meta-data/`,
  `http://localhost:6379/`,
  `https://www.tiktok.com:6379/@river.cooks/video/${ID}`,
  `https://www.tiktok.com/@river.cooks/video/\t${ID}`,
  `file:///etc/passwd`,
  `ftp://www.tiktok.com/@river.cooks/video/${ID}`,
  `javascript:alert(document.domain)//www.tiktok.com/`,
  `JaVaScRiPt:alert(1)`,
  `data:text/html,<script>alert(1)</script>`,
  `gopher://www.tiktok.com/_INFO`,
  `ws://www.tiktok.com/@river.cooks/video/${ID}`,
  `https://v16-webapp-prime.tiktok.com/video/tos/x/?a=1`,
  `https://p16-sign.tiktokcdn.com/obj/x.jpeg`,
  `https://www.tiktok.com/@river.cooks`,
  `https://www.tiktok.com/@river.cooks/live`,
  `https://www.tiktok.com/@river.cooks/collection/favs-7200000000000000000`,
  `https://www.tiktok.com/tag/pasta`,
  `https://www.tiktok.com/music/original-sound-7558765839632951450`,
  `https://www.tiktok.com/`,
  `https://www.tiktok.com/@river.cooks/video/`,
  `https://www.tiktok.com/@river.cooks/video/abc`,
  `https://www.tiktok.com/@river.cooks/video/123`,
  `https://www.tiktok.com/@river.cooks/video/0000000000000000000`,
  `https://www.tiktok.com/@river.cooks/video/18446744073709551615`,
  `https://www.tiktok.com/@river.cooks/video/${ID}0`,
  `https://www.tiktok.com/@river.cooks/video/${ID.replace(/^7/, "9")}`,
  `https://www.tiktok.com/@river.cooks/video/${ID}/../../admin`,
  `https://www.tiktok.com/@river<script>/video/${ID}`,
  `https://vm.tiktok.com/`,
  `https://vm.tiktok.com/ZM..%2F..%2Fadmin/`,
  `https://vm.tiktok.com/${"Z".repeat(40)}/`,
  `https://vm.tiktok.com/ZMabc/def/`,
  `https://www.tiktok.com/t/`,
  `${GOOD}?x=${"a".repeat(2100)}`,
  "a".repeat(10_000),
  `https://www.tiktok.com/@river.cooks/video/${ID}\u0000`,
];

/** Bodies and query strings that are wrong in shape rather than in the link. */
const HOSTILE_REQUESTS: {
  label: string;
  method: "GET" | "POST";
  query?: Record<string, string | string[]>;
  body?: unknown;
  raw?: string;
}[] = [
  { label: "no url at all", method: "GET", query: {} },
  { label: "two urls", method: "GET", query: { url: [GOOD, GOOD] } },
  { label: "nocache=maybe", method: "GET", query: { url: GOOD, nocache: "maybe" } },
  { label: "rotateOnError=2", method: "GET", query: { url: GOOD, rotateOnError: "2" } },
  { label: "unknown type", method: "GET", query: { url: GOOD, type: "tikwm-but-not" } },
  { label: "type with markup", method: "GET", query: { url: GOOD, type: "<img src=x>" } },
  { label: "type=__proto__", method: "GET", query: { url: GOOD, type: "__proto__" } },
  { label: "url as a number", method: "POST", body: { url: 7558765792041131 } },
  { label: "url as an array", method: "POST", body: { url: [GOOD] } },
  { label: "url as an object", method: "POST", body: { url: { href: GOOD } } },
  { label: "url null", method: "POST", body: { url: null } },
  { label: "url true", method: "POST", body: { url: true } },
  { label: "nocache as a number", method: "POST", body: { url: GOOD, nocache: 1 } },
  { label: "rotateOnError as an object", method: "POST", body: { url: GOOD, rotateOnError: {} } },
  { label: "type as a number", method: "POST", body: { url: GOOD, type: 3 } },
  { label: "params as a string", method: "POST", body: { url: GOOD, params: "x" } },
  { label: "params with an unknown key", method: "POST", body: { url: GOOD, params: { cookie: "a=b" } } },
  {
    label: "params for the named source it lacks",
    method: "POST",
    body: { url: GOOD, type: "native", params: { hd: true } },
  },
  { label: "a JSON array body", method: "POST", body: [GOOD] },
  { label: "a JSON string body", method: "POST", raw: JSON.stringify(GOOD) },
  { label: "a JSON null body", method: "POST", raw: "null" },
  { label: "prototype pollution", method: "POST", raw: `{"url":"${GOOD}","__proto__":{"admin":true}}` },
  {
    label: "constructor pollution",
    method: "POST",
    raw: `{"url":"${GOOD}","constructor":{"prototype":{"admin":true}}}`,
  },
  { label: "truncated JSON", method: "POST", raw: `{"url":"${GOOD}"` },
  { label: "an empty JSON body", method: "POST", raw: "" },
  { label: "a POST with an off-TikTok url", method: "POST", body: { url: "https://evil.test/" } },
];

describe("a link followed by an injected header line", () => {
  it("is read as a message: the link alone is used, nothing else reaches TikTok", async () => {
    const stack = await startStack({ fake: { waf: false } });
    try {
      const url = `https://www.tiktok.com/@river.cooks/video/${ID}\r\nX-Injected: 1`;
      const response = await stack.app.inject({ url: `/api/download?url=${encodeURIComponent(url)}` });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.json().result.id, ID);
      assert.deepEqual(stack.fetched, [`https://www.tiktok.com/@river.cooks/video/${ID}`]);
      assert.ok(
        stack.fake.requests.every((request) => !JSON.stringify(request.headers).includes("Injected")),
      );
    } finally {
      await stack.close();
    }
  });
});

describe("hostile input: 400 and not a single upstream request", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  it(`covers at least 50 cases (${HOSTILE_URLS.length + HOSTILE_REQUESTS.length})`, () => {
    assert.ok(HOSTILE_URLS.length + HOSTILE_REQUESTS.length >= 50);
  });

  for (const [index, url] of HOSTILE_URLS.entries()) {
    it(`url #${index}: ${JSON.stringify(url.slice(0, 70))}`, async () => {
      for (const method of ["GET", "POST"] as const) {
        const response =
          method === "GET"
            ? await stack.app.inject({ method, url: `/api/download?url=${encodeURIComponent(url)}` })
            : await stack.app.inject({ method, url: "/api/download", payload: { url } });
        assert.equal(response.statusCode, 400, `${method}: ${response.body}`);
        const body = response.json() as { error: string; code: string };
        assert.match(body.code, /^(MISSING_URL|INVALID_URL|UNSUPPORTED_HOST|UNSUPPORTED_LINK)$/);
        assert.match(body.error, /"url"/);
        assert.doesNotMatch(response.body, /\s+at\s+\S+:\d+:\d+/);
      }
    });
  }

  for (const request of HOSTILE_REQUESTS) {
    it(request.label, async () => {
      const response =
        request.method === "GET"
          ? await stack.app.inject({ method: "GET", url: "/api/download", query: request.query })
          : await stack.app.inject({
              method: "POST",
              url: "/api/download",
              headers: { "content-type": "application/json" },
              payload: request.raw ?? JSON.stringify(request.body),
            });
      assert.equal(response.statusCode, 400, response.body);
      const body = response.json() as { error: string; code: string };
      assert.equal(typeof body.error, "string");
      assert.match(body.code, /^[A-Z_]+$/);
      assert.doesNotMatch(response.body, /\s+at\s+\S+:\d+:\d+/);
      assert.equal(({} as Record<string, unknown>).admin, undefined);
    });
  }

  it("made no upstream request for any of them", () => {
    assert.deepEqual(stack.fetched, []);
    assert.equal(stack.fake.requests.length, 0);
  });
});

describe("random input never gets a 5xx or an HTML page", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  const pieces = [
    "https://",
    "www.tiktok.com",
    "vm.tiktok.com",
    "/@",
    "/video/",
    ID,
    "%",
    "%00",
    "\\",
    "?",
    "#",
    "@",
    ":",
    "..",
    "/",
    "é",
    "🎵",
    "\u0000",
    " ",
    "t/",
    "ZM",
  ];
  const randomText = (seed: number) => {
    let text = "";
    let state = seed;
    const next = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state;
    };
    const length = next() % 12;
    for (let i = 0; i < length; i++)
      text += next() % 3 === 0 ? String.fromCharCode(next() % 0x3000) : pieces[next() % pieces.length];
    return text;
  };

  it("answers 1000 generated urls and bodies in the JSON error shape", async () => {
    for (let seed = 1; seed <= 500; seed++) {
      const url = randomText(seed);
      const get = await stack.app.inject({
        method: "GET",
        url: `/api/download?url=${encodeURIComponent(url)}&type=${encodeURIComponent([...randomText(seed + 7)].slice(0, 3).join(""))}`,
      });
      const post = await stack.app.inject({
        method: "POST",
        url: "/api/download",
        headers: { "content-type": seed % 2 ? "application/json" : "application/x-www-form-urlencoded" },
        payload:
          seed % 2
            ? `{"url":${JSON.stringify(url)},"nocache":${seed % 5 ? "true" : '"x"'}}`
            : `url=${encodeURIComponent(url)}&rotateOnError=${seed % 3}`,
      });
      for (const response of [get, post]) {
        assert.ok(
          response.statusCode < 500 || response.statusCode === 502,
          `${response.statusCode} for ${JSON.stringify(url)}: ${response.body}`,
        );
        assert.match(response.headers["content-type"] as string, /application\/json/);
        const body = response.json() as { error?: string; code?: string; result?: unknown };
        assert.ok(
          body.result !== undefined || (typeof body.error === "string" && typeof body.code === "string"),
        );
      }
    }
  });
});
