-- Web Push subscriptions: the browser's PushSubscription of a signed-in device, at most one per
-- device, and what that device wants to be notified of. Revoking (deleting) the device drops its
-- subscription with it. p256dh and auth are base64url, as the browser gives them.
CREATE TABLE push_subscriptions (
  endpoint TEXT PRIMARY KEY,
  device_id TEXT NOT NULL UNIQUE REFERENCES devices (id) ON DELETE CASCADE,
  p256dh TEXT NOT NULL,
  auth TEXT NOT NULL,
  notify_permission INTEGER NOT NULL DEFAULT 1,
  notify_turn_finished INTEGER NOT NULL DEFAULT 1,
  notify_failed INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  -- The push service's last refusal (or a network error), '' after a success.
  last_error TEXT NOT NULL DEFAULT '',
  last_error_at INTEGER
) STRICT;
