//! Two-level segregated-fit (TLSF) allocator over one contiguous region: O(1) malloc and free.
//!
//! This module knows nothing of capabilities, C or ESP-IDF. It manages raw bytes and reports
//! problems as [`Corruption`] values; the layers above decide how to report them.
//!
//! # Layout
//! The control structure sits at the start of the region, blocks follow it. Every block starts
//! with one 32-bit word: its payload size (a multiple of 4) and two flags, `FREE` and
//! `PREV_FREE`. The payload follows the word, so the per-allocation overhead is 4 bytes at every
//! size and payloads are 4-byte aligned, as in ESP-IDF. A free block keeps two list links (u32
//! offsets from the control structure) at the start of its payload and its own offset in its
//! last word (a boundary tag), so the next block can find it when they merge. Links are offsets
//! rather than pointers so that the layout, and every size the heap reports, is identical on
//! 32-bit chips and 64-bit hosts. The region ends with a zero-size sentinel header.
//!
//! # Classes
//! Sizes below `SMALL` (32) map to exact 4-byte classes on level 0; larger sizes map to a
//! power-of-two level split into `SL` (8) linear classes. The number of levels is chosen from the
//! region size. A fixed `SL` lets every mapping use constant shifts (measured: 4-7% fewer
//! instructions per operation than a per-region `SL`), and eight classes per level keep the
//! control structure no larger than ESP-IDF's at any region size (a third of it at 4 MiB).
//! Block sizes are never rounded to a class: only the search key is.

use core::ptr;

/// log2 of the number of second-level classes per power of two.
pub const SL_LOG2: u32 = 3;
const SL: u32 = 1 << SL_LOG2;
const SMALL_LOG2: u32 = SL_LOG2 + 2;
/// Sizes below this map to exact 4-byte classes.
const SMALL: u32 = 1 << SMALL_LOG2;

/// Bytes of the size word in front of every payload.
pub const HDR: u32 = 4;
/// Smallest payload: two free-list links and the boundary tag.
pub const MIN_PAYLOAD: u32 = 12;
/// Smallest footprint of a block (header + payload).
pub const MIN_BLOCK: u32 = HDR + MIN_PAYLOAD;
/// Payload alignment and size granularity.
pub const ALIGN: u32 = 4;

const FREE: u32 = 1;
const PREV_FREE: u32 = 2;
const FLAGS: u32 = FREE | PREV_FREE;

/// How many blocks of the request's own class a failed good-fit search may inspect. Bounded, so
/// malloc stays O(1); it lets a request use a block of its own class when no larger class has one.
const OWN_CLASS_SCAN: u32 = 16;

/// Fixed part of the control structure; the two tables follow it.
#[repr(C)]
struct Control {
    fl_bitmap: u32,
    fl_count: u32,
    /// Byte offset of the `heads` table from the control start.
    heads_off: u32,
    /// Offset of the first block.
    first: u32,
    /// Offset of the sentinel header.
    end: u32,
    /// Largest payload a request may ask for (the first block's size).
    max_payload: u32,
}

const CTRL: u32 = core::mem::size_of::<Control>() as u32;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
/// Invariant (established by [`Tlsf::create`] or [`Tlsf::from_raw`]): `ctl` points at an
/// initialised control structure, 4-byte aligned, and the caller of those constructors owns the
/// whole region `[ctl, ctl + end + 4)` exclusively for as long as any view of it is used.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Tlsf {
    ctl: *mut u8,
}

/// Parameters chosen for a region of `len` bytes (control included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub sl_log2: u32,
    pub fl_count: u32,
    pub control_size: u32,
}

#[inline(always)]
const fn log2(x: u32) -> u32 {
    // `| 1` tells the compiler x is non-zero, so no zero guard is emitted (same result for x > 0).
    31 - (x | 1).leading_zeros()
}

/// The class table shape for a region of `len` bytes: finer classes for larger regions.
pub const fn geometry(len: u32) -> Geometry {
    let fl_count = if len < SMALL {
        1
    } else {
        log2(len) - SMALL_LOG2 + 2
    };
    // One spare second-level bitmap word past the last level, always 0 (see find_suitable).
    let control_size = CTRL + 4 * (fl_count + 1) + 4 * (fl_count << SL_LOG2);
    Geometry {
        sl_log2: SL_LOG2,
        fl_count,
        control_size,
    }
}

/// Payload size for a request: at least the minimum, rounded up to 4. `None` if it overflows.
#[inline(always)]
pub fn adjust_size(req: usize) -> Option<u32> {
    let r = u32::try_from(req).ok()?;
    let r = r.checked_add(ALIGN - 1)? & !(ALIGN - 1);
    Some(if r < MIN_PAYLOAD { MIN_PAYLOAD } else { r })
}

impl Tlsf {
    /// Builds a TLSF instance over `[mem, mem + len)` and returns it, or `None` when the memory
    /// is not 4-byte aligned or too small for the control structure plus one minimum block.
    ///
    /// # Safety
    /// `mem` must be valid for reads and writes of `len` bytes, and the memory must not be used
    /// by anything else while the returned instance (or a copy of it) is in use.
    pub unsafe fn create(mem: *mut u8, len: usize) -> Option<Tlsf> {
        if mem.is_null() || (mem as usize) % ALIGN as usize != 0 {
            return None;
        }
        // Offsets are u32; keep clear of the top so size arithmetic cannot overflow.
        let len = u32::try_from(len).ok().filter(|l| *l <= 0x8000_0000)? & !(ALIGN - 1);
        let g = geometry(len);
        let first = g.control_size;
        let end = len.checked_sub(HDR)?;
        if end < first || end - first < MIN_BLOCK {
            return None;
        }
        let payload = end - first - HDR;
        let t = Tlsf { ctl: mem };
        let heads_off = CTRL + 4 * (g.fl_count + 1);
        // SAFETY: the control structure and both tables lie inside `[mem, mem + first)`, which
        // the caller gave us; `mem` is 4-byte aligned.
        unsafe {
            ptr::write(
                mem as *mut Control,
                Control {
                    fl_bitmap: 0,
                    fl_count: g.fl_count,
                    heads_off,
                    first,
                    end,
                    max_payload: payload,
                },
            );
            ptr::write_bytes(mem.add(CTRL as usize), 0, (first - CTRL) as usize);
        }
        t.set_word(end, 0);
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

    /// Address of the control structure (and so of the region).
    pub fn as_ptr(self) -> *mut u8 {
        self.ctl
    }

    // ----- raw access --------------------------------------------------------------------

    #[inline(always)]
    fn control(self) -> *mut Control {
        self.ctl as *mut Control
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

    #[inline(always)]
    fn fl_count(self) -> u32 {
        // SAFETY: `control()` points at the initialised control structure (type invariant).
        unsafe { (*self.control()).fl_count }
    }

    #[inline(always)]
    fn fl_bitmap(self) -> u32 {
        // SAFETY: as in `fl_count`.
        unsafe { (*self.control()).fl_bitmap }
    }

    #[inline(always)]
    fn set_fl_bitmap(self, v: u32) {
        // SAFETY: as in `fl_count`.
        unsafe { (*self.control()).fl_bitmap = v }
    }

    #[inline(always)]
    fn heads_off(self) -> u32 {
        // SAFETY: as in `fl_count`.
        unsafe { (*self.control()).heads_off }
    }

    /// Offset of the first block.
    #[inline(always)]
    pub fn first(self) -> u32 {
        // SAFETY: as in `fl_count`.
        unsafe { (*self.control()).first }
    }

    /// Offset of the sentinel header.
    #[inline(always)]
    pub fn end(self) -> u32 {
        // SAFETY: as in `fl_count`.
        unsafe { (*self.control()).end }
    }

    /// Largest payload any single block can have.
    #[inline(always)]
    pub fn max_payload(self) -> u32 {
        // SAFETY: as in `fl_count`.
        unsafe { (*self.control()).max_payload }
    }

    /// Size of the control structure (bytes before the first block).
    pub fn control_size(self) -> u32 {
        self.first()
    }

    #[inline(always)]
    fn sl_bitmap_off(self, fl: u32) -> u32 {
        CTRL + 4 * fl
    }

    #[inline(always)]
    fn head_off(self, fl: u32, sl: u32) -> u32 {
        self.heads_off() + 4 * ((fl << SL_LOG2) | sl)
    }

    // ----- block fields --------------------------------------------------------------------

    #[inline(always)]
    fn size_of(self, b: u32) -> u32 {
        self.word(b) & !FLAGS
    }

    #[inline(always)]
    fn link_next(self, b: u32) -> u32 {
        self.word(b + HDR)
    }

    #[inline(always)]
    fn link_prev(self, b: u32) -> u32 {
        self.word(b + HDR + 4)
    }

    #[inline(always)]
    fn set_links(self, b: u32, next: u32, prev: u32) {
        self.set_word(b + HDR, next);
        self.set_word(b + HDR + 4, prev);
    }

    /// Writes the boundary tag of a free block of payload `size` at `b`.
    #[inline(always)]
    fn set_tag(self, b: u32, size: u32) {
        self.set_word(b + size, b);
    }

    // ----- classes -------------------------------------------------------------------------

    /// The class a block of payload `size` lives in.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn mapping(self, size: u32) -> (u32, u32) {
        if size < SMALL {
            (0, size >> 2)
        } else {
            let t = log2(size);
            let sl = (size >> (t - SL_LOG2)) ^ SL;
            (t - SMALL_LOG2 + 1, sl)
        }
    }

    /// The first class whose every block can hold `size` bytes.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn mapping_search(self, size: u32) -> (u32, u32) {
        if size >= SMALL {
            // Fits: size <= max_payload < 2^31, so adding less than size cannot overflow.
            let round = (1 << (log2(size) - SL_LOG2)) - 1;
            self.mapping(size + round)
        } else {
            self.mapping(size)
        }
    }

    /// The first non-empty class at or above `(fl, sl)`.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn find_suitable(self, fl: u32, sl: u32) -> Option<(u32, u32)> {
        // Callers never pass more than fl_count, whose bitmap word is a spare that stays 0.
        debug_assert!(fl <= self.fl_count());
        let mut fl = fl;
        let mut sl_map = self.word(self.sl_bitmap_off(fl)) & (!0u32 << sl);
        if sl_map == 0 {
            // fl <= fl_count <= 28, so the shift is in range.
            let fl_map = self.fl_bitmap() & (!0u32 << (fl + 1));
            if fl_map == 0 {
                return None;
            }
            // The high bit is never a level, so OR-ing it in only tells the compiler the value
            // is non-zero (no zero guard); likewise for the 8-bit second-level map below.
            fl = (fl_map | 1 << 31).trailing_zeros();
            sl_map = self.word(self.sl_bitmap_off(fl));
        }
        Some((fl, (sl_map | 1 << 31).trailing_zeros()))
    }

    // ----- free lists ----------------------------------------------------------------------

    // The first block of a list has as `prev` the pseudo-block whose `next` link is the list's
    // head slot (`head slot - HDR`), so unlinking any block is the same two stores and needs no
    // class mapping. Pseudo-blocks lie inside the control structure, below `first`.

    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn insert(self, b: u32, size: u32) {
        let (fl, sl) = self.mapping(size);
        let h = self.head_off(fl, sl);
        let head = self.word(h);
        self.set_links(b, head, h - HDR);
        if head != 0 {
            self.set_word(head + HDR + 4, b);
        } else {
            self.set_bits(fl, sl);
        }
        self.set_word(h, b);
    }

    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn set_bits(self, fl: u32, sl: u32) {
        let so = self.sl_bitmap_off(fl);
        self.set_word(so, self.word(so) | (1 << sl));
        self.set_fl_bitmap(self.fl_bitmap() | (1 << fl));
    }

    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn clear_bits(self, fl: u32, sl: u32) {
        let so = self.sl_bitmap_off(fl);
        let m = self.word(so) & !(1 << sl);
        self.set_word(so, m);
        if m == 0 {
            self.set_fl_bitmap(self.fl_bitmap() & !(1 << fl));
        }
    }

    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn remove(self, b: u32) {
        let next = self.link_next(b);
        let prev = self.link_prev(b);
        self.set_word(prev + HDR, next);
        if next != 0 {
            self.set_word(next + HDR + 4, prev);
        } else if prev < self.first() {
            // `b` was the only block of its list: `prev` is the head slot's pseudo-block.
            let idx = (prev + HDR - self.heads_off()) / 4;
            self.clear_bits(idx >> SL_LOG2, idx & (SL - 1));
        }
    }

    /// Marks `b` (payload `size`, previous block in use) free and files it in its list.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn make_free(self, b: u32, size: u32) {
        self.set_word(b, size | FREE);
        self.set_tag(b, size);
        let n = b + HDR + size;
        self.set_word(n, self.word(n) | PREV_FREE);
        self.insert(b, size);
    }

    // ----- allocation ----------------------------------------------------------------------

    /// Finds and unlinks a free block with payload of at least `size` bytes.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn take_block(self, size: u32) -> Option<u32> {
        let (fl, sl) = self.mapping_search(size);
        if let Some((fl, sl)) = self.find_suitable(fl, sl) {
            let h = self.head_off(fl, sl);
            let b = self.word(h);
            let next = self.link_next(b);
            self.set_word(h, next);
            if next != 0 {
                self.set_word(next + HDR + 4, h - HDR);
            } else {
                self.clear_bits(fl, sl);
            }
            return Some(b);
        }
        self.take_from_own_class(size)
    }

    /// Slow path of `take_block`: look at a few blocks of the request's own class.
    #[cold]
    fn take_from_own_class(self, size: u32) -> Option<u32> {
        let (fl, sl) = self.mapping(size);
        if fl >= self.fl_count() {
            return None;
        }
        let mut b = self.word(self.head_off(fl, sl));
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
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn use_block(self, b: u32, size: u32) {
        let w = self.word(b);
        let bs = w & !FLAGS;
        let keep = w & PREV_FREE;
        let rem = bs - size;
        if rem >= MIN_BLOCK {
            self.set_word(b, size | keep);
            let r = b + HDR + size;
            // The block after `b` already has PREV_FREE set: `b` was free.
            let rs = rem - HDR;
            self.set_word(r, rs | FREE);
            self.set_tag(r, rs);
            self.insert(r, rs);
        } else {
            self.set_word(b, bs | keep);
            let n = b + HDR + bs;
            self.set_word(n, self.word(n) & !PREV_FREE);
        }
    }

    /// Allocates `req` bytes; returns the payload offset. (Out of line: the hot path inlines
    /// `malloc_sized` into the heap layer; this copy serves realloc's fallback and tests.)
    #[cfg_attr(not(target_os = "none"), inline(never))]
    pub fn malloc(self, req: usize) -> Option<u32> {
        self.malloc_sized(req).map(|(p, _)| p)
    }

    /// Allocates `req` bytes; returns the payload offset and the block's payload size.
    // Forced inlining saves a call layer per operation on hosts; chips keep one copy (flash).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    pub fn malloc_sized(self, req: usize) -> Option<(u32, u32)> {
        // max_payload < 2^31, so once under it the rounding below cannot overflow.
        if req > self.max_payload() as usize {
            return None;
        }
        let req = req as u32;
        // max_payload is a multiple of 4 and at least MIN_PAYLOAD, so size stays within it.
        let size = if req < MIN_PAYLOAD {
            MIN_PAYLOAD
        } else {
            (req + ALIGN - 1) & !(ALIGN - 1)
        };
        let b = self.take_block(size)?;
        self.use_block(b, size);
        Some((b + HDR, self.size_of(b)))
    }

    /// Allocates `req` bytes such that `address(payload) + offset` is a multiple of `align`
    /// (a power of two). `offset` is rounded up to 4, as payloads are 4-byte aligned.
    pub fn malloc_aligned(self, req: usize, align: usize, offset: usize) -> Option<u32> {
        if align == 0 || !align.is_power_of_two() {
            return None;
        }
        if align <= ALIGN as usize {
            return self.malloc(req);
        }
        let size = adjust_size(req)?;
        let align = u32::try_from(align).ok()?;
        let offset = u32::try_from(offset).ok()?.checked_add(3)? & !3;
        // Worst case the payload moves by less than align + MIN_BLOCK to reach an aligned spot
        // with room for a free block in front of it.
        let search = size.checked_add(align)?.checked_add(MIN_BLOCK)?;
        if search > self.max_payload() {
            // A request bigger than any block can still fit exactly when the block happens to
            // be aligned; try that before giving up.
            return self.malloc_aligned_exact(size, align, offset);
        }
        let Some(b) = self.take_block(search) else {
            return self.malloc_aligned_exact(size, align, offset);
        };
        let b = self.split_for_alignment(b, align, offset);
        self.use_block(b, size);
        Some(b + HDR)
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
    fn malloc_aligned_exact(self, size: u32, align: u32, offset: u32) -> Option<u32> {
        let (fl, sl) = self.mapping(size);
        if fl >= self.fl_count() {
            return None;
        }
        let mut cls = self.find_suitable(fl, sl);
        let mut n = 0;
        while let Some((f, s)) = cls {
            let mut b = self.word(self.head_off(f, s));
            while b != 0 && n < OWN_CLASS_SCAN {
                let bs = self.size_of(b);
                let addr = (self.ctl as usize).wrapping_add((b + HDR + offset) as usize);
                if bs >= size && addr & (align as usize - 1) == 0 {
                    self.remove(b);
                    self.use_block(b, size);
                    return Some(b + HDR);
                }
                b = self.link_next(b);
                n += 1;
            }
            if n >= OWN_CLASS_SCAN {
                return None;
            }
            // Next non-empty class above (f, s).
            cls = if s + 1 < SL {
                self.find_suitable(f, s + 1)
            } else {
                self.find_suitable(f + 1, 0)
            };
        }
        None
    }

    /// Checks that `p` (a payload offset) is a live allocated block of this instance.
    // Forced inlining saves a call layer per operation on hosts; chips keep one copy (flash).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    pub fn validate(self, p: u32) -> Result<u32, BadPointer> {
        let first = self.first();
        let end = self.end();
        if p % ALIGN != 0 || p < first + HDR || p > end {
            return Err(BadPointer::Outside);
        }
        let b = p - HDR;
        let w = self.word(b);
        if w & FREE != 0 {
            return Err(BadPointer::NotAllocated);
        }
        let s = w & !FLAGS;
        if s < MIN_PAYLOAD || s > end - p {
            return Err(BadPointer::BadHeader);
        }
        // The next header must agree that this block is in use.
        if self.word(p + s) & PREV_FREE != 0 {
            return Err(BadPointer::BadHeader);
        }
        Ok(b)
    }

    /// The free block in front of `b` (whose PREV_FREE flag is set), checked against its tag.
    #[inline]
    fn free_prev(self, b: u32) -> Result<u32, BadPointer> {
        let pb = self.word(b - 4);
        if pb < self.first() || pb >= b || pb % ALIGN != 0 {
            return Err(BadPointer::BadHeader);
        }
        let pw = self.word(pb);
        if pw & FREE == 0 || pb + HDR + (pw & !FLAGS) != b {
            return Err(BadPointer::BadHeader);
        }
        Ok(pb)
    }

    /// Payload size of the allocated block whose payload starts at `p` (validated).
    #[inline]
    pub fn block_size(self, p: u32) -> Result<u32, BadPointer> {
        self.validate(p).map(|b| self.size_of(b))
    }

    /// `free` for the rare paths, so that only the heap layer's free inlines the fast one.
    #[cfg_attr(not(target_os = "none"), inline(never))]
    fn free_out_of_line(self, p: u32) -> Result<u32, BadPointer> {
        self.free(p)
    }

    /// Frees the block whose payload starts at `p`, merging it with free neighbours.
    /// Returns the freed payload size.
    // Forced inlining saves a call layer per operation on hosts; chips keep one copy (flash).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    pub fn free(self, p: u32) -> Result<u32, BadPointer> {
        let b = self.validate(p)?;
        let w = self.word(b);
        let freed = w & !FLAGS;
        let prev = if w & PREV_FREE != 0 {
            Some(self.free_prev(b)?)
        } else {
            None
        };
        let mut start = b;
        let mut size = freed;
        let n = b + HDR + size;
        let nw = self.word(n);
        if nw & FREE != 0 {
            let ns = nw & !FLAGS;
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
    fn shrink(self, b: u32, size: u32) {
        let w = self.word(b);
        let cur = w & !FLAGS;
        let n = b + HDR + cur;
        let nw = self.word(n);
        let mut tail = cur - size;
        if nw & FREE != 0 {
            let ns = nw & !FLAGS;
            self.remove(n);
            tail += HDR + ns;
        } else if tail < MIN_BLOCK {
            return;
        }
        self.set_word(b, size | (w & PREV_FREE));
        self.make_free(b + HDR + size, tail - HDR);
    }

    /// Resizes the block at payload `p` to `req` bytes, in place when the neighbours allow
    /// (forwards into a free successor, or backwards into a free predecessor with a move),
    /// otherwise by allocate-copy-free within this region. On failure `p` is left untouched.
    /// Returns the new payload offset and the old and new payload sizes.
    pub fn realloc(self, p: u32, req: usize) -> Result<Option<(u32, u32, u32)>, BadPointer> {
        let b = self.validate(p)?;
        let Some(size) = adjust_size(req).filter(|s| *s <= self.max_payload()) else {
            return Ok(None);
        };
        let w = self.word(b);
        let cur = w & !FLAGS;
        if size <= cur {
            self.shrink(b, size);
            return Ok(Some((p, cur, self.size_of(b))));
        }
        let n = b + HDR + cur;
        let nw = self.word(n);
        let next_room = if nw & FREE != 0 {
            HDR + (nw & !FLAGS)
        } else {
            0
        };
        if cur + next_room >= size {
            self.remove(n);
            let total = cur + next_room;
            self.set_word(b, total | (w & PREV_FREE));
            let nn = b + HDR + total;
            self.set_word(nn, self.word(nn) & !PREV_FREE);
            self.shrink(b, size);
            return Ok(Some((p, cur, self.size_of(b))));
        }
        if w & PREV_FREE != 0 {
            let pb = self.free_prev(b)?;
            let ps = self.size_of(pb);
            let total = ps + HDR + cur + next_room;
            if total >= size {
                self.remove(pb);
                if next_room != 0 {
                    self.remove(n);
                }
                // SAFETY: both ranges lie inside the region; `copy` allows overlap.
                unsafe {
                    ptr::copy(
                        self.ctl.add((b + HDR) as usize),
                        self.ctl.add((pb + HDR) as usize),
                        cur as usize,
                    );
                }
                self.set_word(pb, total);
                let nn = pb + HDR + total;
                self.set_word(nn, self.word(nn) & !PREV_FREE);
                self.shrink(pb, size);
                return Ok(Some((pb + HDR, cur, self.size_of(pb))));
            }
        }
        let Some(np) = self.malloc(req) else {
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
        let new_size = self.size_of(np - HDR);
        // `p` was validated above and nothing has touched its header since.
        let _ = self.free_out_of_line(p);
        Ok(Some((np, cur, new_size)))
    }

    // ----- inspection ----------------------------------------------------------------------

    /// Largest request that malloc is guaranteed to satisfy: the best of the first few blocks
    /// of the highest non-empty class, all of which the search can reach (see `take_block`).
    pub fn largest_fit(self) -> u32 {
        let fl_map = self.fl_bitmap();
        if fl_map == 0 {
            return 0;
        }
        let fl = log2(fl_map);
        let sl = log2(self.word(self.sl_bitmap_off(fl)));
        let mut b = self.word(self.head_off(fl, sl));
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

    /// Whether `ptr` lies inside the memory this instance manages (control included).
    pub fn contains(self, ptr: *const u8) -> bool {
        let d = (ptr as usize).wrapping_sub(self.ctl as usize);
        d < (self.end() + HDR) as usize
    }

    /// The block at header offset `b`, if `b` is a plausible header in the chain.
    pub fn block_at(self, b: u32) -> Option<BlockInfo> {
        if b < self.first() || b >= self.end() || b % ALIGN != 0 {
            return None;
        }
        let w = self.word(b);
        let size = w & !FLAGS;
        if size > self.end() - b - HDR || size % ALIGN != 0 {
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
            let size = w & !FLAGS;
            let free = w & FREE != 0;
            if size % ALIGN != 0 || size < MIN_PAYLOAD || size > end - b - HDR {
                return Err(Corruption::BadSize { at: b });
            }
            if (w & PREV_FREE != 0) != prev_free {
                return Err(Corruption::BadPrevFlag { at: b });
            }
            if free {
                if prev_free {
                    return Err(Corruption::AdjacentFree { at: b });
                }
                if self.word(b + size) != b {
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
        if sw & !FLAGS != 0 || sw & FREE != 0 || (sw & PREV_FREE != 0) != prev_free {
            return Err(Corruption::BadChain { at: end });
        }
        // Free lists and bitmaps.
        let fl_count = self.fl_count();
        let sl_count = SL;
        let mut list_free = 0u32;
        for fl in 0..fl_count {
            let sl_map = self.word(self.sl_bitmap_off(fl));
            if (self.fl_bitmap() >> fl) & 1 != (sl_map != 0) as u32 {
                return Err(Corruption::BadList {
                    at: self.sl_bitmap_off(fl),
                });
            }
            if sl_count < 32 && sl_map >> sl_count != 0 {
                return Err(Corruption::BadList {
                    at: self.sl_bitmap_off(fl),
                });
            }
            for sl in 0..sl_count {
                let h = self.head_off(fl, sl);
                let mut blk = self.word(h);
                if (sl_map >> sl) & 1 != (blk != 0) as u32 {
                    return Err(Corruption::BadList { at: h });
                }
                let mut prev = h - HDR;
                while blk != 0 {
                    if blk < first || blk >= end || blk % ALIGN != 0 || list_free > chain_free {
                        return Err(Corruption::BadLink {
                            at: if prev == 0 { h } else { prev },
                        });
                    }
                    let w = self.word(blk);
                    let size = w & !FLAGS;
                    if w & FREE == 0 || size > end - blk - HDR || self.link_prev(blk) != prev {
                        return Err(Corruption::BadLink { at: blk });
                    }
                    if self.mapping(size) != (fl, sl) {
                        return Err(Corruption::BadList { at: blk });
                    }
                    list_free += 1;
                    prev = blk;
                    blk = self.link_next(blk);
                }
            }
        }
        if self.word(self.sl_bitmap_off(fl_count)) != 0 {
            return Err(Corruption::BadList {
                at: self.sl_bitmap_off(fl_count),
            });
        }
        if (self.fl_bitmap() >> fl_count.min(31)) != 0 && fl_count < 32 {
            return Err(Corruption::BadList { at: 0 });
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
