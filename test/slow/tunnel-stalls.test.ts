import assert from "node:assert/strict";
import type { Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { SCENARIO_IDS } from "../fakes/tiktok.js";
import { delay, download, type Stack, startStack } from "../helpers.js";

/**
 * A raw client for one tunnel link that reads only when told (`read(bytes)` takes what the socket holds,
 * up to about that much). When the server cuts it is seen on the server's side of the connection: a
 * client that does not read would not see the end for a long time (the kernel still holds megabytes).
 */
function tunnelClient(server: Server, path: string) {
  const { port } = server.address() as AddressInfo;
  const socket = connect(port, "127.0.0.1");
  const started = Date.now();
  let received = 0;
  // Paused mode: Node fills its small buffer and stops taking from the kernel until we read.
  socket.on("readable", () => {});
  socket.on("error", () => {});
  const cut = new Promise<number>((resolve) => {
    const match = (serverSide: Socket) => {
      if (serverSide.remotePort !== socket.localPort) return;
      server.off("connection", match);
      serverSide.once("close", () => resolve(Date.now() - started));
    };
    server.on("connection", match);
  });
  socket.write(`GET ${path} HTTP/1.1\r\nhost: localhost\r\n\r\n`);
  return {
    socket,
    cut,
    received: () => received,
    read(bytes: number) {
      const until = received + bytes;
      while (received < until) {
        const chunk = socket.read() as Buffer | null;
        if (!chunk) return;
        received += chunk.length;
      }
    },
  };
}

const largeVideo = async (stack: Stack) => {
  await stack.app.listen({ port: 0, host: "127.0.0.1" });
  const { body } = await download(stack.app, {
    url: `https://www.tiktok.com/@river.cooks/video/${SCENARIO_IDS.large}`,
  });
  return body.result.stream.video as string;
};

describe("tunnel clients that do not read", () => {
  it("with the defaults: cut after a minute without reading or under 8 KiB/s; a steady slow reader stays", {
    timeout: 120_000,
  }, async () => {
    const stack = await startStack({ fake: { waf: false }, env: { ALLOW_PRIVATE_UPSTREAMS: "1" } });
    const timers: NodeJS.Timeout[] = [];
    const clients: ReturnType<typeof tunnelClient>[] = [];
    try {
      const video = await largeVideo(stack);
      const server = stack.app.server;
      // Stops reading once its buffers are full.
      const stopper = tunnelClient(server, video);
      // About 16 KiB every 20 s: under 1 KiB/s, and the peer never learns how little it is.
      const trickler = tunnelClient(server, video);
      const trickle = setInterval(() => trickler.read(16 * 1024), 20_000);
      // 64 KiB a second, the pace of a poor mobile link.
      const steady = tunnelClient(server, video);
      const since = Date.now();
      const pace = setInterval(
        () => steady.read(((Date.now() - since) / 1000) * 64 * 1024 - steady.received()),
        100,
      );
      timers.push(trickle, pace);
      clients.push(stopper, trickler, steady);

      const [stopperCut, tricklerCut] = await Promise.all([stopper.cut, trickler.cut]);
      for (const [name, ms] of [
        ["stopper", stopperCut],
        ["trickler", tricklerCut],
      ] as const)
        assert.ok(ms >= 59_000 && ms < 75_000, `the ${name} was cut after ${ms} ms`);
      const steadyCut = await Promise.race([steady.cut, delay(5_000).then(() => "still running")]);
      assert.equal(steadyCut, "still running", "the steady reader still downloads");
      assert.ok(steady.received() > 64 * 1024 * 60, `the steady reader got ${steady.received()} bytes`);
    } finally {
      for (const timer of timers) clearInterval(timer);
      for (const client of clients) client.socket.destroy();
      await stack.close();
    }
  });
});
