/**
 * A live-socket client that stops reading, as a phone in a tunnel does: run as its own
 * process (`bun stalled-reader.ts <url> <cookie> <stream> <pauseMs> <untilSeq>`), it
 * subscribes after seq 0 over a raw TCP connection, pauses reading for `pauseMs` right after
 * the upgrade, then reads until it holds `untilSeq` and prints what it got as JSON.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import net from "node:net";
import { ClientFrameSchema, ServerFrameSchema } from "../gen/switchboard/v1/live_pb.ts";

const [url, cookie, streamId, pauseMs, untilSeq] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const u = new URL(url);
const sock = net.connect(Number(u.port), u.hostname);
await new Promise((r) => sock.once("connect", r));
sock.write(
  `GET /live HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: c3dpdGNoYm9hcmQgdGVzdA==\r\nSec-WebSocket-Version: 13\r\n` +
    `Origin: ${u.origin}\r\nCookie: ${cookie}\r\n\r\n`,
);
const payload = toBinary(
  ClientFrameSchema,
  create(ClientFrameSchema, { frame: { case: "subscribe", value: { streamId, afterSeq: 0 } } }),
);
const mask = new Uint8Array([1, 2, 3, 4]);
sock.write(
  Buffer.concat([
    Buffer.from([0x82, 0x80 | payload.length]),
    mask,
    payload.map((x, i) => x ^ mask[i % 4]!),
  ]),
);
sock.pause();
setTimeout(() => sock.resume(), Number(pauseMs));

let buf: Buffer = Buffer.alloc(0);
let upgraded = false;
let last = 0;
let gaps = 0;
let repeats = 0;
let count = 0;
/** Times the hub took it off live (a batch with live=false after a live one): it fell behind. */
let fellBehind = 0;
let wasLive = false;
sock.on("data", (c: Buffer) => {
  buf = buf.length ? Buffer.concat([buf, c]) : c;
  if (!upgraded) {
    const i = buf.indexOf("\r\n\r\n");
    if (i < 0) return;
    upgraded = true;
    buf = buf.subarray(i + 4);
  }
  for (;;) {
    if (buf.length < 2) return;
    let len = buf[1]! & 0x7f;
    let off = 2;
    if (len === 126) {
      if (buf.length < 4) return;
      len = buf.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (buf.length < 10) return;
      len = Number(buf.readBigUInt64BE(2));
      off = 10;
    }
    if (buf.length < off + len) return;
    const op = buf[0]! & 0x0f;
    const frame = buf.subarray(off, off + len);
    buf = buf.subarray(off + len);
    if (op !== 2) continue;
    const f = fromBinary(ServerFrameSchema, frame).frame;
    if (f.case !== "events") continue;
    if (wasLive && !f.value.live) fellBehind++;
    wasLive = f.value.live;
    for (const e of f.value.events) {
      if (e.seq <= last) repeats++;
      else {
        if (e.seq !== last + 1) gaps++;
        last = e.seq;
        count++;
      }
    }
    if (last >= Number(untilSeq)) {
      console.log(JSON.stringify({ last, count, gaps, repeats, fellBehind }));
      sock.destroy();
      process.exit(0);
    }
  }
});
