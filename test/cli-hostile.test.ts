import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "./support/cli.js";

/** Post links whose last digit picks what the hostile server answers for them. */
const post = (n: number) => `https://www.tiktok.com/@x/video/700000000000000000${n}`;

const HOSTILE_NAMES: Record<string, string> = {
  "1": "a\u0000b.mp4",
  "2": "\u001b[2J\u0007evil\u202egnp.mp4",
  "3": `${"x".repeat(300)}.mp4`,
  "4": "fine.mp4",
  "5": "archive.txt",
};

/** Requests for list pages the hostile server has answered. */
let listRequests = 0;

/** A listing that never ends: `@same.page` repeats two posts, `@new.every.page` gives new ones for ever. */
function endlessList(url: URL, response: import("node:http").ServerResponse) {
  listRequests++;
  const page = Number(url.searchParams.get("cursor") ?? 0);
  const repeat = (url.searchParams.get("url") ?? "").includes("same.page");
  const items = [0, 1].map((n) => {
    const id = String(7_100_000_000_000_000_000n + BigInt(repeat ? n : page * 2 + n));
    return { id, url: `https://www.tiktok.com/@x/video/${id}`, type: "video" };
  });
  response.setHeader("content-type", "application/json");
  response.end(JSON.stringify({ result: { items, cursor: String(page + 1), hasMore: true } }));
}

/** A server that speaks tiktok-dl's API and answers what it likes: names, ids, bytes. */
function hostileServer(): Server {
  return createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://x");
    if (url.pathname === "/api/providers") return void response.end("[]");
    if (url.pathname === "/api/list") return void endlessList(url, response);
    if (url.pathname === "/api/download") {
      const n = (url.searchParams.get("url") ?? "").slice(-1);
      const id = n === "4" ? `700000000000000000${n}\ntiktok 666` : `700000000000000000${n}`;
      response.setHeader("content-type", "application/json");
      return void response.end(
        JSON.stringify({ result: { id, type: "video", stream: { video: `/api/stream/${n}` } } }),
      );
    }
    const n = url.pathname.split("/").at(-1) ?? "";
    const name = HOSTILE_NAMES[n] ?? "x.mp4";
    const encoded = [...Buffer.from(name)].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");
    response.writeHead(200, {
      "content-type": "video/mp4",
      "content-length": "4",
      "content-disposition": `attachment; filename="x.mp4"; filename*=UTF-8''${encoded}`,
    });
    response.end("mp4!");
  });
}

describe("the CLI and a server that answers hostile names and ids", () => {
  let server: Server;
  let base: string;
  let dir: string;
  before(async () => {
    server = hostileServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), "tiktok-dl-hostile-"));
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it("saves safe names, prints no control character, keeps the archive and its lines whole", async () => {
    const archive = join(dir, "archive.txt");
    await writeFile(archive, "tiktok 1\n");
    const links = [1, 2, 3, 4, 5].map(post);
    const { code, stderr } = await runCli(
      [...links, "--server", base, "-o", dir, "--archive", archive, "-c", "1"],
      {},
      dir,
    );
    assert.equal(code, 1, stderr);
    assert.match(stderr, /4 of 5 posts done, 4 files saved, 1 failed:/);
    assert.match(stderr, /post id that is not TikTok's/);
    assert.doesNotMatch(
      stderr,
      /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/,
      "control characters are shown, not sent",
    );
    const files = (await readdir(dir)).sort();
    assert.ok(files.includes("ab.mp4"), files.join(", "));
    assert.ok(files.includes("[2Jevilgnp.mp4"), files.join(", "));
    const long = files.find((file) => file.startsWith("xxxx"));
    assert.ok(long?.endsWith(".mp4") && Buffer.byteLength(long) <= 255, long);
    assert.ok(files.includes("archive (2).txt"), "the file named like the archive went beside it");
    assert.ok(!files.some((file) => file.endsWith(".part")));
    const lines = (await readFile(archive, "utf8")).trim().split("\n");
    assert.deepEqual(lines.sort(), [
      "tiktok 1",
      "tiktok 7000000000000000001",
      "tiktok 7000000000000000002",
      "tiktok 7000000000000000003",
      "tiktok 7000000000000000005",
    ]);
  });

  it("a listing that never ends: --limit ends it, and a page of repeats ends it", async () => {
    listRequests = 0;
    const limited = await runCli(
      ["https://www.tiktok.com/@new.every.page", "--json", "--limit", "5", "--server", base],
      {},
      dir,
    );
    assert.equal(limited.code, 0, limited.stderr);
    assert.equal(limited.stdout.trim().split("\n").length, 5);
    assert.equal(listRequests, 3);
    listRequests = 0;
    const repeating = await runCli(
      ["https://www.tiktok.com/@same.page", "--json", "--server", base],
      {},
      dir,
    );
    assert.equal(repeating.code, 0, repeating.stderr);
    assert.equal(repeating.stdout.trim().split("\n").length, 2);
    assert.equal(listRequests, 2, "the second page brought nothing new");
  });

  it("never replaces a file it did not write in this run; a FIFO as the archive is a usage error", async () => {
    const out = await mkdtemp(join(dir, "keep-"));
    await writeFile(join(out, "x.mp4"), "someone else's file");
    const run = await runCli([post(6), "--server", base, "-o", out], {}, out);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await readFile(join(out, "x.mp4"), "utf8"), "someone else's file");
    assert.equal(await readFile(join(out, "x (2).mp4"), "utf8"), "mp4!");
    const { execFileSync } = await import("node:child_process");
    const fifo = join(out, "fifo");
    execFileSync("mkfifo", [fifo]);
    const hung = await runCli([post(6), "--server", base, "-o", out, "--archive", fifo], {}, out);
    assert.equal(hung.code, 2);
    assert.match(hung.stderr, /not a regular file/);
  });
});
