import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { parse } from "yaml";

const read = (path: string) => readFile(new URL(`../${path}`, import.meta.url), "utf8");
/** Docker is not running on these machines: the files are checked as text, and by `docker compose config` where it works. */
const composeWorks = spawnSync("docker", ["compose", "version"], { encoding: "utf8" }).status === 0;

describe("the files operators deploy with", () => {
  it("Dockerfile: two stages on Node 24, production dependencies only, unprivileged, healthcheck, node as the command", async () => {
    const text = await read("Dockerfile");
    const stages = [...text.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\w+))?/gim)];
    assert.equal(stages.length, 2, "multi-stage");
    for (const [, image] of stages) assert.match(image ?? "", /^node:24[-.]/, "Node's major version pinned");
    const final = text.slice(text.lastIndexOf("FROM "));
    assert.match(final, /npm ci --omit=dev/);
    assert.match(final, /COPY --from=build \/app\/dist\/src \.\/dist\/src/);
    assert.match(final, /COPY web \.\/web/);
    assert.doesNotMatch(
      final,
      /COPY (src|test|bench|docs)\b/,
      "the final stage holds dist/, web/ and production dependencies only",
    );
    assert.match(final, /^USER node$/m);
    assert.match(final, /^EXPOSE 3000$/m);
    assert.match(final, /HOST=0\.0\.0\.0/);
    assert.match(final, /^HEALTHCHECK[\s\S]*\/api\/health/m);
    assert.match(final, /^CMD \["node", "dist\/src\/server\.js"\]$/m, "exec form, no npm in between");
    const ignore = await read(".dockerignore");
    assert.match(ignore, /^\*$/m, "everything is left out unless named");
    assert.doesNotMatch(ignore, /^!(node_modules|dist|test|\.env)/m);
  });

  it("compose.yaml: Redis on an internal network, the port on loopback, read-only, secrets required", async () => {
    const text = await read("compose.yaml");
    const compose = parse(text) as Record<string, any>;
    const service = compose.services["tiktok-dl"];
    const redis = compose.services.redis;
    assert.ok(service && redis);
    assert.equal(service.read_only, true);
    assert.ok(service.tmpfs.includes("/tmp"));
    assert.equal(service.restart, "unless-stopped");
    assert.equal(service.init, true, "SIGTERM reaches node through an init");
    assert.ok(
      service.ports.every((port: string) => port.startsWith("127.0.0.1:")),
      "published on loopback only",
    );
    assert.match(
      service.environment.STREAM_SECRET,
      /^\$\{STREAM_SECRET:\?/,
      "refuses to start without a secret",
    );
    assert.equal(service.environment.REDIS_URL, "redis://redis:6379");
    assert.ok(service.healthcheck.test.join(" ").includes("/api/health"));
    assert.equal(redis.ports, undefined, "Redis is not published");
    assert.deepEqual(redis.networks, ["internal"]);
    assert.equal(compose.networks.internal.internal, true);
    assert.ok(redis.healthcheck);
    assert.match(text, /# *TIKTOK_COOKIES:/);
    assert.match(text, /# *API_KEYS_FILE:/);
    assert.match(text, /replicas: 2/);
    if (composeWorks) {
      const checked = spawnSync("docker", ["compose", "-f", "compose.yaml", "config", "--quiet"], {
        cwd: new URL("..", import.meta.url),
        env: { ...process.env, STREAM_SECRET: "x".repeat(32) },
        encoding: "utf8",
      });
      assert.equal(checked.status, 0, checked.stderr);
    }
  });

  it("the systemd unit: a dedicated user, an environment file, hardening, restart on failure", async () => {
    const unit = await read("deploy/tiktok-dl.service");
    const directive = (name: string) => new RegExp(`^${name}=(.+)$`, "m").exec(unit)?.[1];
    assert.equal(directive("User"), "tiktok-dl");
    assert.equal(directive("EnvironmentFile"), "/etc/tiktok-dl/env");
    assert.equal(directive("ExecStart"), "/usr/bin/node dist/src/server.js");
    assert.equal(directive("Restart"), "on-failure");
    for (const [name, value] of [
      ["NoNewPrivileges", "yes"],
      ["ProtectSystem", "strict"],
      ["PrivateTmp", "yes"],
      ["ProtectHome", "yes"],
    ])
      assert.equal(directive(name as string), value, name);
  });

  it("the image, the unit and bench:memory run node with the same fixed malloc mmap threshold", async () => {
    const setting = /GLIBC_TUNABLES=(glibc\.malloc\.mmap_threshold=\d+)/;
    const image = setting.exec(await read("Dockerfile"))?.[1];
    const unit = /^Environment=GLIBC_TUNABLES=(.+)$/m.exec(await read("deploy/tiktok-dl.service"))?.[1];
    const bench = /GLIBC_TUNABLES: "(.+)"/.exec(await read("bench/memory.ts"))?.[1];
    assert.ok(image, "the image sets it");
    assert.equal(unit, image);
    assert.equal(bench, image);
  });

  it("the guide copies everything its later steps use: the unit, and the page the unit's Documentation names", async () => {
    const guide = await read("docs/run-an-instance.md");
    const section = guide.slice(guide.indexOf("## Without Docker (systemd)"));
    const copied = /copy into \/opt\/tiktok-dl:\n#\s+(.+)/.exec(section)?.[1]?.split(/\s+/) ?? [];
    const unit = await read("deploy/tiktok-dl.service");
    const documentation = /^Documentation=file:\/\/\/opt\/tiktok-dl\/(.+)$/m.exec(unit)?.[1];
    assert.ok(documentation && copied.includes(documentation), `${documentation} is copied`);
    const installed = /sudo cp \/opt\/tiktok-dl\/(\S+) \/etc\/systemd\/system\//.exec(section)?.[1];
    assert.ok(
      installed?.startsWith("deploy/") && copied.includes("deploy"),
      "the unit is installed from the copy",
    );
    assert.match(
      section,
      /ENV_FILE[\s\S]*EACCES[\s\S]*chmod 640/,
      "the guide says a root-only file is no ENV_FILE",
    );
  });

  it("the README's option table has every option the CLI's help has", async () => {
    const readme = await read("README.md");
    const { USAGE } = await import("../src/cli/options.js");
    const options = [...USAGE.matchAll(/^\s+(?:(-\w), )?(--[\w-]+)/gm)].map(([, short, long]) => ({
      short,
      long,
    }));
    assert.ok(options.length > 10);
    const table = readme.slice(
      readme.indexOf("| Option | Meaning |"),
      readme.indexOf("### In your own program"),
    );
    for (const { short, long } of options.filter(({ long }) => long !== "--help" && long !== "--version"))
      assert.ok(
        table.includes(`\`${long}`) || (short !== undefined && table.includes(`\`${short} `)),
        `${long} is in the README's table`,
      );
  });
});
