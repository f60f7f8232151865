import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SAMPLE_PROFILES } from "./fakes/profiles.js";
import { FakeTikTok, patternByte, SAMPLE_IDS, SCENARIO_IDS } from "./fakes/tiktok.js";
import { type Stack, startStack } from "./helpers.js";
import { runCli as run } from "./support/cli.js";

const VIDEO = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;
const PHOTO = `https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}`;
const DELETED = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.deleted}`;

describe("the command-line downloader", () => {
  let fake: FakeTikTok;
  let stack: Stack;
  let server: string;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    fake = await new FakeTikTok({ waf: true }).start();
    env = { UPSTREAM_TIKTOK: fake.url, ALLOW_PRIVATE_UPSTREAMS: "1" };
    stack = await startStack({
      sharedFake: fake,
      env: { STREAM_SECRET: "cli-test-secret-0123456789abcdef" },
    });
    await stack.app.listen({ port: 0, host: "127.0.0.1" });
    server = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), "tiktok-dl-cli-"));
  });
  after(async () => {
    await stack.close();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  const fresh = async (name: string) => {
    const folder = join(dir, name);
    return folder;
  };

  it("extracts in-process and saves the video under its tunnel name", async () => {
    const out = await fresh("in-process");
    const { code, stderr } = await run([VIDEO, "--provider", "native", "-o", out], env, dir);
    assert.equal(code, 0, stderr);
    assert.deepEqual(await readdir(out), [`tiktok_river.cooks_${SAMPLE_IDS.video}.mp4`]);
    const bytes = await readFile(join(out, `tiktok_river.cooks_${SAMPLE_IDS.video}.mp4`));
    assert.equal(bytes.length, 1_048_576);
    for (let i = 0; i < bytes.length; i += 5003) assert.equal(bytes[i], patternByte(i));
    assert.match(stderr, /1 of 1 posts done, 1 files saved\./);
  });

  it("uses a running server: a photo post with --images saves every image and the audio", async () => {
    const out = await fresh("server-photo");
    const { code, stderr } = await run([PHOTO, "--images", "--server", server, "-o", out], {}, dir);
    assert.equal(code, 0, stderr);
    const stem = `tiktok_trail.notes_${SAMPLE_IDS.photo}`;
    assert.deepEqual((await readdir(out)).sort(), [
      `${stem}_audio.mp3`,
      `${stem}_photo_1.jpg`,
      `${stem}_photo_2.jpg`,
      `${stem}_photo_3.jpg`,
      `${stem}_photo_4.jpg`,
    ]);
    assert.match(stderr, /downloading .*_photo_1\.jpg/);
  });

  it("--zip saves a photo post as one ZIP", async () => {
    const out = await fresh("server-zip");
    const { code, stderr } = await run([PHOTO, "--zip", "--server", server, "-o", out], {}, dir);
    assert.equal(code, 0, stderr);
    const name = `tiktok_trail.notes_${SAMPLE_IDS.photo}.zip`;
    assert.deepEqual(await readdir(out), [name]);
    assert.equal((await readFile(join(out, name))).subarray(0, 4).toString("hex"), "504b0304");
  });

  it("reads links from a file, keeps going past a failing one and exits 1 with a summary", async () => {
    const out = await fresh("batch");
    const list = join(dir, "links.txt");
    await writeFile(list, `# my list\n${VIDEO}   # a good one\n\n${DELETED}\n`);
    const { code, stderr } = await run(
      ["-i", list, "--audio", "--server", server, "-o", out, "-c", "1"],
      {},
      dir,
    );
    assert.equal(code, 1);
    assert.deepEqual(await readdir(out), [`tiktok_river.cooks_${SAMPLE_IDS.video}_audio.mp3`]);
    assert.match(stderr, /1 of 2 posts done, 1 files saved, 1 failed:/);
    assert.match(stderr, new RegExp(`${SAMPLE_IDS.deleted}: This post was removed\\.`));
  });

  it("--json prints the results and downloads nothing", async () => {
    const out = await fresh("json");
    const { code, stdout } = await run([VIDEO, DELETED, "--json", "--server", server, "-o", out], {}, dir);
    assert.equal(code, 1);
    const printed = JSON.parse(stdout) as { url: string; result?: { id: string }; error?: string }[];
    assert.equal(printed[0]?.result?.id, SAMPLE_IDS.video);
    assert.match(printed[1]?.error ?? "", /removed/);
    await assert.rejects(readdir(out));
  });

  it("downloads a profile's newest posts (--limit), skips what --archive holds without asking, and lists with --json", async () => {
    const out = await fresh("profile");
    const archive = join(dir, "archive.txt");
    const profile = SAMPLE_PROFILES.get("grid.maker");
    const newest = profile?.posts.slice(0, 4) ?? [];
    const newestFour = () =>
      run(
        [
          "https://www.tiktok.com/@grid.maker",
          "--limit",
          "4",
          "--archive",
          archive,
          "--server",
          server,
          "-o",
          out,
        ],
        {},
        dir,
      );
    const first = await newestFour();
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /post 1 of 130: https:\/\/www\.tiktok\.com\/@grid\.maker\//);
    assert.match(first.stderr, /post 4 of 130/);
    assert.match(first.stderr, /4 of 4 posts done/);
    const files = await readdir(out);
    for (const post of newest)
      assert.ok(
        files.some((file) => file.includes(post.id)),
        `${post.id} saved`,
      );
    assert.deepEqual(
      (await readFile(archive, "utf8")).trim().split("\n").sort(),
      newest.map((post) => `tiktok ${post.id}`).sort(),
      "one archive line per saved post",
    );

    const pagesBefore = fake.count((request) =>
      newest.some((post) => request.path.includes(`/video/${post.id}`)),
    );
    const second = await newestFour();
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /0 of 0 posts done, 0 files saved, 4 already in the archive/);
    const pagesAfter = fake.count((request) =>
      newest.some((post) => request.path.includes(`/video/${post.id}`)),
    );
    assert.equal(pagesAfter, pagesBefore, "no request for an archived post");

    const listed = await run(
      ["https://www.tiktok.com/@grid.maker", "--json", "--type", "photo", "--limit", "3", "--server", server],
      {},
      dir,
    );
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { id: string; type: string });
    assert.equal(lines.length, 3);
    assert.ok(lines.every((line) => line.type === "photo"));
    const dated = await run(
      [
        "https://www.tiktok.com/@grid.maker",
        "--json",
        "--since",
        newest[2]?.createTime ? new Date((newest[2]?.createTime ?? 0) * 1000).toISOString() : "",
        "--server",
        server,
      ],
      {},
      dir,
    );
    assert.equal(dated.stdout.trim().split("\n").length, 3, "--since stops at the first older post");
  });

  it("--version prints the package's version, which /api, /api/health and the OpenAPI document also show", async () => {
    const { version } = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    const { code, stdout } = await run(["--version"], {}, dir);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), `tiktok-dl ${version}`);
    assert.equal((await stack.app.inject({ url: "/api" })).json().version, version);
    assert.equal((await stack.app.inject({ url: "/api/health" })).json().version, version);
    assert.equal((await stack.app.inject({ url: "/openapi.json" })).json().info.version, version);
  });

  it("--provider that is not a live source is a usage error listing the live ones", async () => {
    const { code, stderr } = await run([VIDEO, "--provider", "nope", "--server", server], {}, dir);
    assert.equal(code, 2);
    assert.match(stderr, /--provider nope is not a source here; live sources: native/);
    assert.doesNotMatch(stderr, /tikdown|"type" field/);
  });

  it("saves a post listed twice (a short and a long link) once, prints --json in the links' order, and names a dead server", async () => {
    const out = await fresh("twice");
    const list = join(dir, "twice.txt");
    await writeFile(list, `https://vm.tiktok.com/ZMriver01/\n${VIDEO}\n`);
    const twice = await run(["-i", list, "--server", server, "-o", out], {}, dir);
    assert.equal(twice.code, 0, twice.stderr);
    assert.deepEqual(await readdir(out), [`tiktok_river.cooks_${SAMPLE_IDS.video}.mp4`]);
    assert.match(twice.stderr, /1 of 1 posts done, 1 files saved, 1 listed twice/);

    const slow = `https://www.tiktok.com/@river.cooks/video/${SCENARIO_IDS.slow}`;
    const ordered = await run([slow, PHOTO, "--json", "--server", server], {}, dir);
    const printed = JSON.parse(ordered.stdout) as { url: string }[];
    assert.deepEqual(
      printed.map((row) => row.url),
      [slow, PHOTO],
      "the slow first link is printed first",
    );

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const dead = await run([VIDEO, "--server", `http://127.0.0.1:${port}`], {}, dir);
    assert.equal(dead.code, 1);
    assert.match(
      dead.stderr,
      new RegExp(`cannot reach the server at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`),
    );
  });

  it("keeps a complete file that is already there, saying so; --force downloads it again", async () => {
    const out = await fresh("again");
    const first = await run([VIDEO, "--server", server, "-o", out], {}, dir);
    assert.equal(first.code, 0, first.stderr);
    const file = join(out, `tiktok_river.cooks_${SAMPLE_IDS.video}.mp4`);
    const before = (await stat(file)).mtimeMs;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await run([VIDEO, "--server", server, "-o", out], {}, dir);
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stderr,
      /already there: tiktok_river\.cooks_\d+\.mp4 \(the same size; --force downloads it again\)/,
    );
    assert.equal((await stat(file)).mtimeMs, before, "not written again");
    const forced = await run([VIDEO, "--force", "--server", server, "-o", out], {}, dir);
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok((await stat(file)).mtimeMs > before, "--force wrote it again");
  });

  it("answers usage errors with exit code 2", async () => {
    for (const args of [
      [],
      ["--concurrency", "0", VIDEO],
      ["--server", "ftp://x", VIDEO],
      ["--bogus", VIDEO],
      ["--limit", "0", VIDEO],
      ["--type", "reel", VIDEO],
      ["--since", "yesterday", VIDEO],
    ]) {
      const { code, stderr } = await run(args, {}, dir);
      assert.equal(code, 2, args.join(" "));
      assert.match(stderr, /Usage: tiktok-dl/);
    }
    // A setting of the environment that is bad at start (a keys file that is not JSON) is one too.
    const keys = join(dir, "bad-keys.json");
    await writeFile(keys, "{not json");
    const { code, stderr } = await run([VIDEO], { ...env, API_KEYS_FILE: keys }, dir);
    assert.equal(code, 2);
    assert.match(stderr, /^tiktok-dl: API_KEYS_FILE: /);
  });

  it("does not rate-limit itself in-process: 75 links with RATE_LIMIT=60 all succeed", async () => {
    const list = join(dir, "many.txt");
    const links = Array.from({ length: 75 }, (_, i) => `${VIDEO}?n=${i}`);
    await writeFile(list, `${links.join("\n")}\n`);
    const { code, stdout, stderr } = await run(
      ["--json", "--provider", "native", "-i", list],
      { ...env, RATE_LIMIT: "60" },
      dir,
    );
    assert.equal(code, 0, stderr);
    const results = JSON.parse(stdout) as { url: string; result?: { id: string }; error?: string }[];
    assert.equal(results.length, 75);
    for (const entry of results) assert.equal(entry.result?.id, SAMPLE_IDS.video, entry.error);
  });

  it("never leaves a partial file under the final name", async () => {
    const broken = createServer((request, response) => {
      if (request.url?.startsWith("/api/download")) {
        response.setHeader("content-type", "application/json");
        return response.end(
          JSON.stringify({ result: { id: "1", type: "video", stream: { video: "/cut" } } }),
        );
      }
      response.writeHead(200, {
        "content-length": "100000",
        "content-disposition": 'attachment; filename="cut.mp4"',
      });
      response.write(Buffer.alloc(1000));
      setTimeout(() => response.socket?.destroy(), 50);
    });
    await new Promise<void>((resolve) => broken.listen(0, "127.0.0.1", resolve));
    try {
      const out = await fresh("partial");
      const { code } = await run(
        [VIDEO, "--server", `http://127.0.0.1:${(broken.address() as AddressInfo).port}`, "-o", out],
        {},
        dir,
      );
      assert.equal(code, 1);
      assert.deepEqual(await readdir(out), []);
    } finally {
      broken.close();
    }
  });
});

describe("download progress", () => {
  const capture = (isTTY: boolean) => {
    const written: string[] = [];
    const out = { isTTY, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
    return { out, written };
  };

  it("draws a bar with size and speed on a terminal", async () => {
    const { Progress } = await import("../src/cli/progress.js");
    const { out, written } = capture(true);
    const task = new Progress(out).start("tiktok_a_1.mp4", 4 * 1024 * 1024);
    task.advance(1024 * 1024);
    task.advance(3 * 1024 * 1024);
    task.finish();
    const text = written.join("");
    assert.match(
      text,
      /\r\x1b\[2Ktiktok_a_1\.mp4 +\[#{20}\] 100% 4\.0 MB \/ 4\.0 MB {2}[\d.]+ (B|KB|MB|GB)\/s\n$/,
    );
  });

  it("keeps one live line per running download on a terminal (-c 3), names fitted without losing the extension", async () => {
    const { Progress, fitName } = await import("../src/cli/progress.js");
    const { out, written } = capture(true);
    const progress = new Progress(out);
    const tasks = ["tiktok_a_1.mp4", "tiktok_b_2.mp4", "tiktok_c_3.mp4"].map((name) =>
      progress.start(name, 1000),
    );
    written.length = 0;
    tasks[1]?.advance(500);
    tasks[1]?.finish();
    const repaint = written.join("");
    assert.match(repaint, /^\x1b\[3A/, "the block of three is redrawn in place");
    assert.equal((repaint.match(/\n/g) ?? []).length, 3, "one final line, then the two still running");
    assert.ok(
      repaint.indexOf("tiktok_b_2.mp4") < repaint.indexOf("tiktok_a_1.mp4"),
      "the finished one above",
    );
    const long = fitName("tiktok_a.very.long.creator.name_7558765792041131240_audio.m4a");
    assert.equal(long.length, 40);
    assert.match(long, /…[\w.]*\.m4a$/, long);
  });

  it("writes plain lines when not on a terminal", async () => {
    const { Progress } = await import("../src/cli/progress.js");
    const { out, written } = capture(false);
    const task = new Progress(out).start("a.mp3", 2048);
    task.advance(2048);
    task.finish();
    assert.equal(written[0], "downloading a.mp3 (2.0 KB)\n");
    assert.match(written[1] ?? "", /^saved a\.mp3 \(2\.0 KB in [\d.]+ s\)\n$/);
    assert.ok(!written.join("").includes("\r"));
  });
});
