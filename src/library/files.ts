import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import type { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

/** Writes a body under a temporary name, renamed only once it is complete (removed if it fails). */
export async function writeFileAtomically(body: Readable, path: string, through: Transform[] = []) {
  const partial = `${path}.part`;
  try {
    await pipeline([body, ...through, createWriteStream(partial)]);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
