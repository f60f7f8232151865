import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { describe, it } from "node:test";
import { isPrivateAddress } from "../src/net/addresses.js";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import { download, startStack, videoSourceAt } from "./helpers.js";

describe("addresses an upstream fetch may not reach", () => {
  const refused = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "0.0.0.0",
    "100.64.0.1", // carrier-grade NAT
    "192.0.2.10", // TEST-NET-1
    "198.51.100.7", // TEST-NET-2
    "203.0.113.9", // TEST-NET-3
    "198.18.0.1", // benchmarking
    "224.0.0.1", // multicast
    "240.0.0.1", // reserved
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "2001:db8::1", // documentation
    "::ffff:10.0.0.1", // IPv4-mapped
    "::a00:1", // IPv4-compatible ::10.0.0.1
    "::7f00:1", // IPv4-compatible ::127.0.0.1
    "64:ff9b::a00:1", // NAT64
    "2002:a00:1::1", // 6to4
    "2001::1", // Teredo
    "[::1]",
  ];
  for (const address of refused)
    it(`refuses ${address}`, () => assert.equal(isPrivateAddress(address), true));

  for (const address of ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "142.250.74.110"])
    it(`allows the public unicast ${address}`, () => assert.equal(isPrivateAddress(address), false));

  it("refuses every address of this machine's own interfaces, public ones included", () => {
    const own = Object.values(networkInterfaces())
      .flatMap((entries) => entries ?? [])
      .map((entry) => entry.address);
    assert.ok(own.length > 0);
    for (const address of own) assert.equal(isPrivateAddress(address), true, address);
  });
});

describe("a media answer without a media Content-Type", () => {
  it("is refused, not relayed as video/mp4", async () => {
    const bare = createServer((_request, response) => {
      response.removeHeader("content-type");
      response.writeHead(200, { "content-length": "4" }).end("data");
    });
    await new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/file`;
    const untyped = videoSourceAt("untyped", url);
    const stack = await startStack({ env: { ALLOW_PRIVATE_UPSTREAMS: "1" }, deps: { sources: [untyped] } });
    try {
      const { body } = await download(stack.app, {
        url: `https://www.tiktok.com/@a/video/${SAMPLE_IDS.video}`,
      });
      const file = await stack.app.inject({ url: body.result.stream.video });
      assert.equal(file.statusCode, 502);
      assert.equal(file.json().code, "UPSTREAM_FAILED");
    } finally {
      await stack.close();
      await new Promise((resolve) => bare.close(resolve));
    }
  });
});
