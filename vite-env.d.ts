/// <reference types="vite/client" />
/// <reference types="svelte" />
/// <reference types="@webgpu/types" />
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
