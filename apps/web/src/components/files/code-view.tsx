import { formatBytes } from "@/lib/format";

/** Numbered lines; a marked gap between the head and the tail of a large file. */
export function CodeView({
  head,
  tail,
  skippedBytes,
  truncated,
  label,
}: {
  head: string[];
  tail: string[];
  skippedBytes: number;
  truncated: boolean;
  label: string;
}) {
  return (
    <div className="code-view" role="region" aria-label={label} tabIndex={0}>
      <ol>
        {head.map((line, i) => (
          <li key={`h${i}`}>
            <span className="ln">{i + 1}</span>
            <span>{line}</span>
          </li>
        ))}
      </ol>
      {truncated ? (
        <>
          <div className="code-gap" role="note">
            ⋯ {skippedBytes > 0 ? `${formatBytes(skippedBytes)} not shown` : "lines not shown"} — download the file for all of it ⋯
          </div>
          <ol>
            {tail.map((line, i) => (
              <li key={`t${i}`}>
                <span className="ln">−{tail.length - i}</span>
                <span>{line}</span>
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </div>
  );
}
