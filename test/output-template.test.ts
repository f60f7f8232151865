import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileNamer, renderTemplate, templateProblem } from "../src/domain/output-template.js";
import { createClient } from "../src/library/index.js";
import { FakeTikTok, SAMPLE_IDS } from "./fakes/tiktok.js";
import { runCli } from "./support/cli.js";

const post = {
  id: SAMPLE_IDS.video,
  author: { username: "river.cooks" },
  caption: "one-pan lemon pasta 🍋 <15 min> & done\nsecond line",
  createdAt: "2025-10-08T08:32:25.000Z",
  type: "video",
};

describe("output templates", () => {
  it("fills every field, makes folders only from the template's own slashes", () => {
    const name = fileNamer("{user}/{date}_{id}_{kind}.{ext}", post)("tiktok_river.cooks_1.mp4");
    assert.equal(name, `river.cooks/20251008_${SAMPLE_IDS.video}_video.mp4`);
    const photo = fileNamer("{list}/{id}_{index}.{ext}", { ...post, type: "photo" }, "grid.maker");
    assert.equal(photo("tiktok_x_1_photo_3.jpg"), `grid.maker/${SAMPLE_IDS.video}_3.jpg`);
    assert.equal(photo("", true), `grid.maker/${SAMPLE_IDS.video}_.info.json`);
    const title = fileNamer("{title}.{ext}", post)("a.mp4");
    assert.equal(title, "one-pan lemon pasta 🍋 _15 min_ & done second line.mp4");
    const sneaky = renderTemplate("{user}/{id}.{ext}", { user: "../../etc", id: "a/b", ext: "mp4" });
    assert.equal(sneaky.split("/").length, 2, sneaky);
    assert.ok(
      sneaky.split("/").every((segment) => segment !== ".." && segment !== "." && !segment.startsWith(".")),
      sneaky,
    );
  });

  it("shortens a name past what file systems allow, keeping its extension", () => {
    const long = fileNamer("{title}_{id}.{ext}", { ...post, caption: "é".repeat(400) })("x.mp4");
    assert.ok(Buffer.byteLength(long) <= 240, `${Buffer.byteLength(long)} bytes`);
    assert.ok(long.endsWith(".mp4"));
  });

  it("refuses templates that leave the folder or name unknown fields", () => {
    for (const bad of ["../{id}.{ext}", "/tmp/{id}", "a/../../{id}", "{nope}.{ext}", "a//b", "C:\\x\\{id}"])
      assert.ok(templateProblem(bad), bad);
    assert.equal(templateProblem("{user}/{date}_{id}.{ext}"), undefined);
  });
});

describe("the CLI and the library with a template and --write-info-json", () => {
  let fake: FakeTikTok;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    fake = await new FakeTikTok({ waf: false }).start();
    env = { UPSTREAM_TIKTOK: fake.url, ALLOW_PRIVATE_UPSTREAMS: "1" };
    dir = await mkdtemp(join(tmpdir(), "tiktok-dl-template-"));
  });
  after(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("names files by the template, in folders inside -o, with the post's JSON beside them", async () => {
    const out = join(dir, "cli");
    const photo = `https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}`;
    const run = await runCli(
      [
        photo,
        "--images",
        "-o",
        out,
        "--output-template",
        "{user}/{date}_{id}_{index}.{ext}",
        "--write-info-json",
      ],
      env,
      dir,
    );
    assert.equal(run.code, 0, run.stderr);
    const files = (await readdir(join(out, "trail.notes"))).sort();
    assert.ok(
      files.some((file) => /^\d{8}_\d+_1\.jpg$/.test(file)),
      files.join(", "),
    );
    assert.ok(
      files.some((file) => /^\d{8}_\d+_\.mp3$/.test(file)),
      files.join(", "),
    );
    const info = files.find((file) => file.endsWith(".info.json")) as string;
    const json = JSON.parse(await readFile(join(out, "trail.notes", info), "utf8"));
    assert.equal(json.id, SAMPLE_IDS.photo);
    assert.ok(!files.some((file) => file.endsWith(".part")));
  });

  it("a template that would leave -o is a usage error", async () => {
    const run = await runCli(
      ["https://vm.tiktok.com/ZMriver01/", "--output-template", "../{id}.{ext}"],
      env,
      dir,
    );
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--output-template may not leave the output folder/);
  });

  it("names a listing's posts with {list}, and the library's save() takes the same template", async () => {
    const out = join(dir, "list");
    const run = await runCli(
      [
        "https://www.tiktok.com/@tiny.list",
        "--limit",
        "2",
        "-o",
        out,
        "--output-template",
        "{list}/{id}.{ext}",
      ],
      env,
      dir,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await readdir(join(out, "tiny.list"))).length, 2);
    const client = createClient({ upstreams: { tiktok: fake.url }, allowPrivateUpstreams: true });
    try {
      const saved = await client.save(`https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`, {
        dir: join(dir, "lib"),
        template: "{user}/{id}.{ext}",
      });
      assert.deepEqual(saved, [join(dir, "lib", "river.cooks", `${SAMPLE_IDS.video}.mp4`)]);
      await assert.rejects(
        client.save(`https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`, {
          dir: join(dir, "lib"),
          template: "../../{id}.{ext}",
        }),
        /may not leave the output folder/,
      );
    } finally {
      await client.close();
    }
  });
});
