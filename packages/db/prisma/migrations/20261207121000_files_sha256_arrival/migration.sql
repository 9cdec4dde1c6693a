-- AlterTable
ALTER TABLE "files" ADD COLUMN "sha256" TEXT,
ADD COLUMN "arrived_via" TEXT;
