import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { get } from "../api/client.ts";
import type { MetricsT, RunnerListT } from "../api/types.ts";
import { Empty, ErrorBox, Loading, TableWrap } from "../ui/states.tsx";
import { Time } from "../ui/time.tsx";

/**
 * Runners (online/offline by heartbeat, their current runs) and the operator's figures over time:
 * throughput (runs finished per sample), fail rate of the last 20, queue depth and the oldest
 * queued run's age. `GET /ops/metrics` is a snapshot; this page samples it every 5 s while open
 * and charts the samples with uPlot (a ~50 KB canvas chart that draws thousands of points cheaply).
 */
interface Sample {
  t: number;
  finished: number;
  failRate: number;
  queued: number;
  oldest: number;
}

export default function Runners() {
  const runners = useQuery({ queryKey: ["runners"], queryFn: () => get<RunnerListT>("/ops/runners") });
  const metrics = useQuery({
    queryKey: ["metrics"],
    queryFn: () => get<MetricsT>("/ops/metrics"),
    refetchInterval: 5_000,
  });
  const [samples, setSamples] = useState<Sample[]>([]);
  useEffect(() => {
    const m = metrics.data;
    if (!m) return;
    setSamples((s) =>
      [
        ...s,
        {
          t: Date.now() / 1000,
          finished: m.runs.succeeded + m.runs.failed + m.runs.cancelled,
          failRate: m.fail_rate_last_20 * 100,
          queued: m.runs.queued,
          oldest: m.oldest_queued_age_seconds,
        },
      ].slice(-720),
    );
  }, [metrics.data]);
  const throughput = samples.map((s, i) =>
    i === 0 ? 0 : Math.max(0, s.finished - (samples[i - 1]?.finished ?? s.finished)),
  );
  const m = metrics.data;
  return (
    <div className="page">
      <h1>Runners and metrics</h1>
      <ErrorBox error={runners.error ?? metrics.error} />
      {m ? (
        <div className="stats">
          <Stat label="Queued" value={m.runs.queued} />
          <Stat label="Running" value={m.runs.running} />
          <Stat label="Succeeded" value={m.runs.succeeded} />
          <Stat label="Failed" value={m.runs.failed} />
          <Stat label="Fail rate (last 20)" value={`${Math.round(m.fail_rate_last_20 * 100)}%`} />
          <Stat label="Oldest queued" value={`${Math.round(m.oldest_queued_age_seconds)} s`} />
          <Stat label="Awaiting approval" value={m.drafts_awaiting_approval} />
        </div>
      ) : (
        <Loading what="Loading metrics" />
      )}
      <section className="card" aria-labelledby="runners-h">
        <h2 id="runners-h">Runners</h2>
        {runners.data?.items.length === 0 ? (
          <Empty title="No runner registered">
            <p>
              <code>gimo serve</code> starts one once an executor model is configured; others connect with{" "}
              <code>gimo runner</code>.
            </p>
          </Empty>
        ) : null}
        <TableWrap label="Runners">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Last heartbeat</th>
                <th scope="col">Capacity</th>
                <th scope="col">Current runs</th>
              </tr>
            </thead>
            <tbody>
              {(runners.data?.items ?? []).map((r) => (
                <tr key={r.id}>
                  <td>{r.name}</td>
                  <td>
                    <span className={`badge badge-${r.status}`}>{r.status}</span>
                  </td>
                  <td>
                    <Time iso={r.last_heartbeat_at} />
                  </td>
                  <td>{r.capacity}</td>
                  <td>
                    {r.current_runs.length
                      ? r.current_runs.map((id) => (
                          <Link key={id} to={`/runs/${id}`}>
                            {id}{" "}
                          </Link>
                        ))
                      : "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      </section>
      <section className="charts" aria-label="Charts (sampled every 5 s while this page is open)">
        <Chart title="Throughput (runs finished per 5 s)" xs={samples.map((s) => s.t)} ys={throughput} />
        <Chart
          title="Fail rate, last 20 runs (%)"
          xs={samples.map((s) => s.t)}
          ys={samples.map((s) => s.failRate)}
        />
        <Chart title="Queue depth" xs={samples.map((s) => s.t)} ys={samples.map((s) => s.queued)} />
        <Chart title="Oldest queued age (s)" xs={samples.map((s) => s.t)} ys={samples.map((s) => s.oldest)} />
      </section>
    </div>
  );
}

function Stat({ label, value }: { label: string; value: number | string }) {
  return (
    <div className="stat">
      <div className="stat-value">{value}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
}

function Chart({ title, xs, ys }: { title: string; xs: number[]; ys: number[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    if (!box.current) return;
    const width = Math.max(240, box.current.clientWidth - 8);
    const stroke =
      getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#3454d1";
    const axis = getComputedStyle(document.documentElement).getPropertyValue("--fg-muted").trim() || "#666";
    plot.current = new uPlot(
      {
        width,
        height: 160,
        legend: { show: false },
        series: [{}, { label: title, stroke, width: 2, fill: `${stroke}22` }],
        axes: [{ stroke: axis }, { stroke: axis }],
        scales: {
          x: { time: true },
          y: { range: (_u, min, max) => [0, Math.max(1, max, min)] },
        },
      },
      [[], []],
      box.current,
    );
    const box_ = box.current;
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(240, box_.clientWidth - 8), height: 160 }),
    );
    resize.observe(box_);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
    };
  }, [title]);
  useEffect(() => {
    // A single sample has no time span (uPlot would label the axis in years): draw it as a level
    // line over the last sampling period until the next one arrives.
    const x0 = xs[0];
    const y0 = ys[0];
    if (xs.length === 1 && x0 !== undefined && y0 !== undefined)
      plot.current?.setData([
        [x0 - 5, x0],
        [y0, y0],
      ]);
    else plot.current?.setData([xs, ys]);
  }, [xs, ys]);
  return (
    <figure className="card chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}: latest ${ys[ys.length - 1] ?? "no data"}`} />
    </figure>
  );
}
