// Greedy k-means++ scoring without any reduction: for a batch of up to 16 candidates, every
// row's new D^2 for each candidate, newD2[(candBase + c) * n + row] = min(D2[row], d^2(x, cand_c)),
// with d^2 = |x|^2 + |c|^2 - 2 x.c clamped at 0 (the CPU kernels' formula). The CPU reads these
// rows back and sums them in float64 (exact potentials, one round trip per centre). Used while
// all candidates' rows together are small (see KPP_READ_ALL_BYTES); larger inputs use
// kmeanspp.wgsl, which sums on the GPU.
//
// Layout: like assign-tiled.wgsl, each thread owns 4 rows and keeps their dot products with the
// 16 candidates in four mat4x4 accumulators (256 FMAs per 4 row loads + 16 candidate loads).
// No workgroup memory and no barrier, on purpose: SwiftShader runs a kernel that has a barrier
// as one coroutine per 4 invocations, which measured ~0.55 ms per 64-thread workgroup (20k rows,
// D=128: 170 ms per pass with kmeanspp.wgsl). Candidate rows are read from global memory, the
// same address in every thread (a broadcast on real GPUs).

struct Params {
  rows: u32,
  rowBase: u32,
  d4: u32,
  nc: u32,
  fresh: u32, // 1: no centre yet, D^2 = +infinity
  candBase: u32,
  n: u32,
  groupsX: u32,
}

override WG: u32 = 64u;
// Groups of 4 candidates this pipeline scores (1..4). A pipeline constant, so unused
// accumulators are compiled out: SwiftShader did not skip them as uniform branches (20k rows,
// D=128: 58-75 ms per pass for 1, 6 or 16 candidates alike).
override NCG: u32 = 4u;
const BIG: f32 = 3.0e38;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> xnorm: array<f32>;
// 16 candidate rows (zero past nc) and their squared norms
@group(0) @binding(3) var<storage, read> cand: array<vec4f>;
@group(0) @binding(4) var<storage, read> cnorm: array<f32>;
@group(0) @binding(5) var<storage, read> d2: array<f32>;
@group(0) @binding(6) var<storage, read_write> newD2: array<f32>;

fn cm(c: u32, q: u32) -> mat4x4f {
  let d4 = p.d4;
  return mat4x4f(cand[c * d4 + q], cand[(c + 1u) * d4 + q], cand[(c + 2u) * d4 + q], cand[(c + 3u) * d4 + q]);
}

// Writes the 4 rows' new D^2 for candidates c..c+3 (column j of `a` = dots with candidate c+j).
fn emit(a: mat4x4f, c: u32, r: vec4u, xn: vec4f, prev: vec4f) {
  for (var j = 0u; j < 4u; j++) {
    if (c + j < p.nc) {
      let v = min(prev, max(xn + vec4f(cnorm[c + j]) - 2.0 * a[j], vec4f(0.0)));
      let o = (p.candBase + c + j) * p.n + p.rowBase;
      if (r.x < p.rows) {
        newD2[o + r.x] = v.x;
      }
      if (r.y < p.rows) {
        newD2[o + r.y] = v.y;
      }
      if (r.z < p.rows) {
        newD2[o + r.z] = v.z;
      }
      if (r.w < p.rows) {
        newD2[o + r.w] = v.w;
      }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let base = (wid.x + wid.y * p.groupsX) * WG * 4u;
  let last = p.rows - 1u;
  let r = vec4u(base + t, base + t + WG, base + t + 2u * WG, base + t + 3u * WG);
  let rc = min(r, vec4u(last));
  let o0 = rc.x * p.d4;
  let o1 = rc.y * p.d4;
  let o2 = rc.z * p.d4;
  let o3 = rc.w * p.d4;
  var a0 = mat4x4f();
  var a1 = mat4x4f();
  var a2 = mat4x4f();
  var a3 = mat4x4f();
  for (var q = 0u; q < p.d4; q++) {
    let xm = transpose(mat4x4f(x[o0 + q], x[o1 + q], x[o2 + q], x[o3 + q]));
    a0 += xm * cm(0u, q);
    if (NCG > 1u) {
      a1 += xm * cm(4u, q);
    }
    if (NCG > 2u) {
      a2 += xm * cm(8u, q);
    }
    if (NCG > 3u) {
      a3 += xm * cm(12u, q);
    }
  }
  let g = vec4u(p.rowBase) + rc;
  let xn = vec4f(xnorm[g.x], xnorm[g.y], xnorm[g.z], xnorm[g.w]);
  var prev = vec4f(BIG);
  if (p.fresh == 0u) {
    prev = vec4f(d2[g.x], d2[g.y], d2[g.z], d2[g.w]);
  }
  emit(a0, 0u, r, xn, prev);
  if (NCG > 1u) {
    emit(a1, 4u, r, xn, prev);
  }
  if (NCG > 2u) {
    emit(a2, 8u, r, xn, prev);
  }
  if (NCG > 3u) {
    emit(a3, 12u, r, xn, prev);
  }
}
