// The straightforward assignment kernel, kept as the benchmark baseline for assign-tiled.wgsl:
// one thread per point, every centroid read straight from global memory, no tiling, no reuse.
// Same formula and tie rule as the tiled kernel (|c|^2 - 2 x.c, lowest index wins a tie).

struct Params {
  rows: u32,
  rowBase: u32,
  d4: u32,
  k: u32,
  groupsX: u32,
}

override WG: u32 = 64u;
const BIG: f32 = 3.0e38;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> xnorm: array<f32>;
@group(0) @binding(3) var<storage, read> cent: array<vec4f>;
@group(0) @binding(4) var<storage, read> cnorm: array<f32>;
@group(0) @binding(5) var<storage, read_write> labels: array<u32>;
@group(0) @binding(6) var<storage, read_write> dist2: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let r = (wid.x + wid.y * p.groupsX) * WG + t;
  if (r >= p.rows) {
    return;
  }
  let o = r * p.d4;
  var best = BIG;
  var lab = 0u;
  for (var c = 0u; c < p.k; c++) {
    var acc = 0.0;
    let oc = c * p.d4;
    for (var q = 0u; q < p.d4; q++) {
      acc += dot(x[o + q], cent[oc + q]);
    }
    let d = cnorm[c] - 2.0 * acc;
    if (d < best) {
      best = d;
      lab = c;
    }
  }
  let g = p.rowBase + r;
  labels[g] = lab;
  dist2[g] = max(xnorm[g] + best, 0.0);
}
