/**
 * Test doubles for the LiveClient: a WebSocket driven by hand (frames decoded both ways) and a
 * clock whose timers run only when the test advances it.
 */
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import {
  ClientFrameSchema,
  ServerFrameSchema,
  type ClientFrame,
} from "@gen/switchboard/v1/live_pb.ts";
import type { Clock, WebSocketLike } from "../live/live-client.ts";

type Frame = ClientFrame["frame"];
type FrameValue<C extends Frame["case"]> = Extract<Frame, { case: C }>["value"];

export class FakeSocket implements WebSocketLike {
  binaryType = "blob";
  readyState = 0;
  readonly sent: ClientFrame["frame"][] = [];
  closedWith: { code?: number; reason?: string } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: Uint8Array): void {
    this.sent.push(fromBinary(ClientFrameSchema, data).frame);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  /** The hub accepts the socket. */
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  /** The hub sends a frame. */
  receive(frame: MessageInitShape<typeof ServerFrameSchema>["frame"]): void {
    const bytes = toBinary(ServerFrameSchema, create(ServerFrameSchema, { frame }));
    this.onmessage?.({
      data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    });
  }

  /** The connection ends (the hub closed it, or it was refused before opening). */
  drop(code = 1006, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** The frames of one case sent so far. */
  frames<C extends NonNullable<Frame["case"]>>(c: C): FrameValue<C>[] {
    const values: unknown[] = this.sent.filter((f) => f.case === c).map((f) => f.value);
    return values as FrameValue<C>[];
  }
}

export class FakeClock implements Clock {
  private t = 0;
  private next = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves time on, running each timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }

  pending(): number {
    return this.timers.size;
  }
}

/** An EventTarget with a visibilityState, standing in for `document`. */
export class FakeDocument extends EventTarget {
  visibilityState = "visible";
  show(state: "visible" | "hidden"): void {
    this.visibilityState = state;
    this.dispatchEvent(new Event("visibilitychange"));
  }
}
