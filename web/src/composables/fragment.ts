/**
 * The one-time token of a `/setup#…`, `/pair#…` or `/invite#…` link. It sits in the fragment
 * so it never reaches a server log; once read it is taken off the address bar (and history).
 */
export function takeFragmentToken(): string {
  const raw = location.hash.replace(/^#/, "");
  if (raw) history.replaceState(history.state, "", location.pathname + location.search);
  try {
    return decodeURIComponent(raw);
  } catch {
    // A link mangled on its way (a cut "%" escape) holds no token: the page asks for the link.
    return "";
  }
}
