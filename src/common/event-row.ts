/** An event as both databases (the hub's log, the worker's outbox) store it. */
import { create } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../gen/switchboard/v1/common_pb.ts";

export interface EventRow {
  seq: number;
  time: number;
  kind: number;
  json: string;
  data: Uint8Array | null;
  actor: string;
}

/** The columns to select, in EventRow's names. */
export const EVENT_COLUMNS = "seq, time, kind, json, data, actor";

export function eventFromRow(r: EventRow): Event {
  return create(EventSchema, {
    seq: r.seq,
    timeMs: r.time,
    kind: r.kind,
    json: r.json,
    data: r.data ?? new Uint8Array(0),
    actor: r.actor,
  });
}
