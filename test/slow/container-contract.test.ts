import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmod, cp, mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { FakeTikTok, SAMPLE_IDS } from "../fakes/tiktok.js";
import { freePort } from "../support/ports.js";

const run = promisify(execFile);
const PROJECT = fileURLToPath(new URL("../..", import.meta.url));
/** The image's unprivileged user, as far as this machine can play it (root can; others run as themselves). */
const NOBODY = process.getuid?.() === 0 ? { uid: 65_534, gid: 65_534 } : {};

/** Every file and folder below `dir` read-only (folders still listable), as `read_only: true` makes it. */
async function makeReadOnly(dir: string) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await makeReadOnly(path);
    else if (entry.isFile()) await chmod(path, (await stat(path)).mode & 0o555);
  }
  await chmod(dir, 0o555);
}

/**
 * The container as the Dockerfile builds and runs it, without Docker (no engine runs here): the build
 * stage (npm ci, build), the final stage (package files, production dependencies, dist/src, web), a
 * read-only tree, an unprivileged user with no HOME and only /tmp writable, `node dist/src/server.js`.
 */
describe("the container contract", () => {
  let root: string;
  let fake: FakeTikTok;
  let server: ChildProcess | undefined;
  let base: string;
  let output = "";

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "tiktok-dl-container-"));
    await chmod(root, 0o755);
    const build = join(root, "build");
    const app = join(root, "app");
    for (const path of [
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "tsconfig.build.json",
      "src",
      "web",
    ])
      await cp(join(PROJECT, path), join(build, path), { recursive: true });
    const npm = { cwd: build, maxBuffer: 32 * 1024 * 1024, timeout: 240_000 };
    await run("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund"], npm);
    await run("npm", ["run", "build"], npm);
    await mkdir(app);
    for (const path of ["package.json", "package-lock.json", "web"])
      await cp(join(build, path), join(app, path), { recursive: true });
    await cp(join(build, "dist", "src"), join(app, "dist", "src"), { recursive: true });
    await run("npm", ["ci", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund"], {
      ...npm,
      cwd: app,
    });
    await rm(build, { recursive: true, force: true });
    await makeReadOnly(app);

    fake = await new FakeTikTok({ waf: true }).start();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, ["dist/src/server.js"], {
      cwd: app,
      ...NOBODY,
      // No HOME: nothing may be written beside the process but /tmp.
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        NODE_ENV: "production",
        HOST: "127.0.0.1",
        PORT: String(port),
        STREAM_SECRET: "container-contract-secret-0123456789",
        UPSTREAM_TIKTOK: fake.url,
        ALLOW_PRIVATE_UPSTREAMS: "1",
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    server.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    for (let i = 0; i < 100; i++) {
      const up = await fetch(`${base}/api/health`).then(
        (response) => response.ok,
        () => false,
      );
      if (up) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the server did not start:\n${output}`);
  });

  after(async () => {
    server?.kill("SIGKILL");
    await fake?.close();
    await chmod(join(root, "app"), 0o755).catch(() => {});
    await run("chmod", ["-R", "u+w", root]).catch(() => {});
    await rm(root, { recursive: true, force: true });
  });

  it("starts read-only as an unprivileged user, answers health and a download through the fake, and stops on SIGTERM", async () => {
    const health = (await (await fetch(`${base}/api/health`)).json()) as { status: string; version: string };
    assert.equal(health.status, "ok");
    assert.match(health.version, /^\d+\.\d+\.\d+/);
    const answer = await fetch(
      `${base}/api/download?url=${encodeURIComponent(`https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`)}`,
    );
    assert.equal(answer.status, 200, await answer.clone().text());
    const { result } = (await answer.json()) as { result: { stream: { video: string } } };
    const file = await fetch(`${base}${result.stream.video}`);
    assert.equal(file.status, 200);
    assert.equal((await file.arrayBuffer()).byteLength, 1_048_576);
    assert.equal(fake.wafChallenges, 1, "the WAF solved in a worker thread of the built code");
    const exited = new Promise<number | null>((resolve) => server?.once("exit", (code) => resolve(code)));
    server?.kill("SIGTERM");
    assert.equal(await exited, 0, output);
    assert.doesNotMatch(output, /EACCES|EROFS|permission denied/i, "nothing tried to write");
  });
});
