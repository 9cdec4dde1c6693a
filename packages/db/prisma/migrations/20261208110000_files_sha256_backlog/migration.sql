-- Files uploaded before the platform computed SHA-256s (or before it queued the ones storage did
-- not report) have no digest and no due time, so no worker ever read them: they are queued for
-- the workers' hasher (apps/ingest-worker/src/digests/hasher.ts), which reads each object once.
-- A file whose earlier hashing failed (its object gone) is among them and is tried once more;
-- the hasher clears its due time again. Only uploaded files: a pending one is hashed when it is
-- recorded uploaded.
UPDATE "files" SET "sha256_due_at" = now() WHERE "state" = 'uploaded' AND "sha256" IS NULL AND "sha256_due_at" IS NULL;
