import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SourceFailure } from "../src/domain/errors.js";
import { ConfigError, loadConfig } from "../src/service/config.js";
import { createServices } from "../src/service/services.js";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import { download, failing, scriptedSource, startStack, videoFrom } from "./helpers.js";

const URL_ = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;

describe("the sources an operator runs (SOURCES)", () => {
  it("lists every source with enabled, refuses a disabled one by name, and never contacts it", async () => {
    const alpha = scriptedSource("alpha", failing("http_status"));
    const beta = scriptedSource("beta", videoFrom("beta"));
    const stack = await startStack({
      env: { SOURCES: "alpha" },
      deps: { sources: [alpha.descriptor, beta.descriptor], random: () => 0.5 },
    });
    try {
      const providers = (await stack.app.inject({ url: "/api/providers" })).json() as {
        name: string;
        enabled: boolean;
      }[];
      assert.deepEqual(
        providers.map(({ name, enabled }) => ({ name, enabled })),
        [
          { name: "alpha", enabled: true },
          { name: "beta", enabled: false },
        ],
      );
      const named = await download(stack.app, { url: URL_, type: "beta" });
      assert.equal(named.status, 400);
      assert.equal(named.body.code, "INVALID_TYPE");
      assert.match(named.body.error, /disabled/);
      for (let i = 0; i < 3; i++)
        assert.equal((await download(stack.app, { url: URL_, nocache: "1" })).status, 502);
      assert.equal(beta.calls, 0);
    } finally {
      await stack.close();
    }
  });

  it("refuses an unknown name at start", () => {
    assert.throws(
      () => createServices(loadConfig({ SOURCES: "native,nosuchsite" }), { logger: false }),
      (error: unknown) => error instanceof ConfigError && /nosuchsite/.test(error.message),
    );
  });
});

describe("rotation at a cold start", () => {
  it("asks the preferred source (native) first while nothing is known of the sources' health", async () => {
    const order: string[] = [];
    const make = (name: string, preferred = false) => {
      const source = scriptedSource(name, (input) => {
        order.push(name);
        return videoFrom(name)(input);
      });
      return { ...source.descriptor, preferred };
    };
    const stack = await startStack({
      deps: { sources: [make("gamma"), make("delta"), make("home", true)], random: () => 0.99 },
    });
    try {
      const { status, body } = await download(stack.app, { url: URL_ });
      assert.equal(status, 200);
      assert.equal(body.result.provider, "home");
      assert.deepEqual(order, ["home"]);
    } finally {
      await stack.close();
    }
  });

  it("failures that cost nothing do not use up the attempts: the fifth source answers", async () => {
    const dead = ["one", "two", "three", "four"].map((name) => scriptedSource(name, failing("network")));
    const live = scriptedSource("five", videoFrom("five"));
    const stack = await startStack({
      env: { MAX_ATTEMPTS: "3" },
      deps: { sources: [...dead, live].map((source) => source.descriptor), random: () => 0.5 },
    });
    try {
      const { status, body } = await download(stack.app, { url: URL_ });
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.result.provider, "five");
      assert.deepEqual(
        dead.map((source) => source.calls),
        [1, 1, 1, 1],
      );
    } finally {
      await stack.close();
    }
  });

  it("slow failures still count: MAX_ATTEMPTS of them end the search", async () => {
    const slow = ["one", "two", "three"].map((name) =>
      scriptedSource(name, async () => {
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        throw new SourceFailure("bad_response", "a slow, broken answer");
      }),
    );
    const late = slow.map((source) => source.descriptor);
    const live = scriptedSource("four", videoFrom("four"));
    const stack = await startStack({
      env: { MAX_ATTEMPTS: "2", HEDGE_FLOOR_MS: "60000" },
      deps: { sources: [...late, live.descriptor], random: () => 0.5 },
    });
    try {
      const { status } = await download(stack.app, { url: URL_ });
      assert.equal(status, 502);
      assert.equal(live.calls, 0);
    } finally {
      await stack.close();
    }
  });
});
