-- Database hook: every row inserted into "contacts" (by any app, in any language, e.g.
-- INSERT INTO contacts (instance_id, phone) VALUES (...) ON CONFLICT DO NOTHING) sends a
-- notification that running workers LISTEN for, so the contact is archived at once instead
-- of at the next sweep. Hand-written: Prisma's schema has no triggers or functions, and
-- neither shows up in schema-drift's comparison of tables, columns and indexes.
--
-- One fixed channel for every schema, with the schema in the payload (listeners drop other
-- schemas' rows), rather than a channel per schema: NOTIFY channels are identifiers of at
-- most 63 bytes, so "<prefix><schema>" would be cut short or make pg_notify fail (and with
-- it the app's INSERT) for long schema names, and a fixed name is easy for any tool to
-- LISTEN to. The price is that listeners of other schemas in the same database parse and
-- drop these notifications; one schema per database, the usual case, pays nothing.
--
-- Payload (JSON text): {"schema": ..., "id": ..., "instance_id": ..., "phone": ...}.
-- pg_notify refuses payloads of 8000 bytes or more (failing the INSERT), so instance_id and
-- phone are sent as null when longer than any valid value could be; the listener reads the
-- row by id anyway. Notifications are sent at COMMIT, only for rows actually inserted (not
-- for ON CONFLICT DO NOTHING skips), and not at all after a ROLLBACK.

CREATE OR REPLACE FUNCTION "contacts_notify_new_contact"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(
    'avatar_archiver_new_contact',
    json_build_object(
      'schema', TG_TABLE_SCHEMA,
      'id', NEW."id",
      'instance_id', CASE WHEN octet_length(NEW."instance_id") <= 128 THEN NEW."instance_id" END,
      'phone', CASE WHEN octet_length(NEW."phone") <= 32 THEN NEW."phone" END
    )::text
  );
  RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS "contacts_notify_new_contact" ON "contacts";

CREATE TRIGGER "contacts_notify_new_contact"
AFTER INSERT ON "contacts"
FOR EACH ROW EXECUTE FUNCTION "contacts_notify_new_contact"();
