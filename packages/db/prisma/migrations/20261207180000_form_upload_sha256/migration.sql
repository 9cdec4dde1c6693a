-- The SHA-256 a device gave when it asked for an upload form: the form binds it (storage refuses
-- other bytes), and the worker records the file as uploaded only when the stored object has it.
ALTER TABLE "files" ADD COLUMN "expected_sha256" TEXT;

-- When an uploaded file's SHA-256 is to be computed (storage reported none): the workers' queue
-- of objects to read once; null when nothing is due.
ALTER TABLE "files" ADD COLUMN "sha256_due_at" TIMESTAMPTZ(3);
CREATE INDEX "files_sha256_due_at_idx" ON "files"("sha256_due_at");
