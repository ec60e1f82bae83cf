//! Shared by the model tests and the fuzz targets: one operation type, a shadow model of what
//! the heap must hold, and a runner that checks the heap against the model after every step.
#![allow(dead_code)]

use heapcaps::multi_heap::MultiHeap;

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

struct Live {
    ptr: *mut u8,
    size: usize,
    seed: u8,
}

/// The model: which blocks are live, with what size and contents.
pub struct Model {
    heap: MultiHeap,
    live: Vec<Live>,
    region: (usize, usize),
    next_seed: u8,
    pub steps: usize,
    pub failures: usize,
}

fn fill(p: *mut u8, n: usize, seed: u8) {
    for i in 0..n {
        // SAFETY: p..p+n is a live allocation of at least n bytes.
        unsafe { p.add(i).write(seed.wrapping_add(i as u8).wrapping_mul(31)) }
    }
}

fn verify(p: *const u8, n: usize, seed: u8) -> bool {
    (0..n).all(|i| {
        // SAFETY: as in `fill`.
        unsafe { p.add(i).read() == seed.wrapping_add(i as u8).wrapping_mul(31) }
    })
}

impl Model {
    /// # Safety
    /// `mem` must be valid for `len` bytes and reserved for this model.
    pub unsafe fn new(mem: *mut u8, len: usize) -> Option<Model> {
        // SAFETY: forwarded caller contract.
        let heap = unsafe { MultiHeap::register(mem, len)? };
        Some(Model {
            heap,
            live: Vec::new(),
            region: (mem as usize, mem as usize + len),
            next_seed: 1,
            steps: 0,
            failures: 0,
        })
    }

    pub fn heap(&self) -> MultiHeap {
        self.heap
    }

    fn seed(&mut self) -> u8 {
        self.next_seed = self.next_seed.wrapping_add(7);
        self.next_seed
    }

    fn accept(&mut self, p: *mut u8, size: usize, align: usize, offset: usize) {
        assert!(!p.is_null());
        assert_eq!(p as usize % 4, 0, "payload not 4-aligned");
        if align > 4 {
            assert_eq!((p as usize + offset) % align, 0, "alignment not honoured");
        }
        let usable = self.heap.allocated_size(p);
        assert!(usable >= size, "usable {usable} < requested {size}");
        assert!(p as usize >= self.region.0 && p as usize + usable <= self.region.1);
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
                let p = self
                    .heap
                    .aligned_alloc_offs(size as usize, align, offset as usize);
                if size == 0 {
                    assert!(p.is_null());
                } else if p.is_null() {
                    self.failures += 1;
                } else {
                    self.accept(p, size as usize, align, offset as usize);
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
                    assert!(verify(p, keep, oseed), "realloc lost contents");
                    self.live.swap_remove(i);
                    self.accept(p, size as usize, 4, 0);
                }
            }
        }
        self.check();
    }

    /// Everything the heap says must agree with the model.
    pub fn check(&self) {
        assert!(
            self.heap.check(true),
            "heap check failed after step {}",
            self.steps
        );
        let info = self.heap.info();
        assert_eq!(info.allocated_blocks, self.live.len());
        let used: usize = self
            .live
            .iter()
            .map(|l| self.heap.allocated_size(l.ptr))
            .sum();
        assert_eq!(info.total_allocated_bytes, used);
        assert_eq!(info.total_free_bytes, self.heap.free_size());
        assert!(info.minimum_free_bytes <= info.total_free_bytes);
        // Blocks never overlap.
        let mut spans: Vec<(usize, usize)> = self
            .live
            .iter()
            .map(|l| {
                (
                    l.ptr as usize,
                    l.ptr as usize + self.heap.allocated_size(l.ptr),
                )
            })
            .collect();
        spans.sort();
        for w in spans.windows(2) {
            assert!(w[0].1 <= w[1].0, "overlapping blocks");
        }
        // The largest free block reported can be allocated.
        if info.largest_free_block > 0 && self.steps % 17 == 0 {
            let p = self.heap.malloc(info.largest_free_block);
            assert!(
                !p.is_null(),
                "largest_free_block {} not allocatable",
                info.largest_free_block
            );
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
            self.heap.info().free_blocks,
            1,
            "free space did not coalesce"
        );
    }
}
