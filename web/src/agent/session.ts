/**
 * What an agent's stream says about its session, for the composer and the header: the slash
 * commands it offers, its modes, models and config options, whether it takes images, and its
 * usage. Pure and incremental: `SessionTracker.update` reads only the events it has not seen,
 * so recomputing on every event stays cheap. Payloads are ACP's (SESSION_INFO is the
 * session/new or session/load answer plus initialize's agentCapabilities; SESSION_UPDATE is
 * session/update params); anything malformed is skipped, never an error.
 */
import { EventKind, type Event } from "@gen/switchboard/v1/common_pb.ts";

/** A slash command the agent offers (ACP AvailableCommand). */
export interface Command {
  name: string;
  description: string;
  /** What to type after the name, when the command takes input. */
  hint: string;
}

export interface Choice {
  id: string;
  name: string;
  description: string;
}

/** The current choice among the available ones (ACP SessionModeState, SessionModelState). */
export interface Picker {
  current: string;
  available: Choice[];
}

/** An ACP SessionConfigOption; the options of a grouped select are flattened, group kept. */
export type ConfigOption =
  | {
      type: "select";
      id: string;
      name: string;
      description: string;
      /** mode, model, model_config, thought_level, or an agent's own */
      category: string;
      current: string;
      options: { value: string; name: string; description: string; group: string }[];
    }
  | {
      type: "boolean";
      id: string;
      name: string;
      description: string;
      category: string;
      current: boolean;
    };

/** ACP UsageUpdate: tokens in the context window, and the session's cost when known. */
export interface Usage {
  used: number;
  size: number;
  cost: { amount: number; currency: string } | null;
}

export interface SessionState {
  sessionId: string;
  commands: Command[];
  modes: Picker | null;
  models: Picker | null;
  configOptions: ConfigOption[];
  acceptsImages: boolean;
  usage: Usage | null;
}

export const EMPTY_SESSION: SessionState = Object.freeze({
  sessionId: "",
  commands: [],
  modes: null,
  models: null,
  configOptions: [],
  acceptsImages: false,
  usage: null,
}) as SessionState;

type Json = Record<string, unknown>;

const obj = (v: unknown): Json =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {};
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The session/update kinds read here; others are skipped before their JSON is parsed. */
const READ_UPDATES = [
  "available_commands_update",
  "current_mode_update",
  "config_option_update",
  "usage_update",
];

function parse(json: string): Json | null {
  try {
    return obj(JSON.parse(json));
  } catch {
    // A payload that is not JSON says nothing about the session.
    return null;
  }
}

function commandsOf(v: unknown): Command[] {
  return list(v)
    .map(obj)
    .filter((c) => str(c.name) !== "")
    .map((c) => ({
      name: str(c.name),
      description: str(c.description),
      hint: str(obj(c.input).hint),
    }));
}

function choicesOf(v: unknown, idField: string): Choice[] {
  return list(v)
    .map(obj)
    .filter((c) => str(c[idField]) !== "")
    .map((c) => ({
      id: str(c[idField]),
      name: str(c.name) || str(c[idField]),
      description: str(c.description),
    }));
}

function modesOf(v: unknown): Picker | null {
  const m = obj(v);
  const available = choicesOf(m.availableModes, "id");
  return available.length > 0 ? { current: str(m.currentModeId), available } : null;
}

function modelsOf(v: unknown): Picker | null {
  const m = obj(v);
  const available = choicesOf(m.availableModels, "modelId");
  return available.length > 0 ? { current: str(m.currentModelId), available } : null;
}

function configOptionsOf(v: unknown): ConfigOption[] {
  const out: ConfigOption[] = [];
  for (const o of list(v).map(obj)) {
    const id = str(o.id);
    if (!id) continue;
    const base = {
      id,
      name: str(o.name) || id,
      description: str(o.description),
      category: str(o.category),
    };
    if (o.type === "boolean") {
      out.push({ ...base, type: "boolean", current: o.currentValue === true });
    } else if (o.type === "select") {
      const options: Extract<ConfigOption, { type: "select" }>["options"] = [];
      for (const entry of list(o.options).map(obj)) {
        // Either plain options or groups of them (SessionConfigSelectOptions).
        const group = Array.isArray(entry.options) ? entry : null;
        for (const opt of group ? list(group.options).map(obj) : [entry]) {
          const value = str(opt.value);
          if (!value) continue;
          const name = str(opt.name) || value;
          options.push({ value, name, description: str(opt.description), group: str(group?.name) });
        }
      }
      out.push({ ...base, type: "select", current: str(o.currentValue), options });
    }
  }
  return out;
}

function usageOf(u: Json): Usage | null {
  if (typeof u.used !== "number" || typeof u.size !== "number") return null;
  const c = obj(u.cost);
  const cost =
    typeof c.amount === "number" && str(c.currency)
      ? { amount: c.amount, currency: str(c.currency) }
      : null;
  return { used: u.used, size: u.size, cost };
}

/** The state after one event (a new object when it changed, else `s` itself). */
export function applyEvent(s: SessionState, ev: Event): SessionState {
  if (ev.kind === EventKind.SESSION_INFO) {
    const info = parse(ev.json);
    if (!info) return s;
    const caps = obj(obj(info.agentCapabilities).promptCapabilities);
    // A resumed session keeps what its earlier events said (the agent's replay of them is not
    // stored again); a new one starts over.
    const kept = info.resumed === true ? s : EMPTY_SESSION;
    return {
      sessionId: str(info.sessionId),
      commands: kept.commands,
      modes: modesOf(info.modes),
      models: modelsOf(info.models),
      configOptions: configOptionsOf(info.configOptions),
      acceptsImages: caps.image === true,
      usage: kept.usage,
    };
  }
  if (ev.kind !== EventKind.SESSION_UPDATE) return s;
  if (!READ_UPDATES.some((kind) => ev.json.includes(kind))) return s;
  const u = obj(parse(ev.json)?.update);
  switch (u.sessionUpdate) {
    case "available_commands_update":
      return { ...s, commands: commandsOf(u.availableCommands) };
    case "current_mode_update":
      return s.modes ? { ...s, modes: { ...s.modes, current: str(u.currentModeId) } } : s;
    case "config_option_update":
      return { ...s, configOptions: configOptionsOf(u.configOptions) };
    case "usage_update": {
      const usage = usageOf(u);
      return usage ? { ...s, usage } : s;
    }
    default:
      return s;
  }
}

/** The session state of a whole stream. */
export function sessionOf(events: readonly Event[]): SessionState {
  let s = EMPTY_SESSION;
  for (const ev of events) s = applyEvent(s, ev);
  return s;
}

/**
 * Follows one growing event list (a stream's, appended in place): each `update` applies only
 * the events after the last one seen, and starts over for another list or one that no longer
 * continues what it saw (a reset).
 */
export class SessionTracker {
  private state = EMPTY_SESSION;
  private list: readonly Event[] | null = null;
  private seen = 0;
  private firstSeq = 0;
  private lastSeq = 0;

  update(events: readonly Event[]): SessionState {
    const continues =
      events === this.list &&
      events.length >= this.seen &&
      (this.seen === 0 ||
        (events[0]!.seq === this.firstSeq && events[this.seen - 1]!.seq === this.lastSeq));
    if (!continues) {
      this.state = EMPTY_SESSION;
      this.seen = 0;
      this.list = events;
    }
    for (let i = this.seen; i < events.length; i++) this.state = applyEvent(this.state, events[i]!);
    this.seen = events.length;
    if (events.length > 0) {
      this.firstSeq = events[0]!.seq;
      this.lastSeq = events.at(-1)!.seq;
    }
    return this.state;
  }
}
