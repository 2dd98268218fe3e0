/**
 * Page code of the scale bench's folder builder (bench/scale/images-page.html), driven by
 * bench/scale/images.ts in headless Chromium: draws each recipe of recipe.ts on an
 * OffscreenCanvas, encodes it as the PNG or JPEG file a person would have and posts the bytes
 * to the driver, which writes them into the folder. The browser's own encoders make files that
 * every browser decodes, with no image library in Node.
 */
import type { ImageRecipe } from './recipe.ts';

declare global {
  interface Window {
    scaleJob(): Promise<{ readonly items: readonly ImageRecipe[]; readonly parallel: number }>;
    scaleRun(): Promise<number>;
  }
}

const emojiBitmaps = new Map<string, Promise<ImageBitmap>>();
function emojiBitmap(name: string): Promise<ImageBitmap> {
  let p = emojiBitmaps.get(name);
  if (!p) {
    p = fetch(`/__scale/emoji/${encodeURIComponent(name)}`).then(async (res) => {
      if (!res.ok) throw new Error(`emoji ${name}: HTTP ${res.status}`);
      return createImageBitmap(await res.blob());
    });
    emojiBitmaps.set(name, p);
    // Each emoji is used by about five recipes in a row: keep only the recent ones.
    if (emojiBitmaps.size > 64) {
      const oldest = emojiBitmaps.keys().next().value as string;
      void emojiBitmaps.get(oldest)?.then((b) => b.close());
      emojiBitmaps.delete(oldest);
    }
  }
  return p;
}

async function render(r: ImageRecipe): Promise<Blob> {
  const bitmap = await emojiBitmap(r.emoji);
  const s = r.side;
  const c = new OffscreenCanvas(s, s).getContext('2d');
  if (!c) throw new Error('OffscreenCanvas 2D is not available');
  if (r.gradientAngle === null) c.fillStyle = r.background[0];
  else {
    const a = (r.gradientAngle * Math.PI) / 180;
    const g = c.createLinearGradient(
      s / 2 - (Math.cos(a) * s) / 2,
      s / 2 - (Math.sin(a) * s) / 2,
      s / 2 + (Math.cos(a) * s) / 2,
      s / 2 + (Math.sin(a) * s) / 2,
    );
    g.addColorStop(0, r.background[0]);
    g.addColorStop(1, r.background[1]);
    c.fillStyle = g;
  }
  c.fillRect(0, 0, s, s);
  c.filter = `hue-rotate(${r.hue}deg) saturate(${r.saturate}) brightness(${r.brightness})`;
  c.translate(s * (0.5 + r.dx), s * (0.5 + r.dy));
  c.rotate((r.rotate * Math.PI) / 180);
  c.scale(r.mirror ? -r.zoom : r.zoom, r.zoom);
  c.imageSmoothingQuality = 'high';
  c.drawImage(bitmap, -s / 2, -s / 2, s, s);
  return c.canvas.convertToBlob({ type: r.type, quality: r.quality });
}

window.scaleRun = async (): Promise<number> => {
  const { items, parallel } = await window.scaleJob();
  let written = 0;
  for (let i0 = 0; i0 < items.length; i0 += parallel) {
    const batch = items.slice(i0, i0 + parallel);
    await Promise.all(
      batch.map(async (r) => {
        const blob = await render(r);
        const res = await fetch(`/__scale/file?path=${encodeURIComponent(r.path)}`, {
          method: 'POST',
          body: blob,
        });
        if (!res.ok) throw new Error(`${r.path}: ${res.status} ${await res.text()}`);
        written++;
      }),
    );
  }
  return written;
};
