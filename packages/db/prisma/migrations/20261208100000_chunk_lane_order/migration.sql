-- Per-lane order of chunk deliveries (docs/protocol.md#chunks), kept as the webhook outbox keeps
-- its own (20261207210000_webhook_lane_order): a chunk's id is taken before its transaction
-- commits, and two writers (two workers' group commits) may commit in the other order. Every
-- writer holds a shared advisory lock on each device it writes chunks of (space 727007,
-- ADVISORY_LOCK.chunkLane in packages/db/src/advisory-locks.ts) from before it takes an id until
-- it commits; the reader reads a lane only while it can take its device's lock exclusively, so no
-- transaction holding an id of the lane is still open, and any id taken later is larger.

-- A lane's next pending chunks in order, or one row with a null id while a writer of the lane's
-- device is open (the caller tries again shortly). VOLATILE: the SELECT takes its snapshot after
-- the lock is held; the lock ends with the caller's statement.
CREATE FUNCTION fleetdrop_chunk_next(p_stream uuid, p_device uuid, p_limit int)
RETURNS TABLE (id bigint, payload bytea, content_type text, attempts int)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF NOT pg_try_advisory_xact_lock(727007, hashtext(p_device::text)) THEN
    RETURN QUERY SELECT NULL::bigint, NULL::bytea, NULL::text, NULL::int;
    RETURN;
  END IF;
  RETURN QUERY
    SELECT c.id, c.payload, c.content_type, c.attempts FROM chunk_outbox c
    WHERE c.stream_id = p_stream AND c.device_id = p_device AND c.state = 'pending'
    ORDER BY c.id LIMIT p_limit;
END $$;
