import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { loadConfig } from "../src/service/config.js";
import { PROVIDERS } from "../src/sources/registry.js";
import { nativeSource } from "../src/sources/tiktok/web/index.js";
import { type Stack, startStack } from "./helpers.js";
import { freePort } from "./support/ports.js";

/** The rough edges a first-time user met (tried on a fresh clone). */
describe("what a new user hits", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ fake: { waf: false } });
  });
  after(() => stack.close());

  it("/docs works over plain http on any host: no upgrade-insecure-requests in its policy", async () => {
    const page = await stack.app.inject({
      url: "/docs",
      headers: { host: "tiktok-dl.lan:3000" },
    });
    assert.equal(page.statusCode, 200);
    const policy = String(page.headers["content-security-policy"]);
    assert.match(policy, /default-src 'self'/);
    assert.doesNotMatch(policy, /upgrade-insecure-requests/);
    // The page's own files come from the UI's app, built at the first visit.
    const style = await stack.app.inject({ url: "/docs/static/swagger-ui.css" });
    assert.deepEqual([style.statusCode, style.headers["content-type"]], [200, "text/css; charset=utf-8"]);
    const missing = await stack.app.inject({ url: "/docs/nope" });
    assert.deepEqual([missing.statusCode, missing.json().code], [404, "ROUTE_NOT_FOUND"]);
  });

  it("GET /api/download has a summary and a tag in the OpenAPI document", async () => {
    const openapi = (await stack.app.inject({ url: "/openapi.json" })).json() as {
      paths: Record<string, Record<string, { summary?: string; tags?: string[] }>>;
    };
    const get = openapi.paths["/api/download"]?.get;
    assert.ok(get?.summary);
    assert.deepEqual(get?.tags, ["download"]);
  });

  it("/favicon.ico is an icon, not a JSON 404", async () => {
    const icon = await stack.app.inject({ url: "/favicon.ico" });
    assert.equal(icon.statusCode, 200);
    assert.equal(icon.headers["content-type"], "image/svg+xml");
    assert.match(icon.body, /^<svg /);
  });
});

describe("operator messages", () => {
  it("TRUST_PROXY with a host name is refused naming the variable", () => {
    assert.throws(
      () => loadConfig({ TRUST_PROXY: "nginx" }),
      /TRUST_PROXY: expected true, a number of hops, or proxy IP/,
    );
    assert.deepEqual(loadConfig({ TRUST_PROXY: "10.0.0.1, 172.16.0.0/12, ::1" }).trustProxy, [
      "10.0.0.1",
      "172.16.0.0/12",
      "::1",
    ]);
    assert.throws(() => loadConfig({ TRUST_PROXY: "10.0.0.1/40" }), /TRUST_PROXY/);
  });

  it("a missing TIKTOK_COOKIES file stops the start, naming it", async () => {
    await assert.rejects(
      startStack({ fake: { waf: false }, env: { TIKTOK_COOKIES: "/nonexistent/cookies.txt" } }),
      /TIKTOK_COOKIES: cannot read \/nonexistent\/cookies\.txt \(ENOENT\)/,
    );
  });

  it("/api/health lists the sources SOURCES leaves out as disabled, not ok", async () => {
    const stack = await startStack({
      fake: { waf: false },
      env: { SOURCES: "native" },
      deps: { sources: [nativeSource, ...PROVIDERS.filter((provider) => provider.name === "tikwm")] },
    });
    try {
      const health = (await stack.app.inject({ url: "/api/health" })).json() as {
        sources: { name: string; state: string }[];
      };
      assert.deepEqual(
        health.sources.map((source) => [source.name, source.state]),
        [
          ["native", "ok"],
          ["tikwm", "disabled"],
        ],
      );
    } finally {
      await stack.close();
    }
  });
});

describe("operator messages at start", () => {
  const capture = () => {
    const lines: string[] = [];
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    return { lines, logStream };
  };

  it("an unreachable Redis at start is one clear warning naming REDIS_URL, without the password", async () => {
    const port = await freePort();
    const { lines, logStream } = capture();
    const stack = await startStack({
      fake: { waf: false },
      env: { REDIS_URL: `redis://:sesame@127.0.0.1:${port}/2`, LOG_LEVEL: "warn" },
      deps: { logger: {}, logStream },
    });
    try {
      const log = lines.join("");
      assert.match(
        log,
        new RegExp(`"REDIS_URL":"redis://127\\.0\\.0\\.1:${port}/2".*REDIS_URL: Redis does not answer`),
      );
      assert.doesNotMatch(log, /sesame/);
    } finally {
      await stack.close();
    }
  });

  it("a cookies file with no live TikTok cookie is a warning at start", async () => {
    const folder = await mkdtemp(join(tmpdir(), "tiktok-dl-cookies-"));
    const path = join(folder, "cookies.txt");
    await writeFile(
      path,
      ".tiktok.com\tTRUE\t/\tTRUE\t1000000000\tsessionid\told\n.youtube.com\tTRUE\t/\tTRUE\t0\tSID\tx\n",
    );
    const { lines, logStream } = capture();
    const stack = await startStack({
      fake: { waf: false },
      env: { TIKTOK_COOKIES: path, LOG_LEVEL: "warn" },
      deps: { logger: {}, logStream },
    });
    try {
      assert.match(lines.join(""), /"level":40.*cookies file read: it holds no live cookie for tiktok\.com/);
    } finally {
      await stack.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});

/** This process's environment for a nested test run: without the outer runner's context, so it reports on its own. */
function childEnv(extra: Record<string, string>) {
  const { NODE_TEST_CONTEXT: _outer, ...env } = process.env;
  return { ...env, ...extra };
}

describe("tests tell the truth", () => {
  it("without Chromium, the page tests are counted as skipped", async () => {
    const run = promisify(execFile);
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "--test", "--test-reporter=tap", "test/slow/web-page.test.ts"],
      { cwd: fileURLToPath(new URL("..", import.meta.url)), env: childEnv({ CHROMIUM_PATH: "none" }) },
    );
    const skipped = Number(/^# skipped (\d+)$/m.exec(stdout)?.[1]);
    assert.ok(skipped >= 8, `the count says ${skipped} skipped`);
    assert.match(stdout, /# SKIP no Chromium installed/);
  });
});
