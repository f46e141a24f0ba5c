import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { runStatuses } from "../core/run-machine.ts";
import type { StatusService } from "./status.ts";

/**
 * Prometheus metrics (`GET /metrics`, prefix `gimo_`). One registry per GIMO instance — no global
 * state. Queue depth is read from the store at scrape time; claims, run durations and HTTP
 * latencies are observed as they happen in this process.
 */
export class PrometheusMetrics {
  readonly registry = new Registry();
  readonly claims: Counter;
  readonly runDuration: Histogram;
  readonly httpDuration: Histogram;
  readonly completionBatch: Histogram;
  readonly maintenanceLeader: Gauge;
  readonly maintenancePasses: Counter;

  constructor(status: StatusService) {
    new Gauge({
      name: "gimo_runs",
      help: "Runs by status",
      labelNames: ["status"],
      registers: [this.registry],
      async collect() {
        const counts = await status.queueCounts();
        for (const s of runStatuses) this.set({ status: s }, counts[s]);
      },
    });
    this.claims = new Counter({
      name: "gimo_claims_total",
      help: "Runs claimed by runners",
      registers: [this.registry],
    });
    this.runDuration = new Histogram({
      name: "gimo_run_duration_seconds",
      help: "Duration of finished run attempts, from claim to completion",
      labelNames: ["status"],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [this.registry],
    });
    this.httpDuration = new Histogram({
      name: "gimo_http_request_duration_seconds",
      help: "HTTP request durations",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [this.registry],
    });
    this.completionBatch = new Histogram({
      name: "gimo_run_end_batch_size",
      help: "Ends of runs written together in one statement (PostgreSQL, batches of two or more)",
      buckets: [2, 4, 8, 16, 32],
      registers: [this.registry],
    });
    this.maintenanceLeader = new Gauge({
      name: "gimo_maintenance_leader",
      help: "1 while this replica holds the maintenance lease and runs the singleton work (sweeper, retention)",
      registers: [this.registry],
    });
    this.maintenancePasses = new Counter({
      name: "gimo_maintenance_passes_total",
      help: "Maintenance passes (sweep, and retention when due) this replica ran as the lease holder",
      registers: [this.registry],
    });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
