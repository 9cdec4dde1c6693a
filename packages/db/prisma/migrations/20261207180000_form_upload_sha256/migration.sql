-- The SHA-256 a device gave when it asked for an upload form: the form binds it (storage refuses
-- other bytes), and the worker records the file as uploaded only when the stored object has it.
ALTER TABLE "files" ADD COLUMN "expected_sha256" TEXT;
