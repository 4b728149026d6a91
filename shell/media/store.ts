/**
 * Where product images live: Cloudinary when CLOUDINARY_URL is set, else files under DATA_DIR/media
 * served by the API itself (GET /api/v1/media/<key>).
 */
export interface StoredMedia {
  /** Key to delete it by later (a file name locally, a public_id on Cloudinary). */
  key: string;
  /** Public URL clients load it from. */
  url: string;
}

export interface MediaStore {
  readonly kind: 'cloudinary' | 'local';
  /**
   * Stores the bytes under a name derived from `key` (letters, digits, hyphens, then an extension).
   * `baseUrl` is the API's public origin, for stores the API serves itself.
   */
  put(input: { key: string; bytes: Buffer; contentType: string; baseUrl: string }): Promise<StoredMedia>;
  /** Removes stored media; removing what is already gone is not an error. */
  remove(key: string): Promise<void>;
  /** The bytes to serve for a key, for stores the API serves itself; null when there is none. */
  read(key: string): Promise<{ bytes: Buffer; contentType: string } | null>;
}
