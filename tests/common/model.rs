//! Shared by the model tests and the fuzz targets (fuzz/ includes this file by path): one
//! operation type, a shadow model of what the heap must hold, and a runner that checks the heap
//! against the model after every step. The model drives any [`Heap`]: the TLSF core, a
//! `MultiHeap`, or a capabilities registry (see fuzz/fuzz_targets/caps.rs).
#![allow(dead_code)]

use heapcaps::multi_heap::MultiHeap;
use heapcaps::tlsf::Tlsf;

/// One step of a random script. Indices pick a live allocation modulo the live count.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Malloc {
        size: u32,
    },
    Free {
        idx: u32,
    },
    Realloc {
        idx: u32,
        size: u32,
    },
    Aligned {
        size: u32,
        align_log2: u8,
        offset: u8,
    },
}

impl Op {
    /// Decodes an operation from 8 bytes of fuzzer or PRNG input.
    pub fn from_bytes(b: [u8; 8], max_size: u32) -> Op {
        let v = u32::from_le_bytes([b[1], b[2], b[3], b[4]]);
        let size = if max_size == 0 { 0 } else { v % (max_size + 1) };
        match b[0] % 8 {
            0..=2 => Op::Malloc { size },
            3..=4 => Op::Free { idx: v },
            5..=6 => Op::Realloc {
                idx: u32::from_le_bytes([b[5], b[6], b[7], 0]),
                size,
            },
            _ => Op::Aligned {
                size,
                align_log2: b[5] % 12,
                offset: (b[6] % 4) * 4,
            },
        }
    }
}

/// xorshift64*: deterministic scripts without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn bytes(&mut self) -> [u8; 8] {
        self.next().to_le_bytes()
    }
}

/// What the model needs from an allocator under test.
pub trait Heap {
    fn malloc(&mut self, size: usize) -> *mut u8;
    /// Returns the block and the offset actually honoured (`(p + offset) % align == 0`).
    fn aligned(&mut self, size: usize, align: usize, offset: usize) -> (*mut u8, usize);
    fn free(&mut self, p: *mut u8);
    fn realloc(&mut self, p: *mut u8, size: usize) -> *mut u8;
    /// Usable size of a live block.
    fn usable(&self, p: *mut u8) -> usize;
    /// Payload bytes of the block behind `p` (more than `usable` when the allocator keeps data
    /// in front of the pointer, like the DRAM address of an EXEC block).
    fn block_bytes(&self, p: *mut u8) -> usize {
        self.usable(p)
    }
    /// The full checker.
    fn check(&self) -> bool;
    /// Whether `[p, p + len)` lies in memory this heap manages.
    fn owns(&self, p: usize, len: usize) -> bool;
    /// Per sub-heap (free bytes, minimum free bytes) counters, in a fixed order.
    fn counters(&self) -> Vec<(usize, usize)>;
    /// Free bytes counted by walking the blocks (header bytes included).
    fn walked_free(&self) -> usize;
    /// Number of allocated blocks counted by walking.
    fn used_blocks(&self) -> usize;
    /// Largest request that must succeed right now (0 if unknown).
    fn largest(&self) -> usize;
    /// Per sub-heap lowest free figure the last operation may have reached inside it, below the
    /// figure after it (a moving realloc within one heap that allocates before it frees; whether
    /// it does depends on the path taken); empty if none. The model then accepts either minimum.
    fn dips(&mut self) -> Vec<usize> {
        Vec::new()
    }
    /// Number of free blocks (1 after everything is freed, per sub-heap).
    fn free_blocks(&self) -> usize;
}

/// Bytes of block header counted in the free figures.
const HDR: usize = 4;

impl Heap for MultiHeap {
    fn malloc(&mut self, size: usize) -> *mut u8 {
        MultiHeap::malloc(*self, size)
    }
    fn aligned(&mut self, size: usize, align: usize, offset: usize) -> (*mut u8, usize) {
        (self.aligned_alloc_offs(size, align, offset), offset)
    }
    fn free(&mut self, p: *mut u8) {
        MultiHeap::free(*self, p)
    }
    fn realloc(&mut self, p: *mut u8, size: usize) -> *mut u8 {
        MultiHeap::realloc(*self, p, size)
    }
    fn usable(&self, p: *mut u8) -> usize {
        self.allocated_size(p)
    }
    fn check(&self) -> bool {
        MultiHeap::check(*self, true)
    }
    fn owns(&self, p: usize, len: usize) -> bool {
        self.contains(p as *const u8) && p + len <= self.region_end() as usize
    }
    fn counters(&self) -> Vec<(usize, usize)> {
        vec![(self.free_size(), self.minimum_free_size())]
    }
    fn block_bytes(&self, p: *mut u8) -> usize {
        // The whole payload: with poisoning, the canaries are part of what a block costs.
        self.full_block_size(p)
    }
    fn walked_free(&self) -> usize {
        let mut n = 0;
        self.walk(|b| {
            if !b.used {
                n += b.size + HDR;
            }
            true
        });
        // With poisoning the heap reports its free bytes less one allocation's canaries (as
        // ESP-IDF does), floored at 0.
        n.saturating_sub(heapcaps::poison::OVERHEAD)
    }
    fn used_blocks(&self) -> usize {
        self.info().allocated_blocks
    }
    fn largest(&self) -> usize {
        self.info().largest_free_block
    }
    fn free_blocks(&self) -> usize {
        self.info().free_blocks
    }
}

/// The same heap through the `multi_heap_*` C entry points for allocation, free and realloc
/// (their hosts' fast paths are code of their own, e.g. realloc's resize in place first); the
/// queries go through [`MultiHeap`].
pub struct CApi(pub MultiHeap);

impl CApi {
    fn handle(&self) -> heapcaps::capi::multi_heap::multi_heap_handle_t {
        self.0.as_ptr() as _
    }
}

impl Heap for CApi {
    fn malloc(&mut self, size: usize) -> *mut u8 {
        // SAFETY: the handle is a registered heap.
        unsafe { heapcaps::capi::multi_heap::multi_heap_malloc(self.handle(), size) as *mut u8 }
    }
    fn aligned(&mut self, size: usize, align: usize, offset: usize) -> (*mut u8, usize) {
        // SAFETY: as above.
        let p = unsafe {
            if offset == 0 {
                heapcaps::capi::multi_heap::multi_heap_aligned_alloc(self.handle(), size, align)
            } else {
                heapcaps::capi::multi_heap::multi_heap_aligned_alloc_offs(
                    self.handle(),
                    size,
                    align,
                    offset,
                )
            }
        };
        (p as *mut u8, offset)
    }
    fn free(&mut self, p: *mut u8) {
        // SAFETY: as above; the model frees only live blocks.
        unsafe { heapcaps::capi::multi_heap::multi_heap_free(self.handle(), p as _) }
    }
    fn realloc(&mut self, p: *mut u8, size: usize) -> *mut u8 {
        // SAFETY: as above; the model reallocates only live blocks.
        unsafe {
            heapcaps::capi::multi_heap::multi_heap_realloc(self.handle(), p as _, size) as *mut u8
        }
    }
    fn usable(&self, p: *mut u8) -> usize {
        Heap::usable(&self.0, p)
    }
    fn block_bytes(&self, p: *mut u8) -> usize {
        Heap::block_bytes(&self.0, p)
    }
    fn check(&self) -> bool {
        Heap::check(&self.0)
    }
    fn owns(&self, p: usize, len: usize) -> bool {
        self.0.owns(p, len)
    }
    fn counters(&self) -> Vec<(usize, usize)> {
        self.0.counters()
    }
    fn walked_free(&self) -> usize {
        self.0.walked_free()
    }
    fn used_blocks(&self) -> usize {
        self.0.used_blocks()
    }
    fn largest(&self) -> usize {
        self.0.largest()
    }
    fn free_blocks(&self) -> usize {
        self.0.free_blocks()
    }
}

/// The TLSF core alone (no counters, no lock): offsets in, pointers out.
pub struct Core(pub Tlsf);

impl Heap for Core {
    fn malloc(&mut self, size: usize) -> *mut u8 {
        if size == 0 {
            return std::ptr::null_mut();
        }
        self.0
            .malloc(size)
            .map_or(std::ptr::null_mut(), |o| self.0.ptr_at(o))
    }
    fn aligned(&mut self, size: usize, align: usize, offset: usize) -> (*mut u8, usize) {
        if size == 0 {
            return (std::ptr::null_mut(), offset);
        }
        let p = self.0.malloc_aligned(size, align, offset);
        (
            p.map_or(std::ptr::null_mut(), |(o, _)| self.0.ptr_at(o)),
            offset,
        )
    }
    fn free(&mut self, p: *mut u8) {
        let o = self.0.offset_of(p).expect("pointer outside the region");
        self.0.free(o).expect("free of a live block failed");
    }
    fn realloc(&mut self, p: *mut u8, size: usize) -> *mut u8 {
        if size == 0 {
            self.free(p);
            return std::ptr::null_mut();
        }
        let o = self.0.offset_of(p).expect("pointer outside the region");
        match self.0.realloc(o, size).expect("realloc of a live block") {
            Some((n, _, _)) => self.0.ptr_at(n),
            None => std::ptr::null_mut(),
        }
    }
    fn usable(&self, p: *mut u8) -> usize {
        let o = self.0.offset_of(p).expect("pointer outside the region");
        self.0.block_size(o).expect("live block") as usize
    }
    fn check(&self) -> bool {
        self.0.check(|_| true).is_ok()
    }
    fn owns(&self, p: usize, len: usize) -> bool {
        self.0.contains(p as *const u8) && self.0.contains((p + len - 1) as *const u8)
    }
    fn counters(&self) -> Vec<(usize, usize)> {
        Vec::new()
    }
    fn walked_free(&self) -> usize {
        let s = self.0.stats();
        s.free_bytes + s.free_blocks * HDR
    }
    fn used_blocks(&self) -> usize {
        self.0.stats().used_blocks
    }
    fn largest(&self) -> usize {
        self.0.largest_fit() as usize
    }
    fn free_blocks(&self) -> usize {
        self.0.stats().free_blocks
    }
}

struct Live {
    ptr: *mut u8,
    size: usize,
    seed: u8,
}

/// The model: which blocks are live, with what size and contents, and what the free and
/// minimum-free counters must say.
pub struct Model<H: Heap = MultiHeap> {
    heap: H,
    live: Vec<Live>,
    next_seed: u8,
    /// Free bytes with nothing allocated (from the walk at the start).
    start_free: usize,
    /// Expected low-water mark per sub-heap.
    min: Vec<usize>,
    /// Alternative expected low-water marks after the last operation (see [`Heap::dips`]).
    alt: Vec<usize>,
    /// Per-block cost in free bytes is `usable + overhead` when set (no poisoning).
    pub exact_overhead: Option<usize>,
    /// Free blocks at the start: draining must coalesce back to this many.
    pub coalesce_to: usize,
    /// Blocks allocated before the model started (e.g. a registry's boot descriptors).
    baseline_used: usize,
    pub steps: usize,
    pub failures: usize,
}

/// Byte positions of an `n`-byte block that carry the pattern: all of a small block; the first
/// and last 128 bytes and every 61st byte between them of a large one (keeps large scripts fast
/// while still catching a block that overlaps or moves wrongly).
fn positions(n: usize) -> impl Iterator<Item = usize> {
    let dense = n.min(128);
    let tail = n.saturating_sub(128).max(dense);
    (0..dense).chain((dense..tail).step_by(61)).chain(tail..n)
}

fn verify(p: *const u8, n: usize, seed: u8) -> bool {
    verify_prefix(p, n, n, seed)
}

fn pattern(seed: u8, i: usize) -> u8 {
    seed.wrapping_add(i as u8)
        .wrapping_add((i >> 8) as u8)
        .wrapping_mul(31)
}

fn fill(p: *mut u8, n: usize, seed: u8) {
    for i in positions(n) {
        // SAFETY: p..p+n is a live allocation of at least n bytes.
        unsafe { p.add(i).write(pattern(seed, i)) }
    }
}

/// Checks the first `keep` bytes of a block filled with `fill(p, n, seed)`.
fn verify_prefix(p: *const u8, n: usize, keep: usize, seed: u8) -> bool {
    positions(n).take_while(|&i| i < keep).all(|i| {
        // SAFETY: as in `fill`.
        unsafe { p.add(i).read() == pattern(seed, i) }
    })
}

impl Model<MultiHeap> {
    /// # Safety
    /// `mem` must be valid for `len` bytes and reserved for this model.
    pub unsafe fn new(mem: *mut u8, len: usize) -> Option<Model> {
        // SAFETY: forwarded caller contract.
        let heap = unsafe { MultiHeap::register(mem, len)? };
        Some(Model::over(heap))
    }
}

impl Model<CApi> {
    /// # Safety
    /// `mem` must be valid for `len` bytes and reserved for this model.
    pub unsafe fn new_c(mem: *mut u8, len: usize) -> Option<Model<CApi>> {
        // SAFETY: forwarded caller contract.
        let heap = unsafe { MultiHeap::register(mem, len)? };
        Some(Model::over(CApi(heap)))
    }
}

impl Model<Core> {
    /// # Safety
    /// `mem` must be valid for `len` bytes and reserved for this model.
    pub unsafe fn new_core(mem: *mut u8, len: usize) -> Option<Model<Core>> {
        // SAFETY: forwarded caller contract.
        let t = unsafe { Tlsf::create(mem, len)? };
        Some(Model::over(Core(t)))
    }
}

impl<H: Heap> Model<H> {
    /// A model of `heap`; blocks already allocated stay untouched and are not counted.
    pub fn over(heap: H) -> Model<H> {
        let start_free = heap.walked_free();
        let counters = heap.counters();
        Model {
            min: counters.iter().map(|c| c.1).collect(),
            alt: Vec::new(),
            coalesce_to: heap.free_blocks(),
            baseline_used: heap.used_blocks(),
            heap,
            live: Vec::new(),
            next_seed: 1,
            start_free,
            // With poisoning the reported free figure is floored at 0, so the exact byte
            // balance holds only without it (tests/poisoning.rs covers the poisoned sizes).
            exact_overhead: if heapcaps::poison::ENABLED {
                None
            } else {
                Some(HDR)
            },
            steps: 0,
            failures: 0,
        }
    }

    pub fn heap(&self) -> &H {
        &self.heap
    }

    pub fn heap_mut(&mut self) -> &mut H {
        &mut self.heap
    }

    pub fn live_count(&self) -> usize {
        self.live.len()
    }

    fn seed(&mut self) -> u8 {
        self.next_seed = self.next_seed.wrapping_add(7);
        self.next_seed
    }

    /// Lowers the expected minimum by the current free figures.
    fn observe(&mut self) {
        for (m, c) in self.min.iter_mut().zip(self.heap.counters()) {
            *m = (*m).min(c.0);
        }
        self.alt = self.heap.dips();
    }

    fn accept(&mut self, p: *mut u8, size: usize, align: usize, offset: usize) {
        assert!(!p.is_null());
        assert_eq!(p as usize % 4, 0, "payload not 4-aligned");
        if align > 4 {
            assert_eq!((p as usize + offset) % align, 0, "alignment not honoured");
        }
        let usable = self.heap.usable(p);
        assert!(usable >= size, "usable {usable} < requested {size}");
        assert!(self.heap.owns(p as usize, usable), "block outside the heap");
        let seed = self.seed();
        fill(p, size, seed);
        self.live.push(Live { ptr: p, size, seed });
    }

    pub fn apply(&mut self, op: Op) {
        self.steps += 1;
        match op {
            Op::Malloc { size } => {
                let p = self.heap.malloc(size as usize);
                if size == 0 {
                    assert!(p.is_null());
                } else if p.is_null() {
                    self.failures += 1;
                } else {
                    self.accept(p, size as usize, 4, 0);
                }
            }
            Op::Aligned {
                size,
                align_log2,
                offset,
            } => {
                let align = 1usize << align_log2;
                let (p, offset) = self.heap.aligned(size as usize, align, offset as usize);
                if size == 0 {
                    assert!(p.is_null());
                } else if p.is_null() {
                    self.failures += 1;
                } else {
                    self.accept(p, size as usize, align, offset);
                }
            }
            Op::Free { idx } => {
                if self.live.is_empty() {
                    return;
                }
                let l = self.live.swap_remove(idx as usize % self.live.len());
                assert!(verify(l.ptr, l.size, l.seed), "contents lost before free");
                self.heap.free(l.ptr);
            }
            Op::Realloc { idx, size } => {
                if self.live.is_empty() {
                    return;
                }
                let i = idx as usize % self.live.len();
                let (old, osize, oseed) = (self.live[i].ptr, self.live[i].size, self.live[i].seed);
                assert!(verify(old, osize, oseed), "contents lost before realloc");
                let p = self.heap.realloc(old, size as usize);
                if size == 0 {
                    assert!(p.is_null());
                    self.live.swap_remove(i);
                } else if p.is_null() {
                    self.failures += 1;
                    assert!(
                        verify(old, osize, oseed),
                        "failed realloc damaged the block"
                    );
                } else {
                    let keep = osize.min(size as usize);
                    assert!(
                        verify_prefix(p, osize, keep, oseed),
                        "realloc lost contents"
                    );
                    self.live.swap_remove(i);
                    self.accept(p, size as usize, 4, 0);
                }
            }
        }
        self.observe();
        self.check();
    }

    /// Everything the heap says must agree with the model.
    pub fn check(&mut self) {
        assert!(
            self.heap.check(),
            "heap check failed after step {}",
            self.steps
        );
        assert_eq!(
            self.heap.used_blocks(),
            self.live.len() + self.baseline_used,
            "allocated block count"
        );
        let walked = self.heap.walked_free();
        let counters = self.heap.counters();
        if !counters.is_empty() {
            let free: usize = counters.iter().map(|c| c.0).sum();
            assert_eq!(free, walked, "free counter differs from the free blocks");
            for (i, (c, m)) in counters.iter().zip(self.min.iter_mut()).enumerate() {
                if let Some(&a) = self.alt.get(i) {
                    if c.1 == (*m).min(a) {
                        *m = c.1;
                    }
                }
                // Comprehensive poisoning makes every realloc allocate, copy and free, a dip
                // the model does not track; there the minimum is only bounded.
                if heapcaps::poison::COMPREHENSIVE {
                    assert!(c.1 <= c.0, "minimum above free of heap {i}");
                    *m = c.1;
                    continue;
                }
                assert_eq!(
                    c.1, *m,
                    "minimum free of heap {i} after step {}",
                    self.steps
                );
            }
        }
        if let Some(o) = self.exact_overhead {
            // Every live block costs exactly its usable size plus its header.
            let cost: usize = self
                .live
                .iter()
                .map(|l| self.heap.block_bytes(l.ptr) + o)
                .sum();
            assert_eq!(
                walked + cost,
                self.start_free,
                "free bytes + live blocks != start (leak or double count) after step {}",
                self.steps
            );
        }
        // Blocks never overlap.
        let mut spans: Vec<(usize, usize)> = self
            .live
            .iter()
            .map(|l| (l.ptr as usize, l.ptr as usize + self.heap.usable(l.ptr)))
            .collect();
        spans.sort();
        for w in spans.windows(2) {
            assert!(w[0].1 <= w[1].0, "overlapping blocks");
        }
        // The largest free block reported can be allocated.
        let largest = self.heap.largest();
        if largest > 0 && self.steps % 17 == 0 {
            let p = self.heap.malloc(largest);
            assert!(!p.is_null(), "largest_free_block {largest} not allocatable");
            self.observe();
            self.heap.free(p);
        }
    }

    /// Frees everything; the heap must return exactly to its starting free size.
    pub fn drain(&mut self) {
        while let Some(l) = self.live.pop() {
            assert!(verify(l.ptr, l.size, l.seed));
            self.heap.free(l.ptr);
        }
        self.check();
        assert_eq!(
            self.heap.walked_free(),
            self.start_free,
            "free bytes did not return"
        );
        assert_eq!(
            self.heap.free_blocks(),
            self.coalesce_to,
            "free space did not coalesce"
        );
    }
}
