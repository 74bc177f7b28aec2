/**
 * A what-if for bench/pty.ts, loaded with `bun --preload` into a hub: its server offers no
 * permessage-deflate, so neither the live sockets nor the workers' links compress anything.
 * It measures what compression costs terminal output; src/ and server.ts are unchanged.
 */
type Serve = typeof Bun.serve;
const serve: Serve = Bun.serve.bind(Bun);

(Bun as { serve: Serve }).serve = ((options: Parameters<Serve>[0]) => {
  const o = options as { websocket?: { perMessageDeflate?: unknown } };
  if (o.websocket) o.websocket = { ...o.websocket, perMessageDeflate: false };
  return serve(options);
}) as Serve;
