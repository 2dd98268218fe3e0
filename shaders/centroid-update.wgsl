// New centroids = mean of each cluster's rows, without float atomics: one workgroup per
// cluster walks its segment of the label-sorted row list (label-sort.wgsl) and sums the rows with
// Neumaier-compensated float32 arithmetic (error independent of the cluster size, checked against
// float64 means in the tests). A cluster that went empty keeps its previous centroid (reference
// behaviour).
//
// Rows live in chunks (one dispatch per chunk). The stable sort keeps each segment in row
// order, so the rows of one chunk form a contiguous sub-range of the segment, found by binary
// search. The running compensated sum (sum, err) of every cluster is carried from one chunk's
// dispatch to the next in `acc`; the last chunk divides by the count and writes the centroid.
//
// Threads: for wide rows (d4 >= 64) every thread owns a set of columns and walks all members;
// for narrow rows, G = 64 / d4 thread groups each take every G-th member and their partial sums
// are combined in a fixed order, so the result does not depend on timing.

struct Params {
  k: u32,
  d4: u32,
  chunkStart: u32, // first global row of this chunk
  chunkEnd: u32, // one past its last row
  first: u32, // 1 on the first chunk: start from zero instead of acc
  last: u32, // 1 on the last chunk: write centroids instead of acc
  groupsX: u32,
  pad: u32,
}

const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> perm: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
// acc[(j * d4 + q) * 2] = running sum, [.. + 1] = running compensation
@group(0) @binding(4) var<storage, read_write> acc: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> cent: array<vec4f>;

var<workgroup> psum: array<vec4f, WG>;
var<workgroup> perr: array<vec4f, WG>;

// Neumaier step: adds v to (s, e), where s + e is the running total.
fn addTo(s: ptr<function, vec4f>, e: ptr<function, vec4f>, v: vec4f) {
  let t = *s + v;
  let big = abs(*s) >= abs(v);
  *e += select((v - t) + *s, (*s - t) + v, big);
  *s = t;
}

// First index in [lo, hi) whose row is >= row (segments are sorted by row).
fn lowerBound(lo: u32, hi: u32, row: u32) -> u32 {
  var a = lo;
  var b = hi;
  while (a < b) {
    let m = (a + b) / 2u;
    if (perm[m] < row) {
      a = m + 1u;
    } else {
      b = m;
    }
  }
  return a;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let j = wid.x + wid.y * p.groupsX;
  if (j >= p.k) {
    return;
  }
  let s0 = offsets[j];
  let s1 = offsets[j + 1u];
  let lo = lowerBound(s0, s1, p.chunkStart);
  let hi = lowerBound(lo, s1, p.chunkEnd);
  let lanes = min(p.d4, WG);
  let groups = WG / lanes;
  let g = t / lanes;
  let ql = t % lanes;
  let narrow = groups > 1u;

  for (var q = ql; q < p.d4; q += lanes) {
    var s = vec4f(0.0);
    var e = vec4f(0.0);
    // Wide rows: the previous chunks' running sum continues here directly.
    if (!narrow && p.first == 0u) {
      let a = (j * p.d4 + q) * 2u;
      s = acc[a];
      e = acc[a + 1u];
    }
    if (g < groups) {
      for (var m = lo + g; m < hi; m += groups) {
        addTo(&s, &e, x[(perm[m] - p.chunkStart) * p.d4 + q]);
      }
    }
    if (narrow) {
      psum[t] = s;
      perr[t] = e;
    } else {
      finish(j, q, s, e, s1 - s0);
    }
  }
  if (narrow) {
    workgroupBarrier();
    if (t < lanes) {
      var s = vec4f(0.0);
      var e = vec4f(0.0);
      if (p.first == 0u) {
        let a = (j * p.d4 + t) * 2u;
        s = acc[a];
        e = acc[a + 1u];
      }
      for (var h = 0u; h < groups; h++) {
        addTo(&s, &e, psum[h * lanes + t]);
        e += perr[h * lanes + t];
      }
      finish(j, t, s, e, s1 - s0);
    }
  }
}

fn finish(j: u32, q: u32, s: vec4f, e: vec4f, count: u32) {
  if (p.last == 0u) {
    let a = (j * p.d4 + q) * 2u;
    acc[a] = s;
    acc[a + 1u] = e;
  } else if (count > 0u) {
    cent[j * p.d4 + q] = (s + e) / f32(count);
  }
}
