-- AlterTable
ALTER TABLE "files" ADD COLUMN "replacement_check_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "files_replacement_check_at_idx" ON "files"("replacement_check_at");
