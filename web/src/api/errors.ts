/**
 * What a person is told when a call fails: the hub's own plain message (its Connect errors are
 * written to be read), never a stack trace or a "[code]" prefix.
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** The sentence to show for an error thrown by a call (or anything else). */
export function errorMessage(err: unknown): string {
  if (err instanceof ConnectError) {
    if (isNetworkError(err)) return "The hub cannot be reached. Check the connection and retry.";
    if (err.code === Code.DeadlineExceeded) return "The hub took too long to answer. Retry.";
    return err.rawMessage || codeSentence(err.code);
  }
  if (err instanceof Error && err.message) return err.message;
  return "Something went wrong.";
}

/** The call never reached the hub (offline, the hub down), as opposed to a refusal. */
export function isNetworkError(err: unknown): boolean {
  if (!(err instanceof ConnectError)) return err instanceof TypeError;
  // connect-web reports a failed fetch as Unavailable (or Unknown) with the TypeError as cause.
  return (
    (err.code === Code.Unavailable || err.code === Code.Unknown) && err.cause instanceof TypeError
  );
}

/** The session cookie is missing, expired or revoked. */
export function isSignedOut(err: unknown): boolean {
  return err instanceof ConnectError && err.code === Code.Unauthenticated;
}

function codeSentence(code: Code): string {
  switch (code) {
    case Code.PermissionDenied:
      return "You are not allowed to do that.";
    case Code.NotFound:
      return "Not found.";
    case Code.Unauthenticated:
      return "Sign in first.";
    case Code.ResourceExhausted:
      return "Too many attempts; wait a little and retry.";
    default:
      return "Something went wrong.";
  }
}
