-- AlterTable
ALTER TABLE "sessions" ADD COLUMN "stored_files" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "stored_bytes" BIGINT NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "file_arrivals" (
    "device_id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "files" INTEGER NOT NULL,
    "bytes" BIGINT NOT NULL,

    CONSTRAINT "file_arrivals_pkey" PRIMARY KEY ("device_id","hour")
);

-- CreateIndex
CREATE INDEX "file_arrivals_project_id_hour_idx" ON "file_arrivals"("project_id", "hour");

-- AddForeignKey
ALTER TABLE "file_arrivals" ADD CONSTRAINT "file_arrivals_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "file_arrivals" ADD CONSTRAINT "file_arrivals_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The overview's figures on a big fleet (a 1,000,000-file project answered in milliseconds):
-- every change of a file row keeps its session's stored totals (uploaded files and their bytes)
-- and, when a file becomes uploaded, adds it to its device's arrivals of that hour. Written in
-- the same transaction as the file row, so the totals are never out of step with the files.
CREATE FUNCTION fleetdrop_files_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
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
  IF new_files = 1 AND (TG_OP = 'INSERT' OR OLD.state <> 'uploaded' OR OLD.uploaded_at IS DISTINCT FROM NEW.uploaded_at) THEN
    INSERT INTO file_arrivals AS a (device_id, project_id, hour, files, bytes)
    SELECT s.device_id, s.project_id, date_trunc('hour', coalesce(NEW.uploaded_at, now()), 'UTC'), 1, new_bytes
    FROM sessions s WHERE s.id = NEW.session_id
    ON CONFLICT (device_id, hour) DO UPDATE SET files = a.files + 1, bytes = a.bytes + EXCLUDED.bytes;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER files_rollup AFTER INSERT OR UPDATE OF state, size, session_id, uploaded_at OR DELETE ON files
FOR EACH ROW EXECUTE FUNCTION fleetdrop_files_rollup();

-- What the files already hold.
UPDATE sessions s SET stored_files = t.files, stored_bytes = t.bytes
FROM (SELECT session_id, count(*)::int AS files, coalesce(sum(size), 0) AS bytes FROM files WHERE state = 'uploaded' GROUP BY session_id) t
WHERE s.id = t.session_id;

INSERT INTO file_arrivals (device_id, project_id, hour, files, bytes)
SELECT s.device_id, s.project_id, date_trunc('hour', f.uploaded_at, 'UTC'), count(*)::int, coalesce(sum(f.size), 0)
FROM files f JOIN sessions s ON s.id = f.session_id
WHERE f.state = 'uploaded' AND f.uploaded_at IS NOT NULL
GROUP BY 1, 2, 3;
