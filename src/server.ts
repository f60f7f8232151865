import { unwatchFile, watchFile } from "node:fs";
import { setFlagsFromString } from "node:v8";
import type { FastifyBaseLogger } from "fastify";

/**
 * What the modules' loading leaves behind while the server then waits, about 30 MiB of RSS on Node 24:
 * - V8 grows its young generation (to 2 × 16 MiB) when most young objects survive their collections, as
 *   they do while modules load, and keeps that size;
 * - its compilers past the interpreter (Sparkplug, Maglev, TurboFan) compile start-up code that runs once or twice, and the
 *   memory their threads took stays with the process.
 * The modules load with a growth factor of 1 and in the interpreter only; V8's own settings are back
 * once the server listens, so that load grows the young generation and optimizes hot code as before (a
 * cap such as `--max-semi-space-size` would cost throughput for good: docs/performance.md). An operator's
 * own V8 flags for either are left alone.
 */
function startUpLean(): () => void {
  const flags = `${process.execArgv.join(" ")} ${process.env.NODE_OPTIONS ?? ""}`;
  if (/semi[-_]space|maglev|sparkplug|[-_]opt\b|turbofan/.test(flags)) return () => {};
  // Maglev is on by default from Node 22 (V8 11.7) on: only then is it turned back on.
  const maglev = Number(process.versions.node.split(".")[0]) >= 22;
  setFlagsFromString("--semi-space-growth-factor=1");
  setFlagsFromString("--no-opt");
  setFlagsFromString("--no-sparkplug");
  if (maglev) setFlagsFromString("--no-maglev");
  return () => {
    setFlagsFromString("--semi-space-growth-factor=2");
    setFlagsFromString("--opt");
    setFlagsFromString("--sparkplug");
    if (maglev) setFlagsFromString("--maglev");
  };
}

async function main() {
  const loaded = startUpLean();
  // Loaded here, not imported above: the modules must load after the flag is set.
  const { createApp } = await import("./http/app.js");
  const settings = await import("./service/config.js");
  const config = settings.loadConfig();
  const app = await createApp(config);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "shutting down: finishing in-flight requests");
    const force = setTimeout(() => {
      app.log.error("in-flight requests did not finish within 30 s; exiting");
      process.exit(1);
    }, 30_000);
    force.unref();
    await app.close();
    process.exit(0);
  };
  if (process.env.ENV_FILE) watchEnvFile(process.env.ENV_FILE, app.log, settings);
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));

  await app.listen({ port: config.port, host: config.host });
  loaded();
}

/**
 * ENV_FILE is read at start, and again when it changes: a change is checked at once (a broken file is
 * reported, the running service keeps its settings) and applied at the next restart, which the log asks
 * for, naming the variables that changed (never their values: some are secrets).
 */
function watchEnvFile(
  path: string,
  log: FastifyBaseLogger,
  { loadConfig, readEnvFile, readEnvFileAsync }: typeof import("./service/config.js"),
) {
  let known = readEnvFile(path);
  let reading = false;
  watchFile(path, { interval: 2_000, persistent: false }, async () => {
    if (reading) return;
    reading = true;
    try {
      // Read off the event loop, within the size cap; checked as the start would check it.
      const now = await readEnvFileAsync(path);
      const { ENV_FILE: _file, ...environment } = process.env;
      loadConfig({ ...now, ...environment });
      const changed = [...new Set([...Object.keys(known), ...Object.keys(now)])].filter(
        (name) => known[name] !== now[name],
      );
      known = now;
      if (changed.length > 0)
        log.warn({ changed }, "ENV_FILE changed: restart the service to apply the new settings");
    } catch (error) {
      log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        "ENV_FILE changed and is not valid: the running settings stay",
      );
    } finally {
      reading = false;
    }
  });
  process.once("exit", () => unwatchFile(path));
}

main().catch((error: unknown) => {
  if (error instanceof Error && error.name === "ConfigError") {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error instanceof Error ? `Failed to start: ${error.message}` : error);
  process.exit(1);
});
