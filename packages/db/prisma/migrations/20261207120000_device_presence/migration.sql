-- AlterTable
ALTER TABLE "devices" ADD COLUMN "presence_online" BOOLEAN,
ADD COLUMN "presence_since" TIMESTAMPTZ(3),
ADD COLUMN "presence_via" TEXT,
ADD COLUMN "presence_heard_at" TIMESTAMPTZ(3),
ADD COLUMN "presence_expires_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "devices_presence_expires_at_idx" ON "devices"("presence_expires_at");
