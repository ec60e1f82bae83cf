//! Heap poisoning (ESP-IDF's `CONFIG_HEAP_POISONING_*`): canaries around every allocation and,
//! in comprehensive mode, fill patterns in fresh and freed memory, plus the checks that read them.
//!
//! Selected by the cargo features `HEAP_POISONING_LIGHT` and `HEAP_POISONING_COMPREHENSIVE`
//! (comprehensive wins when both are set; neither means disabled). Everything here is plain code
//! behind `const` switches, so every mode is compiled and linted, and the disabled mode costs
//! nothing: the optimiser drops the dead branches.
//!
//! Layout of a poisoned allocation inside its TLSF payload (as ESP-IDF, see types.md §8):
//! `[head canary 0xABBA1234][alloc_size][user bytes][tail canary 0xBAAD5678 (maybe unaligned)][slack]`.
//! `alloc_size` is stored as 32 bits on every target, so the head is 8 bytes and every reported
//! size is the same on 64-bit hosts as on the 32-bit chips (ESP-IDF uses `size_t`, which only
//! differs on 64-bit hosts, where it has no poisoning).

use core::ptr;

use crate::text::Line;

/// Comprehensive poisoning: canaries plus fill patterns.
pub const COMPREHENSIVE: bool = cfg!(feature = "HEAP_POISONING_COMPREHENSIVE");
/// Any poisoning: canaries around every allocation.
pub const ENABLED: bool = COMPREHENSIVE || cfg!(feature = "HEAP_POISONING_LIGHT");

/// Bytes in front of the user data (`poison_head_t`), 0 when poisoning is off.
pub const HEAD: usize = if ENABLED { 8 } else { 0 };
/// Bytes after the user data (`poison_tail_t`), 0 when poisoning is off.
pub const TAIL: usize = if ENABLED { 4 } else { 0 };
/// What poisoning adds to every allocation (ESP-IDF's `POISON_OVERHEAD`, 12, when enabled).
pub const OVERHEAD: usize = HEAD + TAIL;

pub const HEAD_CANARY: u32 = 0xABBA_1234;
pub const TAIL_CANARY: u32 = 0xBAAD_5678;
/// Fill byte of fresh allocations (comprehensive).
pub const MALLOC_FILL: u8 = 0xce;
/// Fill byte of free memory (comprehensive).
pub const FREE_FILL: u8 = 0xfe;

/// What a canary check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Damage {
    /// The head canary at `at` holds `got`.
    Head { at: *const u8, got: u32 },
    /// The stored size at `at` is `got`, more than the block can hold (`max`).
    Size {
        at: *const u8,
        max: usize,
        got: usize,
    },
    /// The tail canary at `at` holds `got`.
    Tail { at: *const u8, got: u32 },
}

/// The chips' cores (Xtensa, RISC-V without misaligned access) have no unaligned 32-bit load or
/// store, so an unaligned access compiles to four byte accesses and the shifts that join them
/// (~10 instructions on rv32imc against 1): words known to be aligned are read as such, and
/// the tail canary, aligned whenever the request is a multiple of 4, takes the word access
/// then. x86 hosts access unaligned words at full speed and need no test.
const SLOW_UNALIGNED: bool = cfg!(target_os = "none");

/// The word at `p`, 4-aligned: a block's payload start (TLSF's granularity) or 4 bytes further.
#[inline(always)]
fn load32(p: *const u8) -> u32 {
    debug_assert!(p as usize % 4 == 0);
    // SAFETY: callers pass a 4-aligned address inside a block payload of the heap they hold
    // the lock of, with at least 4 bytes left.
    unsafe { ptr::read(p as *const u32) }
}

/// Stores `v` at the 4-aligned `p` (as `load32`).
#[inline(always)]
fn store32(p: *mut u8, v: u32) {
    debug_assert!(p as usize % 4 == 0);
    // SAFETY: as in `load32`.
    unsafe { ptr::write(p as *mut u32, v) }
}

/// The word at `p`, which may be unaligned (the tail canary).
#[inline(always)]
fn read32_any(p: *const u8) -> u32 {
    if SLOW_UNALIGNED && p as usize % 4 == 0 {
        // Volatile: a plain aligned load here is merged with the byte-wise one below into the
        // latter (the same address; the optimiser keeps the weaker alignment).
        // SAFETY: as in `load32`; `p` is 4-aligned.
        return unsafe { ptr::read_volatile(p as *const u32) };
    }
    // SAFETY: callers pass addresses inside a block payload of the heap they hold the lock of,
    // with at least 4 bytes left.
    unsafe { ptr::read_unaligned(p as *const u32) }
}

/// Stores `v` at `p`, which may be unaligned (as `read32_any`).
#[inline(always)]
fn write32_any(p: *mut u8, v: u32) {
    if SLOW_UNALIGNED && p as usize % 4 == 0 {
        // Volatile, as in `read32_any`.
        // SAFETY: as in `store32`; `p` is 4-aligned.
        return unsafe { ptr::write_volatile(p as *mut u32, v) };
    }
    // SAFETY: as in `read32_any`.
    unsafe { ptr::write_unaligned(p as *mut u32, v) }
}

/// Fills `len` bytes at `p` with `byte`.
#[inline(always)]
pub(crate) fn fill(p: *mut u8, byte: u8, len: usize) {
    // SAFETY: callers pass a range inside memory the heap owns and has locked.
    unsafe { ptr::write_bytes(p, byte, len) }
}

/// Writes head and tail around a request of `size` bytes whose block payload starts at `raw`
/// (4-aligned, as every TLSF payload), and returns the user pointer (`raw + HEAD`).
#[inline(always)]
pub(crate) fn wrap(raw: *mut u8, size: usize) -> *mut u8 {
    store32(raw, HEAD_CANARY);
    rewrap(raw, size)
}

/// `wrap` for a block that already begins with its head canary (a resized or moved one): writes
/// the request size and the tail canary after the request.
#[inline(always)]
pub(crate) fn rewrap(raw: *mut u8, size: usize) -> *mut u8 {
    debug_assert_eq!(load32(raw), HEAD_CANARY);
    // Sizes are below 4 GiB: TLSF offsets are 32-bit.
    store32(raw.wrapping_add(4), size as u32);
    let user = raw.wrapping_add(HEAD);
    write32_any(user.wrapping_add(size), TAIL_CANARY);
    user
}

/// Checks the canaries of the used block whose payload (`payload` bytes) starts at `raw`
/// (4-aligned).
/// Returns the stored request size. The stored size is bounded by the block before the tail is
/// read (ESP-IDF reads the tail first, which can fault when the size word is smashed).
///
/// `payload` must be the size of a block TLSF has checked (`Tlsf::validate`, `block_size` or
/// `check`). Poisoned allocations always have room for the head and the tail; TLSF's smallest
/// block (8 bytes, only ever corrupt here) fails the bound below.
#[cfg_attr(not(target_os = "none"), inline(always))]
pub(crate) fn verify(raw: *const u8, payload: usize) -> Result<usize, Damage> {
    let head = load32(raw);
    if head != HEAD_CANARY {
        return Err(Damage::Head { at: raw, got: head });
    }
    let size = load32(raw.wrapping_add(4)) as usize;
    // `size + OVERHEAD <= payload` in one compare. It cannot wrap on 64-bit hosts. On 32-bit
    // targets a size within 12 of 4 GiB wraps and passes, but its tail address then wraps too,
    // to at most 4 bytes before `raw` and below `raw + HEAD`: the block's header (below 2^30),
    // the head canary and the size word itself, no 4 bytes of which hold the tail canary, so
    // the tail check below reports it.
    if size.wrapping_add(OVERHEAD) > payload {
        return Err(Damage::Size {
            at: raw.wrapping_add(4),
            max: payload.saturating_sub(OVERHEAD),
            got: size,
        });
    }
    let tail = raw.wrapping_add(HEAD).wrapping_add(size);
    let got = read32_any(tail);
    if got != TAIL_CANARY {
        return Err(Damage::Tail { at: tail, got });
    }
    Ok(size)
}

/// Prints `d` in ESP-IDF's format.
#[cold]
pub(crate) fn report(d: Damage) {
    let mut l = Line::err();
    match d {
        Damage::Head { at, got } => {
            l.s("CORRUPT HEAP: Bad head at ").ptr(at);
            expected32(&mut l, HEAD_CANARY, got);
        }
        Damage::Tail { at, got } => {
            l.s("CORRUPT HEAP: Bad tail at ").ptr(at);
            expected32(&mut l, TAIL_CANARY, got);
        }
        Damage::Size { at, max, got } => {
            l.s("CORRUPT HEAP: Size at ")
                .ptr(at)
                .s(" expected <=0x")
                .hex(max, 8, false)
                .s(" got 0x")
                .hex(got, 8, false)
                .s("\n");
        }
    }
}

fn expected32(l: &mut Line, want: u32, got: u32) {
    l.s(". Expected 0x")
        .hex(want as usize, 8, false)
        .s(" got 0x")
        .hex(got as usize, 8, false)
        .s("\n");
}

/// Checks that `len` bytes at `p` all hold `expect`; with `print`, names every bad word (or, in
/// an unaligned remainder, every bad byte) as ESP-IDF does. With `replace`, rewrites the range to
/// `replace` when it was intact (a damaged range is left as found, for post-mortem reading).
pub(crate) fn check_fill(
    p: *mut u8,
    len: usize,
    expect: u8,
    print: bool,
    replace: Option<u8>,
) -> bool {
    let word = u32::from_ne_bytes([expect; 4]);
    let mut ok = true;
    let mut i = 0;
    if (p as usize) % 4 == 0 {
        while i + 4 <= len {
            let a = p.wrapping_add(i);
            let got = load32(a);
            if got != word {
                ok = false;
                if print {
                    let mut l = Line::err();
                    l.s("CORRUPT HEAP: Invalid data at ").ptr(a);
                    expected32(&mut l, word, got);
                }
            }
            i += 4;
        }
    }
    while i < len {
        let a = p.wrapping_add(i);
        // SAFETY: `a` lies inside the range the caller owns (see `fill`).
        let got = unsafe { ptr::read(a) };
        if got != expect {
            ok = false;
            if print {
                // ESP-IDF prints the range start and its first byte here; we name the bad byte.
                Line::err()
                    .s("CORRUPT HEAP: Invalid data at ")
                    .ptr(a)
                    .s(". Expected 0x")
                    .hex(expect as usize, 2, false)
                    .s(" got 0x")
                    .hex(got as usize, 2, false)
                    .s("\n");
            }
        }
        i += 1;
    }
    if ok {
        if let Some(r) = replace {
            fill(p, r, len);
        }
    }
    ok
}
