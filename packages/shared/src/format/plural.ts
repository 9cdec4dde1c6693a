/**
 * Counted nouns ("1 account", "3 files"), chosen by Intl.PluralRules so every count in the
 * dashboard goes through one rule. English only for now: the forms are given by the caller.
 */
const rules = new Intl.PluralRules("en-GB");
const numbers = new Intl.NumberFormat("en-GB");

export type TPluralForms = { one: string; other: string };

/** The noun alone: `plural(1, { one: "file", other: "files" })` → `"file"`. */
export function plural(count: number | bigint, forms: TPluralForms | string): string {
  const { one, other } = typeof forms === "string" ? { one: forms, other: `${forms}s` } : forms;
  return rules.select(Number(count)) === "one" ? one : other;
}

/** Count and noun: `formatCount(1200, "file")` → `"1,200 files"`; irregular plurals as `{ one, other }`. */
export function formatCount(count: number | bigint, forms: TPluralForms | string): string {
  return `${numbers.format(count)} ${plural(count, forms)}`;
}

/** A number with thousands separators, as the counts above print it. */
export function formatNumber(value: number | bigint): string {
  return numbers.format(value);
}
