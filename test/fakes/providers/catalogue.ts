import { SAMPLE_IDS, SCENARIO_IDS } from "../tiktok.js";

/** What the provider fakes know about posts: invented values in the shapes docs/upstreams/providers.md describes. */
export interface FakePost {
  id: string;
  caption: string;
  username: string;
  nickname: string;
  authorId: string;
  avatar: string;
  cover: string;
  duration: number;
  play: string;
  wmplay: string;
  hdplay: string;
  music: string;
  musicTitle: string;
  images?: string[];
  stats: { plays: number; likes: number; comments: number; shares: number };
  createTime: number;
}

const cdn = "https://v16m-default.tiktokcdn-us.com";
const img = "https://p16-sign.tiktokcdn-us.com";

export const VIDEO_POST: FakePost = {
  id: SAMPLE_IDS.video,
  caption: "one-pan lemon pasta 🍋 <15 min> & done",
  username: "river.cooks",
  nickname: "River Cooks",
  authorId: "6979321827011735183",
  avatar: `${img}/tos-avt/river.jpeg`,
  cover: `${img}/tos-cover/${SAMPLE_IDS.video}.webp`,
  duration: 31,
  play: `${cdn}/nwm/${SAMPLE_IDS.video}.mp4`,
  wmplay: `${cdn}/wm/${SAMPLE_IDS.video}.mp4`,
  hdplay: `${cdn}/hd/${SAMPLE_IDS.video}.mp4`,
  music: "https://sf16-ies-music.tiktokcdn.com/obj/7558765839632951450.mp3",
  musicTitle: "original sound - River Cooks",
  stats: { plays: 1312400, likes: 48213, comments: 611, shares: 1320 },
  createTime: 1759912345,
};

export const PHOTO_POST: FakePost = {
  ...VIDEO_POST,
  id: SAMPLE_IDS.photo,
  caption: "three lakes, one day 🥾",
  username: "trail.notes",
  nickname: "Trail Notes",
  cover: `${img}/tos-cover/${SAMPLE_IDS.photo}.webp`,
  play: "https://sf16-ies-music.tiktokcdn.com/obj/lakeside.mp3",
  wmplay: "",
  hdplay: "",
  music: "https://sf16-ies-music.tiktokcdn.com/obj/lakeside.mp3",
  musicTitle: "Lakeside",
  images: [1, 2, 3, 4].map((n) => `${img}/tos-photomode/${SAMPLE_IDS.photo}-${n}.jpeg`),
};

/** A post the fakes answer with a page whose layout "changed" (markers gone, odd JSON). */
export const BROKEN_ID = SCENARIO_IDS.malformed;

export type Lookup = { kind: "post"; post: FakePost } | { kind: "missing" } | { kind: "broken" };

/** Which post a TikTok link given to a provider names. */
export function lookup(tiktokUrl: string | null | undefined): Lookup {
  const id = /\/(\d{19})(?:[/?#]|$)/.exec(tiktokUrl ?? "")?.[1];
  if (id === VIDEO_POST.id) return { kind: "post", post: VIDEO_POST };
  if (id === PHOTO_POST.id) return { kind: "post", post: PHOTO_POST };
  if (id === BROKEN_ID) return { kind: "broken" };
  return { kind: "missing" };
}

/**
 * What sites that hand out TikTok's own CDN addresses must yield: the fake post's no-watermark, HD and
 * watermarked files, its music, its photo posts, and `missing` for a post the site does not find.
 */
export const cdnLinksExpected = (missing: [number, string]) => ({
  video: () => ({ noWatermark: VIDEO_POST.play, hd: VIDEO_POST.hdplay, watermark: VIDEO_POST.wmplay }),
  musicUrl: VIDEO_POST.music,
  photo: true,
  missing,
});
