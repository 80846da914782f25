-- AlterTable
ALTER TABLE "contacts" ADD COLUMN     "avatar_source_url" TEXT,
ADD COLUMN     "avatar_verified_at" TIMESTAMPTZ(3);

