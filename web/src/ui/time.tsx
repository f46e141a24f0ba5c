import { useEffect, useState } from "react";

/** A timestamp shown relative ("3 min ago"), the absolute time on hover and to screen readers. */
const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day", 30],
  ["month", 12],
  ["year", Number.POSITIVE_INFINITY],
];

export function relative(iso: string, now = Date.now()): string {
  let value = (new Date(iso).getTime() - now) / 1000;
  for (const [unit, size] of STEPS) {
    if (Math.abs(value) < size) return rtf.format(Math.round(value), unit);
    value /= size;
  }
  return iso;
}

function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  useNow(); // re-render every 30 s; the time itself is read now
  const now = Date.now();
  if (!iso) return <span className="muted">—</span>;
  const absolute = new Date(iso).toLocaleString();
  return (
    <time dateTime={iso} title={absolute}>
      {relative(iso, now)}
    </time>
  );
}

export function duration(fromIso: string | null, toIso: string | null): string {
  if (!fromIso) return "—";
  const s = Math.max(
    0,
    Math.round(((toIso ? new Date(toIso).getTime() : Date.now()) - new Date(fromIso).getTime()) / 1000),
  );
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
