// Squared L2 norm of every row: |x|^2 for the points (once per upload) and |c|^2 for the
// centroids (after every update). One thread per row.

struct Params {
  rows: u32,
  outBase: u32, // index in `norms` of this chunk's first row
  d4: u32,
  groupsX: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> m: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> norms: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let r = (wid.x + wid.y * p.groupsX) * WG + t;
  if (r >= p.rows) {
    return;
  }
  let o = r * p.d4;
  var s = vec4f(0.0);
  for (var q = 0u; q < p.d4; q++) {
    let v = m[o + q];
    s += v * v;
  }
  norms[p.outBase + r] = (s.x + s.y) + (s.z + s.w);
}
