/**
 * Where product images live: Cloudinary when CLOUDINARY_URL is set, else files under DATA_DIR/media
 * served by the API itself (GET /api/v1/media/<key>).
 */
export interface MediaStore {
  readonly kind: 'cloudinary' | 'local';
  /**
   * Stores the bytes under a name derived from `key` (letters, digits, hyphens, then an extension) and
   * answers the key to find them by later: the file name locally, the public_id on Cloudinary. Rows
   * store that key, never a URL: URLs are built when a response is, by `urlOf`.
   */
  put(input: { key: string; bytes: Buffer; contentType: string }): Promise<{ key: string }>;
  /**
   * The absolute URL clients load a stored key from. `baseUrl` is the API's public origin (PUBLIC_URL, or
   * the validated request host), for stores the API serves itself; others ignore it.
   */
  urlOf(key: string, baseUrl: string): string;
  /** Removes stored media; removing what is already gone is not an error. */
  remove(key: string): Promise<void>;
  /** The bytes to serve for a key, for stores the API serves itself; null when there is none. */
  read(key: string): Promise<{ bytes: Buffer; contentType: string } | null>;
}
