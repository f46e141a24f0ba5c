import * as Dialog from "@radix-ui/react-dialog";
import * as Switch from "@radix-ui/react-switch";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { post } from "../api/client.ts";
import type { Draft, Run } from "../api/types.ts";
import { contentHash } from "../lib/content-hash.ts";
import { ErrorBox } from "../ui/states.tsx";

/**
 * What an operator does to a pending draft: approve it (a dialog that shows the content hash of
 * exactly the plan on screen and sends it along, so the server refuses a draft that changed
 * since), reject it, or ask the planner for a revision with feedback.
 */
export function ApproveDialog({ draft }: { draft: Draft }) {
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [autoRun, setAutoRun] = useState(true);
  const [reviewed, setReviewed] = useState<{ hash: string; plan: string } | null>(null);
  const [current, setCurrent] = useState<string | null>(null);
  // The hash of what is on screen now; when the draft changes under the open dialog, it differs.
  useEffect(() => {
    let live = true;
    void contentHash(draft.plan).then((h) => live && setCurrent(h));
    return () => {
      live = false;
    };
  }, [draft.plan]);
  const approve = useMutation({
    mutationFn: () =>
      post<{ approved: { id: string }; run: Run | null }>(`/ops/drafts/${draft.id}/approve`, {
        auto_run: autoRun,
        content_hash: reviewed?.hash,
      }),
    onSuccess: () => {
      setOpen(false);
      void client.invalidateQueries({ queryKey: ["task"] });
    },
  });
  const changed = reviewed !== null && current !== null && current !== reviewed.hash;
  return (
    <Dialog.Root
      open={open}
      onOpenChange={(o) => {
        setOpen(o);
        approve.reset();
        if (o && current) setReviewed({ hash: current, plan: JSON.stringify(draft.plan) });
      }}
    >
      <Dialog.Trigger asChild>
        <button type="button" className="primary" disabled={!current}>
          Approve…
        </button>
      </Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content className="dialog">
          <Dialog.Title>Approve revision {draft.rev}</Dialog.Title>
          <Dialog.Description>
            This freezes the plan you reviewed. Only this exact content can run:
          </Dialog.Description>
          <p>
            <code className="hash" data-testid="approve-hash">
              {reviewed?.hash}
            </code>
          </p>
          <div className="switch-row">
            <Switch.Root id="auto-run" className="switch" checked={autoRun} onCheckedChange={setAutoRun}>
              <Switch.Thumb className="switch-thumb" />
            </Switch.Root>
            <label htmlFor="auto-run">Run it now (auto-run)</label>
          </div>
          {changed ? (
            <p className="error" role="alert">
              The draft changed since you opened this dialog. Close it and review the new content.
            </p>
          ) : null}
          <ErrorBox error={approve.error} />
          <div className="actions">
            <button
              type="button"
              className="primary"
              disabled={changed || approve.isPending || !reviewed}
              onClick={() => approve.mutate()}
            >
              {approve.isPending ? "Approving…" : autoRun ? "Approve and run" : "Approve"}
            </button>
            <Dialog.Close asChild>
              <button type="button">Cancel</button>
            </Dialog.Close>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

export function RejectButton({ draft }: { draft: Draft }) {
  const client = useQueryClient();
  const [reason, setReason] = useState("");
  const [open, setOpen] = useState(false);
  const reject = useMutation({
    mutationFn: () => post(`/ops/drafts/${draft.id}/reject`, reason.trim() ? { reason } : {}),
    onSuccess: () => {
      setOpen(false);
      void client.invalidateQueries({ queryKey: ["task"] });
    },
  });
  return (
    <Dialog.Root open={open} onOpenChange={setOpen}>
      <Dialog.Trigger asChild>
        <button type="button" className="danger">
          Reject…
        </button>
      </Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content className="dialog">
          <Dialog.Title>Reject revision {draft.rev}</Dialog.Title>
          <Dialog.Description>The task ends as rejected; nothing runs.</Dialog.Description>
          <label htmlFor="reject-reason">Reason (optional)</label>
          <textarea id="reject-reason" rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />
          <ErrorBox error={reject.error} />
          <div className="actions">
            <button
              type="button"
              className="danger"
              onClick={() => reject.mutate()}
              disabled={reject.isPending}
            >
              Reject
            </button>
            <Dialog.Close asChild>
              <button type="button">Cancel</button>
            </Dialog.Close>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

export function ReviseForm({ draft }: { draft: Draft }) {
  const client = useQueryClient();
  const [feedback, setFeedback] = useState("");
  const revise = useMutation({
    mutationFn: () => post<Draft>(`/ops/drafts/${draft.id}/revise`, { feedback }),
    onSuccess: () => {
      setFeedback("");
      void client.invalidateQueries({ queryKey: ["task"] });
    },
  });
  return (
    <form
      className="revise"
      onSubmit={(e) => {
        e.preventDefault();
        revise.mutate();
      }}
    >
      <label htmlFor="feedback">Revise with feedback</label>
      <textarea
        id="feedback"
        rows={3}
        value={feedback}
        placeholder="What should the planner change?"
        onChange={(e) => setFeedback(e.target.value)}
      />
      <ErrorBox error={revise.error} />
      <button type="submit" disabled={revise.isPending || feedback.trim() === ""}>
        {revise.isPending ? "Revising…" : "Revise"}
      </button>
    </form>
  );
}
