-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "AvatarStatus" AS ENUM ('PENDING', 'ARCHIVED', 'NO_PICTURE', 'FAILED');

-- CreateTable
CREATE TABLE "contacts" (
    "id" SERIAL NOT NULL,
    "instance_id" TEXT NOT NULL,
    "phone" TEXT NOT NULL,
    "avatar_url" TEXT,
    "avatar_status" "AvatarStatus" NOT NULL DEFAULT 'PENDING',
    "avatar_sha256" TEXT,
    "avatar_updated_at" TIMESTAMPTZ(3),
    "last_checked_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "last_error_at" TIMESTAMPTZ(3),
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "consecutive_no_picture" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contacts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "avatar_versions" (
    "id" SERIAL NOT NULL,
    "contact_id" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "original_width" INTEGER NOT NULL,
    "original_height" INTEGER NOT NULL,
    "original_bytes" INTEGER NOT NULL,
    "original_format" TEXT NOT NULL,
    "source_link_expires_at" TIMESTAMPTZ(3),
    "dominant_color" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "avatar_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "avatar_renditions" (
    "id" SERIAL NOT NULL,
    "version_id" INTEGER NOT NULL,
    "size" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "bytes" INTEGER NOT NULL,
    "content_type" TEXT NOT NULL,

    CONSTRAINT "avatar_renditions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "contacts_last_checked_at_idx" ON "contacts"("last_checked_at");

-- CreateIndex
CREATE INDEX "contacts_avatar_status_idx" ON "contacts"("avatar_status");

-- CreateIndex
CREATE UNIQUE INDEX "contacts_instance_id_phone_key" ON "contacts"("instance_id", "phone");

-- CreateIndex
CREATE INDEX "avatar_versions_sha256_idx" ON "avatar_versions"("sha256");

-- CreateIndex
CREATE UNIQUE INDEX "avatar_versions_contact_id_sha256_key" ON "avatar_versions"("contact_id", "sha256");

-- CreateIndex
CREATE UNIQUE INDEX "avatar_renditions_version_id_size_key" ON "avatar_renditions"("version_id", "size");

-- AddForeignKey
ALTER TABLE "avatar_versions" ADD CONSTRAINT "avatar_versions_contact_id_fkey" FOREIGN KEY ("contact_id") REFERENCES "contacts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "avatar_renditions" ADD CONSTRAINT "avatar_renditions_version_id_fkey" FOREIGN KEY ("version_id") REFERENCES "avatar_versions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

