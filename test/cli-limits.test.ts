import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makePosts, makeProfile } from "./fakes/profiles.js";
import { FakeTikTok, SAMPLE_IDS } from "./fakes/tiktok.js";
import { type Stack, startStack } from "./helpers.js";
import { runCli as run } from "./support/cli.js";

const PHOTO = `https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}`;
const VIDEO = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;

/**
 * A server in front of the service that keeps a tight limit of its own, as a busy instance would: every
 * third API request and every fourth tunnel request is a 429 with `Retry-After: 1`.
 */
async function limitingProxy(target: string) {
  let api = 0;
  let stream = 0;
  const refused = { count: 0 };
  const server = createServer(async (request, response) => {
    const path = request.url ?? "/";
    const isStream = path.startsWith("/api/stream/");
    const turn = isStream ? ++stream : ++api;
    if (turn % (isStream ? 4 : 3) === 0) {
      refused.count++;
      response.writeHead(429, {
        "content-type": "application/json",
        "retry-after": "1",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "1",
      });
      return response.end(JSON.stringify({ error: "Too many requests", code: "RATE_LIMITED" }));
    }
    const upstream = await fetch(`${target}${path}`);
    response.writeHead(upstream.status, Object.fromEntries(upstream.headers));
    response.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, refused };
}

describe("the CLI within a server's limits and a folder it can write", () => {
  let fake: FakeTikTok;
  let stack: Stack;
  let proxy: Awaited<ReturnType<typeof limitingProxy>>;
  let dir: string;
  let env: Record<string, string>;
  const CREATOR = makeProfile("sync.creator", makePosts(8, { salt: 15_100 }));

  before(async () => {
    fake = await new FakeTikTok({ waf: false }).start();
    fake.profiles.set(CREATOR.username, CREATOR);
    fake.servePosts(CREATOR.posts, CREATOR);
    env = { UPSTREAM_TIKTOK: fake.url, ALLOW_PRIVATE_UPSTREAMS: "1" };
    stack = await startStack({
      sharedFake: fake,
      env: { STREAM_SECRET: "cli-limits-secret-0123456789abcdef" },
    });
    await stack.app.listen({ port: 0, host: "127.0.0.1" });
    proxy = await limitingProxy(`http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`);
    dir = await mkdtemp(join(tmpdir(), "tiktok-dl-cli-limits-"));
  });
  after(async () => {
    await new Promise((resolve) => proxy.server.close(resolve));
    await stack.close();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("waits for a 429's Retry-After through --server, says so, and saves every post", async () => {
    const out = join(dir, "paced");
    const { code, stderr } = await run(
      ["https://www.tiktok.com/@sync.creator", "--server", proxy.url, "-o", out],
      {},
      dir,
    );
    assert.equal(code, 0, stderr);
    assert.ok(proxy.refused.count >= 3, "the server refused some requests");
    assert.match(stderr, /waiting \d+ s: the server's limit/);
    // Seven videos and a photo post of four images.
    assert.match(stderr, /8 of 8 posts done, 11 files saved\./);
    assert.equal((await readdir(out)).length, 11);
  });

  it("a post that failed is tried again by the next run, with --break-on-existing too", async () => {
    const out = join(dir, "sync");
    const archive = join(dir, "sync-archive.txt");
    const failing = CREATOR.posts.slice(5).map((post) => post.id);
    for (const id of failing) fake.scenarios.set(id, { kind: "status", status: 500 });
    const link = "https://www.tiktok.com/@sync.creator";
    const first = await run([link, "-o", out, "--archive", archive, "--provider", "native"], env, dir);
    assert.equal(first.code, 1, first.stderr);
    assert.match(first.stderr, /5 of 8 posts done/);
    assert.match(await readFile(`${archive}.failed`, "utf8"), new RegExp(`tiktok ${failing[0]} https://`));
    fake.servePosts(CREATOR.posts, CREATOR);
    const second = await run(
      [link, "-o", out, "--archive", archive, "--break-on-existing", "--provider", "native"],
      env,
      dir,
    );
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stderr,
      /3 of 3 posts done, 3 files saved, 3 earlier failures tried again \(3 done\)/,
    );
    const archived = await readFile(archive, "utf8");
    for (const post of CREATOR.posts) assert.match(archived, new RegExp(`tiktok ${post.id}`));
    await assert.rejects(readFile(`${archive}.failed`), "nothing failed: no file of failures");
  });

  it("a failed post given without a scheme is kept under its own address, and tried again", async () => {
    const out = join(dir, "schemeless");
    const archive = join(dir, "schemeless-archive.txt");
    const post = CREATOR.posts[0];
    assert.ok(post);
    fake.scenarios.set(post.id, { kind: "status", status: 500 });
    const first = await run(
      [`tiktok.com/@sync.creator/video/${post.id}`, "-o", out, "--archive", archive, "--provider", "native"],
      env,
      dir,
    );
    assert.equal(first.code, 1, first.stderr);
    assert.equal(
      await readFile(`${archive}.failed`, "utf8"),
      `tiktok ${post.id} https://www.tiktok.com/@i/video/${post.id}\n`,
    );
    fake.servePosts(CREATOR.posts, CREATOR);
    const second = await run([VIDEO, "-o", out, "--archive", archive, "--provider", "native"], env, dir);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /1 earlier failure tried again \(1 done\)/);
    assert.match(await readFile(archive, "utf8"), new RegExp(`tiktok ${post.id}`));
  });

  it("a template without {index} saves every image of a photo post, numbered", async () => {
    const out = join(dir, "template");
    const { code, stderr } = await run(
      [PHOTO, "--images", "-o", out, "--output-template", "{user}/{date}_{id}.{ext}"],
      env,
      dir,
    );
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /already there/);
    assert.match(stderr, /no \{index\}/);
    const files = await readdir(join(out, "trail.notes"));
    const images = files.filter((name) => name.endsWith(".jpg"));
    assert.ok(images.length >= 2, files.join(", "));
    assert.equal(new Set(images).size, images.length);
    assert.match(images[0] ?? "", /_\d+\.jpg$/);
  });

  it("an output folder that cannot be one is a usage error (exit 2) in plain words within a second", async () => {
    const file = join(dir, "afile");
    await writeFile(file, "x");
    const cases: [string, RegExp][] = [
      ["/proc/nope", /-o \/proc\/nope: /],
      [file, /is a file, not a folder/],
      [join(file, "sub"), /is a file, not a folder|a part of the path is a file/],
    ];
    for (const [output, message] of cases) {
      const started = Date.now();
      const { code, stderr } = await run([VIDEO, "-o", output], env, dir);
      assert.equal(code, 2, `${output}: ${stderr}`);
      assert.match(stderr, message);
      assert.doesNotMatch(stderr, /EEXIST|ENOTDIR|EACCES|Usage: tiktok-dl/);
      assert.ok(Date.now() - started < 1_000 + 1_500, `${output} took ${Date.now() - started} ms`);
    }
  });

  it("a read-only output folder is a usage error before anything is downloaded", async (context) => {
    const readOnly = join(dir, "read-only");
    await mkdir(readOnly);
    await chmod(readOnly, 0o555);
    if (process.getuid?.() === 0) {
      context.skip("root writes into a read-only folder; checked for other users");
      return;
    }
    const before = fake.requests.length;
    const { code, stderr } = await run([VIDEO, "-o", readOnly], env, dir);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /cannot be written there: there is no permission/);
    assert.equal(fake.requests.length, before, "nothing was asked");
  });

  it("--cookies with --server says why in one line, without the whole help", async () => {
    const { code, stderr } = await run([VIDEO, "--cookies", "c.txt", "--server", proxy.url], {}, dir);
    assert.equal(code, 2);
    assert.match(stderr, /--cookies works without --server/);
    assert.doesNotMatch(stderr, /Usage: tiktok-dl/);
    assert.ok(stderr.trim().split("\n").length <= 2, stderr);
  });
});
