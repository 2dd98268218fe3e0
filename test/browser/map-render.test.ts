/**
 * The map renderer in real WebGL 2: the picture kept from a full draw, shown at the same view,
 * is the direct draw pixel for pixel; moved by a pan, its points move by that many pixels.
 */
import { describe, expect, it } from 'vitest';
import { PointRenderer, type View } from '../../src/ui/explore/map-gl';

const W = 160;
const H = 100;

function pixels(canvas: HTMLCanvasElement): Uint8Array {
  const gl = canvas.getContext('webgl2')!;
  const out = new Uint8Array(4 * W * H);
  gl.readPixels(0, 0, W, H, gl.RGBA, gl.UNSIGNED_BYTE, out);
  return out;
}

/** Centre of mass of the drawn pixels' alpha, in device pixels from the bottom left. */
function centre(p: Uint8Array): [number, number] {
  let sx = 0;
  let sy = 0;
  let s = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const a = p[4 * (y * W + x) + 3];
      sx += a * x;
      sy += a * y;
      s += a;
    }
  }
  return [sx / s, sy / s];
}

describe('map renderer', () => {
  it('shows the kept picture as drawn, and moved by a pan', () => {
    const canvas = document.createElement('canvas');
    canvas.width = W;
    canvas.height = H;
    const r = new PointRenderer(canvas);
    const x = Float32Array.from([-10, 0, 12, 5, -3]);
    const y = Float32Array.from([4, 0, -6, 8, -2]);
    r.setPositions(x, y);
    r.setColours(Uint8Array.from([...Array(5)].flatMap((_, i) => [200, 40 * i, 90, 210])));
    const view: View = { cx: 0, cy: 0, unitsPerPx: 0.25 };

    r.draw(view, W, H, 1, 6);
    const direct = pixels(canvas);
    expect(direct.some((v, i) => i % 4 === 3 && v > 0)).toBe(true);
    r.drawSnapshot(view, W, H, 1, 6);
    expect([...pixels(canvas)]).toEqual([...direct]);
    expect(r.drawMoved(view, W, H, 1)).toBe(true);
    expect([...pixels(canvas)]).toEqual([...direct]);

    // A pan of 10 px to the right of the view: the points move 10 px left on screen.
    expect(r.drawMoved({ ...view, cx: 10 * view.unitsPerPx }, W, H, 1)).toBe(true);
    const [mx, my] = centre(pixels(canvas));
    const [dx, dy] = centre(direct);
    expect(mx - dx).toBeCloseTo(-10, 0);
    expect(my - dy).toBeCloseTo(0, 0);

    // New colours: the kept picture is stale, so nothing is moved until a full draw.
    r.setColours(new Uint8Array(4 * 5).fill(255));
    expect(r.drawMoved(view, W, H, 1)).toBe(false);
    r.dispose();
  });
});
