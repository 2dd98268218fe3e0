/**
 * How every test, benchmark and screenshot run starts Chromium. Debian's Chromium gives a real
 * WebGPU adapter (SwiftShader, on the CPU) in headless mode with --enable-unsafe-webgpu; the
 * other flags keep it from reaching for the network, which is closed on CI machines.
 * Never add --use-vulkan=native / --use-angle=vulkan: the page hangs.
 */
export const CHROMIUM_PATH = process.env.STRATA_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--disable-dev-shm-usage',
];
