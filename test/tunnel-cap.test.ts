import assert from "node:assert/strict";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { describe, it } from "node:test";
import { type Stack, startStack, videoSourceAt } from "./helpers.js";

const POST = "https://www.tiktok.com/@river.cooks/video/7558765792041131240";

/** A media host that writes a raw answer: `head` then `bytes` bytes of body, whatever `head` declared. */
async function rawHost(head: string, bytes: number) {
  const server = createTcpServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", () => {
      socket.write(head);
      socket.end(Buffer.alloc(bytes, 7));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.mp4` };
}

async function relayThrough(head: string, bytes: number, maxBytes: number) {
  const host = await rawHost(head, bytes);
  const stack: Stack = await startStack({
    env: {
      ALLOW_PRIVATE_UPSTREAMS: "1",
      STREAM_MAX_BYTES: String(maxBytes),
      STREAM_SECRET: "cap-secret-0123456789abcdef",
    },
    deps: { sources: [videoSourceAt("raw", host.url)] },
  });
  try {
    const answer = await stack.app.inject({ url: "/api/download", query: { url: POST } });
    // A transfer cut short makes inject fail: then nothing whole was relayed.
    const file = await stack.app.inject({ url: answer.json().result.stream.video }).catch(() => undefined);
    return file ? file.rawPayload.length : "cut";
  } finally {
    await stack.close();
    host.server.close();
  }
}

describe("the tunnel's size cap", () => {
  it("a declared length is all that is relayed, however many bytes the host sends", async () => {
    const relayed = await relayThrough(
      "HTTP/1.1 200 OK\r\ncontent-type: video/mp4\r\ncontent-length: 4096\r\nconnection: close\r\n\r\n",
      8192,
      6000,
    );
    assert.equal(relayed, 4096);
  });

  it("an undeclared length is cut at the cap", async () => {
    const relayed = await relayThrough(
      "HTTP/1.1 200 OK\r\ncontent-type: video/mp4\r\nconnection: close\r\n\r\n",
      200_000,
      100_000,
    );
    assert.ok(relayed === "cut" || relayed <= 100_000, `${relayed} bytes relayed past a cap of 100000`);
  });
});
