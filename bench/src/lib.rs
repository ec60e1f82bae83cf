//! The benchmark's shared parts: the contenders, the workload traces and the replay harness,
//! used by the `heapcaps-bench` binary (`src/main.rs`) and the criterion benchmark
//! (`benches/traces.rs`), so both measure exactly the same code.

pub mod contenders;
pub mod workloads;

use contenders::{Contender, MALLOC_ALIGN};
use workloads::{Op, ALIGNED, CAPS, FREE, MALLOC, REALLOC};

/// A 16-byte-aligned region.
pub struct Region(Vec<u128>);

impl Region {
    pub fn new(len: usize) -> Region {
        Region(vec![0u128; len.div_ceil(16)])
    }
    pub fn base(&mut self) -> *mut u8 {
        self.0.as_mut_ptr() as *mut u8
    }
}

#[derive(Clone, Copy)]
pub struct Slot {
    pub p: *mut u8,
    pub size: usize,
    pub align: usize,
}

pub const EMPTY: Slot = Slot {
    p: std::ptr::null_mut(),
    size: 0,
    align: 0,
};

/// One trace operation; returns 1 if it failed.
#[inline(always)]
pub fn step<C: Contender>(c: &mut C, op: &Op, slots: &mut [Slot]) -> u32 {
    let Some(s) = slots.get_mut(op.slot as usize) else {
        return 0;
    };
    let size = op.size as usize;
    // SAFETY: slots only hold blocks this contender returned, with their size and alignment.
    unsafe {
        match op.kind {
            MALLOC | CAPS => {
                let p = c.malloc(size);
                *s = Slot {
                    p,
                    size,
                    align: MALLOC_ALIGN,
                };
                p.is_null() as u32
            }
            ALIGNED => {
                let align = op.align as usize;
                let p = c.aligned(size, align);
                *s = Slot { p, size, align };
                p.is_null() as u32
            }
            FREE if !s.p.is_null() => {
                c.free(s.p, s.size, s.align);
                s.p = std::ptr::null_mut();
                0
            }
            REALLOC => {
                if s.p.is_null() {
                    return 1;
                }
                let q = c.realloc(s.p, s.size, s.align, size);
                if q.is_null() {
                    return 1;
                }
                s.p = q;
                s.size = size;
                0
            }
            _ => 0,
        }
    }
}

/// Replays a trace: the whole harness. Never inlined, so callgrind can collect exactly this
/// function (and what it calls) with `--toggle-collect='*replay*'`. Returns failed operations.
#[inline(never)]
pub fn replay<C: Contender>(c: &mut C, ops: &[Op], slots: &mut [Slot]) -> u32 {
    let mut fails = 0;
    for op in ops {
        fails += step(c, op, slots);
    }
    fails
}
