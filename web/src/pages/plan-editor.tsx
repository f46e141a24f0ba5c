import { useMemo, useState } from "react";
import { PlanContent as PlanSchema } from "../../../src/contract/plan.ts";
import type { PlanContent, PlanStepT } from "../api/types.ts";

/**
 * Editing a draft's plan: a structured step editor, or the raw JSON. Both are checked against the
 * contract's own schema (`PlanContent` from src/contract) before anything is sent; the server
 * checks again. Saving hands the parsed plan to `onSave`.
 */
type Kind = PlanStepT["kind"];

export function PlanEditor({
  initial,
  onSave,
  onCancel,
  saving,
}: {
  initial: PlanContent;
  onSave(plan: PlanContent): void;
  onCancel(): void;
  saving: boolean;
}) {
  const [mode, setMode] = useState<"steps" | "json">("steps");
  const [plan, setPlan] = useState<PlanContent>(initial);
  const [json, setJson] = useState(() => JSON.stringify(initial, null, 2));
  const parsed = useMemo(() => {
    if (mode === "steps") return PlanSchema.safeParse(plan);
    try {
      return PlanSchema.safeParse(JSON.parse(json));
    } catch (error) {
      return {
        success: false as const,
        error: { issues: [{ path: [], message: (error as Error).message }] },
      };
    }
  }, [mode, plan, json]);
  const issues = parsed.success ? [] : parsed.error.issues;

  const switchTo = (next: "steps" | "json") => {
    if (next === mode) return;
    if (next === "json") setJson(JSON.stringify(plan, null, 2));
    else if (parsed.success) setPlan(parsed.data as PlanContent);
    else return;
    setMode(next);
  };
  const setStep = (i: number, step: PlanStepT) =>
    setPlan({ ...plan, steps: plan.steps.map((s, j) => (j === i ? step : s)) });
  const move = (i: number, by: number) => {
    const steps = [...plan.steps];
    const [s] = steps.splice(i, 1);
    if (s) steps.splice(i + by, 0, s);
    setPlan({ ...plan, steps });
  };

  return (
    <form
      className="editor card"
      aria-label="Edit plan"
      onSubmit={(e) => {
        e.preventDefault();
        if (parsed.success) onSave(parsed.data as PlanContent);
      }}
    >
      <fieldset className="tabs">
        <legend className="sr-only">Editor mode</legend>
        <button type="button" aria-pressed={mode === "steps"} onClick={() => switchTo("steps")}>
          Steps
        </button>
        <button type="button" aria-pressed={mode === "json"} onClick={() => switchTo("json")}>
          Raw JSON
        </button>
      </fieldset>
      {mode === "json" ? (
        <>
          <label htmlFor="plan-json">Plan (JSON)</label>
          <textarea
            id="plan-json"
            className="mono"
            rows={20}
            spellCheck={false}
            value={json}
            onChange={(e) => setJson(e.target.value)}
            aria-invalid={!parsed.success}
            aria-describedby="plan-issues"
          />
        </>
      ) : (
        <>
          <label htmlFor="plan-title">Title</label>
          <input
            id="plan-title"
            value={plan.title}
            onChange={(e) => setPlan({ ...plan, title: e.target.value })}
          />
          <label htmlFor="plan-summary">Summary (markdown)</label>
          <textarea
            id="plan-summary"
            rows={3}
            value={plan.summary}
            onChange={(e) => setPlan({ ...plan, summary: e.target.value })}
          />
          <fieldset>
            <legend>Steps</legend>
            {plan.steps.map((step, i) => (
              <StepEditor
                // biome-ignore lint/suspicious/noArrayIndexKey: steps are edited in place, ids may be edited too
                key={i}
                index={i}
                count={plan.steps.length}
                step={step}
                onChange={(s) => setStep(i, s)}
                onMove={(by) => move(i, by)}
                onRemove={() => setPlan({ ...plan, steps: plan.steps.filter((_, j) => j !== i) })}
              />
            ))}
            <button
              type="button"
              onClick={() =>
                setPlan({
                  ...plan,
                  steps: [
                    ...plan.steps,
                    { id: `s${plan.steps.length + 1}`, kind: "agent", title: "New step", instructions: "…" },
                  ],
                })
              }
            >
              Add step
            </button>
          </fieldset>
          <label htmlFor="plan-acceptance">Acceptance criteria (one per line)</label>
          <textarea
            id="plan-acceptance"
            rows={3}
            value={plan.acceptance.join("\n")}
            onChange={(e) =>
              setPlan({ ...plan, acceptance: e.target.value.split("\n").filter((l) => l.trim() !== "") })
            }
          />
          <label htmlFor="plan-risk">Risk</label>
          <select
            id="plan-risk"
            value={plan.risk}
            onChange={(e) => setPlan({ ...plan, risk: e.target.value as PlanContent["risk"] })}
          >
            <option value="low">low</option>
            <option value="medium">medium</option>
            <option value="high">high</option>
          </select>
        </>
      )}
      <div id="plan-issues" aria-live="polite">
        {issues.length ? (
          <ul className="error" role="alert">
            {issues.slice(0, 8).map((issue, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: issues have no identity
              <li key={i}>
                {issue.path.length ? <code>{issue.path.join(".")}</code> : null} {issue.message}
              </li>
            ))}
          </ul>
        ) : (
          <p className="ok small">Valid plan.</p>
        )}
      </div>
      <div className="actions">
        <button type="submit" className="primary" disabled={!parsed.success || saving}>
          {saving ? "Saving…" : "Save plan"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function StepEditor({
  step,
  index,
  count,
  onChange,
  onMove,
  onRemove,
}: {
  step: PlanStepT;
  index: number;
  count: number;
  onChange(step: PlanStepT): void;
  onMove(by: number): void;
  onRemove(): void;
}) {
  const n = index + 1;
  const setKind = (kind: Kind) => {
    const base = { id: step.id, title: step.title };
    if (kind === "agent") onChange({ ...base, kind, instructions: step.instructions || "…" });
    else if (kind === "command")
      onChange({
        ...base,
        kind,
        command: "command" in step ? step.command : "",
        instructions: step.instructions,
      });
    else onChange({ ...base, kind, instructions: step.instructions });
  };
  return (
    <fieldset className="step-edit">
      <legend className="sr-only">Step {n}</legend>
      <div className="row">
        <label>
          Id <input value={step.id} size={6} onChange={(e) => onChange({ ...step, id: e.target.value })} />
        </label>
        <label>
          Kind{" "}
          <select value={step.kind} onChange={(e) => setKind(e.target.value as Kind)}>
            <option value="agent">agent</option>
            <option value="command">command</option>
            <option value="test">test</option>
          </select>
        </label>
        <span className="spacer" />
        <button
          type="button"
          aria-label={`Move step ${n} up`}
          disabled={index === 0}
          onClick={() => onMove(-1)}
        >
          ↑
        </button>
        <button
          type="button"
          aria-label={`Move step ${n} down`}
          disabled={index === count - 1}
          onClick={() => onMove(1)}
        >
          ↓
        </button>
        <button type="button" aria-label={`Remove step ${n}`} disabled={count === 1} onClick={onRemove}>
          ✕
        </button>
      </div>
      <label>
        Step {n} title{" "}
        <input value={step.title} onChange={(e) => onChange({ ...step, title: e.target.value })} />
      </label>
      {step.kind === "command" ? (
        <label>
          Step {n} command{" "}
          <input
            className="mono"
            value={step.command}
            onChange={(e) => onChange({ ...step, command: e.target.value })}
          />
        </label>
      ) : null}
      <label>
        Step {n} instructions
        <textarea
          rows={3}
          value={step.instructions ?? ""}
          onChange={(e) =>
            onChange(
              step.kind === "agent"
                ? { ...step, instructions: e.target.value }
                : { ...step, instructions: e.target.value === "" ? undefined : e.target.value },
            )
          }
        />
      </label>
    </fieldset>
  );
}
