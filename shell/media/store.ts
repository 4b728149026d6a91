import type { Config } from '../config.js';

/**
 * Where product images live: Cloudinary when CLOUDINARY_URL is set, else files under DATA_DIR/media
 * served by the API. (Implemented with the catalog: see the catalog issue.)
 */
export interface StoredMedia {
  /** Key to delete it by later. */
  key: string;
  /** Public URL clients load it from. */
  url: string;
}

export interface MediaStore {
  readonly kind: 'cloudinary' | 'local';
  put(input: { key: string; bytes: Buffer; contentType: string }): Promise<StoredMedia>;
  remove(key: string): Promise<void>;
}

export function createMediaStore(_config: Config): MediaStore {
  const missing = async (): Promise<never> => {
    throw new Error('media store not built yet');
  };
  return { kind: 'local', put: missing, remove: missing };
}
