import type { Run } from "../api/types.ts";

type Result = NonNullable<Run["result"]>;

/** Next to the run's status: `verified`, or `unverified` for a success nothing fully checked. */
export function VerifiedBadge({ result }: { result: Run["result"] }) {
  if (result?.verified === undefined) return null;
  return result.verified ? (
    <span className="badge badge-verified" title="tests passed and every acceptance criterion was met">
      verified
    </span>
  ) : (
    <span className="badge badge-unverified" title={(result.verification?.reasons ?? []).join("; ")}>
      unverified
    </span>
  );
}

/**
 * How the run's work was checked: the tests, then the acceptance review — each criterion with the
 * reviewer's verdict and evidence — and, when it is not verified, why.
 */
export function VerificationSection({ result }: { result: Result }) {
  const v = result.verification;
  if (result.verified === undefined || !v) return null;
  return (
    <section className="card" aria-labelledby="verify-h">
      <h2 id="verify-h">
        Verification <VerifiedBadge result={result} />
      </h2>
      {v.reasons.length > 0 ? (
        <ul className="plain warn">
          {v.reasons.map((reason) => (
            <li key={reason}>{reason}</li>
          ))}
        </ul>
      ) : (
        <p className="ok">The tests pass and every acceptance criterion was judged met.</p>
      )}
      {v.acceptance.length > 0 ? (
        <>
          <h3>Acceptance criteria</h3>
          <ul className="plain verdicts">
            {v.acceptance.map((a) => (
              <li key={a.criterion}>
                <span className={a.met ? "ok" : "bad"} role="img" aria-label={a.met ? "met" : "not met"}>
                  {a.met ? "✓" : "✗"}
                </span>{" "}
                <strong>{a.criterion}</strong>
                <p className="muted small pre-wrap">{a.evidence}</p>
              </li>
            ))}
          </ul>
          <p className="muted small">
            Judged by {v.judged_by ?? "—"} · {v.reviews} review{v.reviews === 1 ? "" : "s"}
          </p>
        </>
      ) : null}
    </section>
  );
}
