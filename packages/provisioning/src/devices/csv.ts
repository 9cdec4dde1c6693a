/**
 * The CSV a production line hands over: one device per row. Either a single column of serials,
 * or a header row naming the columns `serial` (required), `name` and `auth`
 * (`certificate`/`cert` or `password`). Quoted fields ("a, b" and "" for a quote) are read as
 * RFC 4180 says; blank lines and lines starting with # are skipped.
 */
import { ProvisioningError } from "../context";
import type { TAuthMode } from "./credentials";

export type TCsvDevice = { line: number; serial: string; name?: string; authMode?: TAuthMode };

function parseRows(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let sawQuote = false;
  const endRow = () => {
    cells.push(cell);
    if (cells.some((value) => value.trim() !== "") && !(cells[0]!.trimStart().startsWith("#") && !sawQuote))
      rows.push({ line: rowLine, cells });
    cells = [];
    cell = "";
    sawQuote = false;
  };
  const source = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    if (quoted) {
      if (char === '"' && source[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else {
        if (char === "\n") line++;
        cell += char;
      }
      continue;
    }
    if (char === '"' && cell.trim() === "") {
      quoted = true;
      sawQuote = true;
      cell = "";
    } else if (char === ",") {
      cells.push(cell);
      cell = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && source[i + 1] === "\n") i++;
      endRow();
      line++;
      rowLine = line;
    } else cell += char;
  }
  if (quoted) throw new ProvisioningError("invalid_csv", `line ${rowLine}: a quoted field is not closed`);
  endRow();
  return rows;
}

function authOf(value: string, line: number): TAuthMode | undefined {
  const v = value.trim().toLowerCase();
  if (v === "") return undefined;
  if (v === "cert" || v === "certificate") return "certificate";
  if (v === "password") return "password";
  throw new ProvisioningError("invalid_csv", `line ${line}: auth must be certificate or password, not "${value.trim()}"`);
}

export function parseDeviceCsv(text: string): TCsvDevice[] {
  const rows = parseRows(text);
  if (rows.length === 0) throw new ProvisioningError("invalid_csv", "the CSV has no devices");
  const header = rows[0]!.cells.map((cell) => cell.trim().toLowerCase());
  const hasHeader = header.includes("serial");
  const column = (name: string, fallback: number) => (hasHeader ? header.indexOf(name) : fallback);
  const [serialAt, nameAt, authAt] = [column("serial", 0), column("name", 1), column("auth", 2)];
  return rows.slice(hasHeader ? 1 : 0).map(({ line, cells }) => {
    const name = nameAt >= 0 ? cells[nameAt]?.trim() : undefined;
    const authMode = authAt >= 0 && cells[authAt] !== undefined ? authOf(cells[authAt], line) : undefined;
    return { line, serial: (cells[serialAt] ?? "").trim(), ...(name ? { name } : {}), ...(authMode ? { authMode } : {}) };
  });
}
