-- AlterTable
ALTER TABLE "contacts" ADD COLUMN     "display_name" TEXT;

-- AlterTable
ALTER TABLE "avatar_versions" ADD COLUMN     "thumbhash" TEXT;

