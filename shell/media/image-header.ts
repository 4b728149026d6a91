import { imageSize } from 'image-size';
import type { ImageHeader } from '../../core/catalog.js';

/**
 * An image's dimensions and format as its header declares them, read with image-size: it parses the
 * header (PNG IHDR, JPEG SOF, WebP VP8/VP8L/VP8X) and never decodes pixels, so a file declaring a huge
 * canvas costs nothing to judge. Null when no header can be read (damaged, truncated, unknown format).
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader | null {
  try {
    // image-size reads through a DataView over `bytes.buffer` that is not bounded by the view's length: on
    // a truncated file it would read past the upload into whatever shares its ArrayBuffer (Node's Buffer
    // pool: other requests' bytes). A copy of exactly these bytes makes such a read throw instead.
    const { width, height, type } = imageSize(new Uint8Array(bytes));
    return { width, height, type };
  } catch {
    return null;
  }
}
