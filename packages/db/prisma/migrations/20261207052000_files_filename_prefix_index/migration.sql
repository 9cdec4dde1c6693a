-- CreateIndex
CREATE INDEX "files_filename_prefix_idx" ON "files" USING SPGIST ("filename" text_ops);
