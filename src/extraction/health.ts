import type { FailureReason } from "../domain/errors.js";
import type { HealthShare, Outcome } from "../stores/types.js";

export interface HealthOptions {
  /** Outcomes kept per source for rates and latencies. */
  window?: number;
  /** Consecutive failures that open a source's circuit. */
  failureThreshold?: number;
  /** How long an open circuit rests before one probe is let through. */
  coolDownMs?: number;
  /** Hedging never starts a second source sooner than this. */
  hedgeFloorMs?: number;
  share?: HealthShare;
  /** How often the shared outcomes are read back (at most). */
  refreshMs?: number;
}

/** What ordering needs of a source. */
interface Ranked {
  name: string;
  preferred?: boolean;
}

export type CircuitState = "closed" | "open" | "half-open";
export type HealthState = "ok" | "degraded" | "open" | "maintenance";

export interface HealthSnapshot {
  state: HealthState;
  circuit: CircuitState;
  successes: number;
  failures: number;
  consecutiveFailures: number;
  /** Over the rolling window; null before any attempt. */
  successRate: number | null;
  /** Milliseconds, over the rolling window's successful attempts. */
  latency: { p50: number; p90: number; samples: number } | null;
  lastSuccessAt: string | null;
  lastError: { reason: FailureReason; message: string; at: string } | null;
}

/** Reasons that are an answer about the post, not a fault of the source. */
const NOT_A_FAULT: ReadonlySet<FailureReason> = new Set(["not_found", "private", "region_blocked"]);

export const isFault = (reason: FailureReason) => !NOT_A_FAULT.has(reason);

interface Book {
  outcomes: Outcome[];
  successes: number;
  failures: number;
  /** When the last half-open probe was let through. */
  probeAt: number;
}

/**
 * What the service has seen of each source: a rolling window of outcomes, a circuit breaker, and the
 * weights and hedge delays the rotation uses. With a share (Redis) every instance sees every outcome.
 */
export class SourceHealth {
  private readonly books = new Map<string, Book>();
  private readonly window: number;
  private readonly failureThreshold: number;
  private readonly coolDownMs: number;
  private readonly hedgeFloorMs: number;
  private readonly refreshMs: number;
  private lastRefresh = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly now: () => number,
    private readonly options: HealthOptions = {},
  ) {
    this.window = options.window ?? 50;
    this.failureThreshold = options.failureThreshold ?? 3;
    this.coolDownMs = options.coolDownMs ?? 30_000;
    this.hedgeFloorMs = options.hedgeFloorMs ?? 1_500;
    this.refreshMs = options.refreshMs ?? 1_000;
  }

  /**
   * Counts an attempt. One a client forced (`type=<name>`) is counted in the totals only: the window that
   * circuits, weights and hedging read is what the service's own choices met, so no client can open a
   * circuit or sink a source for everyone by asking it, again and again, for a post it answers badly.
   */
  record(name: string, outcome: Omit<Outcome, "at">, options: { forced?: boolean } = {}): void {
    const entry: Outcome = { ...outcome, at: this.now() };
    const book = this.bookOf(name);
    if (entry.ok) book.successes++;
    else book.failures++;
    if (options.forced) {
      this.options.share?.count(name, entry.ok).catch(() => {});
      return;
    }
    book.outcomes.unshift(entry);
    book.outcomes.length = Math.min(book.outcomes.length, this.window);
    // Sharing is best effort: a Redis hiccup must not fail the request that produced the outcome.
    this.options.share?.push(name, entry).catch(() => {});
  }

  /** Reads the pooled outcomes back, at most once per refresh period; never throws. */
  async refresh(names: readonly string[]): Promise<void> {
    const share = this.options.share;
    if (!share || this.now() - this.lastRefresh < this.refreshMs) return;
    this.lastRefresh = this.now();
    this.refreshing ??= share
      .pull(names)
      .then((pooled) => {
        for (const [name, state] of pooled) {
          const book = this.bookOf(name);
          book.outcomes = state.outcomes.slice(0, this.window);
          book.successes = Math.max(book.successes, state.successes);
          book.failures = Math.max(book.failures, state.failures);
        }
      })
      .catch(() => {})
      .finally(() => {
        this.refreshing = undefined;
      });
    await this.refreshing;
  }

  circuit(name: string): CircuitState {
    const outcomes = this.books.get(name)?.outcomes ?? [];
    if (leadingFaults(outcomes) < this.failureThreshold) return "closed";
    const lastFailure = outcomes[0]?.at ?? 0;
    return this.now() - lastFailure < this.coolDownMs ? "open" : "half-open";
  }

  /**
   * Whether the rotation may try this source now: always when closed; once per cool-down when
   * half-open (the probe); never when open.
   */
  admit(name: string): boolean {
    const circuit = this.circuit(name);
    if (circuit === "closed") return true;
    if (circuit === "open") return false;
    const book = this.bookOf(name);
    if (this.now() - book.probeAt < this.coolDownMs) return false;
    book.probeAt = this.now();
    return true;
  }

  /** Whether any outcome of this source is known (here or, with Redis, on another instance). */
  known(name: string): boolean {
    return (this.books.get(name)?.outcomes.length ?? 0) > 0;
  }

  /** A weight in (0, 1]: recent success, then speed. Unknown sources get a fair chance. */
  weight(name: string): number {
    const outcomes = this.books.get(name)?.outcomes ?? [];
    if (outcomes.length === 0) return 0.5;
    const good = outcomes.filter((outcome) => outcome.ok).length;
    const rate = (good + 1) / (outcomes.length + 2);
    const p50 = percentile(successLatencies(outcomes), 0.5) ?? 1_000;
    return rate ** 3 / (1 + p50 / 1_000);
  }

  /** How long to wait for this source before starting another in parallel: its recent p90, floored. */
  hedgeDelay(name: string): number {
    const p90 = percentile(successLatencies(this.books.get(name)?.outcomes ?? []), 0.9);
    return Math.max(this.hedgeFloorMs, p90 ?? 0);
  }

  /**
   * The order to ask sources in, for a rotation (pooled outcomes read first): `first` (the client's
   * choice, whatever its circuit), then one rested circuit's probe, then preferred sources not seen yet,
   * then the closed circuits in a weighted random order (healthy ones tend to come first, none starves).
   * When nothing else may be asked, the source that failed longest ago.
   */
  async order<S extends Ranked>(sources: readonly S[], first: string | undefined, random: () => number) {
    await this.refresh(sources.map((source) => source.name));
    const requested = sources.filter((source) => source.name === first);
    const others = sources.filter((source) => source.name !== first);
    // A circuit that has rested gets its one probe first: otherwise its low weight would keep it last
    // and it would never get the chance to show it recovered.
    const probe = others.find(
      (source) => this.circuit(source.name) === "half-open" && this.admit(source.name),
    );
    const closed = others.filter((source) => this.circuit(source.name) === "closed");
    const shuffled = weightedShuffle(closed, (source) => this.weight(source.name), random);
    const unseen = shuffled.filter((source) => source.preferred && !this.known(source.name));
    const rest = [
      ...(probe ? [probe] : []),
      ...unseen,
      ...shuffled.filter((source) => !unseen.includes(source)),
    ];
    if (requested.length === 0 && rest.length === 0) rest.push(...this.lastResort(others));
    return [...requested, ...rest];
  }

  /**
   * Best first, without chance (a listing's pages): preferred sources, then by weight; open circuits only
   * when every one is. `book` names the book each source's outcomes are in (a listing keeps its own).
   */
  async rank<S extends Ranked>(sources: readonly S[], book = (name: string) => name): Promise<S[]> {
    await this.refresh(sources.map((source) => book(source.name)));
    const closed = sources.filter((source) => this.circuit(book(source.name)) !== "open");
    return [...(closed.length > 0 ? closed : sources)].sort(
      (a, b) =>
        Number(b.preferred ?? false) - Number(a.preferred ?? false) ||
        this.weight(book(b.name)) - this.weight(book(a.name)),
    );
  }

  /** Every circuit is open: the source that failed longest ago, if any. */
  private lastResort<S extends Ranked>(sources: readonly S[]): S[] {
    const failedAt = (name: string) => this.books.get(name)?.outcomes.find((outcome) => !outcome.ok)?.at ?? 0;
    const oldest = [...sources].sort((a, b) => failedAt(a.name) - failedAt(b.name))[0];
    return oldest ? [oldest] : [];
  }

  snapshot(name: string, maintenance = false): HealthSnapshot {
    const book = this.books.get(name);
    const outcomes = book?.outcomes ?? [];
    const latencies = successLatencies(outcomes);
    const p50 = percentile(latencies, 0.5);
    const p90 = percentile(latencies, 0.9);
    const good = outcomes.filter((outcome) => outcome.ok).length;
    const successRate = outcomes.length === 0 ? null : round(good / outcomes.length);
    const consecutiveFailures = leadingFaults(outcomes);
    const circuit = this.circuit(name);
    const lastError = outcomes.find((outcome) => !outcome.ok);
    const lastSuccess = outcomes.find((outcome) => outcome.ok);
    let state: HealthState = "ok";
    if (maintenance) state = "maintenance";
    else if (circuit !== "closed") state = "open";
    else if (consecutiveFailures > 0 || (successRate !== null && successRate < 0.8)) state = "degraded";
    return {
      state,
      circuit,
      successes: book?.successes ?? 0,
      failures: book?.failures ?? 0,
      consecutiveFailures,
      successRate,
      latency: p50 === undefined || p90 === undefined ? null : { p50, p90, samples: latencies.length },
      lastSuccessAt: lastSuccess ? new Date(lastSuccess.at).toISOString() : null,
      lastError: lastError
        ? {
            reason: lastError.reason ?? "network",
            message: lastError.message ?? "",
            at: new Date(lastError.at).toISOString(),
          }
        : null,
    };
  }

  private bookOf(name: string): Book {
    let book = this.books.get(name);
    if (!book) {
      book = { outcomes: [], successes: 0, failures: 0, probeAt: Number.NEGATIVE_INFINITY };
      this.books.set(name, book);
    }
    return book;
  }
}

/**
 * The failures since the last success, counted by post: several failures on one post count once, so a
 * post a source cannot read does not open its circuit; a source failing on every post still does.
 */
function leadingFaults(outcomes: Outcome[]): number {
  const posts = new Set<string>();
  let unnamed = 0;
  for (const outcome of outcomes) {
    if (outcome.ok) break;
    if (outcome.post === undefined) unnamed++;
    else posts.add(outcome.post);
  }
  return posts.size + unnamed;
}

const successLatencies = (outcomes: Outcome[]) =>
  outcomes
    .filter((outcome) => outcome.ok)
    .map((outcome) => outcome.ms)
    .sort((a, b) => a - b);

function percentile(sorted: number[], rank: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(rank * sorted.length))] ?? 0);
}

/** Weighted random order without replacement: heavier items tend to come first, none starves. */
export function weightedShuffle<T>(items: readonly T[], weightOf: (item: T) => number, random: () => number) {
  return items
    .map((item) => ({ item, key: random() ** (1 / Math.max(weightOf(item), 1e-6)) }))
    .sort((a, b) => b.key - a.key)
    .map((entry) => entry.item);
}

const round = (value: number) => Math.round(value * 1000) / 1000;
