import { setTimeout as sleep } from "node:timers/promises";
import type { Event } from "../contract/event.ts";
import type { Run } from "../contract/run.ts";
import { isGimoError } from "../core/errors.ts";
import { systemPrincipal } from "../core/roles.ts";
import { runAdvice } from "../core/run-failures.ts";
import type { Logger } from "../log.ts";
import { readSetting, writeSetting } from "../store/settings.ts";
import type { Services } from "./services.ts";

/**
 * Runs started from a chat report into it. A follower reads the event log after its cursor (kept
 * in `settings` under CURSOR_KEY, so a restart resumes where it stopped), picks the run events of
 * tasks proposed in a chat, and posts one message per event: started, each step started and
 * finished (tests included), and the end — whether it is verified (and each acceptance verdict),
 * the branch, link, pull request, files changed, test counts, or the reason of a failure and what
 * the person can do about it.
 *
 * Each message's `origin` is the event's seq: unique per chat, so replicas following the same log
 * and a follower replaying after a crash never post an event twice. A fresh database starts at the
 * log's head (no history is replayed into old chats).
 *
 * The follower wakes on commits and gathers those of the next 100 ms into one batch, and what it
 * does per batch is kept small: one query finds which of the batch's runs report to a chat (most
 * report to none), and the cursor is written at most once a second, when a batch posted
 * something, and at stop — a follower that crashes replays at most that second, and the unique
 * origins make the replay post nothing twice.
 */
const CURSOR_KEY = "chat.progress_seq";
const BATCH = 200;
const CURSOR_SAVE_MS = 1_000;
const GATHER_MS = 100;
const FOLLOWED = new Set([
  "run.started",
  "run.step",
  "run.retry",
  "run.succeeded",
  "run.failed",
  "run.cancelled",
  "run.requeued",
]);

export interface Follower {
  stop(): Promise<void>;
}

export function startChatProgress(services: Services, logger: Logger): Follower {
  const { ctx, audit } = services;
  const stop = new AbortController();
  let cursor: number | undefined;
  let saved: number | undefined;
  let savedAt = 0;
  const save = async () => {
    if (cursor === undefined || cursor === saved) return;
    await writeSetting(ctx.store.db, CURSOR_KEY, cursor, new Date().toISOString());
    saved = cursor;
    savedAt = Date.now();
  };
  const loop = async () => {
    saved = await readSetting<number>(ctx.store.db, CURSOR_KEY);
    cursor = saved ?? (await audit.headSeq());
    await save();
    while (!stop.signal.aborted) {
      try {
        const head = await audit.headSeq();
        const { events, through, more } = await audit.feed(cursor, head, BATCH, { role: "admin" });
        const followed = events.filter((e) => FOLLOWED.has(e.type));
        const chatOf = followed.length
          ? await services.chats.chatsOfRuns(ctx.store.db, [...new Set(followed.map((e) => e.subject))])
          : new Map<string, string>();
        let posted = false;
        for (const event of followed) {
          const chatId = chatOf.get(event.subject);
          if (chatId) posted = (await postEvent(services, event, chatId)) || posted;
        }
        cursor = through;
        if (posted || Date.now() - savedAt >= CURSOR_SAVE_MS) await save();
        if (more) continue;
      } catch (error) {
        if (!stop.signal.aborted)
          logger.warn("chat progress follower failed; retrying", { error: String(error) });
        await new Promise((r) => setTimeout(r, 1_000));
      }
      await ctx.store.bus.wait(cursor, Math.min(ctx.store.missedWakeupPollMs, 15_000), stop.signal);
      // Let a burst of commits gather into one batch: a chat reader does not see 100 ms.
      await sleep(GATHER_MS, undefined, { signal: stop.signal }).catch(() => {});
    }
  };
  const done = loop()
    .then(save)
    .catch((error: unknown) => logger.error("chat progress follower stopped", { error: String(error) }));
  return {
    stop: async () => {
      stop.abort();
      await done;
    },
  };
}

/** Posts the message of one run event into the run's chat; whether a message was posted. */
async function postEvent(services: Services, event: Event, chatId: string): Promise<boolean> {
  const run = await services.runs.get(event.subject).catch(() => undefined);
  if (!run) return false;
  const message = describe(event, run);
  if (!message) return false;
  try {
    await services.chats.post(systemPrincipal, chatId, {
      ...message,
      role: "system",
      origin: `event:${event.seq}`,
    });
    return true;
  } catch (error) {
    // Another replica posted it at the same moment (the origin is unique per chat).
    if (!isGimoError(error) || error.code !== "conflict") throw error;
    return false;
  }
}

type Posted = { kind: "progress" | "result" | "error"; text: string; data: Record<string, unknown> };

export function describe(event: Event, run: Run): Posted | undefined {
  const data = event.data as Record<string, unknown>;
  const base = { run_id: run.id, task_id: run.task_id, event: event.type };
  switch (event.type) {
    case "run.started":
      return { kind: "progress", text: `Run ${run.id} started (attempt ${run.attempt}).`, data: base };
    case "run.step": {
      const step = run.steps.find((s) => s.id === data.step_id);
      const status = String(data.status);
      if (status === "pending") return undefined;
      const verb = status === "running" ? "started" : status === "succeeded" ? "finished" : status;
      const title = step ? ` "${step.title}"${step.kind === "test" ? " (tests)" : ""}` : "";
      return {
        kind: "progress",
        text: `Step ${String(data.step_id)}${title} ${verb}.`,
        data: { ...base, step_id: data.step_id, status },
      };
    }
    case "run.retry":
      return {
        kind: "progress",
        text: `Run ${run.id}: the attempt was lost to the infrastructure; it is queued again and will retry.`,
        data: base,
      };
    case "run.requeued":
      return { kind: "progress", text: `Run ${run.id} was put back in the queue.`, data: base };
    case "run.cancelled":
      return {
        kind: "result",
        text: `Run ${run.id} was cancelled. Nothing was pushed after the cancel.`,
        data: { ...base, status: "cancelled" },
      };
    case "run.succeeded":
      return {
        kind: "result",
        text: resultText(run),
        data: { ...base, status: "succeeded", ...resultData(run) },
      };
    case "run.failed": {
      const error = run.error ?? { code: "failed", message: "the run failed" };
      return {
        kind: "error",
        text: `Run ${run.id} failed: ${error.message} (${error.code}).\nWhat you can do: ${runAdvice(error.code, run.id)}`,
        data: { ...base, status: "failed", code: error.code },
      };
    }
    default:
      return undefined;
  }
}

function resultData(run: Run) {
  const r = run.result ?? {};
  return {
    branch: r.branch ?? null,
    link: r.link ?? null,
    pull_request: r.pull_request?.url ?? null,
    files_changed: (r.file_changes ?? []).map((f) => f.path),
    verified: r.verified ?? null,
  };
}

function resultText(run: Run): string {
  const r = run.result ?? {};
  const why = r.verification?.reasons ?? [];
  const lines = [`Run ${run.id} succeeded.`];
  if (r.verified === false) lines.push(`NOT VERIFIED${why.length ? `: ${why.join("; ")}` : ""}.`);
  if (r.verified === true)
    lines.push("Verified: the tests pass and every acceptance criterion was judged met.");
  if (r.branch) lines.push(`Branch: ${r.branch}${r.pushed === false ? " (not pushed)" : ""}`);
  if (r.link) lines.push(`Link: ${r.link}`);
  if (r.pull_request?.url) lines.push(`Pull request: ${r.pull_request.url}`);
  const files = r.file_changes ?? [];
  if (files.length > 0) {
    lines.push(`Files changed (${files.length}):`);
    for (const f of files.slice(0, 20)) lines.push(`- ${f.path} (+${f.insertions} −${f.deletions})`);
    if (files.length > 20) lines.push(`- … and ${files.length - 20} more`);
  }
  if (r.tests)
    lines.push(
      `Tests: ${r.tests.passed ?? "?"} passed, ${r.tests.failed ?? "?"} failed (${r.tests.command})`,
    );
  const verdicts = r.verification?.acceptance ?? [];
  if (verdicts.length > 0) {
    lines.push("Acceptance:");
    for (const v of verdicts) lines.push(`- ${v.met ? "✓" : "✗"} ${v.criterion} — ${v.evidence}`);
  }
  return lines.join("\n");
}
