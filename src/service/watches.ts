import { createHash, randomBytes } from "node:crypto";
import type { BaseLogger } from "pino";
import type { Notifier, SendOutcome } from "../delivery/notify.js";
import { mapLimited } from "../domain/concurrency.js";
import { ApiError, badRequest } from "../domain/errors.js";
import type { ListItem, ListPage } from "../domain/lists.js";
import type { ListRequest } from "../domain/requests.js";
import { type ListKind, type ListLink, listIdentity, listUrlOf } from "../domain/tiktok-url.js";
import {
  type Delivery,
  newPosts,
  nextCheckAt,
  type PauseReason,
  redactedTarget,
  rememberedIds,
  type Watch,
  type WatchEventType,
  type WatchTarget,
} from "../domain/watches.js";
import type { LastingStore } from "../stores/lasting.js";
import type { WatchMetrics } from "./metrics.js";

const WATCHES = "watches";
const DELIVERIES = "deliveries";
/** The deliveries still to make, by the same id: the delivery job reads only these. */
const PENDING = "pending";
/** Deliveries kept per watch for `GET …/deliveries`; older finished ones are dropped. */
const KEPT_DELIVERIES = 100;
/** At most this many deliveries at a time to one target host: one slow receiver holds back only itself. */
const PER_HOST = 4;
/** How long a rotated secret still signs beside the new one. */
const OLD_SECRET_MS = 24 * 3600_000;
/** List answers that say the list is not there for us (deleted, private, refused): they pause in time. */
const UNAVAILABLE = new Set(["NOT_FOUND", "PRIVATE", "LOGIN_REQUIRED", "AGE_RESTRICTED", "REGION_BLOCKED"]);

export interface WatchSettings {
  minIntervalS: number;
  maxPerInstance: number;
  pauseAfterS: number;
  retryDelaysS: readonly number[];
}

export interface WatchesDeps {
  lasting: LastingStore;
  /** One page of a list, as `/api/list` reads it (cache, flights). */
  listPage(request: ListRequest): Promise<ListPage>;
  send: Notifier;
  /** Checks a target's address when a watch is made (private ones refused unless allowed). */
  checkTarget(target: WatchTarget): Promise<void>;
  now: () => number;
  random: () => number;
  log: BaseLogger;
  metrics: WatchMetrics;
  settings: WatchSettings;
}

/** Who asks: the API key's id ("local" without keys) and how many watches it may keep. */
export interface WatchOwner {
  id: string;
  allowance: number;
}

export interface NewWatch {
  url: string;
  target: WatchTarget;
  every?: number;
  type?: "video" | "photo";
  /** This instance's public address, for the file links in events. */
  base?: string;
}

/** A watch as answers show it: its target redacted, never its secret. */
export function watchView(watch: Watch, pending?: number) {
  return {
    id: watch.id,
    url: watch.url,
    kind: watch.kind,
    target: redactedTarget(watch.target),
    every: watch.every,
    ...(watch.type ? { type: watch.type } : {}),
    createdAt: new Date(watch.createdAt).toISOString(),
    nextCheckAt: new Date(watch.nextCheckAt).toISOString(),
    ...(watch.lastCheckAt ? { lastCheckAt: new Date(watch.lastCheckAt).toISOString() } : {}),
    ...(watch.lastCheck ? { lastCheck: watch.lastCheck } : {}),
    ...(pending === undefined ? {} : { pending }),
    ...(watch.lastDelivery ? { lastDelivery: watch.lastDelivery } : {}),
    paused: watch.paused ?? false,
  };
}

export function deliveryView(delivery: Delivery) {
  return {
    id: delivery.id,
    event: delivery.event,
    ...(delivery.postId ? { postId: delivery.postId } : {}),
    status: delivery.status,
    attempts: delivery.attempts,
    ...(delivery.lastStatusCode ? { lastStatusCode: delivery.lastStatusCode } : {}),
    ...(delivery.lastError ? { lastError: delivery.lastError } : {}),
    ...(delivery.status === "pending"
      ? { nextAttemptAt: new Date(delivery.nextAttemptAt).toISOString() }
      : {}),
    createdAt: new Date(delivery.createdAt).toISOString(),
  };
}

const newSecret = () => `whsec_${randomBytes(24).toString("base64")}`;
const notFound = () => new ApiError(404, "NOT_FOUND", "No such watch.");
/** A watch's key in lasting data: its owner's first, so an owner's watches are one range. */
const watchKey = (watch: Pick<Watch, "owner" | "id">) => `${watch.owner}~${watch.id}`;
/** A delivery's key: its watch's, then when it was made, so a watch's deliveries list oldest first. */
const deliveryKey = (watchKeyed: string, createdAt: number, sequence: number, id: string) =>
  `${watchKeyed}:${String(createdAt).padStart(15, "0")}.${String(sequence % 1_000_000).padStart(6, "0")}:${id}`;

/** The list a page is, as a link: its canonical address and identity come from it. */
function linkOfPage(page: ListPage): ListLink {
  const named = page.kind === "collection" || page.kind === "playlist";
  return {
    kind: "list",
    list: page.kind as ListKind,
    username: page.owner.username ?? page.id,
    ...(named ? { id: page.id, title: page.title } : {}),
  };
}

/** A post's event for a watch has one id, whichever check saw it: a post is told once. */
const postEventId = (watch: Pick<Watch, "id">, post: string) =>
  `msg_${createHash("sha256").update(`${watch.id}\0${post}`).digest("base64url").slice(0, 24)}`;

/** The records of watches and their deliveries, read and written as the use cases need them. */
function watchRecords(deps: WatchesDeps) {
  const { lasting, now } = deps;
  // Orders the events a check makes within one millisecond: a watch's deliveries list oldest first.
  let sequence = 0;
  const read = async (key: string) => (await lasting.get(WATCHES, key)) as Watch | undefined;
  const deliveriesOf = async (watch: Pick<Watch, "owner" | "id">) =>
    (await lasting.list(DELIVERIES, `${watchKey(watch)}:`)).map(
      (entry) => entry.record as Delivery & { key: string },
    );

  /** Writes an event before its first attempt (a post's event's id is the post's: see `postEventId`). */
  async function enqueue(watch: Watch, event: WatchEventType, data: Record<string, unknown>, seenAt = now()) {
    const post = (data.post as { id?: string } | undefined)?.id;
    const id = post ? postEventId(watch, post) : `msg_${randomBytes(18).toString("base64url")}`;
    const createdAt = now();
    const key = deliveryKey(watchKey(watch), createdAt, sequence++, id);
    const body = JSON.stringify({
      type: event,
      timestamp: new Date(createdAt).toISOString(),
      data: { watch: { id: watch.id, url: watch.url }, ...data },
    });
    const delivery: Delivery & { key: string } = {
      ...{ key, id, watchId: watch.id, event, body, status: "pending", attempts: 0 },
      ...(post ? { postId: post } : {}),
      ...{ createdAt, seenAt, nextAttemptAt: createdAt },
    };
    await lasting.put(DELIVERIES, key, delivery);
    await lasting.put(PENDING, key, { at: createdAt });
  }

  return {
    read,
    deliveriesOf,
    enqueue,
    all: async () => (await lasting.list(WATCHES)).map((entry) => entry.record as Watch),
    async owned(owner: WatchOwner, id: string) {
      const watch = /^w_[\w-]{10,40}$/.test(id) ? await read(watchKey({ owner: owner.id, id })) : undefined;
      if (!watch || watch.owner !== owner.id) throw notFound();
      return watch;
    },
  };
}

/**
 * Watches: made and read by their owner's key, checked in the background against the first page of
 * their list, and their events delivered at least once, in order, with retries; kept in lasting data.
 */
export function createWatches(deps: WatchesDeps) {
  const { lasting, now } = deps;
  const records = watchRecords(deps);
  const { all, enqueue, owned, deliveriesOf } = records;
  return {
    async create(owner: WatchOwner, input: NewWatch) {
      return createWatch(deps, owner, input);
    },
    async list(owner: WatchOwner) {
      const mine = await lasting.list(WATCHES, `${owner.id}~`);
      return mine.map((entry) => watchView(entry.record as Watch));
    },
    async get(owner: WatchOwner, id: string) {
      const watch = await owned(owner, id);
      const pending = (await deliveriesOf(watch)).filter((delivery) => delivery.status === "pending").length;
      return watchView(watch, pending);
    },
    async remove(owner: WatchOwner, id: string) {
      const watch = await owned(owner, id);
      for (const delivery of await deliveriesOf(watch)) {
        await lasting.delete(PENDING, delivery.key);
        await lasting.delete(DELIVERIES, delivery.key);
      }
      await lasting.delete(WATCHES, watchKey(watch));
    },
    async test(owner: WatchOwner, id: string) {
      await enqueue(await owned(owner, id), "watch.test", {});
    },
    async deliveries(owner: WatchOwner, id: string) {
      const watch = await owned(owner, id);
      return (await deliveriesOf(watch)).reverse().slice(0, KEPT_DELIVERIES).map(deliveryView);
    },
    async retry(owner: WatchOwner, id: string, deliveryId: string) {
      const watch = await owned(owner, id);
      const delivery = (await deliveriesOf(watch)).find((candidate) => candidate.id === deliveryId);
      if (!delivery) throw new ApiError(404, "NOT_FOUND", "No such delivery.");
      const again = { ...delivery, status: "pending" as const, nextAttemptAt: now() };
      await lasting.put(DELIVERIES, delivery.key, again);
      await lasting.put(PENDING, delivery.key, { at: now() });
      return deliveryView(again);
    },
    async rotateSecret(owner: WatchOwner, id: string) {
      const watch = await owned(owner, id);
      const secret = newSecret();
      await lasting.put(WATCHES, watchKey(watch), {
        ...watch,
        secret,
        previousSecret: { secret: watch.secret, until: now() + OLD_SECRET_MS },
      });
      return { secret, previousValidUntil: new Date(now() + OLD_SECRET_MS).toISOString() };
    },
    /** The background check: every due watch's list read once, new posts queued. */
    check: (signal: AbortSignal) => checkDue(deps, { all, enqueue, deliveriesOf }, signal),
    /** The background delivery: every pending delivery that is due, in order per watch. */
    deliver: (signal: AbortSignal) => deliverDue(deps, signal),
    /** Queue depth and the oldest pending delivery's age, for /metrics. */
    async queue() {
      const pending = await lasting.list(PENDING);
      // A loop, not Math.min(...): the queue of a receiver that is down may outgrow a call's arguments.
      let oldest = Number.POSITIVE_INFINITY;
      for (const entry of pending) oldest = Math.min(oldest, (entry.record as { at: number }).at);
      return { depth: pending.length, oldestAgeS: pending.length ? (now() - oldest) / 1000 : 0 };
    },
    count: () => lasting.count(WATCHES),
    /** Nothing to check, or nothing to deliver: the background jobs then skip their turn. */
    idle: {
      check: async () => (await lasting.count(WATCHES)) === 0,
      deliver: async () => (await lasting.count(PENDING)) === 0,
    },
  };
}

export type Watches = ReturnType<typeof createWatches>;

type Helpers = Pick<ReturnType<typeof watchRecords>, "all" | "enqueue" | "deliveriesOf">;

async function createWatch(deps: WatchesDeps, owner: WatchOwner, input: NewWatch) {
  const { settings, now } = deps;
  if (owner.allowance <= 0)
    throw new ApiError(
      403,
      "WATCHES_FORBIDDEN",
      'This API key may not make watches (the keys file\'s "watches").',
    );
  const every = input.every ?? 900;
  if (!Number.isInteger(every) || every < settings.minIntervalS)
    throw badRequest(
      "INVALID_PARAMETER",
      `The "every" field must be at least ${settings.minIntervalS} seconds.`,
    );
  if ((await deps.lasting.count(WATCHES, `${owner.id}~`)) >= owner.allowance)
    throw new ApiError(403, "WATCH_LIMIT", `This key keeps at most ${owner.allowance} watches.`);
  if ((await deps.lasting.count(WATCHES)) >= settings.maxPerInstance)
    throw new ApiError(403, "WATCH_LIMIT", `This server keeps at most ${settings.maxPerInstance} watches.`);
  await deps.checkTarget(input.target);
  // The list as /api/list reads it: a list that does not exist or is private is its 404/403, and no watch.
  const page = await deps.listPage({ url: input.url, limit: 30, source: "random" });
  const link = linkOfPage(page);
  const created = now();
  const watch: Watch = {
    id: `w_${randomBytes(12).toString("base64url")}`,
    owner: owner.id,
    url: listUrlOf(link),
    list: listIdentity(link),
    kind: page.kind,
    target: input.target,
    secret: newSecret(),
    every,
    ...(input.type ? { type: input.type } : {}),
    ...(input.base ? { base: input.base } : {}),
    createdAt: created,
    // The page just read is what was there: it is the watch's first check, and no event.
    seen: rememberedIds([], page.items),
    lastCheckAt: created,
    lastCheck: { outcome: "ok", at: created, newPosts: 0 },
    failedChecks: 0,
    nextCheckAt: nextCheckAt(created, every, deps.random),
  };
  await deps.lasting.put(WATCHES, watchKey(watch), watch);
  return { watch: watchView(watch), secret: watch.secret };
}

/** The due watches, grouped by list: each list's first page read once, no older than the shortest interval. */
async function checkDue(deps: WatchesDeps, helpers: Helpers, signal: AbortSignal) {
  const now = deps.now();
  const due = (await helpers.all()).filter((watch) => !watch.paused && watch.nextCheckAt <= now);
  const byList = Map.groupBy(due, (watch) => watch.list);
  await mapLimited([...byList.values()], 8, async (watches) => {
    if (signal.aborted) return;
    const first = watches[0] as Watch;
    const maxAgeMs = Math.min(...watches.map((watch) => watch.every)) * 1000;
    let page: ListPage | undefined;
    let failure: unknown;
    try {
      page = await deps.listPage({ url: first.url, limit: 30, source: "random", signal });
      if (now - (page.fetchedAt ?? 0) > maxAgeMs)
        page = await deps.listPage({ url: first.url, limit: 30, source: "random", nocache: true, signal });
    } catch (error) {
      failure = error;
    }
    for (const watch of watches) await checked(deps, helpers, watch, page, failure);
  });
}

/** One watch after its list was read: new posts queued oldest first, or the failure counted (and paused in time). */
async function checked(
  deps: WatchesDeps,
  helpers: Helpers,
  watch: Watch,
  page?: ListPage,
  failure?: unknown,
) {
  const now = deps.now();
  const current = (await deps.lasting.get(WATCHES, watchKey(watch))) as Watch | undefined;
  if (!current) return;
  if (!page) {
    const code = failure instanceof ApiError ? failure.code : "UPSTREAM";
    const since = UNAVAILABLE.has(code) ? (current.listFailingSince ?? now) : current.listFailingSince;
    const failed: Watch = {
      ...current,
      lastCheckAt: now,
      lastCheck: {
        outcome: "failed",
        at: now,
        error: failure instanceof Error ? failure.message : String(failure),
      },
      failedChecks: current.failedChecks + 1,
      ...(since === undefined ? {} : { listFailingSince: since }),
      nextCheckAt: nextCheckAt(now, current.every, deps.random, current.failedChecks + 1),
    };
    deps.metrics.checks.inc({ outcome: UNAVAILABLE.has(code) ? "unavailable" : "failed" });
    if (since !== undefined && now - since >= deps.settings.pauseAfterS * 1000)
      return pause(deps, helpers, failed, "list_unavailable", `the list is unavailable (${code})`);
    return deps.lasting.put(WATCHES, watchKey(watch), failed);
  }
  const { fresh, remembered } = newPosts(current, page.items);
  // A post queued before a crash kept the watch from remembering it is not queued again (read once a check).
  const queued =
    fresh.length > 0
      ? new Set((await helpers.deliveriesOf(current)).map((delivery) => delivery.id))
      : new Set<string>();
  for (const item of fresh)
    if (!queued.has(postEventId(current, item.id)))
      await helpers.enqueue(current, "post.created", { post: postData(current, item) }, now);
  const { listFailingSince: _gone, ...rest } = current;
  await deps.lasting.put(WATCHES, watchKey(watch), {
    ...rest,
    seen: remembered,
    failedChecks: 0,
    lastCheckAt: now,
    lastCheck: { outcome: "ok", at: now, newPosts: fresh.length },
    nextCheckAt: nextCheckAt(now, current.every, deps.random),
  });
  deps.metrics.checks.inc({ outcome: "ok" });
}

/** A post as an event carries it: what it is, where, and this instance's links to its files. */
function postData(watch: Watch, item: ListItem) {
  const file = (kind: string) =>
    `${watch.base}/api/file?url=${encodeURIComponent(item.url)}${kind ? `&kind=${kind}` : ""}`;
  return {
    id: item.id,
    url: item.url,
    type: item.type,
    ...(item.author?.username ? { author: item.author.username } : {}),
    ...(item.caption ? { caption: item.caption } : {}),
    ...(item.createdAt ? { createdAt: item.createdAt } : {}),
    ...(item.thumb ? { cover: item.thumb } : {}),
    ...(watch.base
      ? { files: item.type === "photo" ? { zip: file("zip") } : { video: file(""), audio: file("audio") } }
      : {}),
  };
}

async function pause(deps: WatchesDeps, helpers: Helpers, watch: Watch, reason: PauseReason, detail: string) {
  const paused: Watch = { ...watch, paused: { reason, at: deps.now(), detail } };
  await deps.lasting.put(WATCHES, watchKey(watch), paused);
  deps.log.info({ watch: watch.id, reason }, "watch paused");
  // A target that is gone is not told; a watch whose list went away is.
  if (reason === "list_unavailable") await helpers.enqueue(paused, "watch.paused", { reason: detail });
}

/** The due deliveries, the oldest of each watch first and one at a time per watch, at most four per host. */
async function deliverDue(deps: WatchesDeps, signal: AbortSignal) {
  const now = deps.now();
  const pending = await deps.lasting.list(PENDING);
  const byWatch = Map.groupBy(
    pending.map(({ id }) => id),
    (id) => id.split(":")[0] as string,
  );
  const perHost = hostSlots(PER_HOST);
  await mapLimited([...byWatch.entries()], 64, async ([keyed, keys]) => {
    const watch = (await deps.lasting.get(WATCHES, keyed)) as Watch | undefined;
    // A watch paused because its list went away still tells its target so; one whose target failed does not.
    if (!watch || (watch.paused && watch.paused.reason !== "list_unavailable")) return;
    const host = hostOf(watch.target);
    for (const key of keys) {
      if (signal.aborted) return;
      const delivery = (await deps.lasting.get(DELIVERIES, key)) as (Delivery & { key: string }) | undefined;
      if (delivery?.status !== "pending") {
        await deps.lasting.delete(PENDING, key);
        continue;
      }
      // Later events of this watch wait for this one: they go out in order.
      if (delivery.nextAttemptAt > now) return;
      if (!(await perHost(host, () => attemptDelivery(deps, watch, delivery)))) return;
    }
  });
}

/** Runs work at most `limit` at a time per host; the others wait their turn, in order. */
function hostSlots(limit: number) {
  const hosts = new Map<string, { active: number; waiting: (() => void)[] }>();
  return async <T>(host: string, work: () => Promise<T>): Promise<T> => {
    const slot = hosts.get(host) ?? { active: 0, waiting: [] };
    hosts.set(host, slot);
    // A slot that frees is handed to the next in line, so `active` counts the holders either way.
    if (slot.active >= limit) await new Promise<void>((resolve) => slot.waiting.push(resolve));
    else slot.active++;
    try {
      return await work();
    } finally {
      const next = slot.waiting.shift();
      if (next) next();
      else slot.active--;
    }
  };
}

const hostOf = (target: WatchTarget) => (target.type === "telegram" ? "telegram" : new URL(target.url).host);

/** One attempt, its outcome written; whether the watch's next delivery may go now. */
async function attemptDelivery(deps: WatchesDeps, watch: Watch, delivery: Delivery & { key: string }) {
  const outcome = await deps.send(watch, delivery);
  const now = deps.now();
  const attempts = delivery.attempts + 1;
  const delays = deps.settings.retryDelaysS;
  const base = { ...delivery, attempts, ...(outcome.status ? { lastStatusCode: outcome.status } : {}) };
  deps.metrics.deliveries.inc({ outcome: outcome.kind });
  if (outcome.kind === "delivered") {
    const { lastError: _none, ...clean } = base;
    await finish(deps, { ...clean, status: "delivered", deliveredAt: now });
    deps.metrics.delay.observe((now - delivery.seenAt) / 1000);
    await noteDelivery(deps, watch, delivery, "delivered", false);
    return true;
  }
  const error = "error" in outcome ? outcome.error : `HTTP ${outcome.status}`;
  if (outcome.kind === "retry" && attempts <= delays.length) {
    const waitS = Math.max(delays[attempts - 1] ?? 0, outcome.retryAfterS ?? 0);
    await deps.lasting.put(DELIVERIES, delivery.key, {
      ...base,
      lastError: error,
      nextAttemptAt: now + waitS * 1000,
    });
    await noteDelivery(deps, watch, delivery, "pending", true);
    return false;
  }
  await finish(deps, { ...base, status: "failed", lastError: error });
  await noteDelivery(deps, watch, delivery, "failed", true, outcome);
  return true;
}

async function finish(deps: WatchesDeps, delivery: Delivery & { key: string }) {
  await deps.lasting.put(DELIVERIES, delivery.key, delivery);
  await deps.lasting.delete(PENDING, delivery.key);
  const prefix = `${delivery.key.split(":")[0]}:`;
  if ((await deps.lasting.count(DELIVERIES, prefix)) <= KEPT_DELIVERIES) return;
  const kept = await deps.lasting.list(DELIVERIES, prefix);
  for (const old of kept.slice(0, Math.max(0, kept.length - KEPT_DELIVERIES)))
    if ((old.record as Delivery).status !== "pending") await deps.lasting.delete(DELIVERIES, old.id);
}

/** The watch's last delivery, and whether its target has failed long enough (or is gone) to pause it. */
async function noteDelivery(
  deps: WatchesDeps,
  watch: Watch,
  delivery: Delivery,
  status: Delivery["status"],
  failed: boolean,
  outcome?: SendOutcome,
) {
  const now = deps.now();
  // Read again (a check may have written it meanwhile); a watch deleted meanwhile stays deleted.
  const current = (await deps.lasting.get(WATCHES, watchKey(watch))) as Watch | undefined;
  if (!current) return;
  const since = failed ? (current.targetFailingSince ?? now) : undefined;
  const { targetFailingSince: _old, ...rest } = current;
  const pause: Watch["paused"] =
    outcome?.kind === "gone"
      ? { reason: "target_gone", at: now, detail: "the target answered 410 Gone" }
      : since !== undefined && now - since >= deps.settings.pauseAfterS * 1000
        ? { reason: "target_failing", at: now, detail: "every delivery has failed" }
        : undefined;
  await deps.lasting.put(WATCHES, watchKey(watch), {
    ...rest,
    lastDelivery: { id: delivery.id, at: now, status },
    ...(since === undefined ? {} : { targetFailingSince: since }),
    ...(pause ? { paused: pause } : {}),
  });
}
