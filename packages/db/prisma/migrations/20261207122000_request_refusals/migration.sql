-- CreateTable
CREATE TABLE "request_refusals" (
    "device_id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "code" TEXT NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "request_refusals_pkey" PRIMARY KEY ("device_id","hour","code")
);

-- CreateIndex
CREATE INDEX "request_refusals_project_id_hour_idx" ON "request_refusals"("project_id", "hour");

-- AddForeignKey
ALTER TABLE "request_refusals" ADD CONSTRAINT "request_refusals_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "request_refusals" ADD CONSTRAINT "request_refusals_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
