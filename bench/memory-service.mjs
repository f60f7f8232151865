// The service as `npm run bench:memory` measures it: the built code (dist/), in its own process, told by
// its parent over IPC when to collect garbage and report its memory. Run with --expose-gc.
const mode = process.argv[2] ?? "service";
let server;
if (mode === "bare") {
  // The baseline: a bare Node HTTP server answering JSON.
  const { createServer } = await import("node:http");
  server = createServer((_request, response) => response.end('{"ok":true}'));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
} else {
  // Loaded only here: the bare baseline must not carry the service's modules.
  const { createApp } = await import("../dist/src/http/app.js");
  const { loadConfig } = await import("../dist/src/service/config.js");
  const app = await createApp(loadConfig(process.env));
  await app.listen({ port: 0, host: "127.0.0.1" });
  server = app.server;
}

const reading = () => {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  const memory = process.memoryUsage();
  return {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
  };
};
// The bench that started this process went away: so does this process.
process.on("disconnect", () => process.exit(0));
process.on("message", (message) => {
  if (message === "measure") process.send?.({ kind: "reading", ...reading() });
  if (message === "exit") process.exit(0);
  if (message === "snapshot")
    import("node:v8").then((v8) => process.send?.({ kind: "snapshot", file: v8.writeHeapSnapshot() }));
});
process.send?.({ kind: "ready", port: server.address().port });
