import type { ReactNode } from "react";

/**
 * A link only for http(s) URLs — a runner or a model may report anything, and `javascript:` or
 * `data:` must never become clickable. Anything else is shown as text.
 */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

export function SafeLink({ href, children }: { href: string | null | undefined; children?: ReactNode }) {
  const safe = safeHref(href);
  if (!safe) return href ? <span className="muted">{href}</span> : null;
  return (
    <a href={safe} target="_blank" rel="noopener noreferrer nofollow">
      {children ?? safe}
    </a>
  );
}
