import assert from "node:assert/strict";
import { Agent, createServer, get } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import {
  delay,
  download,
  type Stack,
  scriptedSource,
  startStack,
  videoFrom,
  videoSourceAt,
} from "./helpers.js";

/** Sends raw bytes and returns what the server wrote back before closing. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    let answer = "";
    socket.on("data", (chunk) => {
      answer += chunk;
    });
    socket.on("close", () => resolve(answer));
    socket.on("error", reject);
  });
}

describe("answers Node gives before Fastify sees a request", () => {
  let stack: Stack;
  let port: number;
  before(async () => {
    stack = await startStack();
    await stack.app.listen({ port: 0, host: "127.0.0.1" });
    port = (stack.app.server.address() as AddressInfo).port;
  });
  after(() => stack.close());

  it("headers too large: 431 in the {error, code} shape", async () => {
    const answer = await raw(
      port,
      `GET /api/ping HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    assert.match(answer, /^HTTP\/1\.1 431 /);
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    assert.deepEqual(Object.keys(body).sort(), ["code", "error"]);
    assert.equal(body.code, "HEADERS_TOO_LARGE");
  });

  it("a request that is not HTTP: 400 in the {error, code} shape", async () => {
    const answer = await raw(port, "NOT HTTP AT ALL\r\n\r\n");
    assert.match(answer, /^HTTP\/1\.1 400 /);
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    assert.equal(body.code, "INVALID_REQUEST");
    assert.equal(body.statusCode, undefined);
  });
});

describe("a tunnel client that leaves before the media host answers", () => {
  it("is not an error: nothing logged as unexpected, no 500 counted", async () => {
    const slowHost = createServer((_request, response) => {
      setTimeout(() => response.writeHead(200, { "content-type": "video/mp4" }).end("late"), 1_000);
    });
    await new Promise<void>((resolve) => slowHost.listen(0, "127.0.0.1", resolve));
    const slowUrl = `http://127.0.0.1:${(slowHost.address() as AddressInfo).port}/slow.mp4`;
    const slow = videoSourceAt("slow", slowUrl);
    const logged: { level: number; msg: string }[] = [];
    const stack = await startStack({
      env: { ALLOW_PRIVATE_UPSTREAMS: "1" },
      deps: {
        sources: [slow],
        logger: { level: "info" },
        logStream: { write: (line: string) => logged.push(JSON.parse(line)) },
      },
    });
    try {
      await stack.app.listen({ port: 0, host: "127.0.0.1" });
      const base = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
      const { body } = await download(stack.app, {
        url: `https://www.tiktok.com/@a/video/${SAMPLE_IDS.video}`,
      });
      const controller = new AbortController();
      const leaving = fetch(`${base}${body.result.stream.video}`, { signal: controller.signal }).catch(
        () => undefined,
      );
      await delay(200);
      controller.abort();
      await leaving;
      await delay(1_200);
      assert.deepEqual(
        logged.filter((line) => line.level >= 50).map((line) => line.msg),
        [],
      );
      const metrics = (await stack.app.inject({ url: "/metrics" })).body;
      assert.doesNotMatch(metrics, /route="\/api\/stream\/:token",method="GET",status="500"/);
    } finally {
      await stack.close();
      await new Promise((resolve) => slowHost.close(resolve));
    }
  });
});

describe("request metrics", () => {
  it("count each request once, under its route, and unmatched ones under route unknown", async () => {
    const stack = await startStack();
    try {
      for (let i = 0; i < 3; i++) await stack.app.inject({ url: "/api/ping" });
      await stack.app.inject({ method: "HEAD", url: "/api/ping" });
      await stack.app.inject({ url: "/no/such/route" });
      const metrics = (await stack.app.inject({ url: "/metrics" })).body;
      const count = (labels: string) =>
        Number(
          metrics.match(
            new RegExp(`tiktokdl_http_request_duration_seconds_count\\{${labels}\\} (\\d+)`),
          )?.[1],
        );
      assert.equal(count('route="/api/ping",method="GET",status="200"'), 3);
      assert.equal(count('route="/api/ping",method="HEAD",status="200"'), 1);
      assert.equal(count('route="unknown",method="GET",status="404"'), 1);
      assert.doesNotMatch(metrics, /route="\/no\/such\/route"/, "unmatched paths are not labels");
    } finally {
      await stack.close();
    }
  });
});

describe("closing", () => {
  it("asks the client of a request in flight to drop its keep-alive socket", async () => {
    let release = () => {};
    let called = () => {};
    const sourceCalled = new Promise<void>((resolve) => {
      called = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = scriptedSource("slow", async (input) => {
      called();
      await gate;
      return videoFrom("slow")(input);
    });
    const stack = await startStack({ deps: { sources: [slow.descriptor] } });
    await stack.app.listen({ port: 0, host: "127.0.0.1" });
    const port = (stack.app.server.address() as AddressInfo).port;
    const agent = new Agent({ keepAlive: true });
    try {
      const answer = new Promise<{ status?: number; connection?: string }>((resolve, reject) => {
        const link = encodeURIComponent(`https://www.tiktok.com/@a/video/${SAMPLE_IDS.video}`);
        get({ port, host: "127.0.0.1", path: `/api/download?url=${link}`, agent }, (response) => {
          response.resume();
          resolve({ status: response.statusCode, connection: response.headers.connection });
        }).on("error", reject);
      });
      await sourceCalled;
      const closed = stack.close();
      await delay(50);
      release();
      const { status, connection } = await answer;
      assert.equal(status, 200);
      assert.equal(connection, "close");
      await closed;
    } finally {
      release();
      agent.destroy();
    }
  });
});
