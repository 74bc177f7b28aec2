/** Words and marks for the conversation's kinds and states (one place, for every renderer). */

/** ACP tool kinds: a mark to recognise at a glance and a word to read. */
export const TOOL_KINDS: Record<string, { icon: string; label: string }> = {
  read: { icon: "📄", label: "Read" },
  edit: { icon: "✏️", label: "Edit" },
  delete: { icon: "🗑️", label: "Delete" },
  move: { icon: "↔️", label: "Move" },
  search: { icon: "🔍", label: "Search" },
  execute: { icon: "▶️", label: "Run" },
  think: { icon: "💭", label: "Think" },
  fetch: { icon: "🌐", label: "Fetch" },
  switch_mode: { icon: "🔀", label: "Mode" },
  other: { icon: "🔧", label: "Tool" },
};
export const toolKind = (kind: string) => TOOL_KINDS[kind] ?? TOOL_KINDS.other!;

/** Tool call states as words (the status is text, so screen readers hear it too). */
export const TOOL_STATUS: Record<string, string> = {
  pending: "Pending",
  in_progress: "Running",
  completed: "Done",
  failed: "Failed",
};

/** Plan entry states: a checkbox-like mark and the word behind it. */
export const PLAN_STATUS: Record<string, { mark: string; label: string }> = {
  pending: { mark: "☐", label: "to do" },
  in_progress: { mark: "◐", label: "in progress" },
  completed: { mark: "☑", label: "done" },
};

/** How a turn ended, by ACP stop reason. */
export const STOP_REASONS: Record<string, string> = {
  end_turn: "Turn ended",
  cancelled: "Turn cancelled",
  max_tokens: "Turn stopped: the token limit was reached",
  max_turn_requests: "Turn stopped: too many requests in one turn",
  refusal: "The agent refused to go on",
};
export const stopReason = (reason: string) =>
  STOP_REASONS[reason] ?? `Turn ended (${reason.replaceAll("_", " ") || "no reason given"})`;
