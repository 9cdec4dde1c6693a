-- CreateTable
CREATE TABLE "device_agent_status" (
    "device_id" UUID NOT NULL,
    "backlog_files" INTEGER NOT NULL,
    "backlog_bytes" BIGINT NOT NULL,
    "oldest_waiting_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "last_error_at" TIMESTAMPTZ(3),
    "reported_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "device_agent_status_pkey" PRIMARY KEY ("device_id")
);

-- AddForeignKey
ALTER TABLE "device_agent_status" ADD CONSTRAINT "device_agent_status_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;
