import { type FormEvent, useState } from "react";
import { Navigate, useSearchParams } from "react-router";
import { useSession } from "../api/session.tsx";
import { ErrorBox } from "../ui/states.tsx";

/**
 * Sign-in: paste a token (an admin's is printed at first start and saved in the data dir's
 * admin.token). It is checked with `GET /ops/whoami` and kept in this tab's sessionStorage only.
 */
export function SignIn() {
  const { signIn } = useSession();
  const [token, setToken] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(token.trim());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" className="signin">
      <form onSubmit={submit} className="card signin-card" aria-labelledby="signin-title">
        <h1 id="signin-title">
          <span aria-hidden="true" className="logo">
            ✚
          </span>{" "}
          Sign in to GIMO
        </h1>
        <p className="muted">
          Paste an API token. On first start GIMO prints an admin token once and saves it to{" "}
          <code>.orch_data/admin.token</code>. The token stays in this tab only.
        </p>
        <label htmlFor="token">Token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
        />
        <ErrorBox error={error} />
        <button type="submit" className="primary" disabled={busy || token.trim() === ""}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

/**
 * Where a signed-in session lands from /sign-in: the page it was sent away from (same-origin paths
 * only), else the setup wizard for an admin (it steps aside when setup is done), else the board.
 */
export function AfterSignIn() {
  const { session } = useSession();
  const [params] = useSearchParams();
  const next = params.get("next");
  const safeNext = next?.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : null;
  return <Navigate to={safeNext ?? (session?.who.role === "admin" ? "/setup?auto=1" : "/")} replace />;
}
