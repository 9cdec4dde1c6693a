/**
 * Glob patterns of the agent's include/exclude lists, matched against a file's path relative to
 * its watched folder, with `/` between levels:
 * - `*` any characters but `/`, `?` one of them, `[abc]` / `[!abc]` a class, `{a,b}` either;
 * - `**` any number of whole levels (`logs/**` is everything under logs/, `**\/*.log` any .log);
 * - a pattern without `/` matches the file's name at any depth (`*.log` = `**\/*.log`).
 */
export function globToRegExp(pattern: string): RegExp {
  if (pattern === "") throw new Error("an empty glob pattern matches nothing");
  const anchored = pattern.includes("/") ? pattern.replace(/^\/+/, "") : `**/${pattern}`;
  let out = "";
  let braces = 0;
  for (let i = 0; i < anchored.length; i++) {
    const c = anchored[i]!;
    if (c === "*") {
      if (anchored[i + 1] === "*") {
        const atStart = i === 0 || anchored[i - 1] === "/";
        const atEnd = i + 2 === anchored.length || anchored[i + 2] === "/";
        if (atStart && atEnd) {
          // `**/` is zero or more levels; a trailing `**` is everything below.
          if (i + 2 === anchored.length) out += ".*";
          else out += "(?:[^/]*/)*";
          i += 2;
          continue;
        }
      }
      out += "[^/]*";
    } else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const close = anchored.indexOf("]", i + 2);
      if (close < 0) throw new Error(`glob ${JSON.stringify(pattern)}: a [ without its ]`);
      let body = anchored.slice(i + 1, close);
      if (body.startsWith("!")) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else if (c === "{") {
      braces++;
      out += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      out += ")";
    } else if (c === "," && braces > 0) out += "|";
    else out += c.replace(/[.+^$()|\\\]{}]/g, "\\$&");
  }
  if (braces > 0) throw new Error(`glob ${JSON.stringify(pattern)}: a { without its }`);
  return new RegExp(`^${out}$`);
}

/** include (any; none: everything) and not exclude (any). */
export function createPathFilter(include: readonly string[], exclude: readonly string[]): (relative: string) => boolean {
  const inc = include.map(globToRegExp);
  const exc = exclude.map(globToRegExp);
  return (relative) => (inc.length === 0 || inc.some((re) => re.test(relative))) && !exc.some((re) => re.test(relative));
}
