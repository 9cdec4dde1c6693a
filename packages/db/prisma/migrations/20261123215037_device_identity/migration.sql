-- AlterTable
ALTER TABLE "devices" ADD COLUMN     "broker_password_hash" TEXT,
ADD COLUMN     "credentials_issued_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "device_cas" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "certificate_pem" TEXT NOT NULL,
    "encrypted_key" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "not_after" TIMESTAMPTZ(3) NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "crl_number" INTEGER NOT NULL DEFAULT 0,
    "crl_pem" TEXT,
    "crl_next_update" TIMESTAMPTZ(3),
    "crl_digest" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "retired_at" TIMESTAMPTZ(3),

    CONSTRAINT "device_cas_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "device_certificates" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "device_id" UUID NOT NULL,
    "ca_id" UUID NOT NULL,
    "serial_number" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "not_before" TIMESTAMPTZ(3) NOT NULL,
    "not_after" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    "revocation_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "device_certificates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "device_credential_events" (
    "id" BIGSERIAL NOT NULL,
    "device_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "action" TEXT NOT NULL,
    "auth_mode" "device_auth" NOT NULL,
    "certificate_id" UUID,
    "actor_label" TEXT NOT NULL,
    "details" JSONB,

    CONSTRAINT "device_credential_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "device_cas_fingerprint_key" ON "device_cas"("fingerprint");

-- CreateIndex
CREATE INDEX "device_cas_project_id_active_idx" ON "device_cas"("project_id", "active");

-- CreateIndex
CREATE UNIQUE INDEX "device_certificates_fingerprint_key" ON "device_certificates"("fingerprint");

-- CreateIndex
CREATE INDEX "device_certificates_device_id_idx" ON "device_certificates"("device_id");

-- CreateIndex
CREATE UNIQUE INDEX "device_certificates_ca_id_serial_number_key" ON "device_certificates"("ca_id", "serial_number");

-- CreateIndex
CREATE INDEX "device_credential_events_device_id_at_idx" ON "device_credential_events"("device_id", "at");

-- AddForeignKey
ALTER TABLE "device_cas" ADD CONSTRAINT "device_cas_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "device_certificates" ADD CONSTRAINT "device_certificates_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "device_certificates" ADD CONSTRAINT "device_certificates_ca_id_fkey" FOREIGN KEY ("ca_id") REFERENCES "device_cas"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "device_credential_events" ADD CONSTRAINT "device_credential_events_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;
