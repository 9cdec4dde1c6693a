-- Retention rules per store (docs/retention.md#rules-for-a-store): `store` names the per-device
-- store whose objects the rule expires, or is empty for the rules on the project's sessions. A
-- project has one rule of each kind per store.
ALTER TABLE "retention_rules" ADD COLUMN "store" TEXT NOT NULL DEFAULT '';

DROP INDEX "retention_rules_project_id_kind_key";

CREATE UNIQUE INDEX "retention_rules_project_id_kind_store_key" ON "retention_rules"("project_id", "kind", "store");
