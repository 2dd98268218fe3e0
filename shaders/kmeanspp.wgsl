// Greedy k-means++ on the GPU: for a batch of up to 16 candidate centres (rows drawn on the CPU
// with the run's seeded generator), the new potential of each candidate,
//   sum_i min(D2[i], |x_i - cand|^2),
// as one partial sum per workgroup of 64 rows (pairwise tree, finished in float64 on the CPU);
// optionally each candidate's new D^2 row (so the kept one becomes D^2 by a plain buffer copy),
// or, where those rows would not fit one binding, D2[i] = min(D2[i], |x_i - cand_0|^2) in place.
// Distances are direct sums of squared differences (no cancellation near a candidate).
// Candidate tiles of TD4 vec4 dimensions sit in workgroup memory, so any D fits.

struct Params {
  rows: u32, // rows in this chunk
  rowBase: u32, // global index of the chunk's first row (D2 is global)
  d4: u32,
  nc: u32, // candidates in this batch, 1..16
  fresh: u32, // 1: no centre yet (D^2 = +infinity), 0: read D2
  store: u32, // 1: write candidate t's new D^2 to newD2[(candBase + t) * n + row]
  update: u32, // 1: D2 = min(D2, d^2 to candidate 0) in place
  blockBase: u32, // global index of this chunk's first workgroup (partials are global)
  blocks: u32, // partials per candidate (all chunks)
  candBase: u32, // index of this batch's first candidate
  n: u32, // rows in all chunks
  groupsX: u32,
}

// 64 rows per workgroup. On SwiftShader every barrier costs a switch of all invocations: with
// 256 threads and four separate reductions one dispatch over 2000 rows took 14-45 ms; see
// src/gpu/tuning.ts for the measurement of this layout.
const WG: u32 = 64u;
const NC: u32 = 16u;
// 16 vec4 dims per tile: 16 candidates x 64 dims x 4 bytes = 4 KiB of workgroup memory.
const TD4: u32 = 16u;
const BIG: f32 = 3.0e38;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> cand: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> d2: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;
@group(0) @binding(5) var<storage, read_write> newD2: array<f32>;

var<workgroup> tile: array<vec4f, TD4 * NC>; // [q * NC + c]
var<workgroup> red: array<array<vec4f, 4>, WG>;

fn sq(v: vec4f) -> f32 {
  return dot(v, v);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let group = wid.x + wid.y * p.groupsX;
  let r = group * WG + t;
  let valid = r < p.rows;
  let o = min(r, max(p.rows, 1u) - 1u) * p.d4;
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var q0 = 0u; q0 < p.d4; q0 += TD4) {
    let nq = min(TD4, p.d4 - q0);
    workgroupBarrier();
    for (var i = t; i < TD4 * NC; i += WG) {
      let c = i / TD4;
      let q = i % TD4;
      var v = vec4f(0.0);
      if (c < p.nc && q < nq) {
        v = cand[c * p.d4 + q0 + q];
      }
      tile[q * NC + c] = v;
    }
    workgroupBarrier();
    for (var q = 0u; q < nq; q++) {
      let xv = x[o + q0 + q];
      let b = q * NC;
      a0 += vec4f(sq(xv - tile[b]), sq(xv - tile[b + 1u]), sq(xv - tile[b + 2u]), sq(xv - tile[b + 3u]));
      if (p.nc > 4u) {
        a1 += vec4f(sq(xv - tile[b + 4u]), sq(xv - tile[b + 5u]), sq(xv - tile[b + 6u]), sq(xv - tile[b + 7u]));
      }
      if (p.nc > 8u) {
        a2 += vec4f(sq(xv - tile[b + 8u]), sq(xv - tile[b + 9u]), sq(xv - tile[b + 10u]), sq(xv - tile[b + 11u]));
      }
      if (p.nc > 12u) {
        a3 += vec4f(sq(xv - tile[b + 12u]), sq(xv - tile[b + 13u]), sq(xv - tile[b + 14u]), sq(xv - tile[b + 15u]));
      }
    }
  }
  let g = p.rowBase + r;
  var prev = BIG;
  if (valid && p.fresh == 0u) {
    prev = d2[g];
  }
  let pv = vec4f(prev);
  // Rows past the end of the chunk add nothing.
  let live = select(0.0, 1.0, valid);
  var m = array<vec4f, 4>(min(pv, a0) * live, min(pv, a1) * live, min(pv, a2) * live, min(pv, a3) * live);
  if (valid && p.update == 1u) {
    d2[g] = m[0].x;
  }
  if (valid && p.store == 1u) {
    for (var c = 0u; c < p.nc; c++) {
      newD2[(p.candBase + c) * p.n + g] = m[c / 4u][c % 4u];
    }
  }
  // Pairwise sum over the workgroup of all 16 candidates at once (one tree, log2(WG) barriers).
  red[t] = m;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) {
      let o = red[t + s];
      red[t][0] += o[0];
      red[t][1] += o[1];
      red[t][2] += o[2];
      red[t][3] += o[3];
    }
    workgroupBarrier();
  }
  if (t < p.nc) {
    partials[t * p.blocks + p.blockBase + group] = red[0][t / 4u][t % 4u];
  }
}
