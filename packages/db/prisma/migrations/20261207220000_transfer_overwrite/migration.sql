-- A transfer init may ask to replace a file already uploaded under its name (`overwrite`), as an
-- upload request can: kept with the transfer, since its fin decides on it.
ALTER TABLE "file_transfers" ADD COLUMN "overwrite" BOOLEAN NOT NULL DEFAULT false;
