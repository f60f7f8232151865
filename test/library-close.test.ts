import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient } from "../src/library/index.js";
import { FakeTikTok, SCENARIO_IDS } from "./fakes/tiktok.js";

describe("the library's close()", () => {
  let fake: FakeTikTok;
  before(async () => {
    fake = await new FakeTikTok({ waf: false }).start();
  });
  after(() => fake.close());

  it("ends at once, cancelling a file body its caller opened and never read", async () => {
    const client = createClient({ upstreams: { tiktok: fake.url }, allowPrivateUpstreams: true });
    const { files } = await client.files(`https://www.tiktok.com/@river.cooks/video/${SCENARIO_IDS.large}`);
    const opened = await files[0]?.open();
    assert.ok(opened, "a file to open");
    const started = Date.now();
    await client.close();
    const took = Date.now() - started;
    assert.ok(took < 2_000, `close() took ${took} ms with a 64 MiB body unread`);
    opened.body.destroy();
  });
});
