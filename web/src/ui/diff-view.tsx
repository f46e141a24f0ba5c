import { useMemo, useState } from "react";
import { Diff, type FileData, Hunk, parseDiff } from "react-diff-view";
import "react-diff-view/style/index.css";
import { highlightHunks } from "./highlight.ts";

/**
 * A unified diff (git's output, or one made in the browser between two plan revisions) shown per
 * file, split or unified, syntax-highlighted by the file's extension. react-diff-view renders text
 * nodes only, so the diff's content — written by a model in the sandbox — can never become markup.
 */
export function DiffView({ text, label }: { text: string; label: string }) {
  const [view, setView] = useState<"split" | "unified">(() =>
    typeof window !== "undefined" && window.innerWidth < 720 ? "unified" : "split",
  );
  const files = useMemo(() => {
    try {
      return parseDiff(text, { nearbySequences: "zip" });
    } catch {
      return null;
    }
  }, [text]);
  if (!files) return <pre className="raw-diff">{text}</pre>;
  if (files.length === 0) return <p className="muted">No changes.</p>;
  return (
    <section className="diff" aria-label={label}>
      <fieldset className="diff-toolbar">
        <legend className="sr-only">Diff layout</legend>
        <button type="button" aria-pressed={view === "split"} onClick={() => setView("split")}>
          Split
        </button>
        <button type="button" aria-pressed={view === "unified"} onClick={() => setView("unified")}>
          Unified
        </button>
      </fieldset>
      {files.map((file) => (
        <DiffFile key={`${file.oldPath}→${file.newPath}`} file={file} view={view} />
      ))}
    </section>
  );
}

function DiffFile({ file, view }: { file: FileData; view: "split" | "unified" }) {
  const name = file.type === "delete" ? file.oldPath : file.newPath;
  const tokens = useMemo(() => highlightHunks(file.hunks, name), [file.hunks, name]);
  return (
    <div className="diff-file">
      <div className="diff-file-name">
        <code>{name}</code> <span className="muted">{file.type}</span>
      </div>
      <div className="diff-scroll">
        <Diff viewType={view} diffType={file.type} hunks={file.hunks} tokens={tokens}>
          {(hunks) => hunks.map((hunk) => <Hunk key={hunk.content} hunk={hunk} />)}
        </Diff>
      </div>
    </div>
  );
}
