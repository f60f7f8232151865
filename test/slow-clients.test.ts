import assert from "node:assert/strict";
import { type AddressInfo, connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { delay, type Stack, startStack } from "./helpers.js";

const BODY = JSON.stringify({
  url: `https://www.tiktok.com/@a/video/7558765792041131240`,
  pad: "x".repeat(16_000),
});

async function listening(env: Record<string, string>): Promise<{ stack: Stack; port: number }> {
  const stack = await startStack({ env });
  await stack.app.listen({ port: 0, host: "127.0.0.1" });
  return { stack, port: (stack.app.server.address() as AddressInfo).port };
}

/** Opens a socket, sends the head of a POST, then the body in `pieces` pieces `everyMs` apart. */
function post(port: number, pieces: number, everyMs: number) {
  return new Promise<{ answer: string; ms: number }>((resolve) => {
    const started = performance.now();
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.on("data", (chunk) => {
      answer += chunk;
    });
    socket.on("close", () => resolve({ answer, ms: performance.now() - started }));
    socket.on("error", () => {});
    socket.write(
      `POST /api/download HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\nConnection: close\r\n\r\n`,
    );
    const size = Math.ceil(BODY.length / pieces);
    let sent = 0;
    const timer = setInterval(() => {
      if (socket.destroyed || sent >= BODY.length) return clearInterval(timer);
      socket.write(BODY.slice(sent, sent + size));
      sent += size;
    }, everyMs);
  });
}

describe("slow clients", () => {
  it("cuts a client that trickles its body, and lets a slow but steady one through", async () => {
    const { stack, port } = await listening({ REQUEST_TIMEOUT_MS: "1500", HEADERS_TIMEOUT_MS: "1000" });
    try {
      const trickle = await post(port, 1000, 200);
      assert.ok(trickle.ms < 4_000, `cut after ${trickle.ms.toFixed(0)} ms`);
      assert.match(trickle.answer, /^HTTP\/1\.1 408 /);
      assert.match(trickle.answer, /"code":"REQUEST_TIMEOUT"/);
      const steady = await post(port, 8, 100);
      assert.doesNotMatch(steady.answer, /^HTTP\/1\.1 408/);
      assert.match(steady.answer, /^HTTP\/1\.1 (200|400|502) /);
    } finally {
      await stack.close();
    }
  });

  it("caps the connections one client address holds (MAX_CONNECTIONS_PER_CLIENT)", async () => {
    const { stack, port } = await listening({ MAX_CONNECTIONS_PER_CLIENT: "3" });
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const socket = connect(port, "127.0.0.1");
        socket.on("error", () => {});
        sockets.push(socket);
        await new Promise((resolve) => socket.once("connect", resolve));
      }
      await delay(100);
      assert.deepEqual(
        sockets.map((socket) => socket.destroyed || socket.readableEnded),
        [false, false, false, true],
      );
      for (const socket of sockets) socket.destroy();
      await delay(100);
      const ping = await fetch(`http://127.0.0.1:${port}/api/ping`);
      assert.equal(ping.status, 200);
    } finally {
      for (const socket of sockets) socket.destroy();
      await stack.close();
    }
  });
});
