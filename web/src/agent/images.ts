/**
 * Images a prompt carries: read from a file input or a paste, large photos scaled down with a
 * canvas, held as base64 (ACP ImageContent) with a data URL for the thumbnail.
 */

/** Images per prompt. */
export const MAX_IMAGES = 5;
/**
 * Base64 bytes per image. Five of them (25 MB) stay under the hub's 32 MB request limit
 * (MAX_REQUEST_BYTES in src/hub/connect.ts) with room for the text and the envelope.
 */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
/** Longest edge kept: more detail than models look at, and a phone photo shrinks ~4×. */
export const MAX_EDGE = 2048;
/** Files up to this size in a kept format are sent as they are, when not too large in pixels. */
const KEEP_BELOW_BYTES = 1024 * 1024;
/** Formats agents take as they are; others (HEIC…) are re-encoded when the browser reads them. */
const KEPT_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const JPEG_QUALITY = 0.85;

export interface Attachment {
  id: string;
  name: string;
  mimeType: string;
  /** Base64, without a data: prefix (ACP ImageContent.data). */
  data: string;
  /** A data URL of the same bytes, for the thumbnail. */
  url: string;
}

/** Why an image was refused, in words for the person who chose it. */
export class ImageError extends Error {}

let counter = 0;

/** Reads an image for a prompt; rejects with an ImageError when it cannot be sent. */
export async function prepareImage(file: Blob, name = ""): Promise<Attachment> {
  if (file.type && !file.type.startsWith("image/")) {
    throw new ImageError(`${name || "That file"} is not an image.`);
  }
  const blob = (await downscale(file)) ?? file;
  if (!KEPT_TYPES.has(blob.type)) {
    throw new ImageError(`${name || "That image"} is in a format this browser cannot convert.`);
  }
  const data = base64(new Uint8Array(await blob.arrayBuffer()));
  checkSize(data.length, name);
  return {
    id: `img-${++counter}`,
    name,
    mimeType: blob.type,
    data,
    url: `data:${blob.type};base64,${data}`,
  };
}

/** Refuses an image whose base64 is over MAX_IMAGE_BYTES. */
export function checkSize(base64Length: number, name = ""): void {
  if (base64Length > MAX_IMAGE_BYTES) {
    const mb = MAX_IMAGE_BYTES / 1024 / 1024;
    throw new ImageError(`${name || "That image"} is too large to send (at most ${mb} MB).`);
  }
}

/**
 * The image re-encoded as JPEG within MAX_EDGE when it is large (in bytes or pixels) or in a
 * format agents may not take; the same blob when it is fine; null when the browser cannot
 * decode it (then it is sent as it is, if its format allows).
 */
async function downscale(file: Blob): Promise<Blob | null> {
  if (typeof createImageBitmap !== "function") return null;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    // Not decodable here (a format the browser lacks): the caller decides on the raw file.
    return null;
  }
  try {
    const scale = Math.min(1, MAX_EDGE / Math.max(bitmap.width, bitmap.height));
    if (scale === 1 && file.size <= KEEP_BELOW_BYTES && KEPT_TYPES.has(file.type)) return file;
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d");
    if (!ctx) return null;
    // JPEG has no transparency: what was transparent becomes white, not black.
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(bitmap, 0, 0, width, height);
    return await new Promise<Blob | null>((resolve) =>
      canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY),
    );
  } finally {
    bitmap.close();
  }
}

function base64(bytes: Uint8Array): string {
  let s = "";
  // In slices: String.fromCharCode takes its bytes as arguments, and those are limited.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}
