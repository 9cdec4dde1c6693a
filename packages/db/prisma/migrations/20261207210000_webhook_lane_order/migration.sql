-- Per-device order of webhook deliveries (docs/api.md#webhooks). A delivery's id is taken when
-- its event is written, but the transaction writing it may commit after a later one of the same
-- device: a reader ordering by id alone would then deliver the later event first and the earlier
-- one after it. So every writer of a lane holds a shared advisory lock on the lane (space 727005,
-- ADVISORY_LOCK.webhookLane in packages/db/src/advisory-locks.ts) from before it takes an id until
-- it commits, and the reader reads a lane only while it can take that lock exclusively: then no
-- transaction that holds an id of the lane is still open, every id below the ones it sees is
-- visible, and any id taken later is larger. Writers share the lock, so they never wait for each
-- other (and two writers of several lanes cannot deadlock); a writer waits only for the reader's
-- one short statement. The lock's key is the device's id, or the project's for a project's
-- events without a device (their lane is `project` in every project).
CREATE OR REPLACE FUNCTION fleetdrop_enqueue_event(p_project uuid, p_device uuid, p_type text, p_data jsonb) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
  v_event uuid;
  v_lane text := coalesce(p_device::text, 'project');
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE project_id = p_project AND enabled AND p_type = ANY (events)) THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock_shared(727005, hashtext(coalesce(p_device, p_project)::text));
  INSERT INTO webhook_events (project_id, device_id, device_serial, type, data)
  VALUES (p_project, p_device, (SELECT serial FROM devices WHERE id = p_device), p_type, p_data)
  RETURNING id INTO v_event;
  INSERT INTO webhook_lanes (endpoint_id, lane_key)
  SELECT id, v_lane FROM webhook_endpoints WHERE project_id = p_project AND enabled AND p_type = ANY (events)
  ON CONFLICT (endpoint_id, lane_key) DO NOTHING;
  INSERT INTO webhook_deliveries (endpoint_id, event_id, lane_key)
  SELECT id, v_event, v_lane FROM webhook_endpoints WHERE project_id = p_project AND enabled AND p_type = ANY (events) ORDER BY id;
  -- Delivered at commit: wakes the workers' delivery loops without waiting for their poll.
  PERFORM pg_notify('fleetdrop_webhooks', '');
  RETURN v_event;
END $$;

-- A lane's next pending deliveries in order, or one row with a null id when a transaction that
-- writes to the lane is still open (the caller tries again shortly). VOLATILE, so the SELECT
-- takes its snapshot after the lock is held (READ COMMITTED: one snapshot per statement here);
-- the lock is released when the caller's statement ends.
CREATE FUNCTION fleetdrop_webhook_next(p_endpoint uuid, p_lane text, p_limit int)
RETURNS TABLE (id bigint, attempts int, event_id uuid, type text, created_at timestamptz, device_serial text, data jsonb)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_key text := p_lane;
BEGIN
  IF p_lane = 'project' THEN
    SELECT w.project_id::text INTO v_key FROM webhook_endpoints w WHERE w.id = p_endpoint;
  END IF;
  IF NOT pg_try_advisory_xact_lock(727005, hashtext(v_key)) THEN
    RETURN QUERY SELECT NULL::bigint, NULL::int, NULL::uuid, NULL::text, NULL::timestamptz, NULL::text, NULL::jsonb;
    RETURN;
  END IF;
  RETURN QUERY
    SELECT d.id, d.attempts, e.id, e.type, e.created_at, e.device_serial, e.data
    FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
    WHERE d.endpoint_id = p_endpoint AND d.lane_key = p_lane AND d.state = 'pending'
    ORDER BY d.id LIMIT p_limit;
END $$;
