/** A small argument parser: `--flag`, `--key value`, `--key=value`, and `--` ending options. */
export interface ParsedArgs {
  flags: Map<string, string | true>;
  positional: string[];
  /** Everything after `--`. */
  rest: string[];
}

export function parseArgs(argv: string[], valued: string[] = []): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") return { flags, positional, rest: argv.slice(i + 1) };
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      if (eq !== -1) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else if (valued.includes(a.slice(2))) {
        const v = argv[++i];
        if (v === undefined) throw new UsageError(`${a} needs a value`);
        flags.set(a.slice(2), v);
      } else flags.set(a.slice(2), true);
    } else if (a === "-h") flags.set("help", true);
    else positional.push(a);
  }
  return { flags, positional, rest: [] };
}

export class UsageError extends Error {}
