import { Type } from "typebox";
import { ApiError } from "../../domain/errors.js";
import { MAX_LINK_LENGTH } from "../../domain/links.js";
import { downloadRequest } from "../../domain/requests.js";
import type { Services } from "../../service/types.js";
import { keyedAndLimited } from "../access.js";
import { askerOf } from "../asker.js";
import { AuthHeaders, ErrorResponse } from "../schemas.js";
import type { RequestHook, TypedApp } from "../types.js";

export interface FileRouteDeps {
  download: Services["download"];
  authenticate?: RequestHook;
  /** Each file link counts as one request against the caller's download budget. */
  rateLimit: RequestHook;
}

const FILE_KINDS = ["video", "hd", "watermark", "audio", "zip", "image"] as const;
type FileKind = (typeof FILE_KINDS)[number];

const FileQuery = Type.Object({
  url: Type.String({
    maxLength: MAX_LINK_LENGTH * 2,
    description: "A post link (any form /api/download takes).",
  }),
  kind: Type.Optional(
    Type.Union(
      FILE_KINDS.map((kind) => Type.Literal(kind)),
      { description: "video (default; a photo post's default is zip), hd, watermark, audio, zip or image." },
    ),
  ),
  index: Type.Optional(
    Type.Union(
      [Type.Integer({ minimum: 1, maximum: 100 }), Type.String({ pattern: "^([1-9][0-9]?|100)$" })],
      {
        description: "With kind=image: the image's number, from 1.",
      },
    ),
  ),
});

/** GET /api/file: 302 to a fresh tunnel link of one of a post's files; what a feed's enclosure points at. */
export function fileRoutes(app: TypedApp, deps: FileRouteDeps) {
  const responses: Record<string, unknown> = { "4xx": ErrorResponse, "5xx": ErrorResponse };
  app.get(
    "/api/file",
    {
      schema: {
        summary: "A post's file, by the post's link: 302 to a fresh stream link",
        tags: ["download"],
        querystring: FileQuery,
        headers: AuthHeaders,
        response: responses,
      },
      onRequest: keyedAndLimited(deps.authenticate, deps.rateLimit),
    },
    async (request, reply) => {
      const { url, kind, index } = request.query;
      const result = await deps.download(downloadRequest(url, {}, askerOf(request)));
      const link = fileLink(
        { ...result.stream },
        kind ?? (result.type === "photo" ? "zip" : "video"),
        Number(index ?? 1),
      );
      return reply.code(302).header("location", link).header("cache-control", "no-store").send();
    },
  );
}

const STREAM_OF: Record<Exclude<FileKind, "image">, string> = {
  video: "video",
  hd: "hd",
  watermark: "videoWatermark",
  audio: "music",
  zip: "zip",
};

function fileLink(stream: Record<string, unknown>, kind: FileKind, index: number): string {
  const images = Array.isArray(stream.images) ? (stream.images as string[]) : [];
  const link = kind === "image" ? images[index - 1] : stream[STREAM_OF[kind]];
  if (typeof link === "string") return link;
  const has = [
    ...Object.entries(STREAM_OF)
      .filter(([, name]) => typeof stream[name] === "string")
      .map(([name]) => name),
    ...(images.length ? [`image (1-${images.length})`] : []),
  ];
  throw new ApiError(
    404,
    "NOT_FOUND",
    `This post has no ${kind}${kind === "image" ? ` ${index}` : ""} file; it has: ${has.join(", ") || "nothing to download"}.`,
  );
}
