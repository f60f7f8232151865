import assert from "node:assert/strict";
import { randomBytes, randomInt } from "node:crypto";
import { describe, it } from "node:test";
import { decodePackedScript, MAX_PACKED_BYTES, PackedScriptError } from "../src/sources/packed-script.js";
import { packScript } from "./fakes/packer.js";
import { readFixture } from "./fixtures/index.js";

/** A random alphabet of distinct letters, long enough for the base and its delimiter. */
function randomAlphabet(base: number): string {
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".split("");
  for (let i = letters.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [letters[i], letters[j]] = [letters[j] as string, letters[i] as string];
  }
  return letters.slice(0, Math.max(base + 1, 9)).join("");
}

describe("packed-script decoder", () => {
  it("decodes the captured snaptik answer without running it", () => {
    const text = decodePackedScript(readFixture("providers/snaptik.packed.js"));
    assert.ok(text.length > 4000 && text.length < 5000, `length ${text.length}`);
    assert.match(text, /download-box/);
    assert.match(text, /video-links/);
    assert.match(text, /d\.rapidcdn\.app\/v2\?token=/);
    assert.match(text, /^if\(\(Math\.round\(\+new Date\(\)\/1000\)\) < \d+\)/);
  });

  it("decodes the captured savetik answer", () => {
    const text = decodePackedScript(readFixture("providers/savetik.packed.js"));
    assert.match(text, /download-section/);
    assert.match(text, /savetik-downloader/);
    assert.match(text, /d\.rapidcdn\.app\/d\?token=/);
  });

  it("round-trips text through the encoder with random parameters", () => {
    for (let round = 0; round < 200; round++) {
      const base = randomInt(2, 11);
      const alphabet = randomAlphabet(base);
      const offset = randomInt(0, 60);
      const text = `<a href="https://example.test/${randomBytes(8).toString("hex")}">ünïcødé 🎵 ${round}</a>${randomBytes(randomInt(0, 200)).toString("base64")}`;
      const packed = packScript(text, { alphabet, base, offset, u: randomInt(0, 99), r: randomInt(0, 99) });
      assert.equal(decodePackedScript(packed), text, `base ${base} alphabet ${alphabet} offset ${offset}`);
    }
  });

  it("answers malformed input with a typed error, never another exception or a hang", () => {
    const packed = packScript('document.getElementById("download").innerHTML = "<p>ok</p>";', {
      base: 3,
      alphabet: "VfxpsmHlr",
    });
    const started = Date.now();
    let decoded = 0;
    for (let round = 0; round < 3000; round++) {
      const chars = packed.split("");
      const edits = randomInt(1, 6);
      for (let edit = 0; edit < edits; edit++) {
        const at = randomInt(chars.length);
        const kind = randomInt(4);
        if (kind === 0) chars.splice(at, 1);
        else if (kind === 1) chars.splice(at, 0, String.fromCharCode(randomInt(32, 127)));
        else if (kind === 2) chars[at] = String.fromCharCode(randomInt(0, 0x2fff));
        else chars.splice(at, randomInt(1, 50));
      }
      try {
        const text = decodePackedScript(chars.join(""));
        assert.equal(typeof text, "string");
        decoded++;
      } catch (error) {
        assert.ok(error instanceof PackedScriptError, `round ${round}: ${String(error)}`);
      }
    }
    assert.ok(Date.now() - started < 10_000);
    assert.ok(decoded > 0);
  });

  it("refuses oversized input, absurd bases and out-of-range bytes", () => {
    const isTyped = (error: unknown) => error instanceof PackedScriptError;
    assert.throws(() => decodePackedScript(`${" ".repeat(MAX_PACKED_BYTES)}x`), isTyped);
    assert.throws(() => decodePackedScript("alert(1)"), isTyped);
    assert.throws(() => decodePackedScript('eval(function(h,u,n,t,e,r){}("HbHc",1,"Hbc",0,99,1))'), isTyped);
    assert.throws(
      () => decodePackedScript('eval(function(h,u,n,t,e,r){}("bbbbbbbbbbbbbc",1,"Hbc",0,2,1))'),
      isTyped,
    );
    assert.throws(
      () => decodePackedScript(`eval(function(h,u,n,t,e,r){}("${"b".repeat(100)}c",1,"Hbc",0,2,1))`),
      isTyped,
    );
    assert.throws(() => decodePackedScript('eval(function(h,u,n,t,e,r){}("HbHb",1,"Hbc",0,2,1))'), isTyped);
  });
});

describe("no code execution anywhere in the service", () => {
  it("has no eval, new Function, vm or sandbox in src/", async () => {
    const { readdir, readFile } = await import("node:fs/promises");
    const root = new URL("../src/", import.meta.url);
    const files = (await readdir(root, { recursive: true })).filter((file) => file.endsWith(".ts"));
    assert.ok(files.length > 20);
    for (const file of files) {
      const code = (await readFile(new URL(file, root), "utf8"))
        .split("\n")
        .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
        .join("\n");
      assert.doesNotMatch(
        code,
        /\beval\s*\(|new\s+Function\b|["']node:vm["']|["']vm2?["']|isolated-vm/,
        file,
      );
    }
  });
});
