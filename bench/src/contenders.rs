//! The allocators under test behind one small trait, so the same harness code drives each.
//!
//! Every contender gets the same region and keeps its bookkeeping inside it where it can:
//! heapcaps and talc do so by design; rlsf's control structure is placed at the start of the
//! region here (so rlsf pays for it out of the same budget). Plain mallocs ask for alignment 4,
//! what ESP-IDF's malloc guarantees.

use core::alloc::Layout;
use core::hint::black_box;
use core::mem::size_of;
use core::ptr::{self, NonNull};

use heapcaps::multi_heap::MultiHeap;

/// Default alignment of a plain malloc (ESP-IDF's).
pub const MALLOC_ALIGN: usize = 4;

pub trait Contender: Sized {
    const NAME: &'static str;
    /// Sets up a heap over `[base, base + len)` (16-byte aligned). None if it cannot.
    ///
    /// # Safety
    /// The region must be valid and unused for as long as the contender is.
    unsafe fn new(base: *mut u8, len: usize) -> Option<Self>;
    /// A block of `size` bytes, 4-byte aligned; null on failure.
    ///
    /// # Safety
    /// None beyond `new`'s; unsafe because the peers' interfaces are.
    unsafe fn malloc(&mut self, size: usize) -> *mut u8;
    /// A block of `size` bytes aligned to `align` (a power of two); null on failure.
    ///
    /// # Safety
    /// As `malloc`.
    unsafe fn aligned(&mut self, size: usize, align: usize) -> *mut u8;
    /// `size`/`align` are what the block was allocated with (talc and rlsf need them).
    ///
    /// # Safety
    /// `p` is a live block of this contender, allocated with `size` and `align`.
    unsafe fn free(&mut self, p: *mut u8, size: usize, align: usize);
    /// Null on failure (the block stays valid).
    ///
    /// # Safety
    /// As `free`; `old` is the block's current requested size.
    unsafe fn realloc(&mut self, p: *mut u8, old: usize, align: usize, new: usize) -> *mut u8;
    /// Bytes the heap reports free, when it has such a counter.
    fn free_size(&self) -> Option<usize> {
        None
    }
    /// Heap consistency, when the allocator can check it.
    fn check(&self) -> bool {
        true
    }
}

pub struct Heapcaps(pub MultiHeap);

impl Contender for Heapcaps {
    const NAME: &'static str = "heapcaps";
    unsafe fn new(base: *mut u8, len: usize) -> Option<Self> {
        MultiHeap::register(base, len).map(Heapcaps)
    }
    #[inline(always)]
    unsafe fn malloc(&mut self, size: usize) -> *mut u8 {
        self.0.malloc(size)
    }
    #[inline(always)]
    unsafe fn aligned(&mut self, size: usize, align: usize) -> *mut u8 {
        self.0.aligned_alloc_offs(size, align, 0)
    }
    #[inline(always)]
    unsafe fn free(&mut self, p: *mut u8, _size: usize, _align: usize) {
        self.0.free(p)
    }
    #[inline(always)]
    unsafe fn realloc(&mut self, p: *mut u8, _old: usize, _align: usize, new: usize) -> *mut u8 {
        self.0.realloc(p, new)
    }
    fn free_size(&self) -> Option<usize> {
        Some(self.0.free_size())
    }
    fn check(&self) -> bool {
        self.0.check(true)
    }
}

/// rlsf configuration: 32-bit bitmaps, 20 first-level classes (blocks up to 16 MiB on 32-bit,
/// 32 MiB on 64-bit, enough for the 4 MiB memory probe) and 32 second-level classes (ESP-IDF's
/// TLSF also splits each power of two into 32).
pub type RlsfTlsf = rlsf::Tlsf<'static, u32, u32, 20, 32>;

pub struct Rlsf(*mut RlsfTlsf);

impl Rlsf {
    pub const CONTROL: usize = size_of::<RlsfTlsf>();
}

impl Contender for Rlsf {
    const NAME: &'static str = "rlsf";
    unsafe fn new(base: *mut u8, len: usize) -> Option<Self> {
        let ctl = base as *mut RlsfTlsf;
        if len <= Rlsf::CONTROL {
            return None;
        }
        ptr::write(ctl, RlsfTlsf::new());
        let pool = ptr::slice_from_raw_parts_mut(base.add(Rlsf::CONTROL), len - Rlsf::CONTROL);
        (*ctl).insert_free_block_ptr(NonNull::new(pool)?)?;
        Some(Rlsf(ctl))
    }
    #[inline(always)]
    unsafe fn malloc(&mut self, size: usize) -> *mut u8 {
        let l = Layout::from_size_align_unchecked(size, MALLOC_ALIGN);
        (*self.0)
            .allocate(l)
            .map_or(ptr::null_mut(), |p| p.as_ptr())
    }
    #[inline(always)]
    unsafe fn aligned(&mut self, size: usize, align: usize) -> *mut u8 {
        let l = Layout::from_size_align_unchecked(size, align);
        (*self.0)
            .allocate(l)
            .map_or(ptr::null_mut(), |p| p.as_ptr())
    }
    #[inline(always)]
    unsafe fn free(&mut self, p: *mut u8, _size: usize, align: usize) {
        (*self.0).deallocate(NonNull::new_unchecked(p), align)
    }
    #[inline(always)]
    unsafe fn realloc(&mut self, p: *mut u8, _old: usize, align: usize, new: usize) -> *mut u8 {
        let l = Layout::from_size_align_unchecked(new, align);
        (*self.0)
            .reallocate(NonNull::new_unchecked(p), l)
            .map_or(ptr::null_mut(), |p| p.as_ptr())
    }
}

pub type TalcHeap = talc::base::Talc<talc::source::Manual, talc::DefaultBinning>;

/// talc keeps its bin table inside the claimed region; only this small struct is outside.
pub struct Talc(TalcHeap);

impl Contender for Talc {
    const NAME: &'static str = "talc";
    unsafe fn new(base: *mut u8, len: usize) -> Option<Self> {
        let mut t = TalcHeap::new(talc::source::Manual);
        t.claim(base, len)?;
        Some(Talc(t))
    }
    #[inline(always)]
    unsafe fn malloc(&mut self, size: usize) -> *mut u8 {
        let l = Layout::from_size_align_unchecked(size, MALLOC_ALIGN);
        self.0
            .try_allocate(l)
            .map_or(ptr::null_mut(), |p| p.as_ptr())
    }
    #[inline(always)]
    unsafe fn aligned(&mut self, size: usize, align: usize) -> *mut u8 {
        let l = Layout::from_size_align_unchecked(size, align);
        self.0
            .try_allocate(l)
            .map_or(ptr::null_mut(), |p| p.as_ptr())
    }
    #[inline(always)]
    unsafe fn free(&mut self, p: *mut u8, size: usize, align: usize) {
        self.0
            .deallocate(p, Layout::from_size_align_unchecked(size, align))
    }
    /// What talc's own `GlobalAlloc::realloc` does: in place if it can, else move.
    #[inline(always)]
    unsafe fn realloc(&mut self, p: *mut u8, old: usize, align: usize, new: usize) -> *mut u8 {
        let ol = Layout::from_size_align_unchecked(old, align);
        if self.0.try_realloc_in_place(p, ol, new) {
            return p;
        }
        let Some(q) = self
            .0
            .try_allocate(Layout::from_size_align_unchecked(new, align))
        else {
            return ptr::null_mut();
        };
        ptr::copy_nonoverlapping(p, q.as_ptr(), old.min(new));
        self.0.deallocate(p, ol);
        q.as_ptr()
    }
}

/// linked_list_allocator (first fit over a free list sorted by address). It has no realloc:
/// allocate, copy, free (what its `GlobalAlloc` gets from the default `realloc`).
pub struct LinkedList(linked_list_allocator::Heap);

impl Contender for LinkedList {
    const NAME: &'static str = "linked_list";
    unsafe fn new(base: *mut u8, len: usize) -> Option<Self> {
        Some(LinkedList(linked_list_allocator::Heap::new(base, len)))
    }
    #[inline(always)]
    unsafe fn malloc(&mut self, size: usize) -> *mut u8 {
        self.aligned(size, MALLOC_ALIGN)
    }
    #[inline(always)]
    unsafe fn aligned(&mut self, size: usize, align: usize) -> *mut u8 {
        let l = Layout::from_size_align_unchecked(size, align);
        self.0
            .allocate_first_fit(l)
            .map_or(ptr::null_mut(), |p| p.as_ptr())
    }
    #[inline(always)]
    unsafe fn free(&mut self, p: *mut u8, size: usize, align: usize) {
        self.0.deallocate(
            NonNull::new_unchecked(p),
            Layout::from_size_align_unchecked(size, align),
        )
    }
    #[inline(always)]
    unsafe fn realloc(&mut self, p: *mut u8, old: usize, align: usize, new: usize) -> *mut u8 {
        let q = self.aligned(new, align);
        if q.is_null() {
            return q;
        }
        ptr::copy_nonoverlapping(p, q, old.min(new));
        self.free(p, old, align);
        q
    }
    fn free_size(&self) -> Option<usize> {
        Some(self.0.free())
    }
}

/// Hands dlmalloc the benchmark region as its one and only segment (flagged external, so it is
/// never given back), instead of asking the OS.
pub struct OneRegion {
    base: core::cell::Cell<usize>,
    len: usize,
}

// SAFETY: the region is plain memory owned by the heap; dlmalloc calls these from one thread.
unsafe impl dlmalloc::Allocator for OneRegion {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        let b = self.base.replace(0);
        if b == 0 || size > self.len {
            self.base.set(b);
            return (ptr::null_mut(), 0, 0);
        }
        (b as *mut u8, self.len, 1)
    }
    fn remap(&self, _: *mut u8, _: usize, _: usize, _: bool) -> *mut u8 {
        ptr::null_mut()
    }
    fn free_part(&self, _: *mut u8, _: usize, _: usize) -> bool {
        false
    }
    fn free(&self, _: *mut u8, _: usize) -> bool {
        false
    }
    fn can_release_part(&self, _: u32) -> bool {
        false
    }
    fn allocates_zeros(&self) -> bool {
        false
    }
    fn page_size(&self) -> usize {
        16
    }
}

/// dlmalloc (Rust port of Doug Lea's malloc). Its state (bins) lives in this struct, outside
/// the region, like talc's; granularity 16 B so that it takes the region as given.
pub struct Dlmalloc(dlmalloc::Dlmalloc<OneRegion>);

impl Contender for Dlmalloc {
    const NAME: &'static str = "dlmalloc";
    unsafe fn new(base: *mut u8, len: usize) -> Option<Self> {
        let mut d = dlmalloc::Dlmalloc::new_with_allocator(OneRegion {
            base: core::cell::Cell::new(base as usize),
            len,
        });
        d.set_granularity(16);
        d.set_max_release_check_rate(0);
        Some(Dlmalloc(d))
    }
    #[inline(always)]
    unsafe fn malloc(&mut self, size: usize) -> *mut u8 {
        self.0.malloc(size, MALLOC_ALIGN)
    }
    #[inline(always)]
    unsafe fn aligned(&mut self, size: usize, align: usize) -> *mut u8 {
        self.0.malloc(size, align)
    }
    #[inline(always)]
    unsafe fn free(&mut self, p: *mut u8, size: usize, align: usize) {
        self.0.free(p, size, align)
    }
    #[inline(always)]
    unsafe fn realloc(&mut self, p: *mut u8, old: usize, align: usize, new: usize) -> *mut u8 {
        self.0.realloc(p, old, align, new)
    }
}

/// The harness alone: same trace, same slot bookkeeping, no allocator. Returns distinct fake
/// non-null pointers through `black_box` so the loop is not optimised away.
pub struct Baseline(*mut u8);

impl Contender for Baseline {
    const NAME: &'static str = "baseline";
    unsafe fn new(base: *mut u8, _len: usize) -> Option<Self> {
        Some(Baseline(base))
    }
    #[inline(always)]
    unsafe fn malloc(&mut self, size: usize) -> *mut u8 {
        black_box(self.0.wrapping_add(size))
    }
    #[inline(always)]
    unsafe fn aligned(&mut self, size: usize, align: usize) -> *mut u8 {
        black_box(self.0.wrapping_add(size + align))
    }
    #[inline(always)]
    unsafe fn free(&mut self, p: *mut u8, _size: usize, _align: usize) {
        black_box(p);
    }
    #[inline(always)]
    unsafe fn realloc(&mut self, p: *mut u8, _old: usize, _align: usize, new: usize) -> *mut u8 {
        black_box(p.wrapping_add(new))
    }
}
