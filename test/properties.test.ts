import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { createStreamTokens } from "../src/delivery/token.js";
import { ApiError, SourceFailure } from "../src/domain/errors.js";
import { parseTikTokLink } from "../src/domain/tiktok-url.js";
import { decodePackedScript, PackedScriptError } from "../src/sources/packed-script.js";
import { readPost } from "../src/sources/tiktok/web/page.js";

/** Runs `work` and checks it returns, or throws one of the typed errors, within `boundMs`. */
function typedOrResult(work: () => unknown, types: (new (...args: never[]) => Error)[], boundMs = 200) {
  const started = performance.now();
  try {
    work();
  } catch (error) {
    assert.ok(
      types.some((type) => error instanceof type),
      `threw ${(error as Error)?.name}: ${(error as Error)?.message}`,
    );
  }
  assert.ok(performance.now() - started < boundMs, `took ${(performance.now() - started).toFixed(0)} ms`);
}

const linkish = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc
    .tuple(
      fc.constantFrom("https://", "http://", "", "HTTPS://", "//", "javascript:"),
      fc.constantFrom(
        "www.tiktok.com",
        "vm.tiktok.com",
        "vt.tiktok.com",
        "m.tiktok.com",
        "t.tiktok.com",
        "lite.tiktok.com",
        "tiktok.com.evil.test",
      ),
      fc.string({ maxLength: 80 }),
      fc.constantFrom("", " lol", "\n", " https://vm.tiktok.com/ZMabc/"),
    )
    .map((parts) => parts.join("")),
  fc
    .string({ maxLength: 40 })
    .map((text) => `look ${text} https://www.tiktok.com/@a/video/7558765792041131240 ${text}`),
);

describe("properties: any input gives a result or a typed error, quickly", () => {
  it("the link parser", () => {
    fc.assert(
      fc.property(linkish, (input) => typedOrResult(() => parseTikTokLink(input), [ApiError])),
      {
        numRuns: 2000,
      },
    );
  });

  it("the page parser", () => {
    const json = fc
      .jsonValue({ maxDepth: 6 })
      .map((value) => JSON.stringify({ __DEFAULT_SCOPE__: { "webapp.video-detail": value } }));
    const page = fc.oneof(
      fc.string({ maxLength: 2000 }),
      json.map(
        (text) => `<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">${text}</script>`,
      ),
      fc
        .string({ maxLength: 500 })
        .map((text) => `<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__">${text}</script>`),
    );
    fc.assert(
      fc.property(page, (html) =>
        typedOrResult(() => readPost(html, "7558765792041131240"), [ApiError, SourceFailure]),
      ),
      { numRuns: 1500 },
    );
  });

  it("the packed-script decoder", () => {
    const packed = fc
      .tuple(
        fc.string({ maxLength: 400 }),
        fc.integer({ min: -5, max: 100 }),
        fc.string({ maxLength: 70 }),
        fc.integer(),
        fc.integer({ min: -3, max: 70 }),
      )
      .map(
        ([payload, u, alphabet, t, e]) =>
          `eval(function(h,u,n,t,e,r){}("${payload}",${u},"${alphabet}",${t},${e},1))`,
      );
    fc.assert(
      fc.property(fc.oneof(packed, fc.string({ maxLength: 500 })), (text) =>
        typedOrResult(() => decodePackedScript(text), [PackedScriptError]),
      ),
      { numRuns: 1500 },
    );
  });

  it("the stream-token reader", () => {
    const tokens = createStreamTokens({
      secret: "a-property-test-secret-0123",
      ttlMs: 60_000,
      now: Date.now,
    });
    const real = tokens.forPost({ platform: "tiktok", id: "7558765792041131240" }, "native")("image", 3);
    const mutated = fc
      .tuple(fc.nat({ max: real.length - 1 }), fc.string({ minLength: 1, maxLength: 3 }))
      .map(([at, text]) => `${real.slice(0, at)}${text}${real.slice(at + 1)}`);
    // The signature's last character carries spare bits: each of its other values must be refused too.
    const lastCharacter = fc
      .constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".split(""))
      .map((char) => `${real.slice(0, -1)}${char}`);
    fc.assert(
      fc.property(fc.oneof(mutated, lastCharacter, fc.string({ maxLength: 300 })), (token) => {
        typedOrResult(() => tokens.open(token), [ApiError]);
        if (token !== real) {
          // Any change to a signed token is refused, unless it reproduces the original.
          assert.throws(() => tokens.open(token), ApiError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
