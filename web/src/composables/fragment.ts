/**
 * The one-time token of a `/setup#…`, `/pair#…` or `/invite#…` link. It sits in the fragment
 * so it never reaches a server log; once read it is taken off the address bar (and history).
 */
export function takeFragmentToken(): string {
  const token = decodeURIComponent(location.hash.replace(/^#/, ""));
  if (token) history.replaceState(history.state, "", location.pathname + location.search);
  return token;
}
