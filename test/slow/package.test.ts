import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { FakeTikTok, SAMPLE_IDS } from "../fakes/tiktok.js";

const run = promisify(execFile);
const PROJECT = fileURLToPath(new URL("../..", import.meta.url));
const TSC = join(PROJECT, "node_modules", "typescript", "bin", "tsc");

/** A program of someone else's: it installs the packed tarball and uses the library, typed. */
const CONSUMER = `import { createClient, TikTokDlError, type PostResult, type TikTokDlClient } from "tiktok-dl";

const client: TikTokDlClient = createClient({
  upstreams: { tiktok: process.env.FAKE_TIKTOK ?? "" },
  allowPrivateUpstreams: true,
  cacheTtl: 600,
});
const link = process.env.LINK ?? "";
const result: PostResult = await client.download(link);
// The README's example, strict: the union narrows on type, additional is typed.
const music: string | undefined = result.additional.musicUrl;
const count: number = result.type === "photo" ? result.images.length : result.video.noWatermark ? 1 : 0;
const files: string[] = await client.save(link, { dir: process.env.OUT ?? ".", audio: true });
let code = "";
let status = 0;
try {
  await client.download("https://example.com/video/1");
} catch (error) {
  if (error instanceof TikTokDlError) {
    code = error.code;
    status = error.status;
  }
}
await client.close();
console.log(JSON.stringify({ id: result.id, type: result.type, files, code, status, music: Boolean(music), count }));
`;

describe("the packed library, from another project", { timeout: 300_000 }, () => {
  let folder: string;
  let fake: FakeTikTok;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), "tiktok-dl-pack-"));
    fake = await new FakeTikTok({ waf: false }).start();
  });
  after(async () => {
    await fake.close();
    await rm(folder, { recursive: true, force: true });
  });

  it("npm pack ships the built code, its types and the web page only; a TypeScript consumer type-checks and runs", async () => {
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", folder], {
      cwd: PROJECT,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf("["))) as {
      filename: string;
      files: { path: string }[];
    }[];
    assert.ok(packed);
    const paths = packed.files.map((file) => file.path);
    const outside = paths.filter(
      (path) =>
        !/^(dist\/src\/.+\.(js|d\.ts)|bin\/tiktok-dl\.js|web\/[\w.-]+|package\.json|README\.md|LICENSE)$/.test(
          path,
        ),
    );
    assert.deepEqual(outside, [], "nothing but the build, its types, the CLI entry, the page and the docs");
    assert.ok(paths.includes("dist/src/library/index.d.ts"));

    const consumer = join(folder, "consumer");
    await mkdir(consumer);
    await writeFile(
      join(consumer, "package.json"),
      JSON.stringify({
        name: "consumer",
        private: true,
        type: "module",
        dependencies: { "tiktok-dl": `file:../${packed.filename}` },
      }),
    );
    await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: consumer,
      maxBuffer: 16 * 1024 * 1024,
    });
    await writeFile(join(consumer, "index.ts"), CONSUMER);
    await writeFile(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          outDir: "out",
          // Node's own types, from this project (the consumer would install @types/node itself).
          typeRoots: [join(PROJECT, "node_modules", "@types")],
          types: ["node"],
        },
        files: ["index.ts"],
      }),
    );
    await run(process.execPath, [TSC, "-p", join(consumer, "tsconfig.json")], { cwd: consumer });

    const out = join(folder, "saved");
    const { stdout: printed } = await run(process.execPath, [join(consumer, "out", "index.js")], {
      cwd: consumer,
      env: {
        ...process.env,
        FAKE_TIKTOK: fake.url,
        LINK: `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`,
        OUT: out,
      },
    });
    const answer = JSON.parse(printed.trim().split("\n").at(-1) ?? "{}");
    assert.equal(answer.id, SAMPLE_IDS.video);
    assert.equal(answer.type, "video");
    assert.deepEqual(answer.files, [join(out, `tiktok_river.cooks_${SAMPLE_IDS.video}_audio.mp3`)]);
    assert.deepEqual(await readdir(out), [`tiktok_river.cooks_${SAMPLE_IDS.video}_audio.mp3`]);
    assert.equal(answer.code, "UNSUPPORTED_HOST");
    assert.equal(answer.status, 400);
  });
});
