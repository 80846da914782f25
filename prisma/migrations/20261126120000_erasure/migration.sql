-- AlterTable
ALTER TABLE "contacts" ADD COLUMN     "do_not_archive" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "erasures" (
    "id" SERIAL NOT NULL,
    "instance_id" TEXT NOT NULL,
    "phone_sha256" TEXT NOT NULL,
    "erased_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "versions_deleted" INTEGER NOT NULL,
    "objects_deleted" INTEGER NOT NULL,
    "kept_contact" BOOLEAN NOT NULL,

    CONSTRAINT "erasures_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "erasures_phone_sha256_idx" ON "erasures"("phone_sha256");

-- CreateIndex
CREATE INDEX "avatar_renditions_key_idx" ON "avatar_renditions"("key");
