//! One heap over one contiguous region: a TLSF instance plus ESP-IDF's per-region bookkeeping
//! (lock, free bytes, low-water mark), and the policy for bad pointers (abort, naming them).
//!
//! The region starts with a small [`Header`]; the TLSF control structure and the blocks follow.
//! The handle of a heap is the region start, as in ESP-IDF. Knows nothing of capabilities or C.

use core::ffi::{c_void, CStr};
use core::mem::size_of;
use core::ptr::{self, NonNull};

use crate::poison;
use crate::port;
use crate::text::{self, cstr, say};
use crate::tlsf::{self, BadPointer, BlockInfo, Corruption, Tlsf, HDR};

/// Per-region bookkeeping at the start of the region. Regions are only 4-byte aligned (as in
/// ESP-IDF), so on 64-bit hosts the header is packed to 4; fields are read and written by value,
/// never by reference. The counters are u32: TLSF regions are below 1 GiB.
#[repr(C, packed(4))]
struct Header {
    /// Sum over free blocks of (payload + header): what is left for allocations.
    free_bytes: u32,
    /// Lowest `free_bytes` seen since registration or the last reset.
    minimum_free_bytes: u32,
    /// TLSF's scratch word (`tlsf::SCRATCH`): written by list operations, never read, so never
    /// initialised (a store less in `register`: flash).
    _tlsf_scratch: core::mem::MaybeUninit<u32>,
    /// Opaque lock given by `multi_heap_set_lock`; NULL means no locking.
    lock: *mut c_void,
}

const HEADER: usize = size_of::<Header>();
// The header lives in the bytes TLSF leaves to its owner at the region start.
const _: () = assert!(HEADER <= tlsf::OWNER_BYTES as usize);
const _: () = assert!(core::mem::offset_of!(Header, _tlsf_scratch) == tlsf::SCRATCH as usize);

/// Bytes heap poisoning adds to every allocation (0 when poisoning is off, else ESP-IDF's 12).
/// Free sizes, the largest free block and allocated sizes are reported without them.
pub const POISON_OVERHEAD: usize = poison::OVERHEAD;
const HEAD32: u32 = poison::HEAD as u32;

/// Bytes of the poison head between a block's payload and the user pointer (0 or 8).
pub const POISON_HEAD: usize = poison::HEAD;

/// Largest request a poisoned heap can satisfy: no region exceeds `tlsf::MAX_REGION` (1 GiB;
/// `Tlsf::create` refuses larger ones, `regions_over_1_gib_are_refused` in tests/core.rs holds
/// it to that), so no block holds more. Poisoned `malloc` checks against it first: one compare
/// rejects 0, a size whose overhead would overflow and a size no block can hold, and with that
/// bound known the compiler drops TLSF's own check of the request (W-a on i686: ~6 instructions
/// per operation fewer than separate checks for 0 and for the overflow, most of it in the
/// inlined path's registers).
const MAX_POISONED_REQUEST: usize = tlsf::MAX_REGION as usize - poison::OVERHEAD;

/// Bytes of a region that go to bookkeeping (header, TLSF control, sentinel) for a region of
/// `size` bytes, when it is 4-byte aligned.
pub fn overhead_for(size: usize) -> usize {
    let len = size.min(u32::MAX as usize) as u32;
    tlsf::geometry(len & !3).control_size as usize + tlsf::HDR as usize * 2
}

/// Statistics of one heap, as `multi_heap_get_info` reports them (the layout of the C API's
/// `multi_heap_info_t`, so that the C entry points store it in place).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Info {
    pub total_free_bytes: usize,
    pub total_allocated_bytes: usize,
    pub largest_free_block: usize,
    pub minimum_free_bytes: usize,
    pub allocated_blocks: usize,
    pub free_blocks: usize,
    pub total_blocks: usize,
}

/// A block as the walker and the block iterator see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Address of the block header (the opaque block handle of the C API).
    pub header: *mut u8,
    /// Address of the payload (what malloc returned for a used block).
    pub data: *mut u8,
    /// Payload size in bytes.
    pub size: usize,
    /// Whether the block is allocated.
    pub used: bool,
}

/// A registered heap. Copyable handle; the region itself holds all state.
///
/// Invariant: `start` is the start of a region that [`MultiHeap::register`] initialised and that
/// stays valid and reserved for this heap for the rest of the program (ESP-IDF heaps are never
/// unregistered). All mutation happens with the heap's lock held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub struct MultiHeap {
    start: NonNull<u8>,
}

// SAFETY: all access to the region goes through the heap's lock (or, with no lock set, the
// caller promises single-threaded use, as in ESP-IDF).
unsafe impl Send for MultiHeap {}
// SAFETY: as above.
unsafe impl Sync for MultiHeap {}

/// The out-of-line paths of the C entry points, by address: so that LLVM keeps their C calling
/// convention (see `malloc_slow`), not its own, which passes two arguments in registers.
#[cfg(not(target_os = "none"))]
#[used]
static C_ABI_PATHS: (
    extern "C" fn(MultiHeap, *mut u8),
    extern "C" fn(MultiHeap, usize) -> *mut u8,
    extern "C" fn(MultiHeap, usize, usize) -> *mut u8,
) = (
    MultiHeap::free_slow,
    MultiHeap::malloc_slow,
    MultiHeap::aligned_alloc_entry,
);

/// RAII guard for the heap lock.
struct Guard(*mut c_void);

impl Drop for Guard {
    fn drop(&mut self) {
        port::unlock(self.0);
    }
}

/// Evaluates `$e` with the heap lock of `$h` held. On hosts a heap without a lock takes a
/// separate copy of `$e` with no lock call around it: a call anywhere in the hot code, even one
/// never taken, costs spilled registers (~10 instructions per operation on i686). Chips keep one
/// copy (flash), and ESP-IDF's heaps there always have a lock. A macro, not a closure: a closure
/// used twice was outlined into a call. (Not used by `realloc`: a second copy of its larger body
/// measured slower.)
macro_rules! under_lock {
    ($h:expr, $e:expr) => {{
        let l = $h.lock_ptr();
        if cfg!(not(target_os = "none")) && l.is_null() {
            $e
        } else {
            port::lock(l);
            let r = $e;
            port::unlock(l);
            r
        }
    }};
}

impl MultiHeap {
    /// Registers `[start, start + size)` as a heap. Returns `None` when `start` is NULL or not
    /// 4-byte aligned, or the region cannot hold the bookkeeping plus one minimum block.
    ///
    /// # Safety
    /// The region must be valid for reads and writes, and reserved for this heap from now on.
    pub unsafe fn register(start: *mut u8, size: usize) -> Option<MultiHeap> {
        let start = NonNull::new(start)?;
        if (start.as_ptr() as usize) % 4 != 0 || size < HEADER {
            return None;
        }
        if poison::COMPREHENSIVE {
            // The whole region starts out as free memory; TLSF then writes its own structures.
            poison::fill(start.as_ptr(), poison::FREE_FILL, size);
        }
        // SAFETY: the caller hands us the whole region; TLSF leaves its first bytes (the header).
        let t = unsafe { Tlsf::create(start.as_ptr(), size)? };
        let free = t.max_payload() + HDR;
        // SAFETY: the header lies at the (aligned) start of the region, which we now own.
        unsafe {
            ptr::write(
                start.as_ptr() as *mut Header,
                Header {
                    free_bytes: free,
                    minimum_free_bytes: free,
                    _tlsf_scratch: core::mem::MaybeUninit::uninit(),
                    lock: ptr::null_mut(),
                },
            );
        }
        Some(MultiHeap { start })
    }

    /// Re-creates the handle of a registered heap from its start address.
    ///
    /// # Safety
    /// `start` must be NULL or a value returned by [`MultiHeap::register`] (via `as_ptr`).
    pub unsafe fn from_ptr(start: *mut c_void) -> Option<MultiHeap> {
        NonNull::new(start as *mut u8).map(|start| MultiHeap { start })
    }

    /// The handle as a pointer (the region start).
    pub fn as_ptr(self) -> *mut c_void {
        self.start.as_ptr() as *mut c_void
    }

    #[inline(always)]
    fn header(self) -> *mut Header {
        self.start.as_ptr() as *mut Header
    }

    #[inline(always)]
    fn tlsf(self) -> Tlsf {
        // SAFETY: `register` created the TLSF instance right after the header (type invariant).
        unsafe { Tlsf::from_raw(self.start.as_ptr()) }
    }

    /// The heap's lock (NULL: none).
    #[inline(always)]
    fn lock_ptr(self) -> *mut c_void {
        // SAFETY: as in `lock`.
        unsafe { (*self.header()).lock }
    }

    #[inline(always)]
    fn lock(self) -> Guard {
        // SAFETY: the header is initialised (type invariant); the lock field is only written
        // by `set_lock`, which ESP-IDF callers use before the heap is shared.
        let l = unsafe { (*self.header()).lock };
        port::lock(l);
        Guard(l)
    }

    #[inline(always)]
    fn take(self, bytes: u32) {
        // SAFETY: called with the lock held; the header is initialised.
        unsafe {
            let h = &mut *self.header();
            h.free_bytes = h.free_bytes.wrapping_sub(bytes);
            if h.free_bytes < h.minimum_free_bytes {
                h.minimum_free_bytes = h.free_bytes;
            }
        }
    }

    #[inline(always)]
    fn give(self, bytes: u32) {
        // SAFETY: called with the lock held; the header is initialised.
        unsafe { (*self.header()).free_bytes += bytes }
    }

    /// Sets the lock used for every operation on this heap (NULL: none).
    pub fn set_lock(self, lock: *mut c_void) {
        // SAFETY: the header is initialised; ESP-IDF sets the lock before sharing the heap.
        unsafe { (*self.header()).lock = lock }
    }

    /// Takes the heap lock without doing anything else (`multi_heap_internal_lock`).
    pub fn internal_lock(self) {
        // SAFETY: as in `lock`.
        port::lock(unsafe { (*self.header()).lock })
    }

    /// Releases the heap lock taken by [`MultiHeap::internal_lock`].
    pub fn internal_unlock(self) {
        // SAFETY: as in `lock`.
        port::unlock(unsafe { (*self.header()).lock })
    }

    /// Total size of the region's block area plus bookkeeping: what the region spans.
    pub fn region_end(self) -> *mut u8 {
        let t = self.tlsf();
        t.as_ptr().wrapping_add((t.end() + HDR) as usize)
    }

    /// Bytes of bookkeeping in this region (header, TLSF control, sentinel).
    pub fn overhead(self) -> usize {
        self.tlsf().control_size() as usize + 2 * HDR as usize
    }

    /// Whether `p` lies inside this heap's region (bookkeeping included).
    pub fn contains(self, p: *const u8) -> bool {
        let d = (p as usize).wrapping_sub(self.start.as_ptr() as usize);
        d < self.region_end() as usize - self.start.as_ptr() as usize
    }

    #[inline(always)]
    fn offset(self, p: *const u8) -> u32 {
        // Pointers outside the block area map to an offset that `validate` rejects.
        self.tlsf().offset_for_validate(p)
    }

    /// Allocates `size` bytes; NULL when `size` is 0 or no block fits.
    #[inline]
    pub fn malloc(self, size: usize) -> *mut u8 {
        self.malloc_inline(size)
    }

    /// `malloc`, always inlined on hosts: for the Rust API's callers (a call layer costs ~10% per
    /// op); the C entry point uses `malloc_entry`.
    // Forced inlining saves a call layer per operation on hosts; chips keep one copy (flash).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    pub fn malloc_inline(self, size: usize) -> *mut u8 {
        if crate::COMPACT {
            // Chips: the one allocation sequence (TLSF's aligned path serves alignment 4 with
            // its malloc; the same results: NULL for 0 bytes and for what does not fit).
            return self.aligned_alloc_op(size, tlsf::ALIGN as usize, 0, cstr!("malloc"));
        }
        // Without poisoning TLSF itself answers 0 bytes with no block; with it, 0 bytes and what
        // cannot fit fail here, in one compare (see `MAX_POISONED_REQUEST`).
        if poison::ENABLED && size.wrapping_sub(1) >= MAX_POISONED_REQUEST {
            return ptr::null_mut();
        }
        under_lock!(self, self.malloc_locked(size))
    }

    /// `malloc` for the C entry point, inlined into it on hosts. Unlike `malloc_inline` (which
    /// the Rust API inlines into its callers' loops) the hot path here makes no call but tail
    /// calls: on i686 (PIC) any other call costs the GOT base in the entry block (and a register
    /// for it), and here the body is the whole function. So a heap with a lock, and whatever
    /// TLSF's fast path does not serve, go to `malloc_slow` by a tail call.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    pub fn malloc_entry(self, size: usize) -> *mut u8 {
        if cfg!(target_os = "none") || crate::COMPACT || poison::COMPREHENSIVE {
            return self.malloc_inline(size);
        }
        // Light poisoning: the canaries around the request (0 bytes, and what cannot fit with
        // them, go to `malloc_slow`, which refuses them).
        if self.lock_ptr().is_null()
            && (!poison::ENABLED || size.wrapping_sub(1) < MAX_POISONED_REQUEST)
        {
            let t = self.tlsf();
            if let Some((p, bs)) = t.malloc_sized_fast(size + poison::OVERHEAD) {
                self.take(bs + HDR);
                return self.poison_new(t.ptr_at(p), size, cstr!("malloc"));
            }
        }
        // A heap with a lock; or 0 bytes, no room, or a block to look for in the request's own
        // class: `malloc_slow` answers all of them (the fast path wrote nothing).
        self.malloc_slow(size)
    }

    /// Hosts: `malloc` for `malloc_entry`, the general path (lock, size checks). C ABI: a
    /// 32-bit PIC tail call passes at most one argument in a register (the callee's address
    /// needs one), while the C ABI passes them on the stack, where the caller's own arguments
    /// already are (see `C_ABI_PATHS`).
    #[inline(never)]
    extern "C" fn malloc_slow(self, size: usize) -> *mut u8 {
        self.malloc_inline(size)
    }

    /// `malloc` with the lock held (`size` > 0).
    // Forced inlining saves a call layer per operation on hosts; chips keep one copy (flash).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn malloc_locked(self, size: usize) -> *mut u8 {
        let Some(req) = size.checked_add(poison::OVERHEAD) else {
            return ptr::null_mut();
        };
        let t = self.tlsf();
        match t.malloc_sized(req) {
            Some((p, bs)) => {
                self.take(bs + HDR);
                self.poison_new(t.ptr_at(p), size, cstr!("malloc"))
            }
            None => ptr::null_mut(),
        }
    }

    /// Poisoning of a fresh block whose payload starts at `raw`: canaries, and in comprehensive
    /// mode the check that nobody wrote to the free memory (abort) and the fresh-memory fill.
    #[inline(always)]
    fn poison_new(self, raw: *mut u8, size: usize, op: &'static CStr) -> *mut u8 {
        if !poison::ENABLED {
            return raw;
        }
        let user = poison::wrap(raw, size);
        if poison::COMPREHENSIVE
            && !poison::check_fill(
                user,
                size,
                poison::FREE_FILL,
                true,
                Some(poison::MALLOC_FILL),
            )
        {
            self.corrupt(op, user, cstr!("was written to after it was freed"));
        }
        user
    }

    /// Allocates `size` bytes such that `result + offset` is a multiple of `align`.
    #[inline]
    pub fn aligned_alloc_offs(self, size: usize, align: usize, offset: usize) -> *mut u8 {
        self.aligned_alloc_op(size, align, offset, cstr!("aligned_alloc"))
    }

    /// `malloc` for an `align` of at most 4 (ignoring `offset`, as TLSF does there), else
    /// `aligned_alloc_offs`: one call site for callers that serve both.
    #[inline]
    pub fn malloc_or_aligned(self, size: usize, align: usize, offset: usize) -> *mut u8 {
        let op = if align <= tlsf::ALIGN as usize {
            cstr!("malloc")
        } else {
            cstr!("aligned_alloc")
        };
        self.aligned_alloc_op(size, align, offset, op)
    }

    /// `aligned_alloc_offs` with offset 0, for the C entry point `multi_heap_aligned_alloc`: its
    /// own arguments (C ABI, see `malloc_slow`), so that the entry point reaches it by a
    /// tail call. (The chips inline `aligned_alloc_offs` there instead.)
    #[cfg(not(target_os = "none"))]
    #[inline(never)]
    pub extern "C" fn aligned_alloc_entry(self, size: usize, align: usize) -> *mut u8 {
        self.aligned_alloc_offs(size, align, 0)
    }

    /// `aligned_alloc_offs`, naming the operation `op` in poisoning reports. On the chips also
    /// the plain malloc (alignment 4: TLSF's aligned path is its malloc then), so that they have
    /// one copy of the allocation sequence.
    #[cfg_attr(target_os = "none", inline(never))]
    fn aligned_alloc_op(
        self,
        size: usize,
        align: usize,
        offset: usize,
        op: &'static CStr,
    ) -> *mut u8 {
        if size == 0 || align == 0 || !align.is_power_of_two() {
            return ptr::null_mut();
        }
        // The user pointer, not the poison head, is what must be aligned.
        let (Some(req), Some(offset)) = (
            size.checked_add(poison::OVERHEAD),
            offset.checked_add(poison::HEAD),
        ) else {
            return ptr::null_mut();
        };
        let _g = self.lock();
        let t = self.tlsf();
        match t.malloc_aligned(req, align, offset) {
            Some((p, bs)) => {
                self.take(bs + HDR);
                self.poison_new(t.ptr_at(p), size, op)
            }
            None => ptr::null_mut(),
        }
    }

    // A separate copy on hosts (where `malloc_inline` is inlined everywhere); on chips just a
    // call of the one copy.
    #[cfg_attr(not(target_os = "none"), inline(never))]
    #[cfg_attr(target_os = "none", inline(always))]
    fn malloc_out_of_line(self, size: usize) -> *mut u8 {
        self.malloc_inline(size)
    }

    #[cfg_attr(not(target_os = "none"), inline(never))]
    #[cfg_attr(target_os = "none", inline(always))]
    fn free_out_of_line(self, p: *mut u8) {
        self.free_inline(p)
    }

    /// Frees `p` (NULL is ignored). A pointer that is not a live block of this heap aborts the
    /// program with a message naming it, before anything is modified; so does a block whose
    /// poison canaries are broken.
    #[inline]
    pub fn free(self, p: *mut u8) {
        self.free_inline(p)
    }

    /// `free`, always inlined on hosts: for the Rust API's callers (the C entry point uses
    /// `free_entry`).
    // Forced inlining saves a call layer per operation on hosts; chips keep one copy (flash).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    pub fn free_inline(self, p: *mut u8) {
        if p.is_null() {
            return;
        }
        under_lock!(self, self.free_locked(p, cstr!("free")))
    }

    /// `free` for the C entry point, inlined into it on hosts (see `malloc_entry`).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    pub fn free_entry(self, p: *mut u8) {
        if cfg!(target_os = "none") || poison::COMPREHENSIVE {
            return self.free_inline(p);
        }
        if p.is_null() {
            return;
        }
        if self.lock_ptr().is_null() {
            let t = self.tlsf();
            let off = self.offset(p.wrapping_sub(poison::HEAD));
            // Light poisoning: intact canaries first (`free` then validates again: nothing was
            // written in between, so it finds what `block_size` found).
            let canaries_ok = !poison::ENABLED
                || t.block_size(off)
                    .is_ok_and(|bs| poison::verify(t.ptr_at(off), bs as usize).is_ok());
            if canaries_ok {
                if let Ok(size) = t.free(off) {
                    self.give(size + HDR);
                    return;
                }
            }
        }
        // A heap with a lock, or a pointer that `free` refused or whose canaries are broken:
        // both are found before anything is written, so `free_slow` meets the same fault and
        // reports it (this path then needs no message address and no call but a tail call).
        self.free_slow(p)
    }

    /// Hosts: `free` for `free_entry`, the general path (lock, reports) (C ABI as
    /// `malloc_slow`).
    #[inline(never)]
    extern "C" fn free_slow(self, p: *mut u8) {
        self.free_inline(p)
    }

    /// `free` with the lock held (`p` not NULL).
    // Forced inlining saves a call layer per operation on hosts; chips keep one copy (flash).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn free_locked(self, p: *mut u8, op: &'static CStr) {
        let t = self.tlsf();
        let off = self.offset(p.wrapping_sub(poison::HEAD));
        if !poison::ENABLED {
            match t.free(off) {
                Ok(size) => self.give(size + HDR),
                Err(e) => self.bad_pointer(op, p, e),
            }
            return;
        }
        let bs = self.verified(op, p, off) as u32;
        // Comprehensive: the whole payload becomes free memory; the headers TLSF absorbs when it
        // merges neighbours are found now (the block API still sees them) and filled after.
        // (offset, length) of stale bookkeeping that a merge leaves inside the new free block.
        let mut absorbed: [Option<(u32, u32)>; 2] = [None, None];
        if poison::COMPREHENSIVE {
            let b = off - HDR;
            if let Some(n) = t.block_at(off + bs).filter(|n| !n.used) {
                // The next block's header and free-list links end up inside the merged block,
                // except, for an 8-byte block, its `prev` link's word: the merged block's tag.
                absorbed[0] = Some((off + bs, n.size.min(12)));
            }
            if let Some(pb) = t.free_before(b) {
                // Our own header ends up inside the previous block, and so does its boundary
                // tag, unless it is a tiny block (no tag; its links stay the merged block's).
                let from = (b - 4).max(pb + HDR + 8);
                absorbed[1] = Some((from, b + HDR - from));
            }
            poison::fill(t.ptr_at(off), poison::FREE_FILL, bs as usize);
        }
        // Light mode on hosts frees through the inlined `Tlsf::free`: it validates `off` again,
        // but nothing was written since `verified`, so the compiler merges the two validations,
        // while the out-of-line `free_validated` cost a call and a returned `Result` in memory
        // (W-a on i686: ~13 instructions per operation). Comprehensive mode has filled the
        // payload in between (the second validation would stay); chips keep the one shared copy
        // (flash).
        let r = if cfg!(target_os = "none") || poison::COMPREHENSIVE {
            // SAFETY: `verified` validated the block under the lock; since then only its payload
            // (never a header) has been written.
            unsafe { t.free_validated(off - HDR) }
        } else {
            t.free(off)
        };
        match r {
            Ok(size) => self.give(size + HDR),
            Err(e) => self.bad_pointer(op, p, e),
        }
        for (at, len) in absorbed.into_iter().flatten() {
            poison::fill(t.ptr_at(at), poison::FREE_FILL, len as usize);
        }
    }

    /// Poisoning: checks that the user pointer `p` (payload offset `off`) is a live block with
    /// intact canaries, aborting otherwise; returns the block's payload size.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    fn verified(self, op: &'static CStr, p: *mut u8, off: u32) -> usize {
        let t = self.tlsf();
        if let Ok(bs) = t.block_size(off) {
            if poison::verify(t.ptr_at(off), bs as usize).is_ok() {
                return bs as usize;
            }
        }
        // The reports out of line: their arguments kept live here cost the chips' copy six
        // saved registers on every call (W-a on QEMU: ~14 instructions per free).
        self.verify_failed(op, p, off)
    }

    /// `verified` found a bad pointer or broken canaries: finds which again (nothing was
    /// written since), reports it and aborts.
    #[cold]
    #[inline(never)]
    fn verify_failed(self, op: &'static CStr, p: *mut u8, off: u32) -> ! {
        let t = self.tlsf();
        match t.block_size(off) {
            Ok(bs) => {
                if let Err(d) = poison::verify(t.ptr_at(off), bs as usize) {
                    poison::report(d);
                }
            }
            Err(e) => self.bad_pointer(op, p, e),
        }
        self.corrupt(op, p, cstr!("has broken canaries"))
    }

    #[cold]
    fn corrupt(self, op: &'static CStr, p: *mut u8, why: &'static CStr) -> ! {
        if text::SHORT_FATAL {
            text::fatal_at(p)
        }
        // Allocations name the block they were about to hand out; the others their argument.
        let alloc = op == cstr!("malloc") || op == cstr!("aligned_alloc");
        let (op, why, heap) = (op.as_ptr(), why.as_ptr(), self.start.as_ptr());
        if alloc {
            say!(
                err,
                "CORRUPT HEAP: %s: block 0x%08x %s in heap 0x%08x\n",
                op,
                p,
                why,
                heap
            );
        } else {
            say!(
                err,
                "CORRUPT HEAP: %s(0x%08x): block 0x%08x %s in heap 0x%08x\n",
                op,
                p,
                p,
                why,
                heap
            );
        }
        port::abort()
    }

    /// Resizes `p` to `size` bytes. NULL `p` allocates; size 0 frees and returns NULL (and, unlike
    /// ESP-IDF, credits the freed bytes). On failure returns NULL and leaves `p` intact.
    /// Comprehensive poisoning never resizes in place (allocate, copy, free), as ESP-IDF.
    #[inline]
    pub fn realloc(self, p: *mut u8, size: usize) -> *mut u8 {
        self.realloc_inline(p, size)
    }

    /// `realloc`, always inlined on hosts: for the C entry point, as `malloc_inline`.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    pub fn realloc_inline(self, p: *mut u8, size: usize) -> *mut u8 {
        self.realloc_with::<false>(p, size)
    }

    /// `realloc` for the C entry point, inlined into it on hosts: with TLSF's resize in place
    /// tried first, as a step of its own (C API W-d ~10 instructions per operation fewer on
    /// i686; the Rust API's callers, which inline the whole heap, measured slower with it, and
    /// take `realloc_inline`). On the chips `realloc_inline` (its one copy).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    pub fn realloc_entry(self, p: *mut u8, size: usize) -> *mut u8 {
        if cfg!(target_os = "none") {
            return self.realloc_inline(p, size);
        }
        self.realloc_with::<true>(p, size)
    }

    /// `realloc`; `IN_PLACE_FIRST`: try the resize in place as a step of its own first (the
    /// poisoning builds always do).
    #[inline(always)]
    fn realloc_with<const IN_PLACE_FIRST: bool>(self, p: *mut u8, size: usize) -> *mut u8 {
        // The edge cases call out of line: inlined here, their code would crowd the resize path.
        if p.is_null() {
            return self.malloc_out_of_line(size);
        }
        if size == 0 {
            self.free_out_of_line(p);
            return ptr::null_mut();
        }
        // Poisoned: one compare refuses what no block can hold with its canaries (no overflow
        // past it; TLSF's own bound then folds away), as in `malloc_inline`.
        if poison::ENABLED && size > MAX_POISONED_REQUEST {
            return ptr::null_mut();
        }
        let Some(req) = size.checked_add(poison::OVERHEAD) else {
            return ptr::null_mut();
        };
        let _g = self.lock();
        self.realloc_locked::<IN_PLACE_FIRST>(p, size, req)
    }

    /// `realloc` with the lock held (`p` not NULL, `size` > 0, `req` = size + poison overhead).
    #[inline(always)]
    fn realloc_locked<const IN_PLACE_FIRST: bool>(
        self,
        p: *mut u8,
        size: usize,
        req: usize,
    ) -> *mut u8 {
        let t = self.tlsf();
        let off = self.offset(p.wrapping_sub(poison::HEAD));
        if poison::ENABLED {
            let bs = self.verified(cstr!("realloc"), p, off);
            if poison::COMPREHENSIVE {
                // SAFETY: `verified` checked the stored size against the block.
                let old = unsafe { ptr::read_unaligned(t.ptr_at(off + 4) as *const u32) } as usize;
                debug_assert!(old <= bs);
                let n = self.malloc_locked(size);
                if !n.is_null() {
                    // SAFETY: both are live, distinct blocks of at least `min(old, size)` bytes.
                    unsafe { ptr::copy_nonoverlapping(t.ptr_at(off + HEAD32), n, old.min(size)) };
                    self.free_locked(p, cstr!("realloc"));
                }
                return n;
            }
        }
        let r = if poison::ENABLED {
            // SAFETY: `verified` validated the block above, under the lock, and nothing changed.
            // (The resize in place as a step of its own first: the Rust API with light
            // poisoning measured W-a 98.6 -> 95.7 instructions per operation.)
            unsafe { t.realloc_validated_in_place_first(off - HDR, req) }
        } else if IN_PLACE_FIRST {
            t.realloc_in_place_first(off, req)
        } else {
            t.realloc(off, req)
        };
        match r {
            Ok(Some((np, old, new))) => {
                // One path for growing and shrinking: the difference wraps when the block
                // shrank, and the minimum can only move when the free count fell.
                self.take(new.wrapping_sub(old));
                if poison::ENABLED {
                    // The head canary is in place: the block kept its start, or TLSF copied
                    // the whole old payload, head included.
                    poison::rewrap(t.ptr_at(np), size)
                } else {
                    t.ptr_at(np)
                }
            }
            Ok(None) => ptr::null_mut(),
            Err(e) => self.bad_pointer(cstr!("realloc"), p, e),
        }
    }

    /// Usable size of the allocated block `p` (at least what was requested). NULL, or anything
    /// that is not a live block of this heap, gives 0. With poisoning the canaries are checked
    /// (abort when broken) and not counted.
    pub fn allocated_size(self, p: *mut u8) -> usize {
        self.full_block_size(p).saturating_sub(poison::OVERHEAD)
    }

    /// Whether `p` is exactly the user pointer of a live block, established by walking the heap
    /// (O(blocks)), so the answer is right for any pointer: a stack address or a pointer into the
    /// middle of a block whose bytes happen to look like a header included. For the public size
    /// queries; a heap whose chain is broken aborts naming the pointer.
    pub fn is_live_block(self, p: *mut u8) -> bool {
        if p.is_null() || !self.contains(p) {
            return false;
        }
        let target = p.wrapping_sub(poison::HEAD) as usize;
        let found = if crate::COMPACT {
            // One walk to the end answers both questions (see `damaged_locked`).
            let _g = self.lock();
            let (found, intact) = self.scan(target);
            if !found && !intact {
                self.bad_pointer(op_size(), p, BadPointer::BadHeader)
            }
            found
        } else {
            let mut found = false;
            self.walk(|b| {
                if b.data as usize == target {
                    found = b.used;
                }
                (b.data as usize) < target
            });
            found
        };
        if !found && !crate::COMPACT && !self.check(false) {
            self.bad_pointer(op_size(), p, BadPointer::BadHeader)
        }
        found
    }

    /// Whether the heap is damaged, asked by a size query whose pointer is no live block (the
    /// answer is then 0, unless the heap is broken: abort naming the pointer), with the lock
    /// held. Hosts run the full check (in `is_live_block` with the counter and poisoning checks
    /// too). The chips ([`crate::COMPACT`]) only walk the block chain, which a smashed header
    /// ends early (free-list damage goes unnoticed here; the integrity check finds it): the full
    /// check's code would be in every program that asks for a block size.
    fn damaged_locked(self) -> bool {
        if crate::COMPACT {
            !self.scan(0).1
        } else {
            self.tlsf_check(&mut |_| true).is_err()
        }
    }

    /// Walks the whole block chain (lock held): whether a used block's payload starts at
    /// `target`, and whether the chain reaches the end of the block area.
    #[cfg_attr(target_os = "none", inline(never))]
    fn scan(self, target: usize) -> (bool, bool) {
        let t = self.tlsf();
        let mut next = t.ptr_at(t.first()) as usize;
        let mut found = false;
        self.walk_locked(&mut |b| {
            found |= b.used && b.data as usize == target;
            next = b.data as usize + b.size;
            true
        });
        (found, next == t.ptr_at(t.end()) as usize)
    }

    /// `full_block_size(p)` if [`MultiHeap::is_live_block`]`(p)`, else 0: the exact public size
    /// query (`multi_heap_get_full_block_size`, and with the poison overhead taken off,
    /// `multi_heap_get_allocated_size` and `heap_caps_get_allocated_size`). One copy on the chips.
    #[cfg_attr(target_os = "none", inline(never))]
    pub fn live_block_size(self, p: *mut u8) -> usize {
        if self.is_live_block(p) {
            self.full_block_size(p)
        } else {
            0
        }
    }

    /// Whole payload size of the allocated block `p`, poison canaries included
    /// (`multi_heap_get_full_block_size`). NULL, or what is not a live block, gives 0.
    pub fn full_block_size(self, p: *mut u8) -> usize {
        if p.is_null() {
            return 0;
        }
        let _g = self.lock();
        // A query changes nothing, so a pointer that is not a live block gets the defined answer
        // 0 rather than an abort (ESP-IDF asserts on chips; its linux build answers 0). Broken
        // canaries of a live block are corruption, and abort as ESP-IDF's assert does.
        let off = self.offset(p.wrapping_sub(poison::HEAD));
        let t = self.tlsf();
        let bs = match t.block_size(off) {
            Ok(bs) => bs,
            // An implausible header is either a pointer into the middle of something (answer 0)
            // or a smashed header (corruption: abort). Only a check tells them apart (the full
            // one on hosts, the chain walk on the chips; see `damaged_locked`); this is an error path,
            // so its cost does not matter.
            Err(BadPointer::BadHeader) if self.damaged_locked() => {
                self.bad_pointer(op_size(), p, BadPointer::BadHeader)
            }
            Err(_) => return 0,
        };
        if poison::ENABLED {
            if let Err(d) = poison::verify(t.ptr_at(off), bs as usize) {
                poison::report(d);
                self.corrupt(op_size(), p, cstr!("has broken canaries"));
            }
        }
        bs as usize
    }

    /// Whether `p` is a live allocated block of this heap (no side effects).
    pub fn is_allocated(self, p: *const u8) -> bool {
        let _g = self.lock();
        self.tlsf()
            .validate(self.offset(p.wrapping_sub(poison::HEAD)))
            .is_ok()
    }

    #[cold]
    fn bad_pointer(self, op: &'static CStr, p: *mut u8, e: BadPointer) -> ! {
        if text::SHORT_FATAL {
            text::fatal_at(p)
        }
        let why = match e {
            BadPointer::Outside => cstr!("is not inside"),
            BadPointer::NotAllocated => cstr!("is not allocated (double free?) in"),
            BadPointer::BadHeader => {
                cstr!("has no valid block header (interior pointer or corrupt heap) in")
            }
        };
        say!(
            err,
            "CORRUPT HEAP: %s(0x%08x): pointer 0x%08x %s heap 0x%08x\n",
            op.as_ptr(),
            p,
            p,
            why.as_ptr(),
            self.start.as_ptr()
        );
        port::abort()
    }

    /// Free bytes right now (without the poison overhead one more allocation would need).
    pub fn free_size(self) -> usize {
        self.raw_free_size().saturating_sub(poison::OVERHEAD)
    }

    fn raw_free_size(self) -> usize {
        // SAFETY: a plain read of an initialised header word.
        unsafe { (*self.header()).free_bytes as usize }
    }

    /// Lowest free bytes seen (without the poison overhead, as `free_size`).
    pub fn minimum_free_size(self) -> usize {
        // SAFETY: as in `free_size`.
        (unsafe { (*self.header()).minimum_free_bytes } as usize).saturating_sub(poison::OVERHEAD)
    }

    /// The low-water mark as stored, without the poisoning correction: the unit of
    /// `reset_minimum_free_bytes` and `restore_minimum_free_bytes`.
    pub fn raw_minimum_free_bytes(self) -> usize {
        // SAFETY: as in `free_size`.
        unsafe { (*self.header()).minimum_free_bytes as usize }
    }

    /// Sets the low-water mark to the current free bytes and returns the old mark.
    pub fn reset_minimum_free_bytes(self) -> usize {
        if crate::COMPACT {
            return self.update_minimum(None);
        }
        let _g = self.lock();
        // SAFETY: lock held; header initialised.
        unsafe {
            let h = &mut *self.header();
            let old = h.minimum_free_bytes;
            h.minimum_free_bytes = h.free_bytes;
            old as usize
        }
    }

    /// Lowers the low-water mark to `v` if `v` is lower.
    pub fn restore_minimum_free_bytes(self, v: usize) {
        if crate::COMPACT {
            self.update_minimum(Some(v));
            return;
        }
        let _g = self.lock();
        // SAFETY: lock held; header initialised.
        unsafe {
            let h = &mut *self.header();
            if v < h.minimum_free_bytes as usize {
                h.minimum_free_bytes = v as u32;
            }
        }
    }

    /// The chips' one copy of the two updates above: `None` resets the mark to the current
    /// free bytes, `Some(v)` lowers it to `v` if `v` is lower; returns the old mark.
    #[cfg_attr(target_os = "none", inline(never))]
    fn update_minimum(self, v: Option<usize>) -> usize {
        let _g = self.lock();
        // SAFETY: lock held; header initialised.
        unsafe {
            let h = &mut *self.header();
            let old = h.minimum_free_bytes;
            let new = match v {
                None => h.free_bytes,
                // Below `old`, so it fits.
                Some(v) => v.min(old as usize) as u32,
            };
            h.minimum_free_bytes = new;
            old as usize
        }
    }

    /// Sets the low-water mark outright (runtime-registered heaps start at 0 in ESP-IDF).
    pub fn force_minimum_free_bytes(self, v: usize) {
        let _g = self.lock();
        // SAFETY: lock held; header initialised.
        unsafe { (*self.header()).minimum_free_bytes = v.min(u32::MAX as usize) as u32 }
    }

    /// Statistics of the heap.
    pub fn info(self) -> Info {
        let mut t = Info::default();
        self.add_info_to(&mut t, 0);
        t
    }

    /// Adds the heap's statistics (see [`MultiHeap::info`]) to `t`: sums, and the maximum of
    /// the largest free blocks, each byte figure less `owner` bytes per block (floored at 0; the
    /// caps layer's owner words). One copy for the heap's and the caps layer's queries, which
    /// write into the C caller's structure in place.
    #[cfg_attr(target_os = "none", inline(never))]
    pub(crate) fn add_info_to(self, t: &mut Info, owner: usize) {
        let _g = self.lock();
        // Counted over the shared walk (`walk_locked`) rather than `Tlsf::stats`, which has a
        // walk of its own: one copy less on the chips.
        let (mut used_blocks, mut used_bytes, mut free_blocks) = (0, 0, 0);
        self.walk_locked(&mut |b| {
            if b.used {
                used_blocks += 1;
                used_bytes += b.size;
            } else {
                free_blocks += 1;
            }
            true
        });
        let largest_fit = self.tlsf().largest_fit() as usize;
        t.total_free_bytes += self.free_size().saturating_sub(owner);
        t.total_allocated_bytes += used_bytes
            .saturating_sub(used_blocks * poison::OVERHEAD)
            .saturating_sub(used_blocks * owner);
        t.largest_free_block = t.largest_free_block.max(
            largest_fit
                .saturating_sub(poison::OVERHEAD)
                .saturating_sub(owner),
        );
        t.minimum_free_bytes += self.minimum_free_size().saturating_sub(owner);
        t.allocated_blocks += used_blocks;
        t.free_blocks += free_blocks;
        t.total_blocks += used_blocks + free_blocks;
    }

    fn block(self, b: BlockInfo) -> Block {
        let t = self.tlsf();
        Block {
            header: t.ptr_at(b.offset),
            data: t.ptr_at(b.offset + HDR),
            size: b.size as usize,
            used: b.used,
        }
    }

    /// Calls `f` for every block in address order, with the lock held, until it returns false.
    #[inline]
    pub fn walk(self, mut f: impl FnMut(Block) -> bool) {
        let _g = self.lock();
        self.walk_locked(&mut f);
    }

    /// The walk with the lock held. Not generic: every walker shares one copy of the TLSF walk
    /// (flash on the chips; the walk is for diagnostics and queries, never the allocation path).
    #[cfg_attr(target_os = "none", inline(never))]
    fn walk_locked(self, f: &mut dyn FnMut(Block) -> bool) {
        self.tlsf().walk(|b| f(self.block(b)));
    }

    /// TLSF's structural check with a per-block callback; one shared copy (see `walk_locked`).
    #[cfg_attr(target_os = "none", inline(never))]
    fn tlsf_check(self, f: &mut dyn FnMut(BlockInfo) -> bool) -> Result<(), Corruption> {
        self.tlsf().check(f)
    }

    /// The first block of the heap.
    pub fn first_block(self) -> Option<Block> {
        let t = self.tlsf();
        t.block_at(t.first()).map(|b| self.block(b))
    }

    /// The block after the one whose header is at `header`; `None` after the last block or
    /// when `header` is not a block header of this heap.
    pub fn next_block(self, header: *const u8) -> Option<Block> {
        let t = self.tlsf();
        let off = t.offset_of(header)?;
        t.next_block(off).map(|b| self.block(b))
    }

    /// The block whose header is at `header`, if that is a block header of this heap.
    pub fn block_at(self, header: *const u8) -> Option<Block> {
        let t = self.tlsf();
        t.block_at(t.offset_of(header)?).map(|b| self.block(b))
    }

    /// The allocated block whose payload contains `p`. With poisoning, `data` and `size` are
    /// the user's view (past the poison head, without the 12 bytes), as ESP-IDF reports them.
    #[inline(always)]
    pub fn find_containing_block(self, p: *const u8) -> Option<Block> {
        let block = |header: *mut u8, size: usize| Block {
            header,
            data: header.wrapping_add(HDR as usize + poison::HEAD),
            size: size.saturating_sub(poison::OVERHEAD),
            used: true,
        };
        if crate::COMPACT {
            // The chips' one copy answers in two registers, where a `Block` goes through memory.
            return self
                .find_containing_raw(p)
                .map(|(h, size)| block(h.as_ptr(), size));
        }
        let b = self.find_containing_in(p)?;
        Some(block(b.header, b.size))
    }

    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn find_containing_raw(self, p: *const u8) -> Option<(NonNull<u8>, usize)> {
        let b = self.find_containing_in(p)?;
        Some((NonNull::new(b.header)?, b.size))
    }

    /// The block from `find_containing_block` in TLSF's terms (header and payload size).
    #[inline(always)]
    fn find_containing_in(self, p: *const u8) -> Option<Block> {
        let _g = self.lock();
        self.tlsf().find_containing(p).map(|b| self.block(b))
    }

    /// Full integrity check. With `print_errors`, each problem is described on the diagnostic
    /// console. `extra` may check each block's contents (poisoning) and report its own errors.
    #[inline]
    pub fn check_with(self, print_errors: bool, mut extra: impl FnMut(Block) -> bool) -> bool {
        self.check_dyn(print_errors, &mut extra)
    }

    /// `check_with` without the generic parameter: one shared copy (see `walk_locked`).
    #[cfg_attr(target_os = "none", inline(never))]
    fn check_dyn(self, print_errors: bool, extra: &mut dyn FnMut(Block) -> bool) -> bool {
        let _g = self.lock();
        let t = self.tlsf();
        let mut sum_free = 0usize;
        let r = self.tlsf_check(&mut |b| {
            if !b.used {
                sum_free += b.size as usize + HDR as usize;
            }
            let ok = poison_check(t, b, print_errors);
            extra(self.block(b)) && ok
        });
        let err = r.err();
        let free = self.raw_free_size();
        // SAFETY: lock held; header initialised.
        let min = unsafe { (*self.header()).minimum_free_bytes } as usize;
        let counters_ok = err.is_some() || (sum_free == free && min <= free);
        if print_errors {
            // `BadChain` at 0 means only the per-block checks failed; they have reported.
            if let Some(c) = err.filter(|c| *c != Corruption::BadChain { at: 0 }) {
                report_corruption(t, c);
            } else if !counters_ok {
                say!(
                    err,
                    "CORRUPT HEAP: heap 0x%08x free counter %u but free blocks hold %u\n",
                    self.start.as_ptr(),
                    free,
                    sum_free
                );
            }
        }
        err.is_none() && counters_ok
    }

    /// Full integrity check without content checks.
    pub fn check(self, print_errors: bool) -> bool {
        self.check_with(print_errors, |_| true)
    }

    /// Prints every block of the heap in ESP-IDF's dump format.
    pub fn dump(self) {
        let _g = self.lock();
        say!(err, "Showing data for heap: 0x%08x \n", self.start.as_ptr());
        self.walk_locked(&mut |b| {
            let free = if b.used { cstr!("No") } else { cstr!("Yes") };
            say!(
                err,
                "Block 0x%08x data, size: %u bytes, Free: %s \n",
                b.data,
                b.size,
                free.as_ptr()
            );
            true
        });
    }
}

/// The operation named when a size query meets a broken heap (one copy of the string).
#[inline(always)]
fn op_size() -> &'static CStr {
    cstr!("get_allocated_size")
}

/// Poisoning checks of one block during `check`: canaries and stored size of used blocks; in
/// comprehensive mode, the free fill of free blocks except TLSF's list links (first 8 payload
/// bytes) and boundary tag (last 4).
fn poison_check(t: Tlsf, b: BlockInfo, print: bool) -> bool {
    if !poison::ENABLED {
        return true;
    }
    let raw = t.ptr_at(b.offset + HDR);
    if b.used {
        match poison::verify(raw, b.size as usize) {
            Ok(_) => true,
            Err(d) => {
                if print {
                    poison::report(d);
                }
                false
            }
        }
    } else if poison::COMPREHENSIVE && b.size > 12 {
        poison::check_fill(
            raw.wrapping_add(8),
            b.size as usize - 12,
            poison::FREE_FILL,
            print,
            None,
        )
    } else {
        true
    }
}

#[cold]
fn report_corruption(t: Tlsf, c: Corruption) {
    let (what, at) = match c {
        Corruption::BadSize { at } => (cstr!("bad block size"), at),
        Corruption::BadPrevFlag { at } => {
            (cstr!("previous-free flag disagrees with neighbour"), at)
        }
        Corruption::AdjacentFree { at } => (cstr!("two adjacent free blocks"), at),
        Corruption::BadTag { at } => (cstr!("free block boundary tag broken"), at),
        Corruption::BadLink { at } => (cstr!("bad free-list link"), at),
        Corruption::BadList { at } => (cstr!("free list or bitmap inconsistent"), at),
        Corruption::BadChain { at } => (cstr!("block chain broken"), at),
        Corruption::FreeCount { at } => (cstr!("free lists and block chain disagree"), at),
    };
    say!(
        err,
        "CORRUPT HEAP: %s at 0x%08x\n",
        what.as_ptr(),
        t.ptr_at(at)
    );
}
