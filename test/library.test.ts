import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient, type PostFile, type TikTokDlClient, TikTokDlError } from "../src/library/index.js";
import { SAMPLE_PROFILES } from "./fakes/profiles.js";
import { FakeTikTok, SAMPLE_IDS } from "./fakes/tiktok.js";

const VIDEO = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;
const PHOTO = `https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}`;

describe("the library: createClient()", () => {
  let fake: FakeTikTok;
  let client: TikTokDlClient;
  let dir: string;
  before(async () => {
    fake = await new FakeTikTok({ waf: false }).start();
    client = createClient({
      upstreams: { tiktok: fake.url },
      allowPrivateUpstreams: true,
      sources: ["native"],
    });
    dir = await mkdtemp(join(tmpdir(), "tiktok-dl-library-"));
  });
  after(async () => {
    await client.close();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("list() yields every post of a profile across its pages; listPage() one page with its cursor", async () => {
    const expected = SAMPLE_PROFILES.get("grid.maker")?.posts.map((post) => post.id) ?? [];
    const { list } = client;
    const ids: string[] = [];
    for await (const item of list("https://www.tiktok.com/@grid.maker")) ids.push(item.id);
    assert.deepEqual(ids, expected);
    const newest: string[] = [];
    for await (const item of client.list("https://www.tiktok.com/@grid.maker", { limit: 3 }))
      newest.push(item.id);
    assert.deepEqual(newest, expected.slice(0, 3));
    const page = await client.listPage("https://www.tiktok.com/@grid.maker", { limit: 10 });
    assert.equal(page.items.length, 10);
    assert.equal(page.hasMore, true);
    const next = await client.listPage("https://www.tiktok.com/@grid.maker", {
      limit: 10,
      cursor: page.cursor,
    });
    assert.deepEqual(
      next.items.map((item) => item.id),
      expected.slice(10, 20),
    );
    await assert.rejects(client.listPage("https://www.tiktok.com/@locked.down"), (error: unknown) => {
      assert.ok(error instanceof TikTokDlError);
      assert.equal(error.code, "PRIVATE");
      return true;
    });
  });

  it("download() answers the API's result with the files' own addresses, from the cache the second time", async () => {
    const first = await client.download(`Look at this ${VIDEO}?is_from_webapp=1`);
    assert.equal(first.id, SAMPLE_IDS.video);
    assert.equal(first.provider, "native");
    assert.equal(first.cached, false);
    assert.match(first.video?.noWatermark ?? "", /^https:\/\/v\d+.*tiktok/);
    assert.equal("stream" in first, false, "no tunnel links");
    const again = await client.download(VIDEO);
    assert.equal(again.cached, true);
    // The result is a union on `type` (type-checked with the tests): a photo post's images need no `?`.
    const photo = await client.download(PHOTO);
    const images: string[] = photo.type === "photo" ? photo.images : [];
    assert.equal(images.length, 4);
    const music: string | undefined = first.additional.musicUrl;
    assert.match(music ?? "", /^https:\/\//);
  });

  it("save() writes the files named as the server names them", async () => {
    const video = await client.save(VIDEO, { dir: join(dir, "video") });
    assert.deepEqual(video, [join(dir, "video", `tiktok_river.cooks_${SAMPLE_IDS.video}.mp4`)]);
    assert.equal((await stat(video[0] as string)).size, 1_048_576);
    const zip = await client.save(PHOTO, { dir: join(dir, "photo"), zip: true });
    assert.deepEqual(zip, [join(dir, "photo", `tiktok_trail.notes_${SAMPLE_IDS.photo}.zip`)]);
    const images = await client.save(PHOTO, { dir: join(dir, "images"), images: true });
    assert.equal(images.length, 5);
    assert.deepEqual((await readdir(join(dir, "images"))).length, 5, "no .part file left");
  });

  it("files() hands the post and the files the options select, each opened when asked", async () => {
    const { post, files } = await client.files(PHOTO, { images: true });
    assert.equal(post.type, "photo");
    assert.equal(files.length, 5, "four images, then the audio");
    const first = await (files[0] as (typeof files)[number]).open();
    assert.equal(first.name, `tiktok_trail.notes_${SAMPLE_IDS.photo}_photo_1.jpg`);
    // Read after a pause: the body holds its bytes until the caller reads it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    let bytes = 0;
    for await (const chunk of first.body) bytes += (chunk as Buffer).length;
    assert.ok(bytes > 0);
    assert.equal(bytes, first.size);
    const audio = await client.files(VIDEO, { audio: true });
    assert.equal(audio.files.length, 1);
    const track = await (audio.files[0] as (typeof files)[number]).open();
    assert.match(track.name, /_audio\.(mp3|m4a)$/);
    track.body.destroy();
  });

  it("close() does not wait for ever on a file opened and never read (it is cut after a grace)", {
    timeout: 20_000,
  }, async () => {
    const other = createClient({
      upstreams: { tiktok: fake.url },
      allowPrivateUpstreams: true,
      sources: ["native"],
    });
    const unread = await ((await other.files(VIDEO)).files[0] as PostFile).open();
    const closing = Date.now();
    await other.close();
    assert.ok(Date.now() - closing < 8_000);
    unread.body.destroy();
  });

  it("providers() lists the sources and which of them run; a source that is not one is a 400", async () => {
    const sources = await client.providers();
    assert.deepEqual(
      sources.filter((source) => source.enabled).map((source) => source.name),
      ["native"],
    );
    assert.ok(sources.some((source) => source.name === "tikwm" && !source.enabled));
    await assert.rejects(client.download(VIDEO, { source: "nope" }), (error: unknown) => {
      assert.ok(error instanceof TikTokDlError);
      assert.equal(error.code, "INVALID_TYPE");
      assert.equal(error.status, 400);
      return true;
    });
  });

  it("throws one error class carrying the API's code and status", async () => {
    const cases: [string, string, number][] = [
      ["https://example.com/video/1", "UNSUPPORTED_HOST", 400],
      [`https://www.tiktok.com/@x/video/${SAMPLE_IDS.deleted}`, "NOT_FOUND", 404],
    ];
    for (const [url, code, status] of cases) {
      await assert.rejects(client.download(url), (error: unknown) => {
        assert.ok(error instanceof TikTokDlError);
        assert.equal(error.code, code);
        assert.equal(error.status, status);
        return true;
      });
    }
    const invalid = (pattern: RegExp) => (error: unknown) =>
      error instanceof TikTokDlError && error.code === "INVALID_OPTIONS" && pattern.test(error.message);
    // The options are typed from the settings: a misspelt one does not compile (npm test type-checks
    // this file), and still fails at run time for JavaScript callers, named as written.
    // @ts-expect-error cacheTTL is not an option (cacheTtl is)
    assert.throws(() => createClient({ cacheTTL: 600 }), invalid(/Unknown option "cacheTTL"/));
    // @ts-expect-error cacheTtll is not an option
    assert.throws(() => createClient({ cacheTtll: 5 }), invalid(/Unknown option "cacheTtll"/));
    assert.throws(() => createClient({ cacheTtl: -1 }), invalid(/^Invalid configuration:\n {2}cacheTtl: /));
    // A file an option names that is bad at start: no crash of the process, the first call says so.
    const keyless = createClient({ apiKeysFile: join(dir, "no-such-keys.json") });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await assert.rejects(keyless.download(VIDEO), invalid(/^apiKeysFile: /));
    await keyless.close();
    // The same for the cookies file: createClient() itself does not throw, ready() and the first call say it.
    const cookieless = createClient({ tiktokCookies: join(dir, "no-such-cookies.txt") });
    await assert.rejects(
      cookieless.ready(),
      invalid(/^tiktokCookies: cannot read .*no-such-cookies\.txt \(ENOENT\)/),
    );
    await assert.rejects(cookieless.download(VIDEO), invalid(/^tiktokCookies: /));
    await cookieless.close();
    assert.throws(
      () => createClient({ sources: ["nativ"] }),
      invalid(/^sources: unknown source\(s\) nativ; known: native/),
    );
  });
});
