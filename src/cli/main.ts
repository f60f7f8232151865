import { mkdir, readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { parseArgs } from "node:util";
import { filesToSave, safeFileName, writeFileAtomically } from "../delivery/save.js";
import { createApp } from "../http/app.js";
import { ConfigError, loadConfig } from "../service/config.js";
import { Progress } from "./progress.js";

const USAGE = `Usage: tiktok-dl [options] <url...>

Downloads TikTok posts (videos, photo posts, short links) to the current folder.

Options:
  -o, --output DIR        where to save the files (default: the current folder)
  -i, --input FILE        read links from FILE, one per line (# starts a comment)
      --audio             save the audio only
      --images            photo posts: every image plus the audio
      --zip               photo posts: one ZIP of the images and the audio
      --hd                videos: the HD file when there is one
      --provider NAME     ask this source first (see /api/providers)
      --json              print the results as JSON, download nothing
      --server URL        use a running tiktok-dl server instead of extracting here
  -c, --concurrency N     posts handled at once (default 3)
  -h, --help              this help

Without --server, extraction runs in this process and reads the same environment as the server
(UPSTREAM_*, ALLOW_PRIVATE_UPSTREAMS, ...). Exit codes: 0 all done, 1 some failed, 2 usage error.`;

class UsageError extends Error {}

interface Options {
  links: string[];
  output: string;
  audio: boolean;
  images: boolean;
  zip: boolean;
  hd: boolean;
  provider?: string;
  json: boolean;
  server?: string;
  concurrency: number;
}

interface ApiResult {
  id: string;
  type: "video" | "photo";
  stream?: { video?: string; hd?: string; music?: string; images?: string[]; zip?: string };
}

async function readOptions(argv: string[]): Promise<Options | "help"> {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        output: { type: "string", short: "o" },
        input: { type: "string", short: "i" },
        audio: { type: "boolean" },
        images: { type: "boolean" },
        zip: { type: "boolean" },
        hd: { type: "boolean" },
        provider: { type: "string" },
        json: { type: "boolean" },
        server: { type: "string" },
        concurrency: { type: "string", short: "c" },
        help: { type: "boolean", short: "h" },
      },
    });
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  const links = [...positionals];
  if (values.input) {
    const text = await readFile(values.input, "utf8").catch(() => {
      throw new UsageError(`cannot read ${values.input}`);
    });
    links.push(
      ...text
        .split(/\r?\n/)
        .map((line) => line.replace(/#.*/, "").trim())
        .filter(Boolean),
    );
  }
  if (links.length === 0) throw new UsageError("give at least one link (or -i FILE)");
  const concurrency = values.concurrency === undefined ? 3 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32)
    throw new UsageError("--concurrency must be a whole number from 1 to 32");
  if (values.server !== undefined && !/^https?:\/\/[^\s]+$/i.test(values.server))
    throw new UsageError("--server must be an http(s) URL");
  return {
    links,
    output: values.output ?? ".",
    audio: values.audio ?? false,
    images: values.images ?? false,
    zip: values.zip ?? false,
    hd: values.hd ?? false,
    provider: values.provider,
    json: values.json ?? false,
    server: values.server?.replace(/\/+$/, ""),
    concurrency,
  };
}

/** The files to save for one result, as tunnel paths. */
function filesOf(result: ApiResult, options: Options): string[] {
  const stream = result.stream ?? {};
  const offer = {
    type: result.type,
    imageCount: stream.images?.length ?? 0,
    has: (kind: "video" | "hd" | "music" | "zip") => Boolean(stream[kind]),
  };
  return filesToSave(offer, options).flatMap((file) => {
    const path =
      file.kind === "image" ? stream.images?.[file.index ?? 0] : stream[file.kind as keyof typeof stream];
    return typeof path === "string" ? [path] : [];
  });
}

function filenameOf(disposition: string | null, fallback: string): string {
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition ?? "")?.[1];
  const plain = /filename="([^"]+)"/i.exec(disposition ?? "")?.[1];
  return safeFileName(encoded ? decodeURIComponent(encoded) : (plain ?? fallback), fallback);
}

/** Saves one file under a temporary name, renamed only once it is complete. */
async function save(base: string, path: string, options: Options, progress: Progress): Promise<string> {
  const response = await fetch(`${base}${path}`);
  if (!response.ok || !response.body) {
    const body = (await response.json().catch(() => undefined)) as { error?: string } | undefined;
    throw new Error(body?.error ?? `the server answered HTTP ${response.status}`);
  }
  const name = filenameOf(response.headers.get("content-disposition"), `tiktok_${Date.now()}.bin`);
  const final = join(options.output, name);
  const total = Number(response.headers.get("content-length")) || undefined;
  const task = progress.start(name, total);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      task.advance(chunk.length);
      done(null, chunk);
    },
  });
  try {
    await writeFileAtomically(Readable.fromWeb(response.body as never), final, [counter]);
    task.finish();
    return final;
  } catch (error) {
    task.fail();
    throw error;
  }
}

async function lookUp(base: string, link: string, options: Options): Promise<ApiResult> {
  const query = new URLSearchParams({ url: link });
  if (options.provider) query.set("type", options.provider);
  const response = await fetch(`${base}/api/download?${query}`);
  const body = (await response.json().catch(() => ({}))) as { result?: ApiResult; error?: string };
  if (!response.ok || !body.result)
    throw new Error(body.error ?? `the server answered HTTP ${response.status}`);
  return body.result;
}

/** Runs `work` over `items`, at most `limit` at a time, in order of start. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * In-process mode: the service itself on a loopback port, for this run only. Its only client is this
 * process, so it does not rate-limit itself (a list of a hundred links must not fail at the 61st).
 */
async function localServer() {
  const config = { ...loadConfig(process.env), rateLimit: 0, streamRateLimit: 0 };
  const app = await createApp(config, { logger: false });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export async function main(argv: string[]): Promise<number> {
  let options: Options | "help";
  try {
    options = await readOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`tiktok-dl: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let server: { base: string; close(): Promise<void> };
  try {
    server = options.server ? { base: options.server, close: async () => {} } : await localServer();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`tiktok-dl: ${error.message}\n`);
    return 2;
  }
  const opts = options;
  const failures: { link: string; reason: string }[] = [];
  const jsonResults: unknown[] = [];
  const progress = new Progress(process.stderr, opts.concurrency === 1);
  let saved = 0;
  try {
    if (!opts.json) await mkdir(opts.output, { recursive: true });
    await eachLimited(opts.links, opts.concurrency, async (link) => {
      try {
        const result = await lookUp(server.base, link, opts);
        if (opts.json) {
          jsonResults.push({ url: link, result });
          return;
        }
        const files = filesOf(result, opts);
        if (files.length === 0) throw new Error("nothing to download for these options");
        for (const file of files) {
          await save(server.base, file, opts, progress);
          saved++;
        }
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        failures.push({ link, reason });
        if (opts.json) jsonResults.push({ url: link, error: reason });
      }
    });
  } finally {
    await server.close();
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(jsonResults, null, 2)}\n`);
  else {
    const done = opts.links.length - failures.length;
    process.stderr.write(
      `${done} of ${opts.links.length} posts done, ${saved} files saved${failures.length ? `, ${failures.length} failed:` : "."}\n`,
    );
    for (const failure of failures) process.stderr.write(`  ${failure.link}: ${failure.reason}\n`);
  }
  return failures.length > 0 ? 1 : 0;
}
