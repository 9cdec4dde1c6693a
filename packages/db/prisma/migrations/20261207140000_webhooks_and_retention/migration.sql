-- CreateEnum
CREATE TYPE "webhook_delivery_state" AS ENUM ('pending', 'delivered', 'parked');

-- CreateEnum
CREATE TYPE "retention_rule_kind" AS ENUM ('older_than_days', 'keep_last_sessions');

-- AlterTable
ALTER TABLE "sessions" ADD COLUMN     "deleting_at" TIMESTAMPTZ(3),
ADD COLUMN     "keep" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "webhook_endpoints" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "events" TEXT[],
    "secret" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "max_attempts" INTEGER NOT NULL DEFAULT 12,
    "timeout_ms" INTEGER NOT NULL DEFAULT 10000,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_events" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "device_id" UUID,
    "device_serial" TEXT,
    "type" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_lanes" (
    "endpoint_id" UUID NOT NULL,
    "lane_key" TEXT NOT NULL,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lease_until" TIMESTAMPTZ(3),
    "lease_owner" TEXT,
    "last_error" TEXT,
    "last_attempt_at" TIMESTAMPTZ(3),
    "delivered_count" BIGINT NOT NULL DEFAULT 0,
    "last_delivered_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_lanes_pkey" PRIMARY KEY ("endpoint_id","lane_key")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "endpoint_id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "lane_key" TEXT NOT NULL,
    "state" "webhook_delivery_state" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_status" INTEGER,
    "last_error" TEXT,
    "redelivery_of" BIGINT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),
    "parked_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_attempts" (
    "id" BIGSERIAL NOT NULL,
    "delivery_id" BIGINT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "status" INTEGER,
    "error" TEXT,
    "duration_ms" INTEGER NOT NULL,

    CONSTRAINT "webhook_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "retention_rules" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "kind" "retention_rule_kind" NOT NULL,
    "value" INTEGER NOT NULL,
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_run_at" TIMESTAMPTZ(3),
    "deleted_sessions" BIGINT NOT NULL DEFAULT 0,
    "deleted_files" BIGINT NOT NULL DEFAULT 0,
    "deleted_bytes" BIGINT NOT NULL DEFAULT 0,
    "last_error" TEXT,

    CONSTRAINT "retention_rules_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "webhook_endpoints_project_id_idx" ON "webhook_endpoints"("project_id");

-- CreateIndex
CREATE INDEX "webhook_events_project_id_created_at_idx" ON "webhook_events"("project_id", "created_at");

-- CreateIndex
CREATE INDEX "webhook_lanes_next_attempt_at_idx" ON "webhook_lanes"("next_attempt_at");

-- CreateIndex
CREATE INDEX "webhook_deliveries_endpoint_id_lane_key_state_id_idx" ON "webhook_deliveries"("endpoint_id", "lane_key", "state", "id");

-- CreateIndex
CREATE INDEX "webhook_deliveries_endpoint_id_id_idx" ON "webhook_deliveries"("endpoint_id", "id");

-- CreateIndex
CREATE INDEX "webhook_deliveries_event_id_idx" ON "webhook_deliveries"("event_id");

-- CreateIndex
CREATE INDEX "webhook_attempts_delivery_id_idx" ON "webhook_attempts"("delivery_id");

-- CreateIndex
CREATE UNIQUE INDEX "retention_rules_project_id_kind_key" ON "retention_rules"("project_id", "kind");

-- CreateIndex
CREATE INDEX "sessions_deleting_at_idx" ON "sessions"("deleting_at");

-- AddForeignKey
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_lanes" ADD CONSTRAINT "webhook_lanes_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "webhook_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_attempts" ADD CONSTRAINT "webhook_attempts_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "retention_rules" ADD CONSTRAINT "retention_rules_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Webhook events (docs/api.md#webhooks) are written by the statement that makes the change they
-- describe, in its transaction: a rolled-back change leaves no event, a committed one always has
-- its event. Nothing is written for a project without an enabled endpoint that wants the type.
CREATE FUNCTION fleetdrop_enqueue_event(p_project uuid, p_device uuid, p_type text, p_data jsonb) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
  v_event uuid;
  v_lane text := coalesce(p_device::text, 'project');
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE project_id = p_project AND enabled AND p_type = ANY (events)) THEN
    RETURN NULL;
  END IF;
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

-- file.uploaded when a file becomes uploaded (whoever recorded it: the device's complete, the
-- storage endpoint, the sweeper, an MQTT transfer); upload.failed when a pending form expires
-- unused or a file is marked failed.
CREATE FUNCTION fleetdrop_files_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_type text;
  v_session record;
BEGIN
  IF NEW.state = 'uploaded' AND (TG_OP = 'INSERT' OR OLD.state IS DISTINCT FROM 'uploaded') THEN
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

CREATE TRIGGER files_webhook_event AFTER INSERT OR UPDATE OF state ON files
FOR EACH ROW EXECUTE FUNCTION fleetdrop_files_event();

-- session.opened on insert, session.closed when an open session is closed.
CREATE FUNCTION fleetdrop_sessions_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM fleetdrop_enqueue_event(NEW.project_id, NEW.device_id, 'session.opened', jsonb_strip_nulls(jsonb_build_object(
      'session_id', NEW.id, 'name', NEW.name, 'metadata', NEW.metadata, 'started_at', NEW.started_at)));
  ELSIF NEW.state = 'closed' AND OLD.state = 'open' THEN
    PERFORM fleetdrop_enqueue_event(NEW.project_id, NEW.device_id, 'session.closed', jsonb_strip_nulls(jsonb_build_object(
      'session_id', NEW.id, 'name', NEW.name, 'started_at', NEW.started_at, 'ended_at', NEW.ended_at)));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER sessions_webhook_event AFTER INSERT OR UPDATE OF state ON sessions
FOR EACH ROW EXECUTE FUNCTION fleetdrop_sessions_event();
