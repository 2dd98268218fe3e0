// The unit project's type check (tsconfig.node.json) does not load vite-env.d.ts; the shader
// layout test imports the passes, which import their WGSL through Vite's `?raw` suffix.
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
