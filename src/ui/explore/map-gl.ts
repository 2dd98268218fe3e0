/**
 * The map's point renderer: WebGL 2, one draw call of gl.POINTS for every row, positions and
 * colours in two buffers uploaded once; panning and zooming change only a uniform, so a frame
 * costs the GPU's point fill and nothing on the JS side. Where that fill is slow (a software
 * rasteriser, 100k points), frames while the view moves show the last full picture moved and
 * scaled, one textured quad (see bench/explore-map.ts). Plus the pure view arithmetic
 * (data <-> screen) and lasso test the component uses for hover and selection.
 *
 * Why hand-written rather than regl-scatterplot or deck.gl: the map needs points, colours, a
 * pan/zoom transform and a lasso; this file is the whole of it, where regl-scatterplot brings
 * regl, a camera package, earcut and gl-matrix (~190 KB minified) and deck.gl several hundred;
 * embedding-atlas wants its Mosaic/DuckDB data layer. See docs/explorer.md.
 */
import { extent } from '../lib/charts';

/** Visible window: data-space centre and data units per CSS pixel. */
export interface View {
  readonly cx: number;
  readonly cy: number;
  readonly unitsPerPx: number;
}

/** A view that fits every point into `width` x `height` with a margin. */
export function fitView(
  x: Float32Array,
  y: Float32Array,
  width: number,
  height: number,
  margin = 16,
): View {
  const e = extent(x, y);
  if (!e) return { cx: 0, cy: 0, unitsPerPx: 1 };
  const { x0, x1, y0, y1 } = e;
  const w = Math.max(1e-9, x1 - x0);
  const h = Math.max(1e-9, y1 - y0);
  const unitsPerPx = Math.max(
    w / Math.max(1, width - 2 * margin),
    h / Math.max(1, height - 2 * margin),
  );
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, unitsPerPx };
}

export function toScreen(v: View, w: number, h: number, x: number, y: number): [number, number] {
  return [w / 2 + (x - v.cx) / v.unitsPerPx, h / 2 - (y - v.cy) / v.unitsPerPx];
}

export function toData(v: View, w: number, h: number, px: number, py: number): [number, number] {
  return [v.cx + (px - w / 2) * v.unitsPerPx, v.cy - (py - h / 2) * v.unitsPerPx];
}

/** Zoom by `factor` (> 1 = in) keeping the data point under (px, py) where it is. */
export function zoomAt(
  v: View,
  w: number,
  h: number,
  px: number,
  py: number,
  factor: number,
): View {
  const [dx, dy] = toData(v, w, h, px, py);
  const u = v.unitsPerPx / factor;
  return { cx: dx - (px - w / 2) * u, cy: dy + (py - h / 2) * u, unitsPerPx: u };
}

/** Rows whose screen position lies inside the polygon (even-odd rule), ascending. */
export function rowsInPolygon(
  x: Float32Array,
  y: Float32Array,
  poly: readonly (readonly [number, number])[],
  v: View,
  w: number,
  h: number,
): Int32Array {
  if (poly.length < 3) return new Int32Array(0);
  // Test in data space: one conversion of the polygon instead of one per point.
  const p = poly.map(([px, py]) => toData(v, w, h, px, py));
  let bx0 = Infinity;
  let bx1 = -Infinity;
  let by0 = Infinity;
  let by1 = -Infinity;
  for (const [a, b] of p) {
    bx0 = Math.min(bx0, a);
    bx1 = Math.max(bx1, a);
    by0 = Math.min(by0, b);
    by1 = Math.max(by1, b);
  }
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const px = x[i];
    const py = y[i];
    if (px < bx0 || px > bx1 || py < by0 || py > by1) continue;
    let inside = false;
    for (let a = 0, b = p.length - 1; a < p.length; b = a++) {
      const [ax, ay] = p[a];
      const [qx, qy] = p[b];
      if (ay > py !== qy > py && px < ((qx - ax) * (py - ay)) / (qy - ay) + ax) inside = !inside;
    }
    if (inside) out.push(i);
  }
  return Int32Array.from(out);
}

/** Nearest row to data point (dx, dy) within `reach` data units, or -1. */
export function nearestRow(
  x: Float32Array,
  y: Float32Array,
  dx: number,
  dy: number,
  reach: number,
  visible?: Uint8Array,
): number {
  let best = -1;
  let bd = reach * reach;
  for (let i = 0; i < x.length; i++) {
    if (visible && !visible[i]) continue;
    const ex = x[i] - dx;
    const ey = y[i] - dy;
    const d = ex * ex + ey * ey;
    if (d <= bd) {
      bd = d;
      best = i;
    }
  }
  return best;
}

const VERT = `#version 300 es
in vec2 pos;
in vec4 colour;
uniform vec2 centre;
uniform vec2 scale;
uniform float size;
out vec4 vColour;
void main() {
  gl_Position = vec4((pos - centre) * scale, 0.0, 1.0);
  gl_PointSize = size * (colour.a > 0.9 ? 1.6 : 1.0);
  vColour = colour;
}`;

const FRAG = `#version 300 es
precision mediump float;
in vec4 vColour;
out vec4 outColour;
void main() {
  vec2 d = gl_PointCoord - vec2(0.5);
  float r2 = dot(d, d);
  if (r2 > 0.25) discard;
  float edge = smoothstep(0.25, 0.16, r2);
  outColour = vec4(vColour.rgb, vColour.a * edge);
}`;

/** The snapshot's quad: a unit square placed by `rect` (clip x0, y0, x1, y1), texels copied. */
const QUAD_VERT = `#version 300 es
in vec2 corner;
uniform vec4 rect;
out vec2 uv;
void main() {
  uv = corner;
  gl_Position = vec4(mix(rect.xy, rect.zw, corner), 0.0, 1.0);
}`;

const QUAD_FRAG = `#version 300 es
precision mediump float;
in vec2 uv;
uniform sampler2D picture;
out vec4 outColour;
void main() {
  outColour = texture(picture, uv);
}`;

/**
 * The snapshot covers this many times the view's width and height, centred on it, so a pan of
 * up to half a view each way shows drawn points rather than an empty edge. Its cost is only the
 * larger clear: every point is drawn either way (those off the view are clipped).
 */
const SNAPSHOT_SPAN = 2;

function compile(gl: WebGL2RenderingContext, type: number, src: string): WebGLShader {
  const s = gl.createShader(type);
  if (!s) throw new Error('WebGL could not create a shader');
  gl.shaderSource(s, src);
  gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) {
    throw new Error(`map shader: ${gl.getShaderInfoLog(s) ?? 'did not compile'}`);
  }
  return s;
}

/**
 * A permutation of 0..n-1 whose every prefix is spread evenly over the rows: a stride of about
 * n / golden ratio, adjusted to be coprime with n so it visits every row once. Row order in a
 * run follows the data (files of one folder together), so a plain prefix would be one region.
 */
export function spreadOrder(n: number): Uint32Array {
  const order = new Uint32Array(n);
  if (n === 0) return order;
  let stride = Math.max(1, Math.round(n * 0.6180339887));
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  while (gcd(stride, n) !== 1) stride++;
  for (let i = 0, r = 0; i < n; i++, r = (r + stride) % n) order[i] = r;
  return order;
}

function link(
  gl: WebGL2RenderingContext,
  vert: string,
  frag: string,
  attributes: readonly string[],
): WebGLProgram {
  const prog = gl.createProgram();
  if (!prog) throw new Error('WebGL could not create a program');
  gl.attachShader(prog, compile(gl, gl.VERTEX_SHADER, vert));
  gl.attachShader(prog, compile(gl, gl.FRAGMENT_SHADER, frag));
  attributes.forEach((a, i) => gl.bindAttribLocation(prog, i, a));
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) {
    throw new Error(`map program: ${gl.getProgramInfoLog(prog) ?? 'did not link'}`);
  }
  return prog;
}

/** The last full picture, drawn offscreen: its texture, size in device pixels, and view. */
interface Snapshot {
  readonly texture: WebGLTexture;
  readonly fbo: WebGLFramebuffer;
  readonly width: number;
  readonly height: number;
  /** the view it was drawn at, and the CSS size of the canvas then */
  view: View | null;
  cssW: number;
  cssH: number;
  /** how many view widths (heights) it covers */
  span: number;
}

/**
 * Draws the points; throws from the constructor where WebGL 2 is not available. A full draw
 * (`drawSnapshot`) also keeps the picture offscreen, so frames while the view moves can show it
 * moved and scaled (`drawMoved`: one textured quad, whatever the number of points) until the
 * view rests and the full draw runs again.
 */
export class PointRenderer {
  readonly #gl: WebGL2RenderingContext;
  readonly #prog: WebGLProgram;
  readonly #pos: WebGLBuffer;
  readonly #col: WebGLBuffer;
  readonly #vao: WebGLVertexArrayObject;
  readonly #quadProg: WebGLProgram;
  readonly #quadVao: WebGLVertexArrayObject;
  readonly #quad: WebGLBuffer;
  #snapshot: Snapshot | null = null;
  #count = 0;
  /** buffer slot -> row: rows in a spread order, so any prefix is an even sample of the map */
  #order: Uint32Array = new Uint32Array(0);
  #rgba: Uint8Array = new Uint8Array(0);

  constructor(canvas: HTMLCanvasElement) {
    const gl = canvas.getContext('webgl2', { antialias: false, premultipliedAlpha: false });
    if (!gl) throw new Error('This browser cannot draw WebGL 2, which the map needs.');
    this.#gl = gl;
    this.#prog = link(gl, VERT, FRAG, ['pos', 'colour']);
    this.#quadProg = link(gl, QUAD_VERT, QUAD_FRAG, ['corner']);
    const quadVao = gl.createVertexArray();
    const quad = gl.createBuffer();
    if (!quadVao || !quad) throw new Error('WebGL could not create buffers');
    this.#quadVao = quadVao;
    this.#quad = quad;
    gl.bindVertexArray(quadVao);
    gl.bindBuffer(gl.ARRAY_BUFFER, quad);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    gl.bindVertexArray(null);
    const vao = gl.createVertexArray();
    const pos = gl.createBuffer();
    const col = gl.createBuffer();
    if (!vao || !pos || !col) throw new Error('WebGL could not create buffers');
    this.#vao = vao;
    this.#pos = pos;
    this.#col = col;
    gl.bindVertexArray(vao);
    gl.bindBuffer(gl.ARRAY_BUFFER, pos);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, col);
    gl.enableVertexAttribArray(1);
    gl.vertexAttribPointer(1, 4, gl.UNSIGNED_BYTE, true, 0, 0);
    gl.bindVertexArray(null);
  }

  /** Positions as interleaved x, y (data units), stored in the spread order (spreadOrder). */
  setPositions(x: Float32Array, y: Float32Array): void {
    const order = spreadOrder(x.length);
    const xy = new Float32Array(2 * x.length);
    for (let i = 0; i < x.length; i++) {
      xy[2 * i] = x[order[i]];
      xy[2 * i + 1] = y[order[i]];
    }
    this.#order = order;
    const gl = this.#gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.#pos);
    gl.bufferData(gl.ARRAY_BUFFER, xy, gl.STATIC_DRAW);
    this.#count = x.length;
    if (this.#snapshot) this.#snapshot.view = null;
  }

  /** RGBA per point (alpha 0 hides it; alpha 255 draws it larger: the emphasis of a selection). */
  setColours(rgba: Uint8Array): void {
    const order = this.#order;
    if (this.#rgba.length !== 4 * order.length) this.#rgba = new Uint8Array(4 * order.length);
    const out = this.#rgba;
    const src = new Uint32Array(
      rgba.buffer,
      rgba.byteOffset,
      Math.min(order.length, rgba.length >> 2),
    );
    const dst = new Uint32Array(out.buffer);
    if (rgba.byteOffset % 4 === 0) {
      for (let i = 0; i < order.length; i++) dst[i] = src[order[i]];
    } else {
      for (let i = 0; i < order.length; i++)
        out.set(rgba.subarray(4 * order[i], 4 * order[i] + 4), 4 * i);
    }
    const gl = this.#gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.#col);
    gl.bufferData(gl.ARRAY_BUFFER, out, gl.DYNAMIC_DRAW);
    if (this.#snapshot) this.#snapshot.view = null;
  }

  /**
   * Draw at `view` into a canvas of w x h CSS pixels at `dpr` device pixels each; at most
   * `limit` points (an even sample: the first ones of the spread order), for frames drawn
   * while the view moves.
   */
  draw(view: View, w: number, h: number, dpr: number, pointPx: number, limit = Infinity): void {
    const gl = this.#gl;
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, Math.round(w * dpr), Math.round(h * dpr));
    this.#points(view, w, h, dpr, pointPx, limit);
  }

  /** Clear the bound target and draw points at `view` over a target of w x h CSS pixels. */
  #points(view: View, w: number, h: number, dpr: number, pointPx: number, limit: number): void {
    const gl = this.#gl;
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
    gl.useProgram(this.#prog);
    gl.uniform2f(gl.getUniformLocation(this.#prog, 'centre'), view.cx, view.cy);
    gl.uniform2f(
      gl.getUniformLocation(this.#prog, 'scale'),
      2 / (w * view.unitsPerPx),
      2 / (h * view.unitsPerPx),
    );
    gl.uniform1f(gl.getUniformLocation(this.#prog, 'size'), pointPx * dpr);
    gl.bindVertexArray(this.#vao);
    gl.drawArrays(gl.POINTS, 0, Math.min(this.#count, limit));
    gl.bindVertexArray(null);
  }

  /** The offscreen target for a canvas of w x h device pixels (made again when that changes). */
  #target(w: number, h: number): Snapshot {
    const gl = this.#gl;
    const max = Math.min(gl.getParameter(gl.MAX_TEXTURE_SIZE) as number, 8192);
    const span = Math.max(1, Math.min(SNAPSHOT_SPAN, max / w, max / h));
    const tw = Math.round(w * span);
    const th = Math.round(h * span);
    const old = this.#snapshot;
    if (old && old.width === tw && old.height === th) return old;
    if (old) {
      gl.deleteFramebuffer(old.fbo);
      gl.deleteTexture(old.texture);
    }
    const texture = gl.createTexture();
    const fbo = gl.createFramebuffer();
    if (!texture || !fbo) throw new Error('WebGL could not create the map picture');
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.texStorage2D(gl.TEXTURE_2D, 1, gl.RGBA8, tw, th);
    // Nearest texels: a moved frame took 21 ms against 35 ms with linear filtering (100k
    // points, 1280 x 800, software rasteriser, load 9-14; bench:explore); the blockiness of a
    // zoom lasts only until the full draw 120 ms after the view rests.
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    this.#snapshot = { texture, fbo, width: tw, height: th, view: null, cssW: 0, cssH: 0, span };
    return this.#snapshot;
  }

  /**
   * The full draw of every point, kept offscreen (covering SNAPSHOT_SPAN views each way) and
   * shown; the same picture as `draw` at the same view.
   */
  drawSnapshot(view: View, w: number, h: number, dpr: number, pointPx: number): void {
    const gl = this.#gl;
    const dw = Math.round(w * dpr);
    const dh = Math.round(h * dpr);
    const snap = this.#target(dw, dh);
    gl.bindFramebuffer(gl.FRAMEBUFFER, snap.fbo);
    gl.viewport(0, 0, snap.width, snap.height);
    this.#points(view, w * snap.span, h * snap.span, dpr, pointPx, Infinity);
    snap.view = view;
    snap.cssW = w;
    snap.cssH = h;
    this.drawMoved(view, w, h, dpr);
  }

  /**
   * Show the last full draw moved and scaled to `view`: the cost of one quad. False (nothing
   * drawn) when there is no picture for the current points, colours and canvas size.
   */
  drawMoved(view: View, w: number, h: number, dpr: number): boolean {
    const snap = this.#snapshot;
    if (!snap?.view || snap.cssW !== w || snap.cssH !== h) return false;
    const gl = this.#gl;
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, Math.round(w * dpr), Math.round(h * dpr));
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    // The picture's corners in data units, then in the clip space of `view`.
    const s = snap.view;
    const hw = (snap.span * w * s.unitsPerPx) / 2;
    const hh = (snap.span * h * s.unitsPerPx) / 2;
    const sx = 2 / (w * view.unitsPerPx);
    const sy = 2 / (h * view.unitsPerPx);
    gl.disable(gl.BLEND);
    gl.useProgram(this.#quadProg);
    gl.uniform4f(
      gl.getUniformLocation(this.#quadProg, 'rect'),
      (s.cx - hw - view.cx) * sx,
      (s.cy - hh - view.cy) * sy,
      (s.cx + hw - view.cx) * sx,
      (s.cy + hh - view.cy) * sy,
    );
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, snap.texture);
    gl.uniform1i(gl.getUniformLocation(this.#quadProg, 'picture'), 0);
    gl.bindVertexArray(this.#quadVao);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.bindVertexArray(null);
    return true;
  }

  dispose(): void {
    const gl = this.#gl;
    if (this.#snapshot) {
      gl.deleteFramebuffer(this.#snapshot.fbo);
      gl.deleteTexture(this.#snapshot.texture);
      this.#snapshot = null;
    }
    gl.deleteBuffer(this.#quad);
    gl.deleteVertexArray(this.#quadVao);
    gl.deleteProgram(this.#quadProg);
    gl.deleteBuffer(this.#pos);
    gl.deleteBuffer(this.#col);
    gl.deleteVertexArray(this.#vao);
    gl.deleteProgram(this.#prog);
  }
}
