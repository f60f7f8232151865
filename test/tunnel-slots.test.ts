import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTunnelSlots } from "../src/delivery/slots.js";

describe("tunnel slots", () => {
  it("count a client's files and pictures apart, within the one bound on every running tunnel", () => {
    const slots = createTunnelSlots(4, { file: 2, picture: 3 });
    const files = [slots.take("a"), slots.take("a")];
    assert.equal(slots.take("a"), "client-busy", "a third file of one client");
    const pictures = [slots.take("a", "picture"), slots.take("a", "picture")];
    assert.ok(
      pictures.every((release) => typeof release === "function"),
      "its pictures are not its files",
    );
    assert.equal(slots.take("b", "picture"), "busy", "four running in all: the bound holds for pictures too");
    assert.equal(slots.active, 4);
    for (const release of [...files, ...pictures]) if (typeof release === "function") release();
    assert.equal(slots.active, 0);
  });
});
