import { unwatchFile, watchFile } from "node:fs";
import type { FastifyBaseLogger } from "fastify";
import { createApp } from "./http/app.js";
import * as settings from "./service/config.js";

async function main() {
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
