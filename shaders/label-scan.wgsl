// Exclusive prefix sum of the per-cluster counts (one workgroup; each thread owns a contiguous
// run of clusters, so any k works). offsets has k + 1 entries; cursor starts as a copy of
// offsets and is advanced by label-scatter.wgsl.

struct Params {
  n: u32,
  k: u32,
  groupsX: u32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> counts: array<u32>;
@group(0) @binding(2) var<storage, read_write> offsets: array<u32>;
@group(0) @binding(3) var<storage, read_write> cursor: array<u32>;

var<workgroup> part: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) t: u32) {
  let per = (p.k + 255u) / 256u;
  let s = min(t * per, p.k);
  let e = min(s + per, p.k);
  var sum = 0u;
  for (var i = s; i < e; i++) {
    sum += counts[i];
  }
  part[t] = sum;
  workgroupBarrier();
  // Hillis-Steele inclusive scan over the 256 partial sums.
  for (var step = 1u; step < 256u; step <<= 1u) {
    var v = part[t];
    if (t >= step) {
      v += part[t - step];
    }
    workgroupBarrier();
    part[t] = v;
    workgroupBarrier();
  }
  var run = part[t] - sum;
  for (var i = s; i < e; i++) {
    offsets[i] = run;
    cursor[i] = run;
    run += counts[i];
  }
  if (t == 255u) {
    offsets[p.k] = part[255];
  }
}
