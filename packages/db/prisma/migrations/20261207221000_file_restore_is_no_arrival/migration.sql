-- A file set back to pending to be replaced (an upload request or a transfer with `overwrite`)
-- whose replacement never came is made `uploaded` again as it was: same upload time, same ETag.
-- That is not an arrival: no file.uploaded event and no count in file_arrivals (the session's
-- stored totals, which the pending state took the file out of, still take it back).
CREATE OR REPLACE FUNCTION fleetdrop_files_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_type text;
  v_session record;
BEGIN
  IF NEW.state = 'uploaded' AND (TG_OP = 'INSERT' OR OLD.state IS DISTINCT FROM 'uploaded') THEN
    IF TG_OP = 'UPDATE' AND OLD.state = 'pending' AND OLD.uploaded_at IS NOT NULL AND NEW.uploaded_at = OLD.uploaded_at
       AND NEW.etag IS NOT DISTINCT FROM OLD.etag THEN
      RETURN NULL;
    END IF;
    v_type := 'file.uploaded';
  ELSIF TG_OP = 'UPDATE' AND NEW.state IN ('expired', 'failed') AND OLD.state = 'pending' THEN
    v_type := 'upload.failed';
  ELSE
    RETURN NULL;
  END IF;
  SELECT s.project_id, s.device_id INTO v_session FROM sessions s WHERE s.id = NEW.session_id;
  PERFORM fleetdrop_enqueue_event(v_session.project_id, v_session.device_id, v_type, jsonb_strip_nulls(jsonb_build_object(
    'file_id', NEW.id,
    'session_id', NEW.session_id,
    'filename', NEW.filename,
    'object_key', NEW.object_key,
    'size', NEW.size,
    'etag', NEW.etag,
    'content_type', coalesce(NEW.stored_content_type, NEW.content_type),
    'uploaded_at', NEW.uploaded_at,
    'reason', CASE NEW.state WHEN 'expired' THEN 'form_expired' WHEN 'failed' THEN 'failed' END
  )));
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION fleetdrop_files_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_files int := 0;
  old_bytes bigint := 0;
  new_files int := 0;
  new_bytes bigint := 0;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state = 'uploaded' THEN
    old_files := 1;
    old_bytes := coalesce(OLD.size, 0);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.state = 'uploaded' THEN
    new_files := 1;
    new_bytes := coalesce(NEW.size, 0);
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.session_id <> NEW.session_id THEN
    UPDATE sessions SET stored_files = stored_files - old_files, stored_bytes = stored_bytes - old_bytes WHERE id = OLD.session_id;
    UPDATE sessions SET stored_files = stored_files + new_files, stored_bytes = stored_bytes + new_bytes WHERE id = NEW.session_id;
  ELSIF new_files <> old_files OR new_bytes <> old_bytes THEN
    -- A session being deleted is no longer visible here: its files' deletion updates nothing.
    UPDATE sessions SET stored_files = stored_files + new_files - old_files, stored_bytes = stored_bytes + new_bytes - old_bytes
    WHERE id = coalesce(NEW.session_id, OLD.session_id);
  END IF;
  IF new_files = 1 AND (TG_OP = 'INSERT' OR OLD.state <> 'uploaded' OR OLD.uploaded_at IS DISTINCT FROM NEW.uploaded_at)
     AND NOT (TG_OP = 'UPDATE' AND OLD.state = 'pending' AND OLD.uploaded_at IS NOT NULL AND NEW.uploaded_at = OLD.uploaded_at
              AND NEW.etag IS NOT DISTINCT FROM OLD.etag) THEN
    INSERT INTO file_arrivals AS a (device_id, project_id, hour, files, bytes)
    SELECT s.device_id, s.project_id, date_trunc('hour', coalesce(NEW.uploaded_at, now()), 'UTC'), 1, new_bytes
    FROM sessions s WHERE s.id = NEW.session_id
    ON CONFLICT (device_id, hour) DO UPDATE SET files = a.files + 1, bytes = a.bytes + EXCLUDED.bytes;
  END IF;
  RETURN NULL;
END
$$;
