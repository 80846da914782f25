-- AlterTable
ALTER TABLE "contacts" ADD COLUMN     "consecutive_unchanged" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "next_check_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- Back-fill: contacts already checked become due REFRESH_MIN_AGE's default (20h) after their
-- last check, spread by +/-10 % so an upgraded database does not come due in one second;
-- PENDING, FAILED and never-checked rows keep the default: due now.
UPDATE "contacts"
SET "next_check_at" = "last_checked_at" + INTERVAL '20 hours' * (0.9 + 0.2 * random())
WHERE "last_checked_at" IS NOT NULL AND "avatar_status" IN ('ARCHIVED', 'NO_PICTURE');

-- CreateTable
CREATE TABLE "refresh_sweeps" (
    "id" SERIAL NOT NULL,
    "trigger" TEXT NOT NULL,
    "instance_id" TEXT,
    "include_all" BOOLEAN NOT NULL DEFAULT false,
    "due_before" TIMESTAMPTZ(3) NOT NULL,
    "scheduled_for" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "queued" INTEGER NOT NULL DEFAULT 0,
    "steps" INTEGER NOT NULL DEFAULT 0,
    "progress" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "refresh_sweeps_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "refresh_sweeps_finished_at_idx" ON "refresh_sweeps"("finished_at");

-- CreateIndex
CREATE INDEX "contacts_instance_id_next_check_at_id_idx" ON "contacts"("instance_id", "next_check_at", "id");

-- CreateIndex
CREATE INDEX "contacts_next_check_at_idx" ON "contacts"("next_check_at");
