import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConfigError, loadConfig, readEnvFileAsync } from "../src/service/config.js";

describe("settings files are read only when they are small regular files", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tiktok-dl-settings-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const refused = (env: Record<string, string>, pattern: RegExp) =>
    assert.throws(
      () => loadConfig(env),
      (error: unknown) => error instanceof ConfigError && pattern.test(error.message),
    );

  it("refuses /dev/zero, a FIFO and a directory at once, naming ENV_FILE", () => {
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    for (const path of ["/dev/zero", fifo, dir])
      refused({ ENV_FILE: path }, /^ENV_FILE: .*not a regular file/);
  });

  it("refuses a huge file without reading it, at start and when it changes", async () => {
    const huge = join(dir, "huge.env");
    await writeFile(huge, "PORT=3000\n");
    await truncate(huge, 300 * 1024 * 1024);
    refused({ ENV_FILE: huge }, /^ENV_FILE: .*larger than 1048576 bytes/);
    const started = performance.now();
    await assert.rejects(readEnvFileAsync(huge), /larger than/);
    assert.ok(performance.now() - started < 1_000, "refused from its size, not read");
  });

  it("reads a good file as before", async () => {
    const good = join(dir, "good.env");
    await writeFile(good, "PORT=3123\nRATE_LIMIT=7\n");
    assert.equal(loadConfig({ ENV_FILE: good }).port, 3123);
    assert.deepEqual(await readEnvFileAsync(good), { PORT: "3123", RATE_LIMIT: "7" });
  });

  it("an unreadable REDIS_URL and a HOST with a newline are named, and not echoed", () => {
    refused({ REDIS_URL: "redis://bad host:6379" }, /REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL/);
    assert.throws(
      () => loadConfig({ HOST: "127.0.0.1\nX-Injected: yes" }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /HOST: expected a host name/.test(error.message) &&
        !/Injected/.test(error.message),
    );
    assert.equal(loadConfig({ HOST: "::" }).host, "::");
    assert.equal(loadConfig({ HOST: "0.0.0.0" }).host, "0.0.0.0");
  });
});
