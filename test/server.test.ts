import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadConfig } from "../src/service/config.js";
import { FakeTikTok, SAMPLE_IDS, SCENARIO_IDS } from "./fakes/tiktok.js";
import { startServer } from "./support/server-process.js";

const exitCode = async (child: ChildProcess) => {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = await once(child, "exit");
  return code as number;
};

describe("the server process", () => {
  it("finishes in-flight requests on SIGTERM, then exits cleanly", async () => {
    const fake = await new FakeTikTok({ waf: false }).start();
    const server = startServer({ UPSTREAM_TIKTOK: fake.url });
    try {
      const base = await server.listening;
      const ping = await fetch(`${base}/api/ping`);
      assert.deepEqual(await ping.json(), { ok: true });
      const slowUrl = `https://www.tiktok.com/@river.cooks/video/${SCENARIO_IDS.slow}`;
      const inFlight = fetch(`${base}/api/download?type=native&url=${encodeURIComponent(slowUrl)}`);
      await new Promise((resolve) => setTimeout(resolve, 400));
      server.child.kill("SIGTERM");
      const response = await inFlight;
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { result: { id: string } }).result.id, SCENARIO_IDS.slow);
      assert.equal(await exitCode(server.child), 0);
      // One structured line per request, without the query string (it may carry anything).
      const lines = server
        .output()
        .split("\n")
        .filter((line) => line.includes('"msg":"request"'));
      assert.equal(lines.length, 2);
      const logged = JSON.parse(lines[1] as string);
      assert.equal(logged.path, "/api/download");
      assert.equal(logged.status, 200);
      assert.doesNotMatch(lines.join("\n"), new RegExp(SAMPLE_IDS.video));
    } finally {
      server.child.kill("SIGKILL");
      await fake.close();
    }
  });

  it("refuses to start on a bad variable, naming it", async () => {
    const server = startServer({ MAX_ATTEMPTS: "lots" });
    server.listening.catch(() => {});
    assert.equal(await exitCode(server.child), 2);
    assert.match(server.output(), /MAX_ATTEMPTS/);
  });
});

describe("ENV_FILE", () => {
  it("is read at start under the environment's own variables, and a change is reported by name", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tiktok-dl-envfile-"));
    const path = join(dir, "tiktok-dl.env");
    await writeFile(
      path,
      "# settings\nSTREAM_SECRET=from-the-env-file-0123456789\nRATE_LIMIT=7\nLOG_LEVEL=info\n",
    );
    try {
      const config = loadConfig({ ENV_FILE: path, RATE_LIMIT: "9" });
      assert.equal(config.streamSecret, "from-the-env-file-0123456789");
      assert.equal(config.rateLimit, 9, "the environment wins over the file");
      assert.throws(() => loadConfig({ ENV_FILE: join(dir, "missing.env") }), /ENV_FILE: cannot read/);

      const server = startServer({ ENV_FILE: path });
      await server.listening;
      await writeFile(path, "STREAM_SECRET=from-the-env-file-0123456789\nRATE_LIMIT=8\nLOG_LEVEL=info\n");
      for (let i = 0; i < 60 && !/ENV_FILE changed/.test(server.output()); i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      assert.match(server.output(), /"changed":\["RATE_LIMIT"\].*ENV_FILE changed: restart the service/);
      assert.doesNotMatch(server.output(), /from-the-env-file/, "values are never logged");
      server.child.kill("SIGTERM");
      assert.equal(await exitCode(server.child), 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
