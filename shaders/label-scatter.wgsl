// Stable scatter of row indices into their cluster segments (see label-sort.wgsl). One
// workgroup walks the rows in blocks of 256: inside a block every thread counts the earlier rows
// with its label (its rank) and whether a later one follows; the last row of each label in the
// block advances that label's cursor. Cost: 256 comparisons per row, on one workgroup; a small
// fraction of one assignment pass (which costs 2 * k * d flops per row).

struct Params {
  n: u32,
  k: u32,
  groupsX: u32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> cursor: array<u32>;
@group(0) @binding(3) var<storage, read_write> perm: array<u32>;

var<workgroup> block: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) t: u32) {
  for (var b = 0u; b < p.n; b += 256u) {
    let i = b + t;
    let valid = i < p.n;
    var l = 0xffffffffu;
    if (valid) {
      l = labels[i];
    }
    block[t] = l;
    workgroupBarrier();
    var before = 0u;
    var after = 0u;
    for (var j = 0u; j < 256u; j++) {
      let same = u32(block[j] == l);
      before += select(0u, same, j < t);
      after += select(0u, same, j > t);
    }
    var pos = 0u;
    if (valid) {
      pos = cursor[l] + before;
      perm[pos] = i;
    }
    // Every thread has read its cursor before the last one of each label moves it.
    storageBarrier();
    if (valid && after == 0u) {
      cursor[l] = pos + 1u;
    }
    storageBarrier();
  }
}
