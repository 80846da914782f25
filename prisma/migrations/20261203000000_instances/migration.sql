-- CreateEnum
CREATE TYPE "InstanceSource" AS ENUM ('cli', 'api', 'partner');

-- CreateTable
CREATE TABLE "instances" (
    "id" TEXT NOT NULL,
    "token_ciphertext" TEXT NOT NULL,
    "label" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "max_requests_per_second" INTEGER,
    "max_requests_per_day" INTEGER,
    "source" "InstanceSource" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "disabled_at" TIMESTAMPTZ(3),
    "disabled_reason" TEXT,

    CONSTRAINT "instances_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "instances_updated_at_idx" ON "instances"("updated_at");

-- Running workers and services keep the enabled instances in memory. Every statement that
-- changes this table (by this project or by hand in SQL) notifies them at COMMIT, so an
-- added, rotated, disabled or removed instance is seen within seconds without a restart;
-- they also re-read the table when they reconnect and every INSTANCE_RELOAD_INTERVAL.
-- One notification per statement, not per row: an import of 10,000 rows is one reload.
-- Payload: the schema (listeners of other schemas in the same database ignore it), as the
-- contacts trigger does. Hand-written: Prisma's schema has no triggers.
CREATE OR REPLACE FUNCTION "instances_notify_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('avatar_archiver_instances_changed', TG_TABLE_SCHEMA);
  RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS "instances_notify_change" ON "instances";

CREATE TRIGGER "instances_notify_change"
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "instances"
FOR EACH STATEMENT EXECUTE FUNCTION "instances_notify_change"();
