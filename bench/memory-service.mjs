// The service as `npm run bench:memory` measures it: the built code (dist/), in its own process, told by
// its parent over IPC when to collect garbage and report its memory. Run with --expose-gc.
const mode = process.argv[2] ?? "service";
let port;
if (mode === "bare") {
  // The baseline: a bare Node HTTP server answering JSON.
  const { createServer } = await import("node:http");
  const server = createServer((_request, response) => response.end('{"ok":true}'));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = server.address().port;
} else {
  // The service as `npm start` runs it: its process entry (loaded only here: the bare baseline must
  // not carry the service's modules), on the PORT the bench chose; ready when it takes connections.
  await import("../dist/src/server.js");
  port = Number(process.env.PORT);
  const { connect } = await import("node:net");
  const answers = () =>
    new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1", () => resolve(socket.end() && true));
      socket.once("error", () => resolve(false));
    });
  while (!(await answers())) await new Promise((resolve) => setTimeout(resolve, 50));
}

// "measure": what the waiting process holds (three full collections); "measure-reduced": what it keeps
// once V8 gives back the heap it grew under load and no longer needs, as its memory reducer does in an
// idle process (a last-resort collection).
const reading = (reduced) => {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  if (reduced) globalThis.gc?.({ type: "major", execution: "sync", flavor: "last-resort" });
  const memory = process.memoryUsage();
  return {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
  };
};
// The bench that started this process went away: so does this process.
process.on("disconnect", () => process.exit(0));
process.on("message", (message) => {
  if (message === "measure" || message === "measure-reduced")
    process.send?.({ kind: "reading", ...reading(message === "measure-reduced") });
  if (message === "exit") process.exit(0);
  if (message === "snapshot")
    import("node:v8").then((v8) => process.send?.({ kind: "snapshot", file: v8.writeHeapSnapshot() }));
});
process.send?.({ kind: "ready", port });
