import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./ports.js";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a redis command against one port and answers its reply (null when nothing answers). */
async function ask(port: number, ...command: string[]): Promise<unknown> {
  const client = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return await client.call(command[0] as string, ...command.slice(1));
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await pause(100);
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

/** A plain node on `port`, keeping nothing on disk; `extra` adds to it. */
const nodeArgs = (port: number, ...extra: string[]) => [
  "--port",
  String(port),
  "--bind",
  "127.0.0.1",
  "--save",
  "",
  "--appendonly",
  "no",
  ...extra,
];

/** redis-server processes of a test's own, in a folder of its own, all stopped by `stop()`. */
class Processes {
  readonly children = new Map<number, ChildProcess>();
  constructor(readonly dir: string) {}

  spawn(port: number, args: string[]) {
    this.children.set(port, spawn("redis-server", args, { stdio: "ignore", cwd: this.dir }));
  }

  async kill(port: number) {
    const child = this.children.get(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  async stop() {
    await Promise.all([...this.children.keys()].map((port) => this.kill(port)));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A Redis Cluster of three masters (no replicas) on spare ports, made with `redis-cli --cluster create`. */
export class OwnCluster {
  private constructor(
    private readonly processes: Processes,
    readonly ports: number[],
  ) {}

  static async start(): Promise<OwnCluster> {
    const processes = new Processes(await mkdtemp(join(tmpdir(), "tiktok-dl-cluster-")));
    const ports = [await freePort(), await freePort(), await freePort()];
    for (const port of ports)
      processes.spawn(
        port,
        nodeArgs(
          port,
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          `nodes-${port}.conf`,
          "--cluster-node-timeout",
          "2000",
        ),
      );
    for (const port of ports)
      await until(async () => (await ask(port, "PING")) === "PONG", `node ${port} answering`);
    const created = spawnSync(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...ports.map((port) => `127.0.0.1:${port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    if (created.status !== 0)
      throw new Error(`redis-cli --cluster create failed: ${created.stderr || created.stdout}`);
    for (const port of ports)
      await until(
        async () => String(await ask(port, "CLUSTER", "INFO")).includes("cluster_state:ok"),
        `cluster on ${port}`,
      );
    return new OwnCluster(processes, ports);
  }

  /** `REDIS_CLUSTER_NODES` for this cluster. */
  get nodes() {
    return this.ports.map((port) => `127.0.0.1:${port}`).join(",");
  }

  killMaster(index: number) {
    return this.processes.kill(this.ports[index] as number);
  }

  stop() {
    return this.processes.stop();
  }
}

/** A master and one Sentinel that watches it as `mymaster`, on spare ports. */
export class OwnSentinel {
  private constructor(
    private readonly processes: Processes,
    readonly masterPort: number,
    readonly sentinelPort: number,
  ) {}

  static async start(): Promise<OwnSentinel> {
    const dir = await mkdtemp(join(tmpdir(), "tiktok-dl-sentinel-"));
    const processes = new Processes(dir);
    const masterPort = await freePort();
    const sentinelPort = await freePort();
    processes.spawn(masterPort, nodeArgs(masterPort));
    await until(async () => (await ask(masterPort, "PING")) === "PONG", "the master answering");
    const config = join(dir, "sentinel.conf");
    await writeFile(
      config,
      [
        `port ${sentinelPort}`,
        "bind 127.0.0.1",
        `sentinel monitor mymaster 127.0.0.1 ${masterPort} 1`,
        "sentinel down-after-milliseconds mymaster 2000",
        "",
      ].join("\n"),
    );
    processes.spawn(sentinelPort, [config, "--sentinel"]);
    await until(
      async () => Array.isArray(await ask(sentinelPort, "SENTINEL", "get-master-addr-by-name", "mymaster")),
      "the sentinel naming its master",
    );
    return new OwnSentinel(processes, masterPort, sentinelPort);
  }

  /** `REDIS_SENTINELS` for this Sentinel. */
  get sentinels() {
    return `127.0.0.1:${this.sentinelPort}`;
  }

  stop() {
    return this.processes.stop();
  }
}
