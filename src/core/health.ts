import type { FailureReason } from "./errors.js";

const LATENCY_WINDOW = 50;

export type HealthState = "healthy" | "degraded" | "failing" | "unknown";

export interface HealthSnapshot {
  state: HealthState;
  successes: number;
  failures: number;
  consecutiveFailures: number;
  /** Milliseconds, over the last few attempts. */
  latency: { p50: number; p90: number; samples: number } | null;
  lastSuccessAt: string | null;
  lastError: { reason: FailureReason; message: string; at: string } | null;
}

interface Record_ {
  successes: number;
  failures: number;
  consecutiveFailures: number;
  latencies: number[];
  lastSuccessAt: number | null;
  lastError: { reason: FailureReason; message: string; at: number } | null;
}

/** What this instance has seen of each source; the rotation prefers the healthy ones. */
export class SourceHealth {
  private readonly records = new Map<string, Record_>();

  constructor(private readonly now: () => number) {}

  recordSuccess(name: string, latencyMs: number): void {
    const record = this.recordOf(name);
    record.successes++;
    record.consecutiveFailures = 0;
    record.lastSuccessAt = this.now();
    this.pushLatency(record, latencyMs);
  }

  recordFailure(name: string, reason: FailureReason, message: string, latencyMs: number): void {
    const record = this.recordOf(name);
    record.failures++;
    record.consecutiveFailures++;
    record.lastError = { reason, message, at: this.now() };
    this.pushLatency(record, latencyMs);
  }

  /** A weight in (0, 1]: recent failures push a source to the back of the rotation. */
  weight(name: string): number {
    const record = this.records.get(name);
    if (!record) return 0.5;
    const total = record.successes + record.failures;
    const successRate = (record.successes + 1) / (total + 2);
    return successRate / (1 + record.consecutiveFailures);
  }

  snapshot(name: string): HealthSnapshot {
    const record = this.records.get(name);
    if (!record)
      return {
        state: "unknown",
        successes: 0,
        failures: 0,
        consecutiveFailures: 0,
        latency: null,
        lastSuccessAt: null,
        lastError: null,
      };
    const sorted = [...record.latencies].sort((a, b) => a - b);
    return {
      state: stateOf(record),
      successes: record.successes,
      failures: record.failures,
      consecutiveFailures: record.consecutiveFailures,
      latency:
        sorted.length === 0
          ? null
          : { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), samples: sorted.length },
      lastSuccessAt: record.lastSuccessAt === null ? null : new Date(record.lastSuccessAt).toISOString(),
      lastError: record.lastError && { ...record.lastError, at: new Date(record.lastError.at).toISOString() },
    };
  }

  private recordOf(name: string): Record_ {
    let record = this.records.get(name);
    if (!record) {
      record = {
        successes: 0,
        failures: 0,
        consecutiveFailures: 0,
        latencies: [],
        lastSuccessAt: null,
        lastError: null,
      };
      this.records.set(name, record);
    }
    return record;
  }

  private pushLatency(record: Record_, latencyMs: number): void {
    record.latencies.push(Math.round(latencyMs));
    if (record.latencies.length > LATENCY_WINDOW) record.latencies.shift();
  }
}

function stateOf(record: Record_): HealthState {
  if (record.consecutiveFailures >= 3) return "failing";
  if (record.consecutiveFailures > 0) return "degraded";
  return "healthy";
}

function percentile(sorted: number[], rank: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(rank * sorted.length))] ?? 0;
}
