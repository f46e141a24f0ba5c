import type { PlanContent } from "../api/types.ts";
import { Markdown } from "../ui/markdown.tsx";

/** A plan as a person reads it: title, summary (sanitised markdown), steps, acceptance, risk, budgets. */
export function PlanView({ plan }: { plan: PlanContent }) {
  return (
    <div className="plan">
      <h3 className="plan-title">{plan.title}</h3>
      {plan.summary ? <Markdown text={plan.summary} /> : null}
      <h4>Steps</h4>
      <ol className="steps">
        {plan.steps.map((step) => (
          <li key={step.id} className="step">
            <div className="step-head">
              <span className={`kind kind-${step.kind}`}>{step.kind}</span> <strong>{step.title}</strong>{" "}
              <code className="muted">{step.id}</code>
            </div>
            {step.kind === "command" ? <pre className="cmd">{step.command}</pre> : null}
            {step.instructions ? <p className="pre-wrap">{step.instructions}</p> : null}
          </li>
        ))}
      </ol>
      {plan.acceptance.length ? (
        <>
          <h4>Acceptance</h4>
          <ul className="acceptance">
            {plan.acceptance.map((a) => (
              <li key={a}>{a}</li>
            ))}
          </ul>
        </>
      ) : null}
      <p>
        Risk: <span className={`risk risk-${plan.risk}`}>{plan.risk}</span>
      </p>
      {plan.budgets && Object.keys(plan.budgets).length ? (
        <p className="muted">
          Budgets:{" "}
          {Object.entries(plan.budgets)
            .map(([k, v]) => `${k.replace(/_/g, " ")} ${v}`)
            .join(" · ")}
        </p>
      ) : null}
    </div>
  );
}

/** The plan as stable, readable text for the revision diff (keys in a fixed order). */
export function planText(plan: PlanContent | null): string {
  if (!plan) return "";
  const ordered = {
    title: plan.title,
    summary: plan.summary,
    steps: plan.steps.map(({ id, kind, title, ...rest }) => ({ id, kind, title, ...rest })),
    acceptance: plan.acceptance,
    risk: plan.risk,
    ...(plan.budgets ? { budgets: plan.budgets } : {}),
    ...(plan.limits ? { limits: plan.limits } : {}),
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
