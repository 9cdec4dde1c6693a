/**
 * What every `upload` of the command line (a form, parts, `--over-mqtt`) and `resume` do when the
 * platform answers `file_exists` with this very file (errors.ts `alreadyStored`): the upload is
 * done, and the command says so and succeeds.
 */
import { alreadyStored, type TExistingFile } from "../errors";
import { sha256OfFile } from "../file-digest";
import { formatBytes } from "./progress";

/**
 * The stored file when `error` is `file_exists` for `file` (same size and SHA-256), else null. The
 * file is read only when the platform's size equals `size`; a file that cannot be read is not
 * known to be the stored one.
 */
export function storedAlready(error: unknown, file: string, size: number): Promise<TExistingFile | null> {
  return alreadyStored(error, { size, sha256: () => sha256OfFile(file) }).catch(() => null);
}

/** Prints the success of an upload the platform already held (one JSON line with --json). */
export function reportStoredAlready(
  options: { file: string; filename: string; json: boolean; extra?: Record<string, unknown> },
  existing: TExistingFile,
): void {
  if (options.json) {
    console.log(JSON.stringify({ file: options.file, ok: true, ...options.extra, already: true, ...existing }));
    return;
  }
  const when = existing.uploaded_at === null ? "at a time the platform does not know" : existing.uploaded_at;
  console.log(
    `already stored ${options.filename}: the platform holds it, same size and SHA-256 ` +
      `(${formatBytes(existing.size ?? 0)}, sha256 ${existing.sha256?.slice(0, 12)}…), uploaded ${when}`,
  );
}
