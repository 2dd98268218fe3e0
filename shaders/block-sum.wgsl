// Partial sums of 256 consecutive values (a pairwise tree per workgroup), finished in float64 on
// the CPU. Used for the k-means objective when an early-stop tolerance needs it every round.

struct Params {
  n: u32,
  groupsX: u32,
  pad0: u32,
  pad1: u32,
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let group = wid.x + wid.y * p.groupsX;
  let i = group * WG + t;
  var v = 0.0;
  if (i < p.n) {
    v = values[i];
  }
  red[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) {
      red[t] += red[t + s];
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    partials[group] = red[0];
  }
}
