/**
 * Page code of the quality bench's pool builder (bench/quality/page.html), driven by
 * bench/quality/embed.ts in headless Chromium. It turns each recipe of pools.ts into the image
 * file a person would have (the emoji PNG as shipped, a digit drawn with a system font, or a
 * jittered JPEG copy of either), then runs the app's own preprocessing on that file
 * (src/embed/decode.ts: createImageBitmap, white background, squash to 224 px, RGB planes) and
 * posts each batch's model input to the driver, which runs the bundled model on it.
 *
 * The driver exposes `qualityJob()` (what to render) and receives batches as POST bodies at
 * /__quality/batch (raw float32, batch-major), so no tensor goes through JSON.
 */
import { bitmapToInput, decodeBitmap } from '../../src/embed/decode.ts';
import { BUNDLED_MODEL } from '../../src/embed/models.ts';
import type { Glyph, Jitter, Recipe } from './recipe.ts';

interface Job {
  readonly items: readonly Recipe[];
  readonly batch: number;
  /** ids of items whose image file is also posted back (a few, to look at) */
  readonly samples: readonly string[];
}

declare global {
  interface Window {
    qualityJob(): Promise<Job>;
    qualityRun(): Promise<string>;
  }
}

/** Side of the digit originals: MNIST-like small images. */
const GLYPH_SIDE = 64;

const emojiFiles = new Map<string, Blob>();
async function emojiFile(name: string): Promise<Blob> {
  let blob = emojiFiles.get(name);
  if (!blob) {
    const res = await fetch(`/__quality/emoji/${encodeURIComponent(name)}`);
    if (!res.ok) throw new Error(`emoji ${name}: HTTP ${res.status}`);
    blob = await res.blob();
    emojiFiles.set(name, blob);
  }
  return blob;
}

function context(side: number): OffscreenCanvasRenderingContext2D {
  const c = new OffscreenCanvas(side, side).getContext('2d');
  if (!c) throw new Error('OffscreenCanvas 2D is not available');
  return c;
}

/** A digit, white on black, as a PNG file. */
async function glyphFile(g: Glyph): Promise<Blob> {
  const s = GLYPH_SIDE;
  const c = context(s);
  c.fillStyle = '#000';
  c.fillRect(0, 0, s, s);
  c.translate(s * (0.5 + g.dx), s * (0.5 + g.dy));
  c.rotate((g.rotate * Math.PI) / 180);
  c.font = `${g.style} ${g.weight} ${Math.round(g.size * s)}px "${g.family}"`;
  c.textAlign = 'center';
  c.textBaseline = 'middle';
  c.fillStyle = '#fff';
  c.fillText(g.text, 0, 0);
  if (g.stroke > 0) {
    c.strokeStyle = '#fff';
    c.lineWidth = g.stroke;
    c.lineJoin = 'round';
    c.strokeText(g.text, 0, 0);
  }
  return c.canvas.convertToBlob({ type: 'image/png' });
}

/** A web-style copy: shifted, scaled, rotated, colour-shifted, resized, saved as JPEG. */
async function jitteredFile(original: Blob, j: Jitter, background: string): Promise<Blob> {
  const bitmap = await createImageBitmap(original);
  try {
    const s = j.side;
    const c = context(s);
    // JPEG has no alpha: a transparent emoji lands on white, as a saved web copy does.
    c.fillStyle = background;
    c.fillRect(0, 0, s, s);
    c.filter =
      `hue-rotate(${j.hue}deg) brightness(${j.brightness}) ` +
      `saturate(${j.saturate}) contrast(${j.contrast})`;
    c.translate(s * (0.5 + j.dx), s * (0.5 + j.dy));
    c.rotate((j.rotate * Math.PI) / 180);
    c.scale(j.scale, j.scale);
    c.imageSmoothingQuality = 'high';
    c.drawImage(bitmap, -s / 2, -s / 2, s, s);
    return await c.canvas.convertToBlob({ type: 'image/jpeg', quality: j.quality });
  } finally {
    bitmap.close();
  }
}

async function fileOf(r: Recipe): Promise<Blob> {
  const original = r.emoji ? await emojiFile(r.emoji) : await glyphFile(r.glyph!);
  if (!r.jitter) return original;
  return jitteredFile(original, r.jitter, r.emoji ? '#fff' : '#000');
}

window.qualityRun = async (): Promise<string> => {
  const job = await window.qualityJob();
  const spec = BUNDLED_MODEL;
  const plane = 3 * spec.inputSize * spec.inputSize;
  for (let b0 = 0; b0 < job.items.length; b0 += job.batch) {
    const batch = job.items.slice(b0, b0 + job.batch);
    const input = new Float32Array(batch.length * plane);
    // Encode and decode overlap across the batch; drawing into the tensor stays in order.
    const files = await Promise.all(batch.map(fileOf));
    for (let i = 0; i < batch.length; i++) {
      if (!job.samples.includes(batch[i].id)) continue;
      const type = files[i].type === 'image/jpeg' ? 'jpg' : 'png';
      await fetch(`/__quality/sample?id=${batch[i].id}&type=${type}`, {
        method: 'POST',
        body: files[i],
      });
    }
    // The app's decode for this model (a squashing model's images decode straight at its size).
    const bitmaps = await Promise.all(files.map((f) => decodeBitmap(f, spec)));
    bitmaps.forEach((bm, i) => bitmapToInput(bm, spec, input, i));
    const res = await fetch(`/__quality/batch?start=${b0}&count=${batch.length}`, {
      method: 'POST',
      body: input,
    });
    if (!res.ok) throw new Error(`batch at ${b0}: ${res.status} ${await res.text()}`);
  }
  return 'done';
};
