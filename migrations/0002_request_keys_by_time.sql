-- Idempotency keys are only needed while a client may still retry; the hub drops old ones by
-- age, which this index makes cheap.
CREATE INDEX request_keys_by_time ON request_keys (created_at);
