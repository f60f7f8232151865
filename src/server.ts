import { createApp } from "./http/app.js";
import { ConfigError, loadConfig } from "./service/config.js";

async function main() {
  const config = loadConfig();
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
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));

  await app.listen({ port: config.port, host: config.host });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error instanceof Error ? `Failed to start: ${error.message}` : error);
  process.exit(1);
});
