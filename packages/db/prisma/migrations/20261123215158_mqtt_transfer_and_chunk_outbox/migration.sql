-- CreateEnum
CREATE TYPE "transfer_state" AS ENUM ('active', 'completed');

-- CreateEnum
CREATE TYPE "chunk_state" AS ENUM ('pending', 'parked');

-- CreateTable
CREATE TABLE "file_transfers" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "device_id" UUID NOT NULL,
    "file_ref" TEXT NOT NULL,
    "session_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "size" BIGINT,
    "checksum" TEXT,
    "user_data" JSONB,
    "state" "transfer_state" NOT NULL DEFAULT 'active',
    "file_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_activity_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "file_transfers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "transfer_segments" (
    "transfer_id" UUID NOT NULL,
    "offset" BIGINT NOT NULL,
    "length" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,

    CONSTRAINT "transfer_segments_pkey" PRIMARY KEY ("transfer_id","offset")
);

-- CreateTable
CREATE TABLE "chunk_streams" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "url_template" TEXT NOT NULL,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "max_attempts" INTEGER NOT NULL DEFAULT 10,
    "timeout_ms" INTEGER NOT NULL DEFAULT 10000,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "chunk_streams_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "chunk_lanes" (
    "stream_id" UUID NOT NULL,
    "device_id" UUID NOT NULL,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lease_until" TIMESTAMPTZ(3),
    "lease_owner" TEXT,
    "last_error" TEXT,
    "last_attempt_at" TIMESTAMPTZ(3),
    "delivered_count" BIGINT NOT NULL DEFAULT 0,
    "last_delivered_at" TIMESTAMPTZ(3),

    CONSTRAINT "chunk_lanes_pkey" PRIMARY KEY ("stream_id","device_id")
);

-- CreateTable
CREATE TABLE "chunk_outbox" (
    "id" BIGSERIAL NOT NULL,
    "stream_id" UUID NOT NULL,
    "device_id" UUID NOT NULL,
    "payload" BYTEA NOT NULL,
    "content_type" TEXT,
    "state" "chunk_state" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "last_status" INTEGER,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "parked_at" TIMESTAMPTZ(3),

    CONSTRAINT "chunk_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "file_transfers_state_last_activity_at_idx" ON "file_transfers"("state", "last_activity_at");

-- CreateIndex
CREATE INDEX "file_transfers_session_id_idx" ON "file_transfers"("session_id");

-- CreateIndex
CREATE INDEX "file_transfers_file_id_idx" ON "file_transfers"("file_id");

-- CreateIndex
CREATE UNIQUE INDEX "file_transfers_device_id_file_ref_key" ON "file_transfers"("device_id", "file_ref");

-- CreateIndex
CREATE UNIQUE INDEX "chunk_streams_project_id_name_key" ON "chunk_streams"("project_id", "name");

-- CreateIndex
CREATE INDEX "chunk_lanes_next_attempt_at_idx" ON "chunk_lanes"("next_attempt_at");

-- CreateIndex
CREATE INDEX "chunk_lanes_device_id_idx" ON "chunk_lanes"("device_id");

-- CreateIndex
CREATE INDEX "chunk_outbox_stream_id_device_id_state_id_idx" ON "chunk_outbox"("stream_id", "device_id", "state", "id");

-- CreateIndex
CREATE INDEX "chunk_outbox_device_id_idx" ON "chunk_outbox"("device_id");

-- CreateIndex
CREATE INDEX "chunk_outbox_state_parked_at_idx" ON "chunk_outbox"("state", "parked_at");

-- AddForeignKey
ALTER TABLE "file_transfers" ADD CONSTRAINT "file_transfers_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "file_transfers" ADD CONSTRAINT "file_transfers_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "file_transfers" ADD CONSTRAINT "file_transfers_file_id_fkey" FOREIGN KEY ("file_id") REFERENCES "files"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "transfer_segments" ADD CONSTRAINT "transfer_segments_transfer_id_fkey" FOREIGN KEY ("transfer_id") REFERENCES "file_transfers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "chunk_streams" ADD CONSTRAINT "chunk_streams_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "chunk_lanes" ADD CONSTRAINT "chunk_lanes_stream_id_fkey" FOREIGN KEY ("stream_id") REFERENCES "chunk_streams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "chunk_lanes" ADD CONSTRAINT "chunk_lanes_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "chunk_outbox" ADD CONSTRAINT "chunk_outbox_stream_id_fkey" FOREIGN KEY ("stream_id") REFERENCES "chunk_streams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "chunk_outbox" ADD CONSTRAINT "chunk_outbox_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Segments hold file bytes that rarely compress (media, archives): store them out of line
-- without trying to compress them. Prisma has no syntax for this and it does not affect the diff.
ALTER TABLE "transfer_segments" ALTER COLUMN "data" SET STORAGE EXTERNAL;
