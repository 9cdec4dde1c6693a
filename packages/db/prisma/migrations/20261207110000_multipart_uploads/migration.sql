-- CreateEnum
CREATE TYPE "multipart_state" AS ENUM ('open', 'completing', 'completed', 'aborting', 'aborted');

-- CreateTable
CREATE TABLE "multipart_uploads" (
    "id" TEXT NOT NULL,
    "device_id" UUID NOT NULL,
    "session_id" INTEGER NOT NULL,
    "file_id" UUID NOT NULL,
    "object_key" TEXT NOT NULL,
    "store_upload_id" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "part_size" BIGINT NOT NULL,
    "sha256" TEXT,
    "state" "multipart_state" NOT NULL DEFAULT 'open',
    "etag" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "multipart_uploads_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "multipart_uploads_state_expires_at_idx" ON "multipart_uploads"("state", "expires_at");

-- CreateIndex
CREATE INDEX "multipart_uploads_device_id_state_idx" ON "multipart_uploads"("device_id", "state");

-- CreateIndex
CREATE INDEX "multipart_uploads_session_id_idx" ON "multipart_uploads"("session_id");

-- CreateIndex
CREATE INDEX "multipart_uploads_file_id_idx" ON "multipart_uploads"("file_id");

-- CreateIndex
CREATE UNIQUE INDEX "multipart_uploads_store_upload_id_key" ON "multipart_uploads"("store_upload_id");

-- AddForeignKey
ALTER TABLE "multipart_uploads" ADD CONSTRAINT "multipart_uploads_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "multipart_uploads" ADD CONSTRAINT "multipart_uploads_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "multipart_uploads" ADD CONSTRAINT "multipart_uploads_file_id_fkey" FOREIGN KEY ("file_id") REFERENCES "files"("id") ON DELETE CASCADE ON UPDATE CASCADE;
