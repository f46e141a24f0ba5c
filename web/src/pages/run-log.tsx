import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, useState } from "react";
import type { LogLineT } from "../api/types.ts";

/**
 * A run's log, virtualised: only the rows on screen are in the DOM, so 100,000 lines scroll as
 * smoothly as 100. A line whose message spans several lines (a file the agent read, a test's
 * output) becomes one row per line, so every row has the same height. Lines arrive in a mutable store (`LogStore`), and the view re-renders at most
 * once per animation frame however fast they come. While "follow" is on, it keeps to the end.
 * Every line is text: whatever a model or a command printed is never markup.
 */
const ROW = 20;

export interface LogRow {
  line: LogLineT;
  text: string;
  /** The first row of its line (shows the time and step). */
  first: boolean;
}

export class LogStore {
  readonly rows: LogRow[] = [];
  lineCount = 0;
  #last = -1;
  #listeners = new Set<() => void>();
  #scheduled = false;

  /** Appends lines newer than the newest held (a resumed stream may repeat some). */
  add(lines: readonly LogLineT[]): void {
    let added = false;
    for (const line of lines) {
      if (line.seq <= this.#last) continue;
      const parts = line.msg.split("\n");
      parts.forEach((text, i) => {
        if (i < parts.length - 1 || text !== "" || i === 0) this.rows.push({ line, text, first: i === 0 });
      });
      this.lineCount++;
      this.#last = line.seq;
      added = true;
    }
    if (added) this.#notify();
  }

  get lastSeq(): number {
    return this.#last;
  }

  subscribe(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #notify(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    requestAnimationFrame(() => {
      this.#scheduled = false;
      for (const fn of this.#listeners) fn();
    });
  }
}

export function RunLog({ store }: { store: LogStore }) {
  const [count, setCount] = useState(store.rows.length);
  const [lines, setLines] = useState(store.lineCount);
  const [follow, setFollow] = useState(true);
  const parent = useRef<HTMLElement>(null);
  useEffect(
    () =>
      store.subscribe(() => {
        setCount(store.rows.length);
        setLines(store.lineCount);
      }),
    [store],
  );
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => parent.current,
    estimateSize: () => ROW,
    overscan: 20,
  });
  useEffect(() => {
    if (follow && count > 0) virtualizer.scrollToIndex(count - 1, { align: "end" });
  }, [count, follow, virtualizer]);
  return (
    <div className="log-wrap">
      <div className="log-bar">
        <span className="muted" data-testid="log-count">
          {lines.toLocaleString()} lines
        </span>
        <label className="inline">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
      </div>
      {/* A scrollable region is focusable, so the keyboard can scroll it. */}
      <section
        ref={parent}
        className="log"
        aria-label="Run log"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
        tabIndex={0}
        onWheel={(e) => {
          if (e.deltaY < 0) setFollow(false);
        }}
      >
        {count === 0 ? <p className="muted log-empty">No log lines yet.</p> : null}
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {virtualizer.getVirtualItems().map((row) => {
            const entry = store.rows[row.index];
            if (!entry) return null;
            const { line } = entry;
            return (
              <div
                key={row.key}
                className={`log-line lvl-${line.level}`}
                style={{
                  position: "absolute",
                  top: 0,
                  left: 0,
                  transform: `translateY(${row.start}px)`,
                  height: ROW,
                }}
              >
                <span className="log-ts">{entry.first ? line.ts.slice(11, 19) : ""}</span>
                {entry.first && line.step_id ? <span className="log-step">{line.step_id}</span> : null}
                <span className="log-msg">{entry.text}</span>
              </div>
            );
          })}
        </div>
      </section>
    </div>
  );
}
