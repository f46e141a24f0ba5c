import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, useState } from "react";
import type { LogLineT } from "../api/types.ts";

/**
 * A run's log, virtualised: only the rows on screen are in the DOM, so 100,000 lines scroll as
 * smoothly as 100. Lines arrive in a mutable store (`LogStore`), and the view re-renders at most
 * once per animation frame however fast they come. While "follow" is on, it keeps to the end.
 * Every line is text: whatever a model or a command printed is never markup.
 */
const ROW = 20;

export class LogStore {
  readonly lines: LogLineT[] = [];
  #last = -1;
  #listeners = new Set<() => void>();
  #scheduled = false;

  /** Appends lines newer than the newest held (a resumed stream may repeat some). */
  add(lines: readonly LogLineT[]): void {
    let added = false;
    for (const line of lines) {
      if (line.seq <= this.#last) continue;
      this.lines.push(line);
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
  const [count, setCount] = useState(store.lines.length);
  const [follow, setFollow] = useState(true);
  const parent = useRef<HTMLElement>(null);
  useEffect(() => store.subscribe(() => setCount(store.lines.length)), [store]);
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
          {count.toLocaleString()} lines
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
            const line = store.lines[row.index];
            if (!line) return null;
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
                <span className="log-ts">{line.ts.slice(11, 19)}</span>
                {line.step_id ? <span className="log-step">{line.step_id}</span> : null}
                <span className="log-msg">{line.msg}</span>
              </div>
            );
          })}
        </div>
      </section>
    </div>
  );
}
