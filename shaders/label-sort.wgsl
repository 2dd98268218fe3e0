// Stable counting sort of row indices by label, the backbone of the centroid update and of the
// per-cluster selections (WGSL has no float atomics, so means are summed per cluster segment
// instead of scattered with atomic adds).
//
//   count   : counts[label] += 1 for every row (u32 atomics; integers are order-independent)
//   scan    : offsets = exclusive prefix sum of counts (offsets[k] = n), cursor = offsets
//   scatter : perm[offsets[l] + rank] = row, where rank = number of earlier rows with label l
//
// The scatter is stable (rows stay in increasing order inside every cluster segment), so the
// result, and every float sum taken over it, is the same on every run: same seed, same input,
// same backend, same bits. Rows in one segment that belong to one row chunk are contiguous.

struct Params {
  n: u32, // rows
  k: u32, // clusters
  groupsX: u32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;

@compute @workgroup_size(256)
fn count(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let i = (wid.x + wid.y * p.groupsX) * 256u + t;
  if (i < p.n) {
    atomicAdd(&counts[labels[i]], 1u);
  }
}
