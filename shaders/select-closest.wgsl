// The r members of every cluster closest to its centroid (the "closest" resampling of the
// hierarchy), in the order of the CPU reference: clusters in index order, members by
// (dist2, row) ascending, all members when a cluster has at most r.
//
// One workgroup per cluster, over its segment of the label-sorted rows (label-sort.wgsl):
//  1. radix select on the float bits of dist2 (non-negative floats order like their bits):
//     four 8-bit histogram passes find the key T of the r-th smallest member and how many
//     members equal to T are still needed (ties go to the lowest rows, as in the reference);
//  2. the chosen members are compacted in segment (row) order into `scratch`;
//  3. each chosen member's rank by (dist2, row) gives its slot in `out`.
// Cost: about 6 reads of every member plus r^2 comparisons per cluster (r is small: about half
// the average cluster size).

struct Params {
  k: u32,
  r: u32,
  groupsX: u32,
  pad: u32,
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> perm: array<u32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read> dist2: array<f32>;
// outOffsets[j] = sum over clusters before j of min(count, r)
@group(0) @binding(4) var<storage, read> outOffsets: array<u32>;
@group(0) @binding(5) var<storage, read_write> scratch: array<u32>;
@group(0) @binding(6) var<storage, read_write> out: array<u32>;

var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> scan: array<vec2u, WG>;
var<workgroup> shared_prefix: u32;
var<workgroup> shared_want: u32;
var<workgroup> shared_base: vec2u;

fn keyOf(row: u32) -> u32 {
  // Clearing the sign bit maps -0.0 to 0 (dist2 is clamped at 0 but may carry a sign).
  return bitcast<u32>(dist2[row]) & 0x7fffffffu;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let j = wid.x + wid.y * p.groupsX;
  if (j >= p.k) {
    return;
  }
  let s0 = offsets[j];
  let s1 = offsets[j + 1u];
  let count = s1 - s0;
  let take = min(count, p.r);
  let o = outOffsets[j];

  // 1. Radix select (skipped when every member is taken).
  var threshold = 0xffffffffu;
  var want = 0xffffffffu;
  if (count > p.r) {
    if (t == 0u) {
      shared_prefix = 0u;
      shared_want = p.r;
    }
    var mask = 0u;
    for (var shift = 24i; shift >= 0i; shift -= 8i) {
      atomicStore(&hist[t], 0u);
      workgroupBarrier();
      let prefix = shared_prefix;
      for (var m = s0 + t; m < s1; m += WG) {
        let key = keyOf(perm[m]);
        if ((key & mask) == prefix) {
          atomicAdd(&hist[(key >> u32(shift)) & 255u], 1u);
        }
      }
      workgroupBarrier();
      if (t == 0u) {
        var w = shared_want;
        var b = 0u;
        loop {
          let h = atomicLoad(&hist[b]);
          if (w <= h || b == 255u) {
            break;
          }
          w -= h;
          b++;
        }
        shared_want = w;
        shared_prefix = prefix | (b << u32(shift));
      }
      mask |= 255u << u32(shift);
      workgroupBarrier();
    }
    threshold = shared_prefix;
    want = shared_want;
  }

  // 2. Compact the chosen members (key < T, or key == T among the first `want` such) in row order.
  if (t == 0u) {
    shared_base = vec2u(0u);
  }
  workgroupBarrier();
  for (var b0 = s0; b0 < s1; b0 += WG) {
    let m = b0 + t;
    var row = 0u;
    var key = 0u;
    var flags = vec2u(0u); // (equal to T, strictly below T)
    if (m < s1) {
      row = perm[m];
      key = keyOf(row);
      flags = vec2u(u32(key == threshold), u32(key < threshold));
    }
    // Inclusive scan of both flags over the block (Hillis-Steele).
    scan[t] = flags;
    workgroupBarrier();
    for (var step = 1u; step < WG; step <<= 1u) {
      var v = scan[t];
      if (t >= step) {
        v += scan[t - step];
      }
      workgroupBarrier();
      scan[t] = v;
      workgroupBarrier();
    }
    let base = shared_base;
    let incl = scan[t];
    let eqBefore = base.x + incl.x - flags.x;
    let eqTaken = min(eqBefore, want);
    // Position among chosen members = below-T members before + equal members taken before.
    let belowBefore = base.y + incl.y - flags.y;
    let chosen = flags.y == 1u || (flags.x == 1u && eqBefore < want);
    if (m < s1 && chosen) {
      scratch[o + belowBefore + eqTaken] = row;
    }
    workgroupBarrier();
    if (t == WG - 1u) {
      shared_base = base + incl;
    }
    workgroupBarrier();
  }
  storageBarrier();

  // 3. Rank sort of the chosen members by (key, row).
  for (var i = t; i < take; i += WG) {
    let row = scratch[o + i];
    let key = keyOf(row);
    var rank = 0u;
    for (var h = 0u; h < take; h++) {
      let other = scratch[o + h];
      let ok = keyOf(other);
      rank += u32(ok < key || (ok == key && other < row));
    }
    out[o + rank] = row;
  }
}
