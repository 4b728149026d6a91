import { sql, type Kysely } from 'kysely';

// Product images keep the media store's key, never a URL: URLs are built per response from PUBLIC_URL
// (or the validated request Host), so no request header ends up stored and served to others.
// Every row written so far already carries its key in storage_key (the local file name or the Cloudinary
// public_id); a row that somehow has none gets it back from its URL, and the migration stops rather
// than drop a URL it could not turn into a key.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    UPDATE product_images
       SET storage_key = substring(url from '/api/v1/media/([A-Za-z0-9_-]{1,100}[.](jpg|png|webp))$')
     WHERE storage_key = '' AND url ~ '/api/v1/media/[A-Za-z0-9_-]{1,100}[.](jpg|png|webp)$'`.execute(db);
  await sql`
    UPDATE product_images
       SET storage_key = regexp_replace(regexp_replace(url, '^https://res[.]cloudinary[.]com/[^/]+/image/upload/(v[0-9]+/)?', ''), '[.][A-Za-z0-9]+$', '')
     WHERE storage_key = '' AND url ~ '^https://res[.]cloudinary[.]com/[^/]+/image/upload/'`.execute(db);
  await sql`
    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM product_images WHERE storage_key = '') THEN
        RAISE EXCEPTION 'product_images rows without a storage key whose URL is not a media URL; fix them before migrating';
      END IF;
    END $$`.execute(db);
  await sql`ALTER TABLE product_images ADD CONSTRAINT product_images_storage_key_present CHECK (storage_key <> '')`.execute(db);
  await sql`ALTER TABLE product_images DROP COLUMN url`.execute(db);
}

// The absolute URLs cannot be rebuilt without the public base they were made on: going back restores
// the column with the path a local image is served at, and the bare key for Cloudinary ones.
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE product_images ADD COLUMN url text`.execute(db);
  await sql`
    UPDATE product_images
       SET url = CASE WHEN storage_key ~ '^[A-Za-z0-9_-]{1,100}[.](jpg|png|webp)$' THEN '/api/v1/media/' || storage_key ELSE storage_key END`.execute(db);
  await sql`ALTER TABLE product_images ALTER COLUMN url SET NOT NULL`.execute(db);
  await sql`ALTER TABLE product_images DROP CONSTRAINT product_images_storage_key_present`.execute(db);
}
