/**
 * What one generated image of the scale bench's folder is: the emoji file it starts from and
 * the edits that make it a distinct picture (crop, turn, mirror, tint, background, size,
 * format). Shared by the folder builder (images.ts, Node) and its page (images-page.ts).
 */
export interface ImageRecipe {
  /** path inside the folder: "<label>/<name>.<ext>" (the label is the emoji's category) */
  readonly path: string;
  /** file name of the 64 px emoji PNG in emoji-datasource-google */
  readonly emoji: string;
  /** side of the written image, in pixels */
  readonly side: number;
  /** zoom of the emoji against the image (1 = fills it; above 1 crops it) */
  readonly zoom: number;
  /** centre offset as a fraction of the side */
  readonly dx: number;
  readonly dy: number;
  /** degrees */
  readonly rotate: number;
  readonly mirror: boolean;
  /** CSS filter parts */
  readonly hue: number;
  readonly saturate: number;
  readonly brightness: number;
  /** background: one colour, or a linear gradient between two at an angle */
  readonly background: readonly [string, string];
  readonly gradientAngle: number | null;
  /** 'image/png' or 'image/jpeg' (quality) */
  readonly type: 'image/png' | 'image/jpeg';
  readonly quality: number;
}
