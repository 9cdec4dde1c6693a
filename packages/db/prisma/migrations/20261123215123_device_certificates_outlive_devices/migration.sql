-- DropForeignKey
ALTER TABLE "device_certificates" DROP CONSTRAINT "device_certificates_device_id_fkey";

-- AlterTable
ALTER TABLE "device_certificates" ADD COLUMN     "common_name" TEXT NOT NULL,
ALTER COLUMN "device_id" DROP NOT NULL;

-- AddForeignKey
ALTER TABLE "device_certificates" ADD CONSTRAINT "device_certificates_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE SET NULL ON UPDATE CASCADE;
