/**
 * The worker's end of the link: dials the hub's /link with its credential (outbound only, so
 * it works behind NAT), says hello, answers commands by id, and sends the outbox's events in
 * order. After any loss it dials again with backoff and jitter and resends what the hub has
 * not acknowledged.
 */
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import type { Event } from "../gen/switchboard/v1/common_pb.ts";
import {
  HubFrameSchema,
  WorkerFrameSchema,
  type Command,
  type HubWelcome,
  type WorkerHelloSchema,
} from "../gen/switchboard/v1/link_pb.ts";
import type { Outbox } from "./outbox.ts";

/** Ping the hub this often; the hub does the same. */
export const HEARTBEAT_MS = 5_000;
/** Nothing heard from the hub for this long (checked every HEARTBEAT_MS): dead within 30 s. */
export const HEARTBEAT_DEAD_MS = 25_000;
/** Reconnect backoff: doubles from the first delay up to the cap, with full jitter. */
export const BACKOFF_FIRST_MS = 250;
export const BACKOFF_MAX_MS = 15_000;
/** Events per resend frame, and bytes queued on the socket before sending waits. */
const RESEND_PAGE = 1_000;
/**
 * The payload bound of a frame of events, resent or live: 1,000 terminal events of 64 KiB would
 * pass the hub's 64 MiB frame limit, and a refused page would be resent for ever. A live batch
 * past it (one turn's worth, unbounded) goes out in pages like a resend.
 */
export const RESEND_PAGE_BYTES = 8 * 1024 * 1024;
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** An error a command handler throws to answer with a Connect code. */
export class CommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A command result that is JSON already (a protobuf JSON answer), sent as it is. */
export class RawJson {
  constructor(readonly text: string) {}
}

export interface WorkerLinkOptions {
  hubUrl: string;
  credential: string;
  outbox: Outbox;
  hello: () => MessageInitShape<typeof WorkerHelloSchema>;
  /** Answers a command; the result (if any) is sent back as JSON. */
  onCommand: (cmd: Command) => Promise<unknown>;
  /** The hub's welcome, after stored heads were adopted. */
  onWelcome?: (w: HubWelcome) => void;
  onState?: (state: "connecting" | "online" | "offline") => void;
  log?: (line: string) => void;
  /** Heartbeat timing, shortened by tests. */
  heartbeatMs?: number;
  deadMs?: number;
}

export class WorkerLink {
  private ws: WebSocket | null = null;
  private welcomed = false;
  private stopped = false;
  private attempt = 0;
  private lastHeard = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  /** Per stream, the last seq sent on this connection. */
  private sent = new Map<string, number>();
  private pumping = false;
  private readonly unlisten: () => void;
  workerId = "";

  constructor(private readonly opts: WorkerLinkOptions) {
    this.unlisten = opts.outbox.onStored((streamId, events) => this.stored(streamId, events));
  }

  get online(): boolean {
    return this.welcomed;
  }

  start(): void {
    this.stopped = false;
    this.dial();
  }

  stop(): void {
    this.stopped = true;
    this.unlisten();
    if (this.timer) clearTimeout(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.ws?.close(1000, "worker stopping");
    this.ws = null;
    this.welcomed = false;
    this.opts.outbox.setLinkUp(false);
  }

  private dial(): void {
    if (this.stopped) return;
    this.opts.onState?.("connecting");
    const url = this.opts.hubUrl.replace(/^http/, "ws").replace(/\/$/, "") + "/link";
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${this.opts.credential}` },
      // Declined: with it Bun's client deflates every frame it sends, which cost more than the
      // rest of a terminal flood's path (bench:pty); frames are protobuf, and mostly local.
      perMessageDeflate: false,
    } as unknown as string[]);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.welcomed = false;
    this.sent = new Map();
    ws.onopen = () => {
      this.lastHeard = Date.now();
      this.send({ case: "hello", value: this.opts.hello() });
      this.heartbeat = setInterval(() => this.beat(), this.opts.heartbeatMs ?? HEARTBEAT_MS);
    };
    ws.onmessage = (m) => {
      this.lastHeard = Date.now();
      try {
        this.received(fromBinary(HubFrameSchema, new Uint8Array(m.data as ArrayBuffer)));
      } catch (err) {
        this.log(`bad frame from the hub: ${(err as Error).message}`);
        ws.close(1007, "bad frame");
      }
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.welcomed = false;
      // Nothing can be acked now: the agents are no longer held for the hub (outbox.ts).
      this.opts.outbox.setLinkUp(false);
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.opts.onState?.("offline");
      if (this.stopped) return;
      const delay =
        Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt++);
      this.log(
        `link closed (${e.code} ${e.reason || "no reason"}); dialling again in ${Math.round(delay)} ms`,
      );
      this.timer = setTimeout(() => this.dial(), delay);
    };
    ws.onerror = () => {
      // onclose follows and schedules the next attempt.
    };
  }

  private received(frame: ReturnType<typeof fromBinary<typeof HubFrameSchema>>): void {
    const f = frame.frame;
    switch (f.case) {
      case "welcome":
        return this.welcome(f.value);
      case "ack":
        return this.opts.outbox.ack(f.value.streamId, f.value.seq);
      case "command":
        return void this.command(f.value);
      case "ping":
        return this.send({ case: "pong", value: { nonce: f.value.nonce } });
      case "pong":
        return;
    }
  }

  private welcome(w: HubWelcome): void {
    this.workerId = w.workerId;
    for (const h of w.heads) this.opts.outbox.adoptHead(h.streamId, h.seq);
    this.welcomed = true;
    this.opts.outbox.setLinkUp(true);
    this.attempt = 0;
    this.opts.onState?.("online");
    this.opts.onWelcome?.(w);
    void this.pump();
  }

  /** Sends every unacknowledged event, stream by stream, pausing while the socket is full. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const ws = this.ws;
        if (!ws || !this.welcomed) return;
        let sentAny = false;
        for (const b of this.opts.outbox.backlog()) {
          const from = Math.max(b.acked, this.sent.get(b.streamId) ?? 0);
          if (from >= b.last) continue;
          const events = this.opts.outbox.unacked(b.streamId, from, RESEND_PAGE, RESEND_PAGE_BYTES);
          if (events.length === 0) continue;
          this.sendEvents(b.streamId, events);
          sentAny = true;
          while (this.ws === ws && ws.bufferedAmount > MAX_BUFFERED_BYTES) await Bun.sleep(5);
        }
        if (!sentAny) return;
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Newly stored events: sent at once when nothing older is waiting. */
  private stored(streamId: string, events: Event[]): void {
    if (!this.welcomed || !this.ws) return;
    const first = events[0]!.seq;
    const sent = this.sent.get(streamId);
    const upTo = sent ?? this.opts.outbox.ackedSeq(streamId);
    if (
      !this.pumping &&
      upTo === first - 1 &&
      this.ws.bufferedAmount <= MAX_BUFFERED_BYTES &&
      payloadBytes(events) <= RESEND_PAGE_BYTES
    ) {
      this.sendEvents(streamId, events);
    } else {
      void this.pump();
    }
  }

  private sendEvents(streamId: string, events: Event[]): void {
    this.send({ case: "events", value: { streamId, events } });
    this.sent.set(streamId, events.at(-1)!.seq);
  }

  private async command(cmd: Command): Promise<void> {
    let reply: MessageInitShape<typeof WorkerFrameSchema>["frame"];
    try {
      const result = await this.opts.onCommand(cmd);
      reply = {
        case: "reply",
        value: {
          commandId: cmd.id,
          json:
            result instanceof RawJson
              ? result.text
              : result === undefined
                ? ""
                : JSON.stringify(result),
        },
      };
    } catch (err) {
      const code = err instanceof CommandError ? err.code : "internal";
      if (!(err instanceof CommandError))
        this.log(`command ${cmd.body.case} failed: ${(err as Error).stack}`);
      reply = {
        case: "reply",
        value: {
          commandId: cmd.id,
          errorCode: code,
          errorMessage: (err as Error).message || String(err),
        },
      };
    }
    this.send(reply);
  }

  private beat(): void {
    if (Date.now() - this.lastHeard > (this.opts.deadMs ?? HEARTBEAT_DEAD_MS)) {
      this.log("no heartbeat from the hub; reconnecting");
      this.ws?.close(4004, "no heartbeat");
      return;
    }
    this.send({ case: "ping", value: { nonce: Date.now() % 0xffffffff } });
  }

  private send(frame: MessageInitShape<typeof WorkerFrameSchema>["frame"]): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(toBinary(WorkerFrameSchema, create(WorkerFrameSchema, { frame })));
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}

/** The json and data bytes of events, what RESEND_PAGE_BYTES bounds. */
function payloadBytes(events: Event[]): number {
  let n = 0;
  for (const e of events) n += e.json.length + e.data.length;
  return n;
}
