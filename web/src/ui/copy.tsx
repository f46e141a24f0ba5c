import { useState } from "react";
import { CheckIcon, CopyIcon } from "./icons.tsx";

/** An id (or any value) shown in monospace with a button that copies it. */
export function CopyId({ value, label }: { value: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <span className="copy">
      <code>{value}</code>
      <button
        type="button"
        className="icon-btn"
        aria-label={`Copy ${label ?? value}`}
        title="Copy"
        onClick={() => {
          void navigator.clipboard?.writeText(value).then(
            () => {
              setCopied(true);
              setTimeout(() => setCopied(false), 1500);
            },
            () => {},
          );
        }}
      >
        {copied ? <CheckIcon /> : <CopyIcon />}
      </button>
    </span>
  );
}
