//! Two-level segregated-fit (TLSF) allocator over one contiguous region: O(1) malloc and free.
//!
//! This module knows nothing of capabilities, C or ESP-IDF. It manages raw bytes and reports
//! problems as [`Corruption`] values; the layers above decide how to report them.
//!
//! # Layout
//! The region starts with `OWNER_BYTES` left to the owner (but for the scratch word at `SCRATCH`,
//! see the free lists), then the control structure; blocks follow it. Every offset is counted from
//! the region start. Every block starts with one 32-bit word: its payload size (a multiple of 4,
//! below 1 GiB), two flags, `FREE` and `PREV_FREE`, and in a used block the mark `USED` in the top
//! bits. The payload follows the word, so the per-allocation overhead is 4 bytes at every size and
//! payloads are 4-byte aligned, as in ESP-IDF. A free block keeps two list links (u32 offsets from
//! the region start; `next`, then `prev`) at the start of its payload and, when it has room for a
//! third word, its own offset in its last word (a boundary tag), so the next block can find it when
//! they merge. A free block of the minimum payload (8 bytes) holds just the links, so the smallest
//! block takes 12 bytes (ESP-IDF: 16). The block after it finds it 12 bytes back: the word where a
//! tag would be is that block's `prev` link, which can never pass for a tag (see `free_prev`).
//! Links are offsets rather than pointers so that the layout, and every size the heap reports, is
//! identical on 32-bit chips and 64-bit hosts. The region ends with a zero-size sentinel header.
//!
//! # Classes
//! Sizes below `SMALL` (32) map to exact 4-byte classes on level 0; larger sizes map to a
//! power-of-two level split into `SL` (8) linear classes. The number of levels is chosen from the
//! region size. Classes are numbered consecutively across levels; one flat bitmap (seven words)
//! marks the non-empty ones. Because `SL` is fixed and the tables sit at fixed offsets, every
//! mapping and every list head is a constant-shift computation with no load of per-region
//! parameters, and eight classes per level keep the control structure no larger than ESP-IDF's
//! at any region size.
//! Block sizes are never rounded to a class: only the search key is.

use core::num::NonZeroU32;
use core::ptr;

/// log2 of the number of second-level classes per power of two.
pub const SL_LOG2: u32 = 3;
const SL: u32 = 1 << SL_LOG2;
const SMALL_LOG2: u32 = SL_LOG2 + 2;
/// Sizes below this map to exact 4-byte classes.
const SMALL: u32 = 1 << SMALL_LOG2;

/// Bytes of the size word in front of every payload.
pub const HDR: u32 = 4;
/// Smallest payload: the two free-list links of a free block (which then has no boundary tag).
pub const MIN_PAYLOAD: u32 = 8;
/// Smallest footprint of a block (header + payload).
pub const MIN_BLOCK: u32 = HDR + MIN_PAYLOAD;
/// Smallest surplus that malloc and realloc split off as a free block of its own; a smaller
/// one stays with the allocation. Minimum-size free blocks then come from freeing minimum-size
/// allocations (and alignment gaps): splitting off 12-byte remainders too measured 1-3 % more
/// instructions per operation on W-a..W-f (more list traffic) for W3 within 0.1 point.
const MIN_SPLIT: u32 = 16;
/// Offsets of a free block's list links from its header. In a minimum-size block the word in
/// front of the next block is the `prev` link (see `free_prev`).
const NEXT: u32 = HDR;
const PREV: u32 = HDR + 4;
/// Payload alignment and size granularity.
pub const ALIGN: u32 = 4;

const FREE: u32 = 1;
const PREV_FREE: u32 = 2;
const FLAGS: u32 = FREE | PREV_FREE;
/// Mark of a used block's header in the two bits above every size (sizes stay below 1 GiB):
/// bit 31 set, bit 30 clear. Free headers have both clear. A pointer handed back must find this
/// pattern in front of it, so a stale free-list link or a small number or a chip address
/// (0x3Fxxxxxx, 0x4xxxxxxx) in the word before an interior pointer is refused (see `validate`).
/// Hosts only: on the chips the masks it needs cost ~130 bytes of flash (RISC-V has no short
/// form of the 0x3FFFFFFC mask), which the whole API cannot spare under 8 KiB; there the header
/// is the size and flags alone, and `validate` checks everything else it checks on hosts.
const USED: u32 = if cfg!(target_os = "none") { 0 } else { 1 << 31 };
/// The size bits of a header.
const SIZE_MASK: u32 = if USED == 0 {
    !FLAGS
} else {
    !(FLAGS | USED | (1 << 30))
};

/// The chips' compact code paths (flash before speed). They keep every invariant the host paths
/// keep; a re-filed free block may sit at a different place in its list. Hosts can build them too (`RUSTFLAGS="--cfg heapcaps_compact"`) so that the tests run
/// over them; `scripts/test-all.sh` does.
const COMPACT: bool = cfg!(any(target_os = "none", heapcaps_compact));

/// Whether the size configuration's out-of-line `find_suitable` is built (see
/// `find_suitable_nz`); hosts running the compact paths take it too, so that the tests run it.
const SUITABLE_OUT_OF_LINE: bool = cfg!(any(
    heapcaps_flash_first,
    all(heapcaps_compact, not(target_os = "none"))
));

/// How many blocks of the request's own class a failed good-fit search may inspect. Bounded, so
/// malloc stays O(1); it lets a request use a block of its own class when no larger class has one.
const OWN_CLASS_SCAN: u32 = 16;

/// Number of the first class. Classes are numbered so that the mapping needs no offset (see
/// `class_and_shift`): level `L`'s classes are `FIRST_CLASS + 8 L ..= FIRST_CLASS + 8 L + 7`.
const FIRST_CLASS: u32 = SMALL_LOG2 << SL_LOG2;
/// Words of the class bitmap. Word `w` holds classes `32 w .. 32 w + 31`; word 0 would hold only
/// numbers below `FIRST_CLASS`, so it is not stored: 7 words cover classes 32..255, enough for
/// the 27 levels of the largest region (1 GiB).
const MAP_WORDS: usize = 7;
/// Largest region `create` accepts: every size then maps to a class below 256.
pub const MAX_REGION: u32 = 1 << 30;

/// Fixed part of the control structure; the list-head table (one word per class, `fl_count *
/// SL` of them) follows it, so a head's offset is a constant function of its class.
#[repr(C)]
struct Control {
    /// Offset of the first block (the head table ends there).
    first: u32,
    /// Offset of the sentinel header.
    end: u32,
    /// Largest payload a request may ask for (the first block's size).
    max_payload: u32,
    /// `first + HDR` (the lowest payload offset), `(valid_end - valid_lo) / 4` and
    /// `end - MIN_PAYLOAD` (the highest): the checks of a pointer handed back, precomputed.
    valid_lo: u32,
    valid_span: u32,
    valid_end: u32,
    /// Bit `c % 32` of word `c / 32 - 1` set: class `c`'s list is non-empty.
    map: [u32; MAP_WORDS],
}

/// Offset of the scratch word: where a list operation writes the `prev` link of "block 0" (no
/// block) instead of testing for it (see `insert_in`). It lies among the owner's bytes, which
/// must leave it alone and never read it.
pub const SCRATCH: u32 = PREV;
/// Bytes at the start of the region that an instance leaves to its owner (room for two u32
/// counters, the scratch word and a pointer). The control structure follows them, so that the
/// owner's fields and every block are addressed from one base: on register-starved 32-bit
/// hosts a second base pointer costs spills on every operation.
pub const OWNER_BYTES: u32 = SCRATCH + 4 + core::mem::size_of::<usize>() as u32;
/// Offset of the head table (the end of the control structure) from the region start.
const HEADS: u32 = OWNER_BYTES + core::mem::size_of::<Control>() as u32;
const _: () = assert!(HEADS < 4 * FIRST_CLASS);
/// Offset of the class bitmap from the region start.
const MAP_OFF: u32 = OWNER_BYTES + core::mem::offset_of!(Control, map) as u32;

/// What a consistency check found wrong, and where (offset from the control start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corruption {
    /// A block header holds a size that leaves the region or is not a multiple of 4.
    BadSize { at: u32 },
    /// A block's PREV_FREE flag disagrees with its neighbour.
    BadPrevFlag { at: u32 },
    /// Two free blocks are physically adjacent.
    AdjacentFree { at: u32 },
    /// A free block's boundary tag does not point back at it.
    BadTag { at: u32 },
    /// A free-list link points outside the region or at a block that is not free.
    BadLink { at: u32 },
    /// A free block sits in the wrong list, or a bitmap bit disagrees with its list.
    BadList { at: u32 },
    /// The block chain does not end at the sentinel.
    BadChain { at: u32 },
    /// The number of free blocks in the lists differs from the number in the chain.
    FreeCount { at: u32 },
}

/// Why a pointer handed back to the allocator is not a live block.
// On the chips a word, not a byte: `Result<u32, BadPointer>` is then two words at the same
// offsets in both variants, which their out-of-line `validate`, `free` and `free_block` return
// in two registers (with a byte the error sits at another offset than the value, and the
// result goes through memory: size configuration +72 B, ~9 instructions per operation). Hosts
// inline those, and there the byte measured better (i686 W-a 6 instructions per operation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(any(target_os = "none", heapcaps_compact), repr(u32))]
pub enum BadPointer {
    /// Not inside the block area of this region, or not 4-byte aligned.
    Outside,
    /// The block is already free (double free).
    NotAllocated,
    /// The header in front of it is not a valid block header (interior or foreign pointer,
    /// or a smashed header).
    BadHeader,
}

/// A block as the walker reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    /// Offset of the block header from the control start.
    pub offset: u32,
    /// Payload size in bytes.
    pub size: u32,
    /// Whether the block is allocated.
    pub used: bool,
}

/// Counters collected by one walk of the block chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub used_blocks: usize,
    pub free_blocks: usize,
    pub used_bytes: usize,
    pub free_bytes: usize,
    /// Largest request that malloc is guaranteed to satisfy right now.
    pub largest_fit: usize,
}

/// A TLSF instance: a view of a control structure that lives inside the managed region.
///
/// Invariant (established by [`Tlsf::create`] or [`Tlsf::from_raw`]): `ctl` is the start of a
/// region, 4-byte aligned, whose control structure (at `OWNER_BYTES`) is initialised, and the
/// caller of those constructors owns the whole region `[ctl, ctl + end + 4)` exclusively for as
/// long as any view of it is used.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Tlsf {
    ctl: *mut u8,
}

/// Parameters chosen for a region of `len` bytes (control included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub fl_count: u32,
    pub control_size: u32,
}

/// Position of the lowest set bit of `x` (not 0). Chips (no count-trailing-zeros instruction):
/// a lookup in `log2`'s table (`2 low - 1` is the bit smeared down, as the table wants it; a ctz
/// sequence of the compiler's took ~20 B at each use plus a 32-byte table of its own). Inlined
/// like `log2`, except in a project optimised for size (one copy, `lowest_bit_plus`).
#[inline(always)]
pub(crate) fn lowest_bit(x: u32) -> u32 {
    lowest_bit_plus(x, 0)
}

/// `base` plus the position of the lowest set bit of `x` (not 0): with the addition inside the
/// size configuration's one copy, TLSF's class search ends in a tail call to it and needs no
/// frame (+2 B, ~5 instructions per operation less on W-a than a call with an add after it).
#[cfg_attr(not(heapcaps_flash_first), inline(always))]
#[cfg_attr(heapcaps_flash_first, inline(never))]
pub(crate) fn lowest_bit_plus(x: u32, base: u32) -> u32 {
    if COMPACT {
        let low = x & x.wrapping_neg();
        return base + smeared_pos(low.wrapping_add(low).wrapping_sub(1));
    }
    base + x.trailing_zeros()
}

/// `k` for `x` = `2^(k+1) - 1` (a top bit `k` smeared down; 0 for 0), by `DEBRUIJN_POS`.
#[inline(always)]
const fn smeared_pos(x: u32) -> u32 {
    DEBRUIJN_POS[(x.wrapping_mul(DEBRUIJN) >> 27) as usize] as u32
}

/// A multiplier whose products with the 32 values `2^(k+1) - 1` (a top bit `k` smeared down)
/// differ in their top five bits (checked when the table below is built).
const DEBRUIJN: u32 = 0x07C4_ACDD;
/// Bit position `k` at index `((2^(k+1) - 1) * DEBRUIJN) >> 27`.
const DEBRUIJN_POS: [u8; 32] = {
    let mut t = [0u8; 32];
    let mut seen = 0u32;
    let mut k = 0;
    while k < 32 {
        let i = ((u32::MAX >> (31 - k)).wrapping_mul(DEBRUIJN) >> 27) as usize;
        assert!(
            seen & (1 << i) == 0,
            "DEBRUIJN maps two positions to one index"
        );
        seen |= 1 << i;
        t[i] = k as u8;
        k += 1;
    }
    t
};

// rv32imc has no count-leading-zeros instruction: each inlined copy is this ~60-byte sequence, so
// a chip project optimised for size keeps one copy (a call per class mapping; inlined, QEMU
// W-a multi_heap_* 216.6 -> 185.2 instructions per op with log2, lowest_bit and class_of,
// +314 B).
#[cfg_attr(not(heapcaps_flash_first), inline(always))]
#[cfg_attr(heapcaps_flash_first, inline(never))]
pub(crate) const fn log2(x: u32) -> u32 {
    if COMPACT {
        return smeared_log2(x);
    }
    // `| 1` tells the compiler x is non-zero, so no zero guard is emitted (same result for x > 0).
    31 - (x | 1).leading_zeros()
}

/// The chips' `log2`: smear the top bit down and look its position up by a de Bruijn-style
/// multiply: straight-line, no branches (a halving loop took five rounds of a shift and a
/// branch), and shorter than the compiler's count-leading-zeros expansion.
#[inline(always)]
const fn smeared_log2(x: u32) -> u32 {
    let mut x = x;
    x |= x >> 1;
    x |= x >> 2;
    x |= x >> 4;
    x |= x >> 8;
    x |= x >> 16;
    smeared_pos(x)
}

/// `log2` of a non-zero `x` for the hot class mapping. On x86 hosts one `bsr` instruction:
/// written as `31 - leading_zeros` the compiler keeps the leading-zero count and derives both the
/// class's level (`log2 * 8`) and its shift (`log2 - 3`) from it, with two `xor 31` and a
/// subtraction from a constant (i686: 11 instructions per class mapping instead of 7; the
/// mapping runs about twice per malloc/free pair). Elsewhere (and under Miri) `log2`.
#[inline(always)]
fn bsr(x: u32) -> u32 {
    #[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), not(miri)))]
    {
        let r: u32;
        // SAFETY: `bsr` only reads a register and writes one (and the flags); `x` is non-zero
        // at every caller, so the result is defined.
        unsafe {
            core::arch::asm!("bsr {0:e}, {1:e}", out(reg) r, in(reg) x,
                options(pure, nomem, nostack));
        }
        r
    }
    #[cfg(not(all(any(target_arch = "x86", target_arch = "x86_64"), not(miri))))]
    {
        log2(x)
    }
}

/// `bsr` as the tests see it (x > 0).
#[doc(hidden)]
pub fn bsr_for_tests(x: u32) -> u32 {
    bsr(x)
}

/// `lowest_bit` as the tests see it (x > 0).
#[doc(hidden)]
pub fn lowest_bit_for_tests(x: u32) -> u32 {
    lowest_bit(x)
}

/// `log2` as the tests see it (tests/core.rs checks the chips' multiply-and-table version
/// against the count-leading-zeros one).
#[doc(hidden)]
pub fn log2_for_tests(x: u32) -> u32 {
    log2(x)
}

/// The class table shape for a region of `len` bytes: as many levels as the largest block
/// (smaller than `len - HEADS`) needs.
pub const fn geometry(len: u32) -> Geometry {
    let blocks = len.saturating_sub(HEADS);
    let fl_count = if blocks < SMALL {
        1
    } else {
        log2(blocks) - SMALL_LOG2 + 2
    };
    let control_size = HEADS + 4 * fl_count * SL;
    Geometry {
        fl_count,
        control_size,
    }
}

/// Payload size for a request of at most `MAX_REGION` bytes: at least the minimum, rounded up
/// to 4 (no overflow under that bound).
#[inline(always)]
fn payload_for(req: u32) -> u32 {
    let r = (req + ALIGN - 1) & !(ALIGN - 1);
    if r < MIN_PAYLOAD {
        MIN_PAYLOAD
    } else {
        r
    }
}

/// Payload size for a request: at least the minimum, rounded up to 4. `None` past `MAX_REGION`
/// (no block can be that large; the caller fails the request).
#[inline(always)]
pub fn adjust_size(req: usize) -> Option<u32> {
    (req <= MAX_REGION as usize).then(|| payload_for(req as u32))
}

impl Tlsf {
    /// Builds a TLSF instance over `[mem, mem + len)` and returns it, or `None` when the memory
    /// is not 4-byte aligned or too small for the control structure plus one minimum block.
    /// The first `OWNER_BYTES` bytes are left untouched for the caller.
    ///
    /// # Safety
    /// `mem` must be valid for reads and writes of `len` bytes, and the memory must not be used
    /// by anything else while the returned instance (or a copy of it) is in use.
    pub unsafe fn create(mem: *mut u8, len: usize) -> Option<Tlsf> {
        if mem.is_null() || (mem as usize) % ALIGN as usize != 0 {
            return None;
        }
        // Offsets are u32; keep clear of the top so size arithmetic cannot overflow.
        let len = u32::try_from(len).ok().filter(|l| *l <= MAX_REGION)? & !(ALIGN - 1);
        let g = geometry(len);
        let first = g.control_size;
        let end = len.checked_sub(HDR)?;
        if end < first || end - first < MIN_BLOCK {
            return None;
        }
        let payload = end - first - HDR;
        let t = Tlsf { ctl: mem };
        // SAFETY: the control structure and the head table lie inside `[mem, mem + first)`,
        // which the caller gave us; `mem` is 4-byte aligned.
        unsafe {
            ptr::write(
                mem.add(OWNER_BYTES as usize) as *mut Control,
                Control {
                    first,
                    end,
                    max_payload: payload,
                    valid_lo: first + HDR,
                    valid_span: (end - MIN_PAYLOAD - first - HDR) / 4,
                    valid_end: end - MIN_PAYLOAD,
                    map: [0; MAP_WORDS],
                },
            );
            ptr::write_bytes(mem.add(HEADS as usize), 0, (first - HEADS) as usize);
        }
        // The sentinel: a used block of size 0.
        t.set_word(end, USED);
        t.set_word(first, payload);
        t.make_free(first, payload);
        Some(t)
    }

    /// Re-opens an instance created earlier by [`Tlsf::create`] at `ctl`.
    ///
    /// # Safety
    /// `ctl` must be the address `create` was given, and the same exclusivity rules apply.
    pub const unsafe fn from_raw(ctl: *mut u8) -> Tlsf {
        Tlsf { ctl }
    }

    /// Address of the region (what `create` was given).
    pub fn as_ptr(self) -> *mut u8 {
        self.ctl
    }

    // ----- raw access --------------------------------------------------------------------

    #[inline(always)]
    fn control(self) -> *mut Control {
        self.ctl.wrapping_add(OWNER_BYTES as usize) as *mut Control
    }

    #[inline(always)]
    fn word(self, off: u32) -> u32 {
        debug_assert!(off % 4 == 0);
        // SAFETY: every offset used by this module is 4-aligned and lies inside the region
        // (type invariant); offsets read from memory are range-checked before they are followed.
        unsafe { ptr::read(self.ctl.add(off as usize) as *const u32) }
    }

    #[inline(always)]
    fn set_word(self, off: u32, v: u32) {
        debug_assert!(off % 4 == 0);
        // SAFETY: as in `word`.
        unsafe { ptr::write(self.ctl.add(off as usize) as *mut u32, v) }
    }

    /// The word `d` bytes from offset `off` (`off + d` lies in the region; `off` alone may not,
    /// as in `validate`'s `p + (USED | size) - USED`). On 64-bit hosts the displacement is added
    /// to the address, not to the u32 offset, so that it folds into the access (a u32 sum must be
    /// zero-extended first: x86_64 W-a..W-f 3-5 % fewer instructions). 32-bit targets (chips
    /// included) add in u32 as before: their address arithmetic wraps alike, and the i686 code
    /// measured no better the other way.
    #[inline(always)]
    fn word_d(self, off: u32, d: isize) -> u32 {
        if usize::BITS == 32 {
            return self.word(off.wrapping_add(d as u32));
        }
        let a = self.ctl.wrapping_add(off as usize).wrapping_offset(d);
        // SAFETY: `a` is the region start plus `off + d`, an offset `word` could read.
        unsafe { ptr::read(a as *const u32) }
    }

    /// `set_word` of the word `d` bytes from offset `off` (see `word_d`).
    #[inline(always)]
    fn set_word_d(self, off: u32, d: isize, v: u32) {
        if usize::BITS == 32 {
            return self.set_word(off.wrapping_add(d as u32), v);
        }
        let a = self.ctl.wrapping_add(off as usize).wrapping_offset(d);
        // SAFETY: as in `word_d`.
        unsafe { ptr::write(a as *mut u32, v) }
    }

    /// One past the last class this region has (the head table holds one word per class).
    fn class_end(self) -> u32 {
        FIRST_CLASS + (self.first() - HEADS) / 4
    }

    /// Offset of the first block.
    #[inline(always)]
    pub fn first(self) -> u32 {
        // SAFETY: `control()` points at the initialised control structure (type invariant).
        unsafe { (*self.control()).first }
    }

    /// Offset of the sentinel header.
    #[inline(always)]
    pub fn end(self) -> u32 {
        // SAFETY: as in `first`.
        unsafe { (*self.control()).end }
    }

    /// Largest payload any single block can have.
    #[inline(always)]
    pub fn max_payload(self) -> u32 {
        // SAFETY: as in `first`.
        unsafe { (*self.control()).max_payload }
    }

    /// Size of the control structure (bytes before the first block).
    pub fn control_size(self) -> u32 {
        self.first()
    }

    /// Offset of the class-bitmap word holding class `c`'s bit.
    #[inline(always)]
    fn map_off(c: u32) -> u32 {
        // c >= 32 for every class (word 0 is not stored).
        MAP_OFF - 4 + 4 * (c >> 5)
    }

    /// Offset of class `c`'s list head.
    #[inline(always)]
    fn head_off(c: u32) -> u32 {
        HEADS + 4 * (c - FIRST_CLASS)
    }

    // ----- block fields --------------------------------------------------------------------

    /// Whether header `w` carries the high bits its kind must: `USED` for a used block, none
    /// for a free one.
    #[inline(always)]
    fn marked(w: u32) -> bool {
        w & !(SIZE_MASK | FLAGS) == if w & FREE != 0 { 0 } else { USED }
    }

    #[inline(always)]
    fn size_of(self, b: u32) -> u32 {
        self.word(b) & SIZE_MASK
    }

    #[inline(always)]
    fn link_next(self, b: u32) -> u32 {
        self.word_d(b, NEXT as isize)
    }

    #[inline(always)]
    fn link_prev(self, b: u32) -> u32 {
        self.word_d(b, PREV as isize)
    }

    #[inline(always)]
    fn set_links(self, b: u32, next: u32, prev: u32) {
        self.set_word_d(b, NEXT as isize, next);
        self.set_word_d(b, PREV as isize, prev);
    }

    /// Writes the boundary tag of a free block of payload `size` at `b`. Callers write the links
    /// after the tag: in a block of the minimum payload the tag's word is the `prev` link.
    #[inline(always)]
    fn set_tag(self, b: u32, size: u32) {
        self.set_word(b + size, b);
    }

    // ----- classes -------------------------------------------------------------------------

    /// The class a block of payload `size` lives in.
    // Out of line on chips optimised for size (flash), like `log2`.
    // For 2^t <= size < 2^(t+1), t >= 5: the level's eight classes are 2^(t-3) bytes wide and
    // `size >> (t - 3)` is 8..15, so `8 t + (size >> (t - 3))` numbers the classes consecutively
    // across levels. Below 64 bytes the same formula with t = 5 gives exact 4-byte classes
    // (40 + size / 4 - 8 for size < 32): no branch, no offset.
    #[cfg_attr(not(heapcaps_flash_first), inline(always))]
    #[cfg_attr(heapcaps_flash_first, inline(never))]
    fn class_of(size: u32) -> u32 {
        Self::class_of_inline(size)
    }

    /// `class_of`, inlined also in the size configuration: there `insert`'s own copy, a leaf
    /// then, where the call took a frame (+58 B, ~11 instructions less per operation).
    #[inline(always)]
    fn class_of_inline(size: u32) -> u32 {
        if COMPACT && size < 2 * SMALL {
            // Chips: the 4-byte classes of small sizes without the call of `log2` (t = 5).
            return (SMALL_LOG2 << SL_LOG2) + (size >> (SMALL_LOG2 - SL_LOG2));
        }
        // (On the chips `size` is at least 2 * SMALL here: no floor needed.) The size
        // configuration's one copy of the mapping has its own `log2` inside: a leaf then,
        // without the frame that the call needs (+26 B, ~9 instructions less per operation).
        let t = if cfg!(heapcaps_flash_first) {
            smeared_log2(size)
        } else {
            bsr(if COMPACT { size } else { size | SMALL })
        };
        (t << SL_LOG2) + (size >> (t - SL_LOG2))
    }

    /// The first non-empty class at or above `c`.
    #[inline(always)]
    fn find_suitable(self, c: u32) -> Option<u32> {
        if SUITABLE_OUT_OF_LINE {
            return self.find_suitable_nz(c).map(NonZeroU32::get);
        }
        self.find_suitable_in(c)
    }

    /// `find_suitable` as its out-of-line copy in the chips' size configuration returns it: a
    /// class number is never 0, so `None` is 0 and the answer travels in one register (an
    /// `Option<u32>` takes two, and each caller a compare with 1). Where it is inlined the
    /// conversion would cost a test.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn find_suitable_nz(self, c: u32) -> Option<NonZeroU32> {
        self.find_suitable_in(c).and_then(NonZeroU32::new)
    }

    #[inline(always)]
    fn find_suitable_in(self, c: u32) -> Option<u32> {
        // Callers pass the own class of a request of at most 1 GiB (at most 248) or the class
        // above it (249), inside the map. Classes past `class_end()` have no bit set, so they
        // are never returned.
        debug_assert!((FIRST_CLASS..=249).contains(&c));
        let mut w = c >> 5;
        let mut m = self.word(Self::map_off(c)) & (!0u32 << (c & 31));
        // The following words in order: at most 6 more, so the search stays O(1). (A summary
        // word would save this short scan but cost a read-modify-write whenever a list becomes
        // empty or non-empty, which is far more frequent.)
        while m == 0 {
            w += 1;
            if w > MAP_WORDS as u32 {
                return None;
            }
            m = self.word(Self::map_off(w << 5));
        }
        Some(lowest_bit_plus(m, w << 5))
    }

    // ----- free lists ----------------------------------------------------------------------

    // The first block of a list has as `prev` the pseudo-block whose `next` link is the list's
    // head slot (`head slot - NEXT`), so unlinking any block is the same two stores and needs no
    // class mapping. Pseudo-blocks lie inside the control structure, below `first`.
    // The last block of a list has `next` 0, and "block 0"'s `prev` link is the scratch word
    // (`SCRATCH`): setting the successor's `prev` needs no test of whether there is one. Whether
    // a list is (or becomes) empty depends on the data and mispredicts often: on W2-64 the
    // tests did on ~44 % of the calls (cachegrind's branch model), ~9 500 of the ~22 000
    // mispredictions heapcaps added to the harness's over 20 177 operations.

    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn insert(self, b: u32, size: u32) {
        self.insert_in(b, Self::class_of_inline(size))
    }

    /// Files the free block `b` at the head of class `c`'s list.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn insert_in(self, b: u32, c: u32) {
        let h = Self::head_off(c);
        let head = self.word(h);
        self.set_links(b, head, h - NEXT);
        if COMPACT {
            // Chips: the branch (in-order cores, short pipelines; fewer instructions).
            if head != 0 {
                self.set_word_d(head, PREV as isize, b);
            } else {
                self.set_bit(c);
            }
        } else {
            // An empty list (`head` 0): the scratch word.
            self.set_word_d(head, PREV as isize, b);
            // The bit may be set already; setting it again costs less than a test that
            // mispredicts.
            self.set_bit(c);
        }
        self.set_word(h, b);
    }

    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn set_bit(self, c: u32) {
        let mo = Self::map_off(c);
        self.set_word(mo, self.word(mo) | 1 << (c & 31));
    }

    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn clear_bit(self, c: u32) {
        let mo = Self::map_off(c);
        self.set_word(mo, self.word(mo) & !(1 << (c & 31)));
    }

    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn remove(self, b: u32) {
        self.remove_in::<true>(b)
    }

    /// `remove` with the branches on whether there is a successor and whether the list is
    /// emptied (fewer instructions; for the realloc paths, see `remove_in`).
    #[inline(always)]
    fn remove_branchy(self, b: u32) {
        if COMPACT {
            // Chips: the one out-of-line copy (flash).
            return self.remove(b);
        }
        self.remove_in::<false>(b)
    }

    /// `remove`; `BRANCHLESS` (hosts only): no branch on the list's state.
    #[inline(always)]
    fn remove_in<const BRANCHLESS: bool>(self, b: u32) {
        let next = self.link_next(b);
        let prev = self.link_prev(b);
        self.set_word_d(prev, NEXT as isize, next);
        if COMPACT || !BRANCHLESS {
            // Chips: the branches, as in `insert_in`.
            if next != 0 {
                self.set_word_d(next, PREV as isize, prev);
            } else if prev < self.first() {
                // `b` was the only block of its list: `prev` is the head slot's pseudo-block.
                // (slot - HEADS) / 4 + FIRST_CLASS, as one add and one shift (4 * FIRST_CLASS >
                // HEADS).
                self.clear_bit((prev + NEXT + 4 * FIRST_CLASS - HEADS) / 4);
            }
            return;
        }
        // No successor (`next` 0): the scratch word.
        self.set_word_d(next, PREV as isize, prev);
        // `prev` below `first` is the head slot's pseudo-block: then `b` was the only block of
        // its list if it has no successor, and `c` is that list's class, (slot - HEADS) / 4 +
        // FIRST_CLASS. The bit is cleared without a branch on it (it mispredicted on ~48 % of
        // the calls on W1); when the list is not emptied `c` is meaningless: the mask is 0, and
        // the word index is masked to 0..7, so the word read and rewritten unchanged is one of
        // the bitmap's seven or the control word in front of them.
        let c = prev.wrapping_add(NEXT + 4 * FIRST_CLASS - HEADS) / 4;
        let emptied = (next == 0) & (prev < self.first());
        let mo = MAP_OFF - 4 + 4 * ((c >> 5) & 7);
        debug_assert!(!emptied || mo == Self::map_off(c));
        self.set_word(mo, self.word(mo) & !((emptied as u32) << (c & 31)));
    }

    /// Marks `b` (payload `size`, previous block in use) free and files it in its list.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn make_free(self, b: u32, size: u32) {
        self.set_word(b, size | FREE);
        self.set_tag(b, size);
        let n = b + size;
        self.set_word_d(n, HDR as isize, self.word_d(n, HDR as isize) | PREV_FREE);
        self.insert(b, size);
    }

    // ----- allocation ----------------------------------------------------------------------

    /// Finds and unlinks a free block with payload of at least `size` bytes.
    #[inline(always)]
    fn take_block(self, size: u32) -> Option<u32> {
        if COMPACT {
            return self.take_block_nz(size).map(NonZeroU32::get);
        }
        self.take_block_in(size)
    }

    /// `take_block` as the chips' one copy returns it (a block offset is never 0: one register,
    /// see `find_suitable_nz`).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn take_block_nz(self, size: u32) -> Option<NonZeroU32> {
        self.take_block_in(size).and_then(NonZeroU32::new)
    }

    #[inline(always)]
    fn take_block_in(self, size: u32) -> Option<u32> {
        let Some((c, b)) = self.find_block(size) else {
            return self.take_from_own_class(size);
        };
        self.unlink_head(Self::head_off(c), c, self.link_next(b));
        Some(b)
    }

    /// The class `c` and its head block `b` that a request of `size` bytes takes: the head of
    /// the request's own class when it is large enough (the closest fit visible in O(1); it
    /// keeps larger blocks for larger requests), else the head of the first non-empty class
    /// above, whose every block fits. `None` when neither exists; the caller then looks
    /// further down the own class's list (cold).
    #[inline(always)]
    fn find_block(self, size: u32) -> Option<(u32, u32)> {
        let own = Self::class_of(size);
        let c = self.find_suitable(own)?;
        let b = self.word(Self::head_off(c));
        // Only a block of the own class can be smaller than the request. (A listed block's
        // header is its size plus FREE, `size` a multiple of 4: no mask needed.)
        if self.word(b) >= size {
            return Some((c, b));
        }
        let c = self.find_suitable(own + 1)?;
        Some((c, self.word(Self::head_off(c))))
    }

    /// Unlinks the head block of class `c` (head slot `h`), whose successor is `next`.
    #[inline(always)]
    fn unlink_head(self, h: u32, c: u32, next: u32) {
        self.set_word(h, next);
        if COMPACT {
            // Chips: the branch, as in `insert_in`.
            if next != 0 {
                self.set_word_d(next, PREV as isize, h - NEXT);
            } else {
                self.clear_bit(c);
            }
            return;
        }
        // No successor (`next` 0): the scratch word.
        self.set_word_d(next, PREV as isize, h - NEXT);
        // Clear the bit exactly when the list is now empty, without a branch on it (it was set:
        // the list held `b`).
        let mo = Self::map_off(c);
        self.set_word(mo, self.word(mo) ^ (((next == 0) as u32) << (c & 31)));
    }

    /// Slow path of `take_block`: look at a few blocks of the request's own class.
    #[cold]
    fn take_from_own_class(self, size: u32) -> Option<u32> {
        let c = Self::class_of(size);
        if c >= self.class_end() {
            return None;
        }
        let mut b = self.word(Self::head_off(c));
        let mut n = 0;
        while b != 0 && n < OWN_CLASS_SCAN {
            let s = self.size_of(b);
            if s >= size {
                self.remove(b);
                return Some(b);
            }
            b = self.link_next(b);
            n += 1;
        }
        None
    }

    /// Turns the unlinked free block `b` into a used block of payload `size`, giving any usable
    /// surplus back as a new free block.
    // One copy only on chips optimised for size: inlined, ~3 instructions less per allocation
    // on RISC-V for 64 B.
    #[cfg_attr(not(heapcaps_flash_first), inline(always))]
    #[cfg_attr(heapcaps_flash_first, inline(never))]
    fn use_block(self, b: u32, size: u32) {
        let w = self.word(b);
        let bs = w & SIZE_MASK;
        if bs - size >= MIN_SPLIT {
            let (r, rs) = self.split(b, size, bs, w & PREV_FREE);
            self.insert(r, rs);
        } else {
            self.use_whole(b, bs, w & PREV_FREE);
        }
    }

    /// Makes the free block `b` (payload `bs`, its PREV_FREE flag `keep`) a used block of
    /// payload `size` and the surplus (at least `MIN_SPLIT`) a free block, returned as (offset,
    /// payload) with header and tag written but not filed in a list. `b`'s links are untouched.
    #[inline(always)]
    fn split(self, b: u32, size: u32, bs: u32, keep: u32) -> (u32, u32) {
        self.set_word(b, size | keep | USED);
        let r = b + HDR + size;
        // The block after `b` already has PREV_FREE set: `b` was free.
        let rs = bs - size - HDR;
        self.set_word(r, rs | FREE);
        self.set_tag(r, rs);
        (r, rs)
    }

    /// Makes the free block `b` (payload `bs`, its PREV_FREE flag `keep`) a used block whole.
    #[inline(always)]
    fn use_whole(self, b: u32, bs: u32, keep: u32) {
        self.set_word(b, bs | keep | USED);
        let n = b + HDR + bs;
        self.set_word(n, self.word(n) & !PREV_FREE);
    }

    /// Allocates `req` bytes; returns the payload offset. (Out of line: the hot path inlines
    /// `malloc_sized` into the heap layer; this copy serves the tests.)
    #[cfg_attr(not(target_os = "none"), inline(never))]
    pub fn malloc(self, req: usize) -> Option<u32> {
        self.malloc_sized(req).map(|(p, _)| p)
    }

    /// Allocates `req` bytes; returns the payload offset and the block's payload size. `None`
    /// for 0 bytes or when no block fits.
    // Forced inlining saves a call layer per operation on hosts; chips keep one copy (flash).
    #[inline(always)]
    pub fn malloc_sized(self, req: usize) -> Option<(u32, u32)> {
        if COMPACT {
            return self.malloc_sized_nz(req).map(|(p, s)| (p.get(), s));
        }
        self.malloc_sized_in::<true>(req)
    }

    /// `malloc_sized` as the size configuration's one copy returns it: a payload offset is never
    /// 0, so the answer fits the two return registers of a 32-bit ABI (an `Option<(u32, u32)>`
    /// goes through memory there). The chips' default configuration inlines it into its two
    /// callers (+40 B, ~8.5 instructions per operation less).
    #[cfg_attr(not(heapcaps_flash_first), inline(always))]
    #[cfg_attr(heapcaps_flash_first, inline(never))]
    fn malloc_sized_nz(self, req: usize) -> Option<(NonZeroU32, u32)> {
        let (p, s) = self.malloc_sized_in::<true>(req)?;
        Some((NonZeroU32::new(p)?, s))
    }

    /// `malloc_sized` without its cold fallback (a look into the request's own class): `None`
    /// may then be wrong, and the caller must ask `malloc_sized` again. For a caller whose hot
    /// path must make no call (the heap layer's C entry point on hosts; see there).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    pub fn malloc_sized_fast(self, req: usize) -> Option<(u32, u32)> {
        self.malloc_sized_in::<false>(req)
    }

    #[inline(always)]
    fn malloc_sized_in<const OWN_CLASS: bool>(self, req: usize) -> Option<(u32, u32)> {
        // 0 gets no block (as ESP-IDF's malloc(0)); and a constant upper bound (no load): past
        // it no block can be that large anyway, and under it the rounding cannot overflow and
        // every class number stays inside the bitmap. A request above max_payload finds no
        // block below (each one found is compared with the request or lies in a class above
        // the request's). One compare for both bounds.
        if req.wrapping_sub(1) >= MAX_REGION as usize {
            return None;
        }
        let size = payload_for(req as u32);
        if COMPACT {
            // Chips: the compact path (flash); it picks the same block as the path below.
            let b = self.take_block(size)?;
            self.use_block(b, size);
            return Some((b + HDR, self.size_of(b)));
        }
        let Some((c, b)) = self.find_block(size) else {
            return if OWN_CLASS {
                self.malloc_from_own_class(size)
            } else {
                None
            };
        };
        // Take the head block `b` of class `c`. It is free, so its PREV_FREE flag is clear.
        let h = Self::head_off(c);
        let bs = self.word(b) & !FLAGS;
        let next = self.link_next(b);
        if bs - size < MIN_SPLIT {
            self.unlink_head(h, c, next);
            self.use_whole(b, bs, 0);
            return Some((b + HDR, bs));
        }
        let (r, rs) = self.split(b, size, bs, 0);
        let rc = Self::class_of(rs);
        if rc == c {
            // Same class (common when carving from a large block): the surplus `r` takes `b`'s
            // place at the head of the list, and no bitmap changes.
            self.set_links(r, next, h - NEXT);
            self.set_word_d(next, PREV as isize, r);
            self.set_word(h, r);
        } else {
            self.unlink_head(h, c, next);
            self.insert_in(r, rc);
        }
        Some((b + HDR, size))
    }

    /// Slow path of `malloc_sized`: no class above the request's own has a block, and the own
    /// class's head is too small.
    #[cold]
    fn malloc_from_own_class(self, size: u32) -> Option<(u32, u32)> {
        let b = self.take_from_own_class(size)?;
        self.use_block(b, size);
        Some((b + HDR, self.size_of(b)))
    }

    /// Allocates `req` bytes such that `address(payload) + offset` is a multiple of `align`
    /// (a power of two). `offset` is rounded up to 4, as payloads are 4-byte aligned.
    /// Returns the payload offset and the block's payload size.
    pub fn malloc_aligned(self, req: usize, align: usize, offset: usize) -> Option<(u32, u32)> {
        if align == 0 || !align.is_power_of_two() {
            return None;
        }
        if align <= ALIGN as usize {
            return self.malloc_sized(req);
        }
        let size = adjust_size(req)?;
        let align = u32::try_from(align).ok()?;
        let offset = u32::try_from(offset).ok()?.checked_add(3)? & !3;
        // Worst case the payload moves by `align + MIN_BLOCK - ALIGN` to reach an aligned spot
        // with room for a free block in front of it: a misalignment leaves a gap of
        // `ALIGN..=align - ALIGN`, and one below MIN_BLOCK grows by `align` (see
        // `split_for_alignment`).
        let search = size.checked_add(align)?.checked_add(MIN_BLOCK - ALIGN)?;
        if COMPACT {
            // Chips (flash): only the search with slack, as ESP-IDF's TLSF does. Past
            // MAX_REGION no block is that large (and class numbers would leave the bitmap).
            if search > MAX_REGION {
                return None;
            }
            let b = self.take_block(search)?;
            let b = self.split_for_alignment(b, align, offset);
            self.use_block(b, size);
            return Some((b + HDR, self.size_of(b)));
        }
        if search > self.max_payload() {
            // A request bigger than any block can still fit exactly when the block happens to
            // be aligned; try that before giving up.
            return self.malloc_aligned_exact(size, align, offset);
        }
        if let Some((c, b)) = self.find_block(search) {
            return Some(self.carve_aligned(c, b, size, align, offset));
        }
        let Some(b) = self.take_from_own_class(search) else {
            return self.malloc_aligned_exact(size, align, offset);
        };
        let b = self.split_for_alignment(b, align, offset);
        self.use_block(b, size);
        Some((b + HDR, self.size_of(b)))
    }

    /// Hosts' aligned allocation from the free head block `b` of class `c` (payload at least
    /// `size + align + MIN_BLOCK - ALIGN`): the allocation takes the highest aligned spot at
    /// the block's end and `b` stays free in front of it, shrunk. When `b` stays in its class
    /// (a large block, the common case) that costs no list or bitmap change at all, where
    /// taking the low end costs an unlink plus the gap's and the surplus's filing. Behind the
    /// allocation remains less than `align`: kept by the allocation below `MIN_SPLIT`, else a
    /// free block of its own. Returns the payload offset and the payload size.
    #[inline(always)]
    fn carve_aligned(self, c: u32, b: u32, size: u32, align: u32, offset: u32) -> (u32, u32) {
        let bs = self.size_of(b);
        let e = b + HDR + bs;
        let top = e - size;
        let addr = (self.ctl as usize).wrapping_add((top + offset) as usize);
        let p = top - (addr & (align as usize - 1)) as u32;
        // p >= top - (align - ALIGN) >= b + 2 * HDR + MIN_PAYLOAD by the search slack, so the
        // front keeps at least a minimum-size free block.
        let fs = p - b - 2 * HDR;
        debug_assert!(fs >= MIN_PAYLOAD);
        let fc = Self::class_of(fs);
        // In its class `b` keeps its list place (links untouched; a block of `c` holds more
        // than the minimum payload, so the tag does not land on a link); else it moves lists.
        if fc != c {
            self.unlink_head(Self::head_off(c), c, self.link_next(b));
        }
        self.set_word(b, fs | FREE);
        self.set_tag(b, fs);
        if fc != c {
            self.insert_in(b, fc);
        }
        // The allocation is the block from `p - HDR` to `e`, behind a free block; the block at
        // `e` has PREV_FREE set (`b` was free), which `split` leaves and `use_whole` clears.
        let (nb, us) = (p - HDR, e - p);
        if us - size >= MIN_SPLIT {
            let (r, rs) = self.split(nb, size, us, PREV_FREE);
            self.insert(r, rs);
            (p, size)
        } else {
            self.use_whole(nb, us, PREV_FREE);
            (p, us)
        }
    }

    /// Moves the start of the unlinked free block `b` forward until its payload is aligned,
    /// returning the leading gap to the free lists. Returns the new (still unlinked) block.
    fn split_for_alignment(self, b: u32, align: u32, offset: u32) -> u32 {
        let addr = (self.ctl as usize).wrapping_add((b + HDR + offset) as usize);
        let mis = (addr & (align as usize - 1)) as u32;
        let mut gap = if mis == 0 { 0 } else { align - mis };
        while gap != 0 && gap < MIN_BLOCK {
            gap += align;
        }
        if gap == 0 {
            return b;
        }
        let bs = self.size_of(b);
        // The gap becomes a free block of its own; its previous block is in use (b was free).
        let gs = gap - HDR;
        let nb = b + gap;
        self.set_word(nb, (bs - gap) | PREV_FREE);
        self.set_word(b, gs | FREE);
        self.set_tag(b, gs);
        self.insert(b, gs);
        nb
    }

    /// Aligned allocation without slack: only blocks whose payload is already aligned qualify.
    /// Scans the top list a bounded number of times, so it stays O(1).
    #[cold]
    fn malloc_aligned_exact(self, size: u32, align: u32, offset: u32) -> Option<(u32, u32)> {
        let c = Self::class_of(size);
        if c >= self.class_end() {
            return None;
        }
        let mut cls = self.find_suitable(c);
        let mut n = 0;
        while let Some(c) = cls {
            let mut b = self.word(Self::head_off(c));
            while b != 0 && n < OWN_CLASS_SCAN {
                let bs = self.size_of(b);
                let addr = (self.ctl as usize).wrapping_add((b + HDR + offset) as usize);
                if bs >= size && addr & (align as usize - 1) == 0 {
                    self.remove(b);
                    self.use_block(b, size);
                    return Some((b + HDR, self.size_of(b)));
                }
                b = self.link_next(b);
                n += 1;
            }
            if n >= OWN_CLASS_SCAN {
                return None;
            }
            // Next non-empty class above `c` (at most `classes()`, whose bit is always clear).
            cls = self.find_suitable(c + 1);
        }
        None
    }

    /// Checks that `p` (a payload offset) is a live allocated block of this instance.
    // Forced inlining saves a call layer per operation on hosts; chips keep one copy (flash).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    pub fn validate(self, p: u32) -> Result<u32, BadPointer> {
        self.validate_sized(p).map(|(b, _)| b)
    }

    /// `validate`, also giving the block's payload size (from the header word it checked, so
    /// callers that need both load and mask it once). Chips use it only inside `validate`'s
    /// one copy (flash).
    #[inline(always)]
    pub fn validate_sized(self, p: u32) -> Result<(u32, u32), BadPointer> {
        // SAFETY: `control()` points at the initialised control structure (type invariant).
        let (lo, span, hi) = unsafe {
            let c = &*self.control();
            (c.valid_lo, c.valid_span, c.valid_end)
        };
        // `p` in [lo, end - MIN_PAYLOAD] (room for a used block) and 4-aligned, in one compare:
        // rotating the distance moves misaligned low bits to the top, beyond every in-range
        // value (end < 2^30). The region holds at least one block, so the bound does not wrap.
        if p.wrapping_sub(lo).rotate_right(2) > span {
            return Err(self.diagnose(p));
        }
        let w = self.word_d(p, -(HDR as isize));
        // The USED mark, FREE clear and MIN_PAYLOAD <= size <= end - p, in one compare: with
        // FREE set the value is odd and the rotation puts that bit on top; without the mark, or
        // with bit 30 set, or with a size below the minimum, the difference is 2^29 or more
        // after the rotation, beyond every in-range value (end < 2^30).
        // (p <= hi = end - MIN_PAYLOAD after the range check.)
        let s = w & !PREV_FREE;
        if s.wrapping_sub(USED + MIN_PAYLOAD).rotate_right(1) > (hi - p) >> 1 {
            return Err(self.diagnose(p));
        }
        // The next header (at p + size) must agree that this block is in use. (`s` is the
        // size plus USED here, and p + s stays below 2^32.)
        if self.word_d(p + s, (USED as isize).wrapping_neg()) & PREV_FREE != 0 {
            return Err(BadPointer::BadHeader);
        }
        // `s` is the size plus USED (FREE and bit 30 are clear, checked above).
        Ok((p - HDR, s ^ USED))
    }

    /// Why `validate` refused `p` (the slow, precise version of its combined checks).
    #[cold]
    #[inline(never)]
    fn diagnose(self, p: u32) -> BadPointer {
        if p % ALIGN != 0 || p < self.first() + HDR || p > self.end() {
            return BadPointer::Outside;
        }
        if self.word(p - HDR) & FREE != 0 {
            BadPointer::NotAllocated
        } else {
            BadPointer::BadHeader
        }
    }

    /// The free block in front of `b` (whose PREV_FREE flag is set), checked against its tag.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    fn free_prev(self, b: u32) -> Result<u32, BadPointer> {
        let pb = self.word_d(b, -4);
        // `b >= first > MIN_BLOCK`, so `b - MIN_BLOCK` does not wrap. A free block ends exactly
        // at `b`, and its PREV_FREE is clear (no two free neighbours).
        if pb < self.first()
            || pb > b - MIN_BLOCK
            || pb % ALIGN != 0
            || self.word(pb) != (b - pb - HDR) | FREE
        {
            return self.tiny_prev(b);
        }
        Ok(pb)
    }

    /// `free_prev` when the word in front of `b` is no tag: the free block in front must then be
    /// a minimum-size one, 12 bytes back, and that word its `prev` link. (A `prev` link can not
    /// pass for a tag: it names a head slot's pseudo-block, below the blocks, or another block
    /// of that single-size list, whose header would have to end at `b`.) Checked by its header
    /// and by its `prev` link naming a block (or pseudo-block) whose `next` is it.
    #[inline(always)]
    fn tiny_prev(self, b: u32) -> Result<u32, BadPointer> {
        let t = b - MIN_BLOCK;
        if t < self.first() || self.word(t) != MIN_PAYLOAD | FREE {
            return Err(BadPointer::BadHeader);
        }
        let pl = self.link_prev(t);
        if pl % ALIGN != 0 || pl < HEADS - NEXT || pl > self.end() - NEXT {
            return Err(BadPointer::BadHeader);
        }
        if self.word(pl + NEXT) != t {
            return Err(BadPointer::BadHeader);
        }
        Ok(t)
    }

    /// The free block physically before the block at header offset `b`, if there is one and
    /// it checks out (for layers that must know where a merge will put things).
    pub fn free_before(self, b: u32) -> Option<u32> {
        if b < self.first() + MIN_BLOCK || b >= self.end() || b % ALIGN != 0 {
            return None;
        }
        if self.word(b) & PREV_FREE == 0 {
            return None;
        }
        self.free_prev(b).ok()
    }

    /// Payload size of the allocated block whose payload starts at `p` (validated).
    #[inline]
    pub fn block_size(self, p: u32) -> Result<u32, BadPointer> {
        if COMPACT {
            self.validate(p).map(|b| self.size_of(b))
        } else {
            self.validate_sized(p).map(|(_, size)| size)
        }
    }

    /// Frees the block whose payload starts at `p`, merging it with free neighbours.
    /// Returns the freed payload size.
    // Forced inlining saves a call layer per operation; on the chips too, where `validate` and
    // `free_block` stay one copy each (its own copy there cost a frame: size configuration
    // -26 B and ~4 instructions per operation without it).
    #[inline(always)]
    pub fn free(self, p: u32) -> Result<u32, BadPointer> {
        let b = self.validate(p)?;
        self.free_block(b)
    }

    /// `free` of a block that [`Tlsf::validate`] accepted (for callers that validate first and
    /// check something of their own before freeing).
    ///
    /// # Safety
    /// `b` must be what `validate` returned, and no block header may have changed since.
    pub unsafe fn free_validated(self, b: u32) -> Result<u32, BadPointer> {
        self.free_block(b)
    }

    /// `free` of the validated used block `b`.
    // One copy in the chips' size configuration, shared by free and realloc's move path
    // (flash); their default configuration inlines it into both (+150 B, ~8.7 instructions
    // per operation less).
    #[cfg_attr(not(heapcaps_flash_first), inline(always))]
    #[cfg_attr(heapcaps_flash_first, inline(never))]
    fn free_block(self, b: u32) -> Result<u32, BadPointer> {
        let w = self.word(b);
        let freed = w & SIZE_MASK;
        let prev = if w & PREV_FREE != 0 {
            Some(self.free_prev(b)?)
        } else {
            None
        };
        let mut start = b;
        let mut size = freed;
        let n = if usize::BITS == 32 {
            // `w` is a validated used header (FREE clear, the USED mark): this is
            // `b + HDR + size` computed as `validate` computes it, so that the compiler reuses
            // its load of the word there (i686 W-a..W-f 2-4 % fewer instructions; x86_64
            // measured better with the plain form).
            (b + HDR + (w & !PREV_FREE)).wrapping_sub(USED)
        } else {
            b + HDR + size
        };
        let nw = self.word(n);
        if nw & FREE != 0 {
            let ns = nw & SIZE_MASK;
            self.remove(n);
            size += HDR + ns;
        }
        if let Some(pb) = prev {
            let ps = self.size_of(pb);
            self.remove(pb);
            size += HDR + ps;
            start = pb;
            // Leave a FREE mark in the absorbed header so that a second free of `p` is caught.
            self.set_word(b, FREE);
        }
        self.make_free(start, size);
        Ok(freed)
    }

    /// Shrinks the used block `b` to payload `size` (<= its size), freeing the tail if it is
    /// big enough to be a block (merged with a free successor).
    // Inlined into realloc on hosts (a call layer costs ~10% there); one copy on chips.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn shrink(self, b: u32, size: u32) {
        let w = self.word(b);
        let cur = w & SIZE_MASK;
        let n = b + HDR + cur;
        let nw = self.word(n);
        let tail = cur - size;
        if nw & FREE != 0 {
            // The freed tail grows the free successor backwards.
            self.set_word(b, size | (w & (PREV_FREE | USED)));
            self.refile(n, nw & SIZE_MASK, b + HDR + size, tail + (nw & SIZE_MASK));
            return;
        } else if tail < MIN_SPLIT {
            return;
        }
        self.set_word(b, size | (w & (PREV_FREE | USED)));
        self.make_free(b + HDR + size, tail - HDR);
    }

    /// Replaces the listed free block `old` (payload `old_size`) by the free block `new` with
    /// payload `new_size`, which covers the same end of memory (the block after both keeps its
    /// PREV_FREE flag). When both sizes share a class, `new` takes `old`'s place in the list and
    /// no bitmap changes; else `old` is unlinked and `new` filed.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn refile(self, old: u32, old_size: u32, new: u32, new_size: u32) {
        // Hosts: `class_of` spelled out, so that its shift serves the comparison too: `old_size`
        // is in the same class iff it agrees with `new_size` above the class width's bits
        // (`new_size` has its top bit at `t` or lies below `SMALL`, so equal high bits force the
        // same `t`). Chips always take the short way (flash).
        let (c, same) = if COMPACT {
            (Self::class_of(new_size), false)
        } else {
            let t = bsr(new_size | SMALL);
            let sh = t - SL_LOG2;
            (
                (t << SL_LOG2) + (new_size >> sh),
                old_size >> sh == new_size >> sh,
            )
        };
        debug_assert_eq!(c, Self::class_of(new_size));
        debug_assert_eq!(same, !COMPACT && c == Self::class_of(old_size));
        if same {
            // Read the links before `new`'s header and links may overwrite them.
            let next = self.link_next(old);
            let prev = self.link_prev(old);
            self.set_word(new, new_size | FREE);
            self.set_tag(new, new_size);
            self.set_links(new, next, prev);
            self.set_word(prev + NEXT, new);
            self.set_word(next + PREV, new);
        } else {
            self.remove_branchy(old);
            self.set_word(new, new_size | FREE);
            self.set_tag(new, new_size);
            self.insert_in(new, c);
        }
    }

    /// Resizes the block at payload `p` to `req` bytes, in place when the neighbours allow
    /// (forwards into a free successor, or on hosts backwards into a free predecessor with a
    /// move),
    /// otherwise by allocate-copy-free within this region. On failure `p` is left untouched.
    /// Returns the new payload offset and the old and new payload sizes.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    pub fn realloc(self, p: u32, req: usize) -> Result<Option<(u32, u32, u32)>, BadPointer> {
        let b = self.validate(p)?;
        // SAFETY: `b` was just validated.
        unsafe { self.realloc_validated(b, req) }
    }

    /// `realloc` of a block that [`Tlsf::validate`] accepted.
    ///
    /// # Safety
    /// `b` must be what `validate` returned, and no block header may have changed since.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    pub unsafe fn realloc_validated(
        self,
        b: u32,
        req: usize,
    ) -> Result<Option<(u32, u32, u32)>, BadPointer> {
        // SAFETY: forwarded caller contract.
        unsafe { self.realloc_validated_in::<false>(b, req) }
    }

    /// `realloc_validated`; with `IN_PLACE_TRIED` the hosts' resize in place
    /// (`resize_in_place`) has failed already, and its paths are left out. (Without it the same
    /// two in-place paths come here in line, not as a `resize_in_place` call first: that order,
    /// inlined into Rust callers' loops, measured i686 W-a 80.9 -> 90.1.)
    ///
    /// # Safety
    /// As `realloc_validated`.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    unsafe fn realloc_validated_in<const IN_PLACE_TRIED: bool>(
        self,
        b: u32,
        req: usize,
    ) -> Result<Option<(u32, u32, u32)>, BadPointer> {
        let p = b + HDR;
        // A constant bound (no load), as in malloc: a size over max_payload fits none of the
        // paths below (no block, nor any merge of blocks, is that large) and fails there.
        if req > MAX_REGION as usize {
            return Ok(None);
        }
        let size = payload_for(req as u32);
        let w = self.word(b);
        let cur = w & SIZE_MASK;
        if !COMPACT && !IN_PLACE_TRIED && size <= cur {
            self.shrink(b, size);
            return Ok(Some((p, cur, self.size_of(b))));
        }
        let n = b + HDR + cur;
        let nw = self.word(n);
        let next_room = if nw & FREE != 0 {
            HDR + (nw & SIZE_MASK)
        } else {
            0
        };
        if COMPACT && cur + next_room >= size {
            // Chips (flash): one path for shrinking and for growing into a free successor. The
            // successor, if free, joins the block, and `shrink` gives back what is not needed
            // (the block after both is in use, free blocks being merged).
            if next_room != 0 {
                self.remove(n);
                self.set_word(b, (cur + next_room) | (w & (PREV_FREE | USED)));
                let nn = n + next_room;
                self.set_word(nn, self.word(nn) & !PREV_FREE);
            }
            self.shrink(b, size);
            return Ok(Some((p, cur, self.size_of(b))));
        }
        if !COMPACT && !IN_PLACE_TRIED && cur + next_room >= size {
            return Ok(Some(self.grow_into_next(b, w, size, n, next_room)));
        }
        // Moving down into a free predecessor: hosts only (chips allocate, copy and free, as
        // ESP-IDF's TLSF does), and only where the block then has as much room again after it.
        // A move costs the same copy wherever it goes; moved down into just enough space, the
        // block ended where little was left, the next small allocation took that, and two
        // buffers growing by turns kept blocking each other (W6-two: 1113 moves, 494 now, talc
        // 526; W-d 4923 and 4984; W3 over 64 seeds 93.36 and 93.31 % live).
        if !COMPACT && w & PREV_FREE != 0 {
            let pb = self.free_prev(b)?;
            let ps = self.size_of(pb);
            let total = ps + HDR + cur + next_room;
            // (`size` is at most MAX_REGION, 2^30: no overflow.)
            if total >= 2 * size {
                self.remove_branchy(pb);
                if next_room != 0 {
                    self.remove_branchy(n);
                }
                // SAFETY: both ranges lie inside the region; `copy` allows overlap.
                unsafe {
                    ptr::copy(
                        self.ctl.add((b + HDR) as usize),
                        self.ctl.add((pb + HDR) as usize),
                        cur as usize,
                    );
                }
                self.set_word(pb, total | USED);
                let nn = pb + HDR + total;
                self.set_word(nn, self.word(nn) & !PREV_FREE);
                self.shrink(pb, size);
                return Ok(Some((pb + HDR, cur, self.size_of(pb))));
            }
        }
        let Some((np, new_size)) = self.malloc_sized(req) else {
            return Ok(None);
        };
        // SAFETY: `np` is a fresh block of at least `size > cur` bytes, disjoint from `p`.
        unsafe {
            ptr::copy_nonoverlapping(
                self.ctl.add(p as usize),
                self.ctl.add(np as usize),
                cur as usize,
            );
        }
        // `b` was validated above and nothing has touched its header since.
        let _ = self.free_block(b);
        Ok(Some((np, cur, new_size)))
    }

    /// `realloc`, trying the resize in place (`resize_in_place`) as a step of its own first
    /// (for the heap layer's C entry point; see `MultiHeap::realloc_entry`).
    #[inline(always)]
    pub fn realloc_in_place_first(
        self,
        p: u32,
        req: usize,
    ) -> Result<Option<(u32, u32, u32)>, BadPointer> {
        let b = self.validate(p)?;
        // SAFETY: `b` was just validated.
        unsafe { self.realloc_validated_in_place_first(b, req) }
    }

    /// `realloc_in_place_first` of a block that [`Tlsf::validate`] accepted (the chips' compact
    /// paths: `realloc_validated`).
    ///
    /// # Safety
    /// As `realloc_validated`.
    #[inline(always)]
    pub unsafe fn realloc_validated_in_place_first(
        self,
        b: u32,
        req: usize,
    ) -> Result<Option<(u32, u32, u32)>, BadPointer> {
        if COMPACT {
            // SAFETY: forwarded caller contract.
            return unsafe { self.realloc_validated(b, req) };
        }
        if req <= MAX_REGION as usize {
            // SAFETY: forwarded caller contract; `req` is within MAX_REGION.
            if let Some(r) = unsafe { self.resize_in_place(b, req) } {
                return Ok(Some(r));
            }
        }
        // SAFETY: as above, and nothing has changed since `resize_in_place` declined (it writes
        // nothing then).
        unsafe { self.realloc_validated_in::<true>(b, req) }
    }

    /// Hosts: `realloc_validated`'s in-place paths (shrink, or grow into a free successor):
    /// the new payload offset and the old and new payload sizes, or `None` when the block must
    /// move or the request cannot be met (then nothing was written).
    ///
    /// # Safety
    /// As `realloc_validated`; `req` at most `MAX_REGION`.
    #[inline(always)]
    unsafe fn resize_in_place(self, b: u32, req: usize) -> Option<(u32, u32, u32)> {
        debug_assert!(req <= MAX_REGION as usize);
        let p = b + HDR;
        let size = payload_for(req as u32);
        let w = self.word(b);
        let cur = w & SIZE_MASK;
        if size <= cur {
            self.shrink(b, size);
            return Some((p, cur, self.size_of(b)));
        }
        let n = b + HDR + cur;
        let nw = self.word(n);
        if nw & FREE == 0 {
            return None;
        }
        let next_room = HDR + (nw & SIZE_MASK);
        if cur + next_room < size {
            return None;
        }
        Some(self.grow_into_next(b, w, size, n, next_room))
    }

    /// Hosts: grows the used block `b` (header word `w`) to payload `size` into its free
    /// successor `n`, which takes `next_room` bytes (header included) and suffices. Returns the
    /// payload offset and the old and new payload sizes.
    #[inline(always)]
    fn grow_into_next(self, b: u32, w: u32, size: u32, n: u32, next_room: u32) -> (u32, u32, u32) {
        let cur = w & SIZE_MASK;
        let total = cur + next_room;
        if total - size >= MIN_SPLIT {
            // What is left of the successor stays free, in front of the same next block.
            self.set_word(b, size | (w & (PREV_FREE | USED)));
            self.refile(n, next_room - HDR, b + HDR + size, total - size - HDR);
            return (b + HDR, cur, size);
        }
        self.remove_branchy(n);
        self.set_word(b, total | (w & (PREV_FREE | USED)));
        let nn = b + HDR + total;
        self.set_word(nn, self.word(nn) & !PREV_FREE);
        (b + HDR, cur, total)
    }

    // ----- inspection ----------------------------------------------------------------------

    /// Largest request that malloc is guaranteed to satisfy: the best of the first few blocks
    /// of the highest non-empty class, all of which the search can reach (see `take_block`).
    pub fn largest_fit(self) -> u32 {
        let Some(w) = (1..=MAP_WORDS as u32)
            .rev()
            .find(|w| self.word(Self::map_off(w << 5)) != 0)
        else {
            return 0;
        };
        let c = (w << 5) + log2(self.word(Self::map_off(w << 5)));
        let mut b = self.word(Self::head_off(c));
        let mut best = 0;
        let mut n = 0;
        while b != 0 && n < OWN_CLASS_SCAN {
            best = best.max(self.size_of(b));
            b = self.link_next(b);
            n += 1;
        }
        best
    }

    /// Pointer to the payload at offset `p`.
    #[inline(always)]
    pub fn ptr_at(self, p: u32) -> *mut u8 {
        self.ctl.wrapping_add(p as usize)
    }

    /// Payload offset of `ptr`, if it lies inside this region's block area.
    #[inline(always)]
    pub fn offset_of(self, ptr: *const u8) -> Option<u32> {
        let d = (ptr as usize).wrapping_sub(self.ctl as usize);
        if d <= self.end() as usize {
            Some(d as u32)
        } else {
            None
        }
    }

    /// Offset of `ptr` for [`Tlsf::validate`], which rejects everything outside the block area:
    /// the plain distance from the region start (free of any check on 32-bit targets), or
    /// `u32::MAX` on 64-bit hosts when the distance does not fit in 32 bits.
    #[inline(always)]
    pub fn offset_for_validate(self, ptr: *const u8) -> u32 {
        let d = (ptr as usize).wrapping_sub(self.ctl as usize);
        u32::try_from(d).unwrap_or(u32::MAX)
    }

    /// Whether `ptr` lies inside the memory this instance manages (control included).
    pub fn contains(self, ptr: *const u8) -> bool {
        let d = (ptr as usize).wrapping_sub(self.ctl as usize);
        d < (self.end() + HDR) as usize
    }

    /// The block at header offset `b`, if `b` is a plausible header in the chain.
    #[inline(always)]
    pub fn block_at(self, b: u32) -> Option<BlockInfo> {
        if COMPACT {
            // The chips' one copy answers in two registers (see `block_at_nz`).
            return self.block_at_nz(b).map(|(offset, w)| BlockInfo {
                offset: offset.get(),
                size: w & !FREE,
                used: w & FREE == 0,
            });
        }
        self.block_at_in(b)
    }

    /// `block_at` as the chips' one copy returns it: the offset (never 0) and the size with the
    /// header's FREE flag, two registers where a `BlockInfo` goes through memory.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn block_at_nz(self, b: u32) -> Option<(NonZeroU32, u32)> {
        let info = self.block_at_in(b)?;
        let free = if info.used { 0 } else { FREE };
        Some((NonZeroU32::new(info.offset)?, info.size | free))
    }

    #[inline(always)]
    fn block_at_in(self, b: u32) -> Option<BlockInfo> {
        if b < self.first() || b >= self.end() || b % ALIGN != 0 {
            return None;
        }
        let w = self.word(b);
        let size = w & SIZE_MASK;
        if size > self.end() - b - HDR || !Self::marked(w) {
            return None;
        }
        Some(BlockInfo {
            offset: b,
            size,
            used: w & FREE == 0,
        })
    }

    /// The block after `b` in address order, or `None` at the sentinel (or a broken chain).
    pub fn next_block(self, b: u32) -> Option<BlockInfo> {
        let cur = self.block_at(b)?;
        let n = b + HDR + cur.size;
        if n >= self.end() {
            return None;
        }
        self.block_at(n)
    }

    /// Calls `f` for every block in address order until it returns false. Stops quietly at a
    /// header whose size would leave the region.
    pub fn walk(self, mut f: impl FnMut(BlockInfo) -> bool) {
        let mut b = self.first();
        let end = self.end();
        while b < end {
            let Some(info) = self.block_at(b) else { return };
            if !f(info) {
                return;
            }
            b += HDR + info.size;
        }
    }

    /// Counts used and free blocks and bytes, and finds the largest guaranteed request.
    pub fn stats(self) -> Stats {
        let mut s = Stats::default();
        self.walk(|bl| {
            if bl.used {
                s.used_blocks += 1;
                s.used_bytes += bl.size as usize;
            } else {
                s.free_blocks += 1;
                s.free_bytes += bl.size as usize;
            }
            true
        });
        s.largest_fit = self.largest_fit() as usize;
        s
    }

    /// Full consistency check: the block chain (sizes, flags, tags, no adjacent free blocks,
    /// ends at the sentinel), every free list (links, membership, class) and every bitmap bit.
    /// `on_block` sees each block as the chain walk reaches it and may report its own problems.
    pub fn check(self, mut on_block: impl FnMut(BlockInfo) -> bool) -> Result<(), Corruption> {
        let first = self.first();
        let end = self.end();
        let mut b = first;
        let mut prev_free = false;
        let mut chain_free = 0u32;
        let mut ok_blocks = true;
        while b < end {
            let w = self.word(b);
            let size = w & SIZE_MASK;
            let free = w & FREE != 0;
            if size < MIN_PAYLOAD || size > end - b - HDR || !Self::marked(w) {
                return Err(Corruption::BadSize { at: b });
            }
            if (w & PREV_FREE != 0) != prev_free {
                return Err(Corruption::BadPrevFlag { at: b });
            }
            if free {
                if prev_free {
                    return Err(Corruption::AdjacentFree { at: b });
                }
                // A minimum-size block has no tag: its last word is its `prev` link.
                if size != MIN_PAYLOAD && self.word(b + size) != b {
                    return Err(Corruption::BadTag { at: b });
                }
                chain_free += 1;
            }
            ok_blocks &= on_block(BlockInfo {
                offset: b,
                size,
                used: !free,
            });
            prev_free = free;
            b += HDR + size;
        }
        if b != end {
            return Err(Corruption::BadChain { at: b });
        }
        let sw = self.word(end);
        if sw & !FLAGS != USED || sw & FREE != 0 || (sw & PREV_FREE != 0) != prev_free {
            return Err(Corruption::BadChain { at: end });
        }
        // The precomputed pointer-check bounds.
        // SAFETY: `control()` points at the initialised control structure (type invariant).
        let c = unsafe { &*self.control() };
        if c.valid_lo != first + HDR
            || c.valid_end != end - MIN_PAYLOAD
            || c.valid_span != (c.valid_end - c.valid_lo) / 4
        {
            return Err(Corruption::BadChain { at: 0 });
        }
        // Free lists and bitmaps: every class bit against its list, and no bit
        // set past the region's last class.
        let class_end = self.class_end();
        let mut list_free = 0u32;
        for c in 32..32 * (MAP_WORDS as u32 + 1) {
            let bit = (self.word(Self::map_off(c)) >> (c & 31)) & 1;
            if c < FIRST_CLASS || c >= class_end {
                if bit != 0 {
                    return Err(Corruption::BadList {
                        at: Self::map_off(c),
                    });
                }
                continue;
            }
            let h = Self::head_off(c);
            let mut blk = self.word(h);
            if bit != (blk != 0) as u32 {
                return Err(Corruption::BadList { at: h });
            }
            let mut prev = h - NEXT;
            while blk != 0 {
                if blk < first || blk >= end || blk % ALIGN != 0 || list_free > chain_free {
                    return Err(Corruption::BadLink {
                        at: if prev == 0 { h } else { prev },
                    });
                }
                let w = self.word(blk);
                let size = w & SIZE_MASK;
                if w & FREE == 0 || size > end - blk - HDR || self.link_prev(blk) != prev {
                    return Err(Corruption::BadLink { at: blk });
                }
                if Self::class_of(size) != c {
                    return Err(Corruption::BadList { at: blk });
                }
                list_free += 1;
                prev = blk;
                blk = self.link_next(blk);
            }
        }
        if list_free != chain_free {
            return Err(Corruption::FreeCount { at: 0 });
        }
        if !ok_blocks {
            return Err(Corruption::BadChain { at: 0 });
        }
        Ok(())
    }

    /// Header offset of the block whose payload contains `ptr`, if it is an allocated block.
    pub fn find_containing(self, ptr: *const u8) -> Option<BlockInfo> {
        let off = self.offset_of(ptr)?;
        let mut found = None;
        self.walk(|bl| {
            if off >= bl.offset + HDR && off < bl.offset + HDR + bl.size {
                if bl.used {
                    found = Some(bl);
                }
                return false;
            }
            true
        });
        found
    }
}
