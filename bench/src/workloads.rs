//! The one definition of every workload: a seeded generator turns it into a trace of operations
//! on numbered slots, which every contender (Rust harness and the C driver) replays identically.
//!
//! Traces are generated before any timing. Request sizes and the live-byte budget are plain u32
//! arithmetic, so the trace is byte-identical on x86_64 and i686.

/// Operation kinds, as stored in a trace (and read by `c/mh_bench.c`).
pub const MALLOC: u32 = 0;
pub const FREE: u32 = 1;
pub const REALLOC: u32 = 2;
pub const ALIGNED: u32 = 3;

/// One operation: 16 bytes, little-endian u32 fields (the trace file format).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Op {
    pub kind: u32,
    pub slot: u32,
    pub size: u32,
    /// Alignment for `ALIGNED` (0 otherwise).
    pub align: u32,
}

/// A trace: the operations and how many slots they use.
pub struct Trace {
    pub slots: usize,
    pub ops: Vec<Op>,
}

/// Small, fast, seeded PRNG (xorshift64*), so traces are reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (((self.next() as u64) * ((hi - lo + 1) as u64)) >> 32) as u32
    }
    /// True with probability `pct`/100.
    pub fn pct(&mut self, pct: u32) -> bool {
        self.range(0, 99) < pct
    }
}

/// Region every workload runs on.
pub const REGION: usize = 256 * 1024;
/// Live requested bytes a generated trace never exceeds, so no contender should run out.
const BUDGET: u32 = (REGION / 2) as u32;

pub const NAMES: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

pub fn describe(w: &str) -> &'static str {
    match w {
        "a" => "W-a malloc/free 1-256",
        "b" => "W-b malloc/free 8-8192 pow2 spread",
        "c" => "W-c mixed",
        "d" => "W-d realloc churn",
        "e" => "W-e aligned churn (4-256)",
        "f" => "W-f ESP-IDF timing pattern",
        _ => "?",
    }
}

/// Size from W-b's distribution: a power of two 8..=4096 picked uniformly, then a size uniformly
/// between it and the next power of two (at most 8192).
fn spread(r: &mut Rng) -> u32 {
    let e = r.range(3, 12);
    r.range(1 << e, 1 << (e + 1))
}

/// W-c's size distribution: mostly small, some medium, a few large.
fn mixed_size(r: &mut Rng) -> u32 {
    match r.range(0, 99) {
        0..=69 => r.range(1, 128),
        70..=94 => r.range(129, 1024),
        _ => r.range(1025, 8192),
    }
}

/// Builder that tracks slot contents and the live-byte budget.
struct Gen {
    ops: Vec<Op>,
    size: Vec<u32>,
    aligned: Vec<bool>,
    live: u32,
}

impl Gen {
    fn new(slots: usize) -> Gen {
        Gen {
            ops: Vec::new(),
            size: vec![0; slots],
            aligned: vec![false; slots],
            live: 0,
        }
    }
    fn fits(&self, extra: u32) -> bool {
        self.live + extra <= BUDGET
    }
    fn malloc(&mut self, slot: usize, size: u32) {
        self.ops.push(Op {
            kind: MALLOC,
            slot: slot as u32,
            size,
            align: 0,
        });
        self.size[slot] = size;
        self.aligned[slot] = false;
        self.live += size;
    }
    fn aligned(&mut self, slot: usize, size: u32, align: u32) {
        self.ops.push(Op {
            kind: ALIGNED,
            slot: slot as u32,
            size,
            align,
        });
        self.size[slot] = size;
        self.aligned[slot] = true;
        self.live += size;
    }
    fn free(&mut self, slot: usize) {
        self.ops.push(Op {
            kind: FREE,
            slot: slot as u32,
            size: 0,
            align: 0,
        });
        self.live -= self.size[slot];
        self.size[slot] = 0;
    }
    fn realloc(&mut self, slot: usize, size: u32) {
        self.ops.push(Op {
            kind: REALLOC,
            slot: slot as u32,
            size,
            align: 0,
        });
        self.live = self.live - self.size[slot] + size;
        self.size[slot] = size;
    }
    /// Frees whatever is live, so a replay leaves the heap as it found it.
    fn finish(mut self) -> Trace {
        for s in 0..self.size.len() {
            if self.size[s] != 0 {
                self.free(s);
            }
        }
        Trace {
            slots: self.size.len(),
            ops: self.ops,
        }
    }
}

/// Generates workload `w` with about `n` operations (W-f: `n` iterations of ESP-IDF's loop).
pub fn generate(w: &str, n: usize) -> Trace {
    let mut r = Rng::new(0x4845_4150 ^ w.as_bytes()[0] as u64);
    match w {
        // Toggle a random slot: allocate when empty, free when full.
        "a" | "b" | "e" => {
            let slots = match w {
                "a" => 1024,
                "b" => 128,
                _ => 512,
            };
            let mut g = Gen::new(slots);
            while g.ops.len() < n {
                let s = r.range(0, slots as u32 - 1) as usize;
                if g.size[s] != 0 {
                    g.free(s);
                    continue;
                }
                let size = match w {
                    "a" => r.range(1, 256),
                    "b" => spread(&mut r),
                    _ => r.range(1, 512),
                };
                if !g.fits(size) {
                    continue;
                }
                if w == "e" {
                    let align = 4 << r.range(0, 6); // 4..=256
                    g.aligned(s, size, align);
                } else {
                    g.malloc(s, size);
                }
            }
            g.finish()
        }
        // Mixed: empty slots get malloc (90%) or aligned (10%); full slots are freed (65%) or
        // reallocated (35%, only plain-malloc blocks).
        "c" => {
            let slots = 512;
            let mut g = Gen::new(slots);
            while g.ops.len() < n {
                let s = r.range(0, slots as u32 - 1) as usize;
                let size = mixed_size(&mut r);
                if g.size[s] == 0 {
                    if !g.fits(size) {
                        continue;
                    }
                    if r.pct(10) {
                        g.aligned(s, size, 8 << r.range(0, 5));
                    } else {
                        g.malloc(s, size);
                    }
                } else if !g.aligned[s] && r.pct(35) && g.fits(size.saturating_sub(g.size[s])) {
                    g.realloc(s, size);
                } else {
                    g.free(s);
                }
            }
            g.finish()
        }
        // Realloc churn: full slots are reallocated 80% of the time, to between a quarter and
        // twice their size (growth and shrinkage both happen).
        "d" => {
            let slots = 256;
            let mut g = Gen::new(slots);
            while g.ops.len() < n {
                let s = r.range(0, slots as u32 - 1) as usize;
                if g.size[s] == 0 {
                    let size = r.range(1, 1024);
                    if g.fits(size) {
                        g.malloc(s, size);
                    }
                } else if r.pct(80) {
                    let old = g.size[s];
                    let new = r.range((old / 4).max(1), (old * 2).min(4096));
                    if g.fits(new.saturating_sub(old)) {
                        g.realloc(s, new);
                    }
                } else {
                    g.free(s);
                }
            }
            g.finish()
        }
        // ESP-IDF's "many random allocations timings" loop: 128 slots, sizes below 1024; every
        // fourth iteration reallocs a random slot to a random size (0 frees), the others free the
        // slot if full and malloc a new random size into it (0 gives no block). Realloc of an
        // empty slot is a malloc. Afterwards every slot is freed.
        "f" => {
            let slots = 128;
            let mut g = Gen::new(slots);
            for i in 0..n {
                let s = r.range(0, 127) as usize;
                if i % 4 == 0 {
                    let size = r.range(0, 1023);
                    match (g.size[s] != 0, size != 0) {
                        (true, true) => g.realloc(s, size),
                        (true, false) => g.free(s),
                        (false, true) => g.malloc(s, size),
                        (false, false) => {}
                    }
                    continue;
                }
                if g.size[s] != 0 {
                    g.free(s);
                }
                let size = r.range(0, 1023);
                if size != 0 {
                    g.malloc(s, size);
                }
            }
            g.finish()
        }
        _ => panic!("unknown workload {w}"),
    }
}

/// Default operation counts: timing and callgrind.
pub fn default_ops(w: &str, callgrind: bool) -> usize {
    match (w, callgrind) {
        ("f", false) => 5000, // ESP-IDF's own iteration count; repeated for timing
        ("f", true) => 5000,
        (_, false) => 100_000,
        (_, true) => 20_000,
    }
}

pub fn write_trace(t: &Trace, path: &str) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(8 + t.ops.len() * 16);
    out.extend_from_slice(&(t.slots as u32).to_le_bytes());
    out.extend_from_slice(&(t.ops.len() as u32).to_le_bytes());
    for o in &t.ops {
        for v in [o.kind, o.slot, o.size, o.align] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    std::fs::write(path, out)
}
