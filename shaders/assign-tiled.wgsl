// Fused nearest-centroid assignment (the GEMM-sized part of k-means).
//
// dist2(x, c) = |x|^2 + (|c|^2 - 2 x.c); only the bracket decides the argmin, so |x|^2 is added
// once at the end. The N x K distance matrix is never stored: every thread keeps a running
// (best distance, label) for its points while the workgroup streams over the centroids.
//
// Tiling: a tile of TC centroids x (TD4 * 4) dimensions sits in workgroup memory; tiles walk over
// the dimensions too, so any D fits (D = 1792 needs 28 tiles of 64 dims, never a whole row per
// centroid in shared memory). Each thread owns 4 points (one vec4 lane each) and keeps their dot
// products with the TC = 16 tile centroids in four mat4x4 accumulators: one step of 4 dims is then
// four 4x4 matrix products (256 FMAs) for 4 global loads and 16 workgroup loads.
//
// Ties: centroids are scanned in increasing index order with a strict '<', so an exact tie goes
// to the lowest index, as in the CPU kernels.

struct Params {
  rows: u32, // rows in this chunk (>= 1)
  rowBase: u32, // global index of the chunk's first row (labels, dist2 and xnorm are global)
  d4: u32, // row length in vec4 (dimensions zero-padded to a multiple of 4)
  k: u32, // centroids
  groupsX: u32, // workgroups per row of the (possibly 2-D) dispatch grid
}

// Threads per workgroup and dimensions per tile (in vec4) are set at pipeline creation; the
// measured choice is documented next to the constants in src/gpu/tuning.ts.
override WG: u32 = 64u;
override TD4: u32 = 16u;
// Centroids per tile: fixed by the four mat4x4 accumulators below.
const TC: u32 = 16u;
// Stands for +infinity (WGSL has no infinity literal); beats no real distance.
const BIG: f32 = 3.0e38;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> xnorm: array<f32>;
@group(0) @binding(3) var<storage, read> cent: array<vec4f>;
@group(0) @binding(4) var<storage, read> cnorm: array<f32>;
@group(0) @binding(5) var<storage, read_write> labels: array<u32>;
@group(0) @binding(6) var<storage, read_write> dist2: array<f32>;

// tile[q * TC + c] = dims 4q..4q+3 of centroid c of the current tile (zero past k or past d4)
var<workgroup> tile: array<vec4f, TD4 * TC>;
var<workgroup> tnorm: array<f32, TC>;

var<private> best: vec4f;
var<private> lab: vec4u;

// Folds the dot products of the 4 points with tile centroids cl..cl+3 into the running argmin.
// Column j of `a` holds (x_p . c_{cl+j}) for the 4 points p.
fn take(a: mat4x4f, cl: u32, cg: u32) {
  let d0 = vec4f(tnorm[cl]) - 2.0 * a[0];
  let m0 = d0 < best;
  best = select(best, d0, m0);
  lab = select(lab, vec4u(cg), m0);
  let d1 = vec4f(tnorm[cl + 1u]) - 2.0 * a[1];
  let m1 = d1 < best;
  best = select(best, d1, m1);
  lab = select(lab, vec4u(cg + 1u), m1);
  let d2 = vec4f(tnorm[cl + 2u]) - 2.0 * a[2];
  let m2 = d2 < best;
  best = select(best, d2, m2);
  lab = select(lab, vec4u(cg + 2u), m2);
  let d3 = vec4f(tnorm[cl + 3u]) - 2.0 * a[3];
  let m3 = d3 < best;
  best = select(best, d3, m3);
  lab = select(lab, vec4u(cg + 3u), m3);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let group = wid.x + wid.y * p.groupsX;
  let base = group * WG * 4u;
  // This thread's points: base + t + j * WG (j = 0..3), so neighbouring threads read neighbouring
  // rows. Rows past the end are clamped for loading and never written.
  let last = p.rows - 1u;
  let r = vec4u(base + t, base + t + WG, base + t + 2u * WG, base + t + 3u * WG);
  let o0 = min(r.x, last) * p.d4;
  let o1 = min(r.y, last) * p.d4;
  let o2 = min(r.z, last) * p.d4;
  let o3 = min(r.w, last) * p.d4;
  best = vec4f(BIG);
  lab = vec4u(0u);

  for (var c0 = 0u; c0 < p.k; c0 += TC) {
    var a0 = mat4x4f();
    var a1 = mat4x4f();
    var a2 = mat4x4f();
    var a3 = mat4x4f();
    for (var q0 = 0u; q0 < p.d4; q0 += TD4) {
      let nq = min(TD4, p.d4 - q0);
      workgroupBarrier();
      // Neighbouring threads load neighbouring vec4s of one centroid row.
      for (var i = t; i < TC * TD4; i += WG) {
        let c = i / TD4;
        let q = i % TD4;
        var v = vec4f(0.0);
        if (c0 + c < p.k && q < nq) {
          v = cent[(c0 + c) * p.d4 + q0 + q];
        }
        tile[q * TC + c] = v;
      }
      if (q0 == 0u && t < TC) {
        tnorm[t] = select(BIG, cnorm[min(c0 + t, p.k - 1u)], c0 + t < p.k);
      }
      workgroupBarrier();
      for (var q = 0u; q < nq; q++) {
        // rows = the 4 points, columns = 4 dimensions
        let xm = transpose(mat4x4f(x[o0 + q0 + q], x[o1 + q0 + q], x[o2 + q0 + q], x[o3 + q0 + q]));
        let b = q * TC;
        // columns = 4 centroids (each column holds their 4 dimensions)
        a0 += xm * mat4x4f(tile[b], tile[b + 1u], tile[b + 2u], tile[b + 3u]);
        a1 += xm * mat4x4f(tile[b + 4u], tile[b + 5u], tile[b + 6u], tile[b + 7u]);
        a2 += xm * mat4x4f(tile[b + 8u], tile[b + 9u], tile[b + 10u], tile[b + 11u]);
        a3 += xm * mat4x4f(tile[b + 12u], tile[b + 13u], tile[b + 14u], tile[b + 15u]);
      }
    }
    take(a0, 0u, c0);
    take(a1, 4u, c0 + 4u);
    take(a2, 8u, c0 + 8u);
    take(a3, 12u, c0 + 12u);
  }

  if (r.x < p.rows) {
    let g = p.rowBase + r.x;
    labels[g] = lab.x;
    dist2[g] = max(xnorm[g] + best.x, 0.0);
  }
  if (r.y < p.rows) {
    let g = p.rowBase + r.y;
    labels[g] = lab.y;
    dist2[g] = max(xnorm[g] + best.y, 0.0);
  }
  if (r.z < p.rows) {
    let g = p.rowBase + r.z;
    labels[g] = lab.z;
    dist2[g] = max(xnorm[g] + best.z, 0.0);
  }
  if (r.w < p.rows) {
    let g = p.rowBase + r.w;
    labels[g] = lab.w;
    dist2[g] = max(xnorm[g] + best.w, 0.0);
  }
}
