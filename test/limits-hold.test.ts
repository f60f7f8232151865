import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { clientAddress } from "../src/http/access.js";
import { createClient } from "../src/library/index.js";
import { makePosts, makeProfile } from "./fakes/profiles.js";
import { delay, type Stack, startStack } from "./helpers.js";

describe("rate limits that hold for IPv6 sites and odd forwarded addresses", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      fake: { waf: false },
      env: { RATE_LIMIT: "2", RATE_LIMIT_IPV6_SITE: "3", TRUST_PROXY: "true" },
    });
  });
  after(() => stack.close());

  /** One counted request from a forwarded client address: its status. */
  const from = async (forwarded: string) =>
    (
      await stack.app.inject({
        url: "/api/download",
        query: { url: "https://example.com/not-tiktok" },
        headers: { "x-forwarded-for": forwarded },
      })
    ).statusCode;

  it("many /64s of one /48 share the /48's bound (3 budgets of 2 here)", async () => {
    const statuses: number[] = [];
    for (let net = 1; net <= 5; net++)
      for (let i = 0; i < 2; i++) statuses.push(await from(`2001:db8:aa:${net}::${i + 1}`));
    assert.deepEqual(statuses.slice(0, 6), [400, 400, 400, 400, 400, 400], "three /64s spend their budgets");
    assert.deepEqual(statuses.slice(6), [429, 429, 429, 429], "a fourth /64 of the same /48 is held back");
    assert.equal(await from("2001:db8:bb:1::1"), 400, "another /48 has budgets of its own");
  });

  it("6to4 and Teredo count as the IPv4 address they carry; ports and brackets are dropped", async () => {
    assert.deepEqual(clientAddress("2002:c000:022d::1"), { client: "192.0.2.45" });
    assert.deepEqual(clientAddress("2001:0:4136:e378:8000:63bf:3fff:fdd2"), { client: "192.0.2.45" });
    assert.deepEqual(clientAddress("::ffff:192.0.2.45"), { client: "192.0.2.45" });
    assert.deepEqual(clientAddress("192.0.2.45:8443"), { client: "192.0.2.45" });
    assert.equal(clientAddress("[2001:db8:1:2::5]:443").client, clientAddress("2001:db8:1:2::9").client);
    assert.throws(
      () => clientAddress(undefined),
      { status: 400 },
      "a connection already gone has no address",
    );
    assert.equal(await from("198.51.100.7"), 400);
    assert.equal(await from("2002:c633:6407::1"), 400, "the same IPv4 client through 6to4");
    assert.equal(await from("198.51.100.7:5555"), 429, "and with a port: still the same client");
  });

  it("a forwarded value that is not an address is refused, never a new budget", async () => {
    for (const odd of ["not-an-address", "1.2.3", "[::1", "0x7f.1", "999.1.1.1"]) {
      const response = await stack.app.inject({
        url: "/api/download",
        query: { url: "https://example.com/x" },
        headers: { "x-forwarded-for": odd },
      });
      assert.equal(response.statusCode, 400, odd);
      assert.equal(response.json().code, "INVALID_REQUEST", odd);
    }
  });
});

describe("a client that goes away", () => {
  it("is logged at info without a stack, not as an error", async () => {
    const logged: { level: number; msg: string; err?: unknown }[] = [];
    const stack = await startStack({
      fake: { waf: false },
      deps: {
        logger: { level: "info" },
        logStream: { write: (line: string) => logged.push(JSON.parse(line)) },
      },
    });
    try {
      stack.fake.profiles.set(
        "slow.lister",
        makeProfile("slow.lister", makePosts(3, { salt: 14_100 }), { listDelayMs: 600 }),
      );
      await stack.app.listen({ port: 0, host: "127.0.0.1" });
      const base = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
      const controller = new AbortController();
      const leaving = fetch(
        `${base}/api/list?url=${encodeURIComponent("https://www.tiktok.com/@slow.lister")}`,
        {
          signal: controller.signal,
        },
      ).catch(() => undefined);
      await delay(200);
      controller.abort();
      await leaving;
      await delay(900);
      assert.deepEqual(
        logged.filter((line) => line.level >= 50).map((line) => line.msg),
        [],
      );
      const gone = logged.find((line) => /went away/.test(line.msg));
      assert.ok(gone, JSON.stringify(logged.map((line) => line.msg)));
      assert.equal(gone.level, 30);
      assert.equal(gone.err, undefined, "no stack");
    } finally {
      await stack.close();
    }
  });
});

describe("a cookie file with a NUL in a value", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tiktok-dl-nul-cookie-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("is refused when it is read, naming the line, for TIKTOK_COOKIES and the library's cookies", async () => {
    const text =
      "# Netscape HTTP Cookie File\n.tiktok.com\tTRUE\t/\tTRUE\t0\tmsToken\tfine\n.tiktok.com\tTRUE\t/\tTRUE\t0\tsessionid\tab\u0000cd\n";
    const path = join(dir, "cookies.txt");
    await writeFile(path, text);
    await assert.rejects(
      startStack({ fake: { waf: false }, env: { TIKTOK_COOKIES: path } }),
      /TIKTOK_COOKIES.*line 3.*sessionid.*control character/,
    );
    const client = createClient({
      cookies: text,
      upstreams: { tiktok: "http://127.0.0.1:9" },
      allowPrivateUpstreams: true,
    });
    try {
      await assert.rejects(
        client.listPage("https://www.tiktok.com/@someone/liked"),
        /cookies: line 3.*control character/,
      );
    } finally {
      await client.close();
    }
  });
});

describe("heap-based load shedding", () => {
  it("reacts at 1 GiB by default, or at three quarters of a smaller heap limit, well before V8's limit", async () => {
    const { defaultHeapCapMb } = await import("../src/http/load-shedding.js");
    assert.equal(defaultHeapCapMb(4144 * 1024 ** 2), 1024, "not at 3.7 GB of a 4 GB heap");
    assert.equal(defaultHeapCapMb(1024 * 1024 ** 2), 768);
  });
});
