/** A store configuration that cannot be used; the message lists every problem. */
export class StoreConfigError extends Error {
  readonly problems: string[];

  constructor(label: string, problems: string[]) {
    super(`Invalid storage configuration${label ? ` for ${label}` : ""}:\n  - ${problems.join("\n  - ")}`);
    this.name = "StoreConfigError";
    this.problems = problems;
  }
}
