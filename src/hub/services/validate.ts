/** Argument checks shared by the services: every failure is an invalid_argument with a reason. */
import { Code, ConnectError } from "@connectrpc/connect";

// Control characters make names unreadable in lists and logs.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A trimmed single-line text of 1..max characters (0..max when `optional`). */
export function text(value: string, what: string, max: number, optional = false): string {
  const v = value.trim();
  if (!optional && v.length === 0) throw new ConnectError(`${what} is empty`, Code.InvalidArgument);
  if (v.length > max)
    throw new ConnectError(`${what} is longer than ${max} characters`, Code.InvalidArgument);
  if (CONTROL.test(v))
    throw new ConnectError(`${what} has control characters`, Code.InvalidArgument);
  return v;
}

/** An id made by the hub (a UUID), so a malformed one is refused before any lookup. */
export function id(value: string, what: string): string {
  if (!/^[0-9a-f-]{36}$/.test(value))
    throw new ConnectError(`${what} is not an id`, Code.InvalidArgument);
  return value;
}
