-- AlterTable
ALTER TABLE "contacts" ADD COLUMN     "event_version" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "avatar_events" (
    "id" BIGSERIAL NOT NULL,
    "type" TEXT NOT NULL,
    "instance_id" TEXT NOT NULL,
    "phone" TEXT,
    "phone_sha256" TEXT,
    "contact_id" INTEGER,
    "contact_version" INTEGER NOT NULL,
    "sha256" TEXT,
    "previous_sha256" TEXT,
    "reason" TEXT,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "relayed_at" TIMESTAMPTZ(3),
    "payload" JSONB,

    CONSTRAINT "avatar_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "event_endpoints" (
    "id" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "description" TEXT,
    "events" TEXT[],
    "instance_ids" TEXT[],
    "secret_ciphertext" TEXT NOT NULL,
    "previous_secret_ciphertext" TEXT,
    "previous_secret_expires_at" TIMESTAMPTZ(3),
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "disabled_reason" TEXT,
    "disabled_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "event_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "event_id" BIGINT NOT NULL,
    "endpoint_id" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_status_code" INTEGER,
    "last_error" TEXT,
    "last_attempt_at" TIMESTAMPTZ(3),
    "next_attempt_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "avatar_events_relayed_at_id_idx" ON "avatar_events"("relayed_at", "id");

-- CreateIndex
CREATE INDEX "avatar_events_instance_id_phone_idx" ON "avatar_events"("instance_id", "phone");

-- CreateIndex
CREATE INDEX "event_deliveries_endpoint_id_id_idx" ON "event_deliveries"("endpoint_id", "id");

-- CreateIndex
CREATE INDEX "event_deliveries_status_next_attempt_at_idx" ON "event_deliveries"("status", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "event_deliveries_event_id_endpoint_id_key" ON "event_deliveries"("event_id", "endpoint_id");

-- AddForeignKey
ALTER TABLE "event_deliveries" ADD CONSTRAINT "event_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "avatar_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "event_deliveries" ADD CONSTRAINT "event_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "event_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- The transactional outbox's writer. Hand-written, like contacts_notify_new_contact: Prisma's
-- schema has no triggers. A trigger rather than application code because it sees the old and
-- the new row of every writer (the pipeline's single statements, erasure's transaction, an
-- app's own UPDATE), and its row is part of the change's transaction by construction: a
-- rolled-back change leaves no event, a committed one always has its event.
--
--   avatar.updated  avatar_sha256 set to a new picture
--   avatar.removed  avatar_sha256 cleared (reason 'no_picture': a confirmed "no picture"), or the
--                   contact erased (reason 'erased': deleted, or kept as opted out); an erasure's
--                   event carries no phone, only phone_sha256 (sha256 of the digits, hex), as
--                   the erasures audit row does
--   avatar.failed   avatar_status turned FAILED; reason is the error code (last_error's prefix)
--
-- BEFORE, so the row's event_version is bumped in the same write. pg_notify is sent at COMMIT
-- (never after a ROLLBACK) on one fixed channel, with the schema in the payload as for new
-- contacts: {"schema": ..., "id": <event id>, "type": ...}.
CREATE OR REPLACE FUNCTION "contacts_record_avatar_event"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  event_type text;
  event_reason text;
  event_sha256 text;
  event_previous text;
  erased boolean := false;
  next_version integer;
  event_id bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN
    erased := true;
  ELSIF NEW."do_not_archive" AND NOT OLD."do_not_archive" THEN
    erased := true;
  END IF;

  IF erased THEN
    event_type := 'avatar.removed';
    event_reason := 'erased';
    event_previous := OLD."avatar_sha256";
  ELSIF NEW."avatar_sha256" IS NOT NULL AND NEW."avatar_sha256" IS DISTINCT FROM OLD."avatar_sha256" THEN
    event_type := 'avatar.updated';
    event_sha256 := NEW."avatar_sha256";
    event_previous := OLD."avatar_sha256";
  ELSIF NEW."avatar_sha256" IS NULL AND OLD."avatar_sha256" IS NOT NULL THEN
    event_type := 'avatar.removed';
    event_reason := 'no_picture';
    event_previous := OLD."avatar_sha256";
  ELSIF NEW."avatar_status" = 'FAILED' AND OLD."avatar_status" <> 'FAILED' THEN
    event_type := 'avatar.failed';
    event_reason := NULLIF(split_part(COALESCE(NEW."last_error", ''), ':', 1), '');
    event_previous := OLD."avatar_sha256";
  ELSE
    RETURN NEW;
  END IF;

  next_version := OLD."event_version" + 1;
  -- Qualified by the trigger's own schema: an app's session may have another search_path.
  EXECUTE format(
    'INSERT INTO %I."avatar_events" ("type", "instance_id", "phone", "phone_sha256", "contact_id",
       "contact_version", "sha256", "previous_sha256", "reason")
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING "id"',
    TG_TABLE_SCHEMA
  )
  INTO event_id
  USING
    event_type,
    OLD."instance_id",
    CASE WHEN erased THEN NULL ELSE OLD."phone" END,
    CASE WHEN erased THEN encode(sha256(convert_to(OLD."phone", 'UTF8')), 'hex') END,
    OLD."id",
    next_version,
    event_sha256,
    event_previous,
    event_reason;

  PERFORM pg_notify(
    'avatar_archiver_avatar_changed',
    json_build_object('schema', TG_TABLE_SCHEMA, 'id', event_id::text, 'type', event_type)::text
  );

  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  NEW."event_version" := next_version;
  RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS "contacts_record_avatar_event" ON "contacts";

CREATE TRIGGER "contacts_record_avatar_event"
BEFORE UPDATE OR DELETE ON "contacts"
FOR EACH ROW EXECUTE FUNCTION "contacts_record_avatar_event"();
