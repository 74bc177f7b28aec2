/**
 * Slash commands in the composer: ACP agents take a command as a prompt whose text is
 * "/name args", so the composer offers the agent's commands while the text is "/" and part
 * of a name, and choosing one writes "/name ".
 */
import type { Command } from "./session.ts";

/** The name typed so far after a leading "/", or null when no command is being typed. */
export function slashQuery(text: string): string | null {
  const m = /^\/(\S*)$/.exec(text);
  return m ? m[1]! : null;
}

/** Commands whose name starts with the query, then those that contain it elsewhere. */
export function matchCommands(commands: readonly Command[], query: string): Command[] {
  const q = query.toLowerCase();
  const starts: Command[] = [];
  const contains: Command[] = [];
  for (const c of commands) {
    const name = c.name.toLowerCase();
    if (name.startsWith(q)) starts.push(c);
    else if (name.includes(q)) contains.push(c);
  }
  return [...starts, ...contains];
}

/** The text once a command is chosen: its name, and a space for its input. */
export function commandText(c: Command): string {
  return `/${c.name} `;
}
