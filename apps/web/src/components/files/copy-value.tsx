"use client";
import { Check, Copy } from "lucide-react";
import { useState } from "react";

/** A value with a button that copies it (a file's SHA-256), and says so. */
export function CopyValue({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <span className="copy-value">
      <span className="mono">{value}</span>{" "}
      <button
        type="button"
        className="btn btn-sm btn-ghost"
        aria-label={copied ? `${label} copied` : `Copy ${label}`}
        onClick={() => {
          void navigator.clipboard?.writeText(value).then(
            () => setCopied(true),
            () => setCopied(false),
          );
        }}
      >
        {copied ? <Check className="icon" aria-hidden="true" /> : <Copy className="icon" aria-hidden="true" />}
        {copied ? "Copied" : "Copy"}
      </button>
    </span>
  );
}
