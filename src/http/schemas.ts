import { Type } from "typebox";

/**
 * The v1 answer, as a schema: Fastify serialises it with fast-json-stringify (faster than
 * JSON.stringify) and leaves out what is absent. Keep it in step with `toApiResult`.
 */
const Url = Type.String({ format: "uri" });
const Count = Type.Number({ minimum: 0 });

/** A post's counts, as far as its source tells them. */
export const Stats = Type.Object({
  plays: Type.Optional(Count),
  likes: Type.Optional(Count),
  comments: Type.Optional(Count),
  shares: Type.Optional(Count),
  /** How many saved it to their favourites (TikTok's `collectCount`). */
  saves: Type.Optional(Count),
});

/** Relative tunnel links (`/api/stream/<token>`): the files themselves, through this server. */
const StreamPath = Type.String({ pattern: "^/api/stream/" });
export const StreamLinks = Type.Object({
  video: Type.Optional(StreamPath),
  videoWatermark: Type.Optional(StreamPath),
  hd: Type.Optional(StreamPath),
  music: Type.Optional(StreamPath),
  images: Type.Optional(Type.Array(StreamPath)),
  thumb: Type.Optional(StreamPath),
  zip: Type.Optional(StreamPath),
});

export const DownloadResult = Type.Object({
  urls: Type.Array(Url, { description: "Watermark-free addresses first, then watermarked ones." }),
  thumb: Type.Optional(Url),
  additional: Type.Object({ musicUrl: Type.Optional(Url) }),
  id: Type.String({ description: "The post's id on its platform (TikTok's or Douyin's numeric id)." }),
  type: Type.Union([Type.Literal("video"), Type.Literal("photo")]),
  platform: Type.Optional(Type.String({ description: 'The site the post is on: "tiktok" or "douyin".' })),
  provider: Type.String({ description: "The source that answered." }),
  cached: Type.Boolean(),
  caption: Type.Optional(Type.String()),
  createdAt: Type.Optional(Type.String({ format: "date-time" })),
  author: Type.Optional(
    Type.Object({
      username: Type.Optional(Type.String()),
      nickname: Type.Optional(Type.String()),
      id: Type.Optional(Type.String()),
      avatar: Type.Optional(Url),
    }),
  ),
  video: Type.Optional(
    Type.Object({
      noWatermark: Type.Optional(Url),
      watermark: Type.Optional(Url),
      hd: Type.Optional(Url),
      duration: Type.Optional(Count),
      width: Type.Optional(Count),
      height: Type.Optional(Count),
      codec: Type.Optional(
        Type.Union([Type.Literal("h264"), Type.Literal("h265")], {
          description: "The codec of noWatermark: h264 plays everywhere, h265 not on every player.",
        }),
      ),
      hdCodec: Type.Optional(Type.Union([Type.Literal("h264"), Type.Literal("h265")])),
    }),
  ),
  music: Type.Optional(
    Type.Object({
      url: Type.Optional(Url),
      title: Type.Optional(Type.String()),
      author: Type.Optional(Type.String()),
      cover: Type.Optional(Url),
      duration: Type.Optional(Count),
    }),
  ),
  images: Type.Optional(Type.Array(Url)),
  livePhotos: Type.Optional(Type.Array(Url, { description: "A live photo post's clips (Douyin)." })),
  subtitles: Type.Optional(
    Type.Array(
      Type.Object({
        language: Type.String({ description: 'TikTok\'s language code, e.g. "eng-US".' }),
        format: Type.String({ description: '"webvtt", or TikTok\'s other format name.' }),
        url: Url,
        source: Type.Union([Type.Literal("auto"), Type.Literal("translated"), Type.Literal("creator")]),
        stream: StreamPath,
      }),
    ),
  ),
  stats: Type.Optional(Stats),
  stream: Type.Optional(StreamLinks),
});

export const DownloadResponse = Type.Object({ result: DownloadResult });

export const ErrorResponse = Type.Object({
  error: Type.String({ description: "A sentence for humans." }),
  code: Type.String({ description: "A stable machine code, e.g. NOT_FOUND." }),
  list: Type.Optional(
    Type.String({
      description:
        "With UNSUPPORTED_LINK for a short link that leads to a profile, collection or playlist: its address, for /api/list.",
    }),
  ),
  host: Type.Optional(Type.String({ description: "With UNSUPPORTED_HOST: the host the link named." })),
  field: Type.Optional(Type.String({ description: "With INVALID_PARAMETER: the field that is not valid." })),
  values: Type.Optional(Type.Array(Type.String(), { description: "The values that field may take." })),
  min: Type.Optional(Type.Integer({ description: "The least that field may be." })),
  max: Type.Optional(Type.Integer({ description: "The most that field may be." })),
});

/** `Authorization: Api-Key <key>`, optional unless the server requires a key (documented per route). */
export const AuthHeaders = Type.Object({
  authorization: Type.Optional(
    Type.String({
      maxLength: 600,
      description:
        "Api-Key <key>: an API key from the operator (its own limit). Optional unless API_AUTH_REQUIRED.",
    }),
  ),
});
