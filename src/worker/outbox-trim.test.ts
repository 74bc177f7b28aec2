/**
 * Acked rows leave the outbox together, a little after the ack (TRIM_DELAY_MS), and never come
 * back: not in a resend before they are deleted, not after a crash that left them behind.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { EventKind } from "../gen/switchboard/v1/common_pb.ts";
import { Outbox, TRIM_DELAY_MS } from "./outbox.ts";
import { openWorkerDb } from "./worker-db.ts";

const rows = (box: Outbox, stream: string) =>
  (
    box.db.query("SELECT seq FROM outbox WHERE stream_id = ? ORDER BY seq").all(stream) as {
      seq: number;
    }[]
  ).map((r) => r.seq);

function fill(box: Outbox, stream: string, n: number): void {
  for (let i = 0; i < n; i++) {
    box.append(stream, EventKind.TERMINAL_OUTPUT, { data: new Uint8Array([48 + (i % 10)]) });
  }
  box.flush();
}

test("acks of several streams are deleted together after TRIM_DELAY_MS, not sent again meanwhile", async () => {
  const box = new Outbox(openWorkerDb(":memory:"));
  fill(box, "a", 5);
  fill(box, "b", 3);
  box.ack("a", 2);
  box.ack("a", 4);
  box.ack("b", 3);
  // Still stored, but what is sent from now on starts after the acks.
  expect(rows(box, "a")).toEqual([1, 2, 3, 4, 5]);
  expect(box.backlog()).toEqual([{ streamId: "a", acked: 4, last: 5 }]);
  expect(box.unacked("a", box.ackedSeq("a"), 100).map((e) => e.seq)).toEqual([5]);
  await Bun.sleep(TRIM_DELAY_MS + 50);
  expect(rows(box, "a")).toEqual([5]);
  expect(rows(box, "b")).toEqual([]);
  const stored = box.db
    .query("SELECT stream_id AS id, last_seq AS last, acked_seq AS acked FROM streams ORDER BY 1")
    .all();
  expect(stored).toEqual([
    { id: "a", last: 5, acked: 4 },
    { id: "b", last: 3, acked: 3 },
  ]);
  box.close();
});

test("close deletes what was acked; a reopened outbox goes on after the acks", () => {
  const dir = mkdtempSync(join(os.tmpdir(), "switchboard-outbox-trim-"));
  try {
    const db = openWorkerDb(join(dir, "w.db"));
    const box = new Outbox(db);
    fill(box, "s", 4);
    box.ack("s", 3);
    box.close();
    expect(rows(box, "s")).toEqual([4]);
    db.close();
    const again = new Outbox(openWorkerDb(join(dir, "w.db")));
    expect(again.backlog()).toEqual([{ streamId: "s", acked: 3, last: 4 }]);
    expect(again.unacked("s", 3, 10).map((e) => e.seq)).toEqual([4]);
    again.db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rows acked before a crash, not deleted yet, are gone when the outbox opens again", () => {
  const dir = mkdtempSync(join(os.tmpdir(), "switchboard-outbox-trim-"));
  try {
    const db = openWorkerDb(join(dir, "w.db"));
    const box = new Outbox(db);
    fill(box, "s", 6);
    box.ack("s", 5);
    // A later batch records the acked seq with the stream; the process dies before the trim.
    fill(box, "s", 1);
    expect(rows(box, "s")).toEqual([1, 2, 3, 4, 5, 6, 7]);
    db.close();
    const again = new Outbox(openWorkerDb(join(dir, "w.db")));
    expect(rows(again, "s")).toEqual([6, 7]);
    expect(again.backlog()).toEqual([{ streamId: "s", acked: 5, last: 7 }]);
    // Numbering goes on where it was.
    expect(again.append("s", EventKind.TERMINAL_OUTPUT, {}).seq).toBe(8);
    again.flush();
    again.db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
