import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const hasStrace = spawnSync("strace", ["-V"]).status === 0;

/** Every address the traced processes called connect() on, IPv4 and IPv6 (Unix sockets left out). */
function connectTargets(trace: string): string[] {
  const targets: string[] = [];
  for (const line of trace.split("\n")) {
    if (!line.includes("connect(")) continue;
    const v4 = /sin_addr=inet_addr\("([^"]+)"\)/.exec(line)?.[1];
    const v6 = /inet_pton\(AF_INET6, "([^"]+)"/.exec(line)?.[1];
    if (v4 ?? v6) targets.push((v4 ?? v6) as string);
  }
  return targets;
}

const isLoopback = (address: string) =>
  /^127\./.test(address) || address === "::1" || /^::ffff:127\./.test(address);

/** What a file's first bytes say it is. */
function kindOf(bytes: Buffer): string {
  if (bytes.subarray(4, 8).toString("latin1") === "ftyp") return "mp4";
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (
    bytes.subarray(0, 3).toString("latin1") === "ID3" ||
    (bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0)
  )
    return "mp3";
  return "unknown";
}

describe("npm run demo", {
  skip: hasStrace ? false : "strace is not installed (.ci/run installs it)",
}, () => {
  it("opens no connection but to loopback, and its files are real media", { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "tiktok-dl-demo-"));
    const trace = join(dir, "connect.trace");
    const child = spawn(
      "strace",
      [
        "-f",
        "-qq",
        "--seccomp-bpf",
        "-e",
        "trace=connect",
        "-o",
        trace,
        process.execPath,
        "--import",
        "tsx",
        "scripts/demo.ts",
      ],
      {
        cwd: ROOT,
        env: { ...process.env, PORT: "0", LOG_LEVEL: "warn" },
        stdio: ["ignore", "pipe", "pipe"],
        // Its own process group: the demo under strace is stopped with it.
        detached: true,
      },
    );
    let printed = "";
    child.stdout.on("data", (chunk) => {
      printed += chunk;
    });
    child.stderr.on("data", (chunk) => {
      printed += chunk;
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      const deadline = Date.now() + 60_000;
      while (!/Stop with Ctrl\+C/.test(printed) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 200));
      const base = /the service at (http:\/\/127\.0\.0\.1:\d+)\//.exec(printed)?.[1];
      assert.ok(base, printed);
      const curls = [...printed.matchAll(/curl '([^']+)'/g)].map((match) => match[1] as string);
      assert.ok(curls.length >= 10, printed);
      for (const url of curls) await (await fetch(url)).arrayBuffer();
      const kinds = new Map<string, string>();
      for (const post of [curls[0], curls[1]]) {
        const { result } = (await (await fetch(post as string)).json()) as { result: Record<string, any> };
        const links: [string, string][] = [
          ["video", result.stream.video],
          ["watermark", result.stream.videoWatermark],
          ["music", result.stream.music],
          ["thumb", result.stream.thumb],
          ...((result.stream.images ?? []) as string[]).map((link): [string, string] => ["image", link]),
        ].filter((entry): entry is [string, string] => typeof entry[1] === "string");
        for (const [name, link] of links) {
          const response = await fetch(`${base}${link}`);
          assert.equal(response.status, 200, `${name}: ${link}`);
          kinds.set(`${result.type}:${name}`, kindOf(Buffer.from(await response.arrayBuffer())));
        }
      }
      assert.equal(kinds.get("video:video"), "mp4");
      assert.equal(kinds.get("video:watermark"), "mp4");
      assert.equal(kinds.get("video:music"), "mp3");
      assert.equal(kinds.get("video:thumb"), "jpeg");
      assert.equal(kinds.get("photo:image"), "jpeg");
    } finally {
      if (child.pid) process.kill(-child.pid, "SIGTERM");
      await exited;
      const targets = connectTargets(await readFile(trace, "utf8").catch(() => ""));
      await rm(dir, { recursive: true, force: true });
      assert.ok(targets.length > 0, "the trace saw the demo's own connections");
      assert.deepEqual(
        targets.filter((address) => !isLoopback(address)),
        [],
        "every connection the demo opened was to this machine",
      );
    }
  });
});
