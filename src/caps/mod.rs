//! The capabilities layer: a registry of heaps (one `MultiHeap` per region, each with three
//! priority masks of `MALLOC_CAP_*` bits) and the `heap_caps_*` semantics over it — heap selection,
//! the D/IRAM alias for EXEC memory, the default malloc policy, statistics, monitoring and runtime
//! regions. Knows nothing of C; `capi/esp_heap_caps*.rs` map these functions to ESP-IDF's ABI.
//!
//! The registry lives in fixed storage (no allocation): `MAX_HEAPS` slots chained into a singly
//! linked list by index, in ESP-IDF's order (runtime heaps inserted at the head, boot heaps sorted
//! by ascending size, later address first among equal sizes). Readers walk the list without locks;
//! a slot is filled completely before the head index that publishes it is stored (Release).
//! Allocation does not walk the list: an index kept beside it at registration (`Index`) gives the
//! heaps matching a capability set in list order, so its cost does not grow with the number of
//! heaps. On hosts the index also finds the heap of an address by binary search; the chips (a
//! handful of heaps) walk the list for that, as ESP-IDF does.

pub mod chips;

use core::cell::UnsafeCell;
use core::ffi::{c_void, CStr};
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};

use crate::multi_heap::{Info, MultiHeap};
use crate::port;
use crate::text::{cstr, say};

bitflags::bitflags! {
    /// Capability bits; values equal ESP-IDF's `MALLOC_CAP_*`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Caps: u32 {
        const EXEC = 1 << 0;
        const BIT32 = 1 << 1;
        const BIT8 = 1 << 2;
        const DMA = 1 << 3;
        const PID2 = 1 << 4;
        const PID3 = 1 << 5;
        const PID4 = 1 << 6;
        const PID5 = 1 << 7;
        const PID6 = 1 << 8;
        const PID7 = 1 << 9;
        const SPIRAM = 1 << 10;
        const INTERNAL = 1 << 11;
        const DEFAULT = 1 << 12;
        const IRAM_8BIT = 1 << 13;
        const RETENTION = 1 << 14;
        const RTCRAM = 1 << 15;
        const SPM = 1 << 16;
        const DMA_DESC_AHB = 1 << 17;
        const DMA_DESC_AXI = 1 << 18;
        const CACHE_ALIGNED = 1 << 19;
        const SIMD = 1 << 20;
        const SPIRAM_NO_ENC = 1 << 21;
        const INVALID = 1 << 31;
        const _ = !0;
    }
}

/// Whether the build runs on a single hart: bare-metal RISC-V without the atomic extension (the
/// ESP32-C2 and C3, `riscv32imc`), where no second core can share the heap (multi-core chips need
/// the A extension for their locks), or any chip build whose FreeRTOS runs on one core
/// (`FREERTOS_UNICORE`, which ESP-IDF selects for every single-core target: the C6, H2, C5 and C61
/// on `riscv32imac` among them).
const ONE_HART: bool = cfg!(all(
    target_os = "none",
    any(
        all(target_arch = "riscv32", not(target_feature = "a")),
        feature = "FREERTOS_UNICORE"
    )
));

/// An Acquire load, `load` given the ordering to use. One hart observes its own memory accesses
/// in program order, so there a Relaxed load with a compiler fence after it orders the same (the
/// fence instruction it saves took 4 bytes of flash at each of ~20 uses).
#[inline(always)]
pub(crate) fn acquire<T>(load: impl FnOnce(Ordering) -> T) -> T {
    if ONE_HART {
        let v = load(Ordering::Relaxed);
        core::sync::atomic::compiler_fence(Ordering::Acquire);
        v
    } else {
        load(Ordering::Acquire)
    }
}

/// A Release store, `store` given the ordering to use (see [`acquire`]).
#[inline(always)]
pub(crate) fn release(store: impl FnOnce(Ordering)) {
    if ONE_HART {
        core::sync::atomic::compiler_fence(Ordering::Release);
        store(Ordering::Relaxed)
    } else {
        store(Ordering::Release)
    }
}

/// Maximum number of heaps (boot regions plus runtime regions).
pub const MAX_HEAPS: usize = 32;

/// ESP-IDF error codes returned by the registration and monitoring functions (the discriminant
/// is the `esp_err_t` value: no lookup table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Error {
    /// `ESP_FAIL`
    Fail = -1,
    /// `ESP_ERR_NO_MEM`
    NoMem = 0x101,
    /// `ESP_ERR_INVALID_ARG`
    InvalidArg = 0x102,
    /// `ESP_ERR_INVALID_STATE`
    InvalidState = 0x103,
    /// `ESP_ERR_INVALID_SIZE`
    InvalidSize = 0x104,
    /// `ESP_ERR_NOT_FOUND`
    NotFound = 0x105,
}

impl Error {
    /// The `esp_err_t` value.
    pub const fn code(self) -> i32 {
        self as i32
    }
}

/// Called when an allocation fails: (requested size, caps as given, public function name).
pub type FailedAllocHook = fn(usize, u32, &'static CStr);

/// A boot region: what `heap_caps_init` receives after reserved ranges were cut out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootRegion {
    /// Start address (where the memory really is).
    pub start: usize,
    /// Size in bytes.
    pub size: usize,
    /// Index of the memory type (regions coalesce only with the same type).
    pub ty: usize,
    /// Priority masks of the type.
    pub caps: [u32; 3],
    /// Region used as the startup stack: registered by `enable_nonos_stack_heaps`.
    pub startup_stack: bool,
    /// Address shown in the boot log (the chip address in the host simulation).
    pub shown_at: usize,
    /// Type name shown in the boot log.
    pub name: TypeName,
}

/// The name of a memory type (boot log, task tracking): a Rust string on hosts.
#[cfg(not(target_os = "none"))]
pub type TypeName = &'static str;

/// The name of a memory type: on the chips the C string of ESP-IDF's table as it is, which the
/// boot log hands to the ROM printf (`%s`); measured (and checked) only where a Rust string is
/// needed (task tracking). Measuring and checking every name at boot cost ~120 B of flash.
#[cfg(target_os = "none")]
pub type TypeName = CName;

/// A NUL-terminated string that lives for the rest of the program (see [`TypeName`]).
#[cfg(target_os = "none")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CName(*const core::ffi::c_char);

// SAFETY: the pointer is only read, and what it points to never changes (see `CName::new`).
#[cfg(target_os = "none")]
unsafe impl Send for CName {}
// SAFETY: as above.
#[cfg(target_os = "none")]
unsafe impl Sync for CName {}

#[cfg(target_os = "none")]
impl CName {
    /// `p`, or the empty string for NULL.
    ///
    /// # Safety
    /// `p` must be NULL or a NUL-terminated string that is never written and lives forever.
    pub unsafe fn new(p: *const core::ffi::c_char) -> CName {
        static EMPTY: u8 = 0;
        if p.is_null() {
            CName(&EMPTY as *const u8 as *const core::ffi::c_char)
        } else {
            CName(p)
        }
    }

    /// The address of the string.
    pub fn as_ptr(self) -> *const core::ffi::c_char {
        self.0
    }

    /// The string as a Rust string: ESP-IDF's names are ASCII; anything else gives "" (an ASCII
    /// test instead of full UTF-8 validation saves ~400 bytes of flash).
    pub fn to_str(self) -> &'static str {
        // SAFETY: `new`'s contract: a NUL-terminated string that lives forever.
        let b = unsafe { CStr::from_ptr(self.0) }.to_bytes();
        if b.iter().any(|&c| c >= 0x80) {
            return "";
        }
        // SAFETY: ASCII is valid UTF-8.
        unsafe { core::str::from_utf8_unchecked(b) }
    }
}

/// The empty type name (runtime regions without a memory type).
pub fn no_name() -> TypeName {
    #[cfg(target_os = "none")]
    {
        // SAFETY: NULL gives the empty string.
        unsafe { CName::new(ptr::null()) }
    }
    #[cfg(not(target_os = "none"))]
    {
        ""
    }
}

/// The D/IRAM window of chips where one memory has different data and instruction addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiramAlias {
    /// First address of the data view.
    pub dram_lo: usize,
    /// End of the data view (exclusive).
    pub dram_hi: usize,
    /// First address of the instruction view.
    pub iram_lo: usize,
    /// ESP32: the instruction view runs backwards word by word.
    pub inverted: bool,
}

impl DiramAlias {
    fn iram_hi(&self) -> usize {
        self.iram_lo + (self.dram_hi - self.dram_lo)
    }
    fn in_dram(&self, p: usize) -> bool {
        p >= self.dram_lo && p < self.dram_hi
    }
    fn in_iram(&self, p: usize) -> bool {
        p >= self.iram_lo && p < self.iram_hi()
    }
    fn dram_to_iram(&self, p: usize) -> usize {
        if self.inverted {
            self.iram_lo + (self.dram_hi - p) - 4
        } else {
            self.iram_lo + (p - self.dram_lo)
        }
    }
}

/// Chip facts that change allocation: cache-line alignment for DMA-type requests, SIMD alignment,
/// and the largest contiguous RAM span (`HEAP_SIZE_MAX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HwParams {
    /// Data cache line in front of internal RAM (0 when internal RAM is not cached).
    pub internal_line: usize,
    /// Data cache line in front of PSRAM.
    pub external_line: usize,
    /// Preferred SIMD alignment (0 when the chip has no SIMD).
    pub simd_align: usize,
    /// `HEAP_SIZE_MAX`.
    pub size_max: usize,
}

impl HwParams {
    /// Parameters of the ESP32 (the default simulated chip).
    pub const ESP32: HwParams = HwParams {
        internal_line: 0,
        external_line: 32,
        simd_align: 0,
        size_max: 0x0040_0000,
    };
}

/// An `AtomicUsize` whose all-zero bit pattern means `D`: the value is stored XOR `D`. Fields with
/// a non-zero initial value use it so that [`Registry::new`] is all zero bytes, which puts the
/// global registry in `.bss` (a non-zero initial image would also be copied into flash as `.data`).
struct Biased<const D: usize>(AtomicUsize);

impl<const D: usize> Biased<D> {
    /// Holds `D`.
    const fn new() -> Self {
        Biased(AtomicUsize::new(0))
    }
    #[inline(always)]
    fn load(&self, o: Ordering) -> usize {
        self.0.load(o) ^ D
    }
    #[inline(always)]
    fn store(&self, v: usize, o: Ordering) {
        self.0.store(v ^ D, o)
    }
}

/// One heap slot. Fields are atomics so the registry can be a plain `static`; each is written
/// before the slot is published in the list (or, for `heap`, at single-threaded boot).
struct Slot {
    start: AtomicUsize,
    end: AtomicUsize,
    caps: [AtomicU32; 3],
    all: AtomicU32,
    /// Region start of the registered `MultiHeap`; 0 = not registered.
    heap: AtomicUsize,
    /// Index + 1 of the next slot in the list; 0 ends the list.
    next: AtomicUsize,
    /// Saved minimum while local-minimum monitoring is active (per slot, not per list position).
    saved_min: Biased<{ usize::MAX }>,
    /// The heap's `portMUX_TYPE` ({owner, count}); its address goes to `MultiHeap::set_lock`.
    lock: UnsafeCell<[u32; 2]>,
    /// The type name ([`TypeName`]): its address, and on hosts its length.
    name: AtomicPtr<u8>,
    #[cfg(not(target_os = "none"))]
    name_len: AtomicUsize,
    /// Position in the selection index (list order); see [`Index`].
    pos: AtomicUsize,
    /// `[lo, hi)` covering every heap that lies inside this one's range (empty: none), grown
    /// for good as such heaps are added: an address lookup may stop at this heap only outside
    /// it (see `Index::last`).
    #[cfg(not(any(target_os = "none", heapcaps_compact)))]
    inner: [AtomicUsize; 2],
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            caps: [AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0)],
            all: AtomicU32::new(0),
            heap: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
            saved_min: Biased::new(),
            lock: UnsafeCell::new(port::LOCK_INIT),
            name: AtomicPtr::new(ptr::null_mut()),
            #[cfg(not(target_os = "none"))]
            name_len: AtomicUsize::new(0),
            pos: AtomicUsize::new(0),
            #[cfg(not(any(target_os = "none", heapcaps_compact)))]
            inner: [AtomicUsize::new(0), AtomicUsize::new(0)],
        }
    }

    #[inline(always)]
    fn heap(&self) -> Option<MultiHeap> {
        // SAFETY: a non-zero value was stored from `MultiHeap::as_ptr` of a registered heap.
        unsafe { MultiHeap::from_ptr(acquire(|o| self.heap.load(o)) as *mut c_void) }
    }

    fn start(&self) -> usize {
        self.start.load(Ordering::Relaxed)
    }

    fn end(&self) -> usize {
        self.end.load(Ordering::Relaxed)
    }

    fn prio(&self, p: usize) -> u32 {
        self.caps.get(p).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// The OR of the three masks, for a heap known to be registered (unregistered heaps match
    /// nothing: every user looks at registered ones only, and so needs no second load of the
    /// heap word).
    #[inline(always)]
    fn mask(&self) -> u32 {
        self.all.load(Ordering::Relaxed)
    }

    fn lock_ptr(&self) -> *mut c_void {
        self.lock.get() as *mut c_void
    }

    fn name(&self) -> &'static str {
        let p = self.name.load(Ordering::Relaxed);
        if p.is_null() {
            return "";
        }
        #[cfg(target_os = "none")]
        {
            // SAFETY: `p` came from a `CName` in `fill`.
            unsafe { CName::new(p as *const core::ffi::c_char) }.to_str()
        }
        // SAFETY: (p, len) came from a `&'static str` in `fill`.
        #[cfg(not(target_os = "none"))]
        unsafe {
            core::str::from_utf8_unchecked(core::slice::from_raw_parts(
                p,
                self.name_len.load(Ordering::Relaxed),
            ))
        }
    }

    /// Registers the slot's range as its heap with the slot's lock (and, with `zero_min`, a
    /// minimum-free value of 0) and publishes it in the slot. The one copy of these steps for
    /// boot, `enable_nonos_stack_heaps` and runtime regions.
    ///
    /// # Safety
    /// The slot's range must be memory valid for reads and writes and reserved for the heap for
    /// the rest of the program.
    #[inline(never)]
    unsafe fn attach(&self, zero_min: bool) -> Option<MultiHeap> {
        let start = self.start();
        // SAFETY: forwarded caller contract.
        let h = unsafe { MultiHeap::register(start as *mut u8, self.end() - start)? };
        h.set_lock(self.lock_ptr());
        if zero_min {
            // Lowering the mark to 0 sets it to 0 (the same call as monitoring's restore).
            h.restore_minimum_free_bytes(0);
        }
        release(|o| self.heap.store(h.as_ptr() as usize, o));
        Some(h)
    }

    /// Whether `p` lies outside `inner` (one compare: an empty range is `[0, 0)`).
    #[cfg(not(any(target_os = "none", heapcaps_compact)))]
    #[inline(always)]
    fn outside_inner(&self, p: usize) -> bool {
        let [a, b] = &self.inner;
        let lo = a.load(Ordering::Relaxed);
        p.wrapping_sub(lo) >= b.load(Ordering::Relaxed).wrapping_sub(lo)
    }

    /// Grows `inner` to cover `[lo, hi)` (writer lock held).
    #[cfg(not(any(target_os = "none", heapcaps_compact)))]
    fn add_inner(&self, lo: usize, hi: usize) {
        let [a, b] = &self.inner;
        let (l, h) = (a.load(Ordering::Relaxed), b.load(Ordering::Relaxed));
        let (l, h) = if l < h {
            (l.min(lo), h.max(hi))
        } else {
            (lo, hi)
        };
        a.store(l, Ordering::Relaxed);
        b.store(h, Ordering::Relaxed);
    }

    // One copy on the chips (boot and runtime regions).
    #[cfg_attr(target_os = "none", inline(never))]
    fn fill(&self, start: usize, end: usize, caps: [u32; 3], name: TypeName) {
        self.start.store(start, Ordering::Relaxed);
        self.end.store(end, Ordering::Relaxed);
        // Three plain stores (a loop over the pairs compiled to a copy through the stack).
        let [c0, c1, c2] = &self.caps;
        c0.store(caps[0], Ordering::Relaxed);
        c1.store(caps[1], Ordering::Relaxed);
        c2.store(caps[2], Ordering::Relaxed);
        self.all
            .store(caps[0] | caps[1] | caps[2], Ordering::Relaxed);
        self.name.store(name.as_ptr() as *mut u8, Ordering::Relaxed);
        #[cfg(not(target_os = "none"))]
        self.name_len.store(name.len(), Ordering::Relaxed);
        self.saved_min.store(usize::MAX, Ordering::Relaxed);
    }
}

/// Precomputed capability-to-heap order, so that heap selection costs the same however many heaps
/// are registered (ESP-IDF walks the whole list for every priority on every allocation).
///
/// Every listed heap has a position 0..MAX_HEAPS; ascending positions are list order. Boot heaps
/// take the top positions (renumbered once at the end of `init`), each runtime heap the position
/// below the lowest used one, so positions never change after boot. With every used slot in the
/// list, the `n` listed heaps hold positions `MAX_HEAPS - n ..`: slot `i` added at run time
/// takes `MAX_HEAPS - 1 - i`. For every capability bit `b`,
/// `masks[p][b]` (p < 3) holds the positions of the heaps whose priority-`p` mask has `b`, and
/// `masks[ALL][b]` those whose combined mask has it; `live` holds the positions with a registered
/// `MultiHeap`. The heaps eligible at priority `p` for `caps` are then
/// `OR_b masks[p][b] & AND_b masks[ALL][b] & live` over the
/// bits of `caps`: a few word operations per set bit, visited lowest position first. Writers hold
/// the registry's writer lock; readers take no lock: a heap's `live` bit is stored last (Release)
/// and loaded first (Acquire), so a reader that sees it sees its masks and slot too.
struct Index {
    /// Three priorities, then the combined mask (`ALL`).
    masks: [[AtomicU32; 32]; 4],
    live: AtomicU32,
    /// For each of [`COMMON_CAPS`], the position of the first heap an allocation with exactly
    /// those caps tries (lowest priority, then list order) among the `live` ones, or `NONE`:
    /// written before each store of `live` (`Registry::store_live`), so that the most frequent
    /// requests find their heap with one load. A reader that sees the position's `live` bit
    /// clear (a writer is between the two stores) takes the general way. Not in the chips'
    /// size configuration (flash).
    #[cfg(not(heapcaps_flash_first))]
    first: [AtomicU32; COMMON_CAPS.len()],
    /// Slot index at each position.
    slot: [AtomicUsize; MAX_HEAPS],
    /// Slot indices of the listed heaps sorted by start address (`nsorted` used), for the
    /// address lookup of free/realloc: a binary search instead of a list walk. Hosts only: the
    /// chips (a handful of heaps) walk the list as ESP-IDF does, which costs about the same
    /// there and saves the table's code (~0.3 KB of flash) and RAM.
    #[cfg(not(any(target_os = "none", heapcaps_compact)))]
    sorted: [AtomicUsize; MAX_HEAPS],
    #[cfg(not(any(target_os = "none", heapcaps_compact)))]
    nsorted: AtomicUsize,
    /// Sequence count of `sorted` (odd while a writer changes it): a reader that sees it change
    /// during its search falls back to walking the list.
    #[cfg(not(any(target_os = "none", heapcaps_compact)))]
    seq: AtomicUsize,
    /// Slot index + 1 of the heap the last address lookup found (0: none yet): frees and
    /// reallocs mostly come in runs on one heap, and this one check replaces the search. Used
    /// only for an address outside every heap that lies inside that one (`Slot::inner`: the
    /// PSRAM boards' DMA pool lies in a boot heap), so that it is the only heap holding it.
    #[cfg(not(any(target_os = "none", heapcaps_compact)))]
    last: AtomicUsize,
    /// Set for good once a heap lies inside another: only then does a lookup look at `inner`.
    #[cfg(not(any(target_os = "none", heapcaps_compact)))]
    nested: AtomicBool,
}

impl Index {
    const fn new() -> Index {
        Index {
            masks: [const { [const { AtomicU32::new(0) }; 32] }; 4],
            live: AtomicU32::new(0),
            // 0, not NONE: with every field zero the registry goes to `.bss` (a non-zero word
            // put the whole static in `.data`, whose 2.4 KB image the chips keep in flash and
            // copy at boot). Before the first `store_live` no `live` bit is set, so a reader
            // never takes this position (see `first_eligible`).
            #[cfg(not(heapcaps_flash_first))]
            first: [const { AtomicU32::new(0) }; COMMON_CAPS.len()],
            slot: [const { AtomicUsize::new(0) }; MAX_HEAPS],
            #[cfg(not(any(target_os = "none", heapcaps_compact)))]
            sorted: [const { AtomicUsize::new(0) }; MAX_HEAPS],
            #[cfg(not(any(target_os = "none", heapcaps_compact)))]
            nsorted: AtomicUsize::new(0),
            #[cfg(not(any(target_os = "none", heapcaps_compact)))]
            seq: AtomicUsize::new(0),
            #[cfg(not(any(target_os = "none", heapcaps_compact)))]
            last: AtomicUsize::new(0),
            #[cfg(not(any(target_os = "none", heapcaps_compact)))]
            nested: AtomicBool::new(false),
        }
    }

    /// Puts position `pos` in exactly the masks selected by the caps of `slot` (writer lock
    /// held; plain load/store, as the device target has no read-modify-write atomics). One loop
    /// over the 4 x 32 words.
    fn mark(&self, pos: usize, slot: &Slot) {
        let bit = 1u32 << (pos % 32);
        for (i, w) in self.masks.as_flattened().iter().enumerate() {
            // The slot's three masks, then their OR (`ALL`), read in place.
            let c = slot.caps.get(i / 32).unwrap_or(&slot.all);
            let c = c.load(Ordering::Relaxed);
            let v = w.load(Ordering::Relaxed);
            let v = if (c >> (i % 32)) & 1 != 0 {
                v | bit
            } else {
                v & !bit
            };
            w.store(v, Ordering::Relaxed);
        }
    }

    /// Positions eligible at priority `prio` for `caps`, as a bit set.
    #[inline(always)]
    fn eligible(&self, prio: usize, caps: u32) -> u32 {
        self.eligible_among(prio, caps, acquire(|o| self.live.load(o)))
    }

    /// The position of the first heap an allocation with `caps` tries among the positions of
    /// `live` (the lowest priority's first eligible one in list order), or `NONE`. One copy
    /// on the chips.
    #[cfg_attr(target_os = "none", inline(never))]
    fn first_position(&self, caps: u32, live: u32) -> u32 {
        for p in 0..3 {
            let set = self.eligible_among(p, caps, live);
            if set != 0 {
                return lowest_bit(set) as u32;
            }
        }
        NONE
    }

    /// `eligible` among the positions of `live`.
    #[inline(always)]
    fn eligible_among(&self, prio: usize, caps: u32, live: u32) -> u32 {
        let (Some(masks), Some(alls)) = (self.masks.get(prio), self.masks.get(ALL)) else {
            return 0;
        };
        let mut all = live;
        let mut any = 0;
        let mut c = caps;
        while c != 0 {
            let b = lowest_bit(c);
            c &= c - 1;
            if let (Some(p), Some(a)) = (masks.get(b), alls.get(b)) {
                any |= p.load(Ordering::Relaxed);
                all &= a.load(Ordering::Relaxed);
            }
        }
        any & all
    }
}

/// Index of the lowest set bit of `x` (not 0): TLSF's `lowest_bit` (on the chips its one
/// out-of-line copy, shared with TLSF's class search).
#[inline(always)]
fn lowest_bit(x: u32) -> usize {
    // (`% 32`, a no-op on the result, lets the compiler drop the bounds checks of the 32-entry
    // tables it indexes.)
    crate::tlsf::lowest_bit(x) as usize % 32
}

/// Index of the combined mask in [`Index::masks`].
const ALL: usize = 3;

/// The slots of a position set, lowest position (= list order) first.
struct Eligible<'a> {
    reg: &'a Registry,
    set: u32,
}

impl<'a> Iterator for Eligible<'a> {
    type Item = &'a Slot;
    #[inline(always)]
    fn next(&mut self) -> Option<&'a Slot> {
        while self.set != 0 {
            let pos = lowest_bit(self.set);
            self.set &= self.set - 1;
            let idx = self.reg.index.slot.get(pos)?.load(Ordering::Relaxed);
            if let Some(s) = self.reg.slots.get(idx) {
                return Some(s);
            }
        }
        None
    }
}

/// A set of heaps with ESP-IDF's capability semantics. One global instance backs the C API
/// ([`global`]); tests build private instances over their own memory.
// `repr(C)`, small fields first: on the chips the global registry's scalar fields then sit within
// a load's 12-bit offset of its address (after the 1.8 KB of slots they needed an extra add at
// every use; -50 B of flash).
#[repr(C)]
pub struct Registry {
    used: AtomicUsize,
    head: AtomicUsize,
    writer: UnsafeCell<[u32; 2]>,
    /// `malloc_alwaysinternal_limit`; `usize::MAX` = external allocations disabled (-1).
    extmem_limit: Biased<EXTMEM_DISABLED>,
    failed_hook: AtomicPtr<()>,
    monitor_buf: AtomicPtr<u8>,
    hw_internal: Biased<{ HwParams::ESP32.internal_line }>,
    hw_external: Biased<{ HwParams::ESP32.external_line }>,
    hw_simd: Biased<{ HwParams::ESP32.simd_align }>,
    size_max: Biased<{ HwParams::ESP32.size_max }>,
    /// The D/IRAM alias window: DRAM low, DRAM high (0: no alias), IRAM low, inverted (not 0),
    /// in one array so that the chips' port fills it in place at boot.
    alias: [AtomicUsize; 4],
    initialised: AtomicBool,
    /// `enable_nonos_stack_heaps` has run (the startup phase is over).
    started: AtomicBool,
    monitoring: AtomicBool,
    index: Index,
    slots: [Slot; MAX_HEAPS],
    /// Per-task statistics (task tracking).
    #[cfg(feature = "HEAP_TASK_TRACKING")]
    tasks: crate::task_info::Tasks,
}

// SAFETY: every field is an atomic except the two lock words, which are only handed to the port's
// lock functions (they use atomics / critical sections on that storage).
unsafe impl Sync for Registry {}

const WORD: usize = 4;
/// Bytes of the DRAM address stored before an EXEC (IRAM-alias) pointer: a 32-bit word on the
/// chips, a pointer-sized word on 64-bit hosts (where addresses do not fit in 32 bits).
const ALIAS_WORD: usize = core::mem::size_of::<usize>();
const EXTMEM_DISABLED: usize = usize::MAX;
/// The block-owner word before every allocation with task tracking: the allocating task's
/// handle (`sizeof(TaskHandle_t)`: 4 on the chips, 8 on 64-bit hosts).
pub const OWNER: usize = if cfg!(feature = "HEAP_TASK_TRACKING") {
    core::mem::size_of::<*mut c_void>()
} else {
    0
};
/// `sizeof(heap_t)` on the chips (no task tracking): what ESP-IDF allocates per heap descriptor.
const HEAP_T_SIZE: usize = 36;

/// The caps values whose first heap the index keeps ready ([`Index`]'s `first`): `malloc`'s
/// (internal default memory), `MALLOC_CAP_DEFAULT`, `MALLOC_CAP_8BIT` and `MALLOC_CAP_INTERNAL |
/// MALLOC_CAP_8BIT` (FreeRTOS's objects and stacks, drivers' buffers).
#[cfg(not(heapcaps_flash_first))]
const COMMON_CAPS: [u32; 4] = [
    Registry::INTERNAL_DEFAULT,
    Caps::DEFAULT.bits(),
    Caps::BIT8.bits(),
    Caps::INTERNAL.bits() | Caps::BIT8.bits(),
];

/// A position of no heap (`Index::first_position`).
const NONE: u32 = u32::MAX;

/// The index of `caps` in [`COMMON_CAPS`] (compares with constants, no table walk).
#[cfg(not(heapcaps_flash_first))]
#[inline(always)]
fn common_index(caps: u32) -> Option<usize> {
    const C0: u32 = COMMON_CAPS[0];
    const C1: u32 = COMMON_CAPS[1];
    const C2: u32 = COMMON_CAPS[2];
    const C3: u32 = COMMON_CAPS[3];
    match caps {
        C0 => Some(0),
        C1 => Some(1),
        C2 => Some(2),
        C3 => Some(3),
        _ => None,
    }
}

/// Caps that make the hardware adjustment look at alignment.
const CAPS_NEEDING_ALIGNMENT: u32 = Caps::DMA.bits()
    | Caps::DMA_DESC_AHB.bits()
    | Caps::DMA_DESC_AXI.bits()
    | Caps::CACHE_ALIGNED.bits()
    | Caps::SIMD.bits();

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// An empty registry with ESP32 hardware parameters and no D/IRAM alias. Its bytes are all
    /// zero (see [`Biased`]; lock words start zeroed in every port), so a `static` of it costs no
    /// flash.
    pub const fn new() -> Registry {
        Registry {
            slots: [const { Slot::new() }; MAX_HEAPS],
            used: AtomicUsize::new(0),
            head: AtomicUsize::new(0),
            writer: UnsafeCell::new(port::LOCK_INIT),
            initialised: AtomicBool::new(false),
            started: AtomicBool::new(false),
            extmem_limit: Biased::new(),
            failed_hook: AtomicPtr::new(ptr::null_mut()),
            monitoring: AtomicBool::new(false),
            monitor_buf: AtomicPtr::new(ptr::null_mut()),
            hw_internal: Biased::new(),
            hw_external: Biased::new(),
            hw_simd: Biased::new(),
            size_max: Biased::new(),
            alias: [const { AtomicUsize::new(0) }; 4],
            #[cfg(feature = "HEAP_TASK_TRACKING")]
            tasks: crate::task_info::Tasks::new(),
            index: Index::new(),
        }
    }

    /// Sets the chip facts used by the hardware alignment adjustment and size limit.
    pub fn set_hw(&self, hw: HwParams) {
        self.hw_internal.store(hw.internal_line, Ordering::Relaxed);
        self.hw_external.store(hw.external_line, Ordering::Relaxed);
        self.hw_simd.store(hw.simd_align, Ordering::Relaxed);
        self.size_max.store(hw.size_max, Ordering::Relaxed);
    }

    /// Sets the size limit alone (`HEAP_SIZE_MAX`): the chips' boot, where the global registry
    /// leaves the alignment facts to ESP-IDF's own function (see `adjust_hw`).
    pub fn set_size_max(&self, size_max: usize) {
        self.size_max.store(size_max, Ordering::Relaxed);
    }

    /// Declares the D/IRAM alias window (chips whose D/IRAM has two addresses).
    pub fn set_diram_alias(&self, a: Option<DiramAlias>) {
        let a = a.unwrap_or(DiramAlias {
            dram_lo: 0,
            dram_hi: 0,
            iram_lo: 0,
            inverted: false,
        });
        let [lo, hi, iram, inv] = &self.alias;
        lo.store(a.dram_lo, Ordering::Relaxed);
        hi.store(a.dram_hi, Ordering::Relaxed);
        iram.store(a.iram_lo, Ordering::Relaxed);
        inv.store(a.inverted as usize, Ordering::Relaxed);
    }

    /// The chips' boot: ESP-IDF's port writes the alias window here (see `alias`).
    #[cfg(target_os = "none")]
    pub(crate) fn set_diram_alias_from_port(&self) {
        if !port::diram_alias_into(&self.alias) {
            // Same addresses for data and instructions: no alias.
            self.alias[1].store(0, Ordering::Relaxed);
        }
    }

    fn alias(&self) -> Option<DiramAlias> {
        let [lo, hi, iram, inv] = &self.alias;
        let hi = hi.load(Ordering::Relaxed);
        if hi == 0 {
            return None;
        }
        Some(DiramAlias {
            dram_lo: lo.load(Ordering::Relaxed),
            dram_hi: hi,
            iram_lo: iram.load(Ordering::Relaxed),
            // Only the ESP32's alias (an Xtensa chip) runs backwards: on RISC-V it is linear,
            // and the backwards arithmetic compiles away there (-46 B of flash).
            inverted: !cfg!(target_arch = "riscv32") && inv.load(Ordering::Relaxed) != 0,
        })
    }

    /// Whether `heap_caps_init` (or [`Registry::init`]) has run.
    pub fn is_initialised(&self) -> bool {
        acquire(|o| self.initialised.load(o))
    }

    /// Heaps eligible for `caps` at priority `prio`, in list order, from the precomputed index.
    #[inline(always)]
    fn eligible(&self, prio: usize, caps: u32) -> Eligible<'_> {
        Eligible {
            reg: self,
            set: self.index.eligible(prio, caps),
        }
    }

    #[inline(always)]
    fn iter(&self) -> Iter<'_> {
        Iter {
            reg: self,
            next: acquire(|o| self.head.load(o)),
        }
    }

    fn writer_lock(&self) -> WriterGuard {
        let l = self.writer.get() as *mut c_void;
        port::lock(l);
        WriterGuard(l)
    }

    // ---------------------------------------------------------------------------------------
    // Registration

    /// Builds the boot heaps from `regions` (already clipped against reserved ranges, sorted by
    /// address): coalesces adjacent regions of the same type and startup-stack flag, registers all
    /// but startup-stack regions, logs one line per region, and links them sorted by ascending size
    /// (equal sizes: later address first). Does nothing if already initialised.
    ///
    /// # Safety
    /// Every region must be memory valid for reads and writes and reserved for the heap for the
    /// rest of the program (regions of startup-stack type from `enable_nonos_stack_heaps` on).
    pub unsafe fn init(&self, regions: &[BootRegion]) {
        // SAFETY: forwarded caller contract (every region given to the builder is valid).
        let Some(mut b) = (unsafe { self.boot() }) else {
            return;
        };
        for r in regions {
            b.add(*r);
        }
        b.finish();
    }

    /// [`Registry::init`] one region at a time (the chip's boot streams the pieces of its memory
    /// table here instead of collecting them in a list first). `None` if already initialised.
    ///
    /// # Safety
    /// Every region given to [`Boot::add`] must be memory as described for [`Registry::init`].
    pub unsafe fn boot(&self) -> Option<Boot<'_>> {
        let w = self.writer_lock();
        if self.initialised.load(Ordering::Relaxed) {
            return None;
        }
        say!(
            err,
            "I (0) heap_init: Initializing. RAM available for dynamic allocation:\n"
        );
        Some(Boot {
            reg: self,
            pending: None,
            full: false,
            _w: w,
        })
    }

    /// Renumbers the selection index from the list (writer lock held): the list's heaps take
    /// the top positions in list order.
    #[inline(never)]
    fn reindex(&self) {
        let ix = &self.index;
        release(|o| ix.live.store(0, o));
        // Every used slot is in the list (slots are taken and linked under the writer lock).
        // The masks need no clearing first: positions used before (runtime heaps added before
        // boot) lie in the top `n` positions that `publish` rewrites here, every word of them.
        let n = self.used.load(Ordering::Relaxed).min(MAX_HEAPS);
        let mut live = 0u32;
        let mut pos = MAX_HEAPS - n;
        #[cfg(not(any(target_os = "none", heapcaps_compact)))]
        {
            // (`Slot::inner` stays as it is: it only ever grows, so no reader during this
            // rebuild can take the remembered heap while an inner heap is not yet back in the
            // table.)
            ix.nsorted.store(0, Ordering::Relaxed);
            ix.last.store(0, Ordering::Relaxed);
        }
        let mut cur = self.head.load(Ordering::Relaxed);
        while let Some(i) = cur.checked_sub(1) {
            let Some(slot) = self.slots.get(i) else { break };
            self.publish(i, pos, &mut live);
            #[cfg(not(any(target_os = "none", heapcaps_compact)))]
            self.insert_by_addr(i);
            pos += 1;
            cur = slot.next.load(Ordering::Relaxed);
        }
        self.store_live(live);
    }

    /// Adds slot `idx` to the address-sorted table (writer lock held).
    #[cfg(not(any(target_os = "none", heapcaps_compact)))]
    fn insert_by_addr(&self, idx: usize) {
        let ix = &self.index;
        let n = ix.nsorted.load(Ordering::Relaxed);
        let Some(me) = self.slots.get(idx) else {
            return;
        };
        if n >= MAX_HEAPS {
            return;
        }
        let seq = ix.seq.load(Ordering::Relaxed);
        ix.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        core::sync::atomic::fence(Ordering::Release);
        // Shift larger starts up by one, then drop the new slot into the gap (after equal
        // starts: a runtime region nested at the start of an older one comes after it).
        let mut j = n;
        while j > 0 {
            let prev = ix.sorted[j - 1].load(Ordering::Relaxed);
            if self
                .slots
                .get(prev)
                .map_or(true, |s| s.start() <= me.start())
            {
                break;
            }
            ix.sorted[j].store(prev, Ordering::Relaxed);
            j -= 1;
        }
        ix.sorted[j].store(idx, Ordering::Relaxed);
        ix.nsorted.store(n + 1, Ordering::Relaxed);
        // Ranges are disjoint or nested: a heap that overlaps the new one holds it or lies in
        // it. The outer one's `inner` range grows to cover the other (both ways when the
        // ranges are equal).
        for o in ix.sorted[..=n]
            .iter()
            .filter_map(|i| self.slots.get(i.load(Ordering::Relaxed)))
            .filter(|o| !ptr::eq(*o, me) && o.start() < me.end() && me.start() < o.end())
        {
            ix.nested.store(true, Ordering::Relaxed);
            if o.start() <= me.start() && me.end() <= o.end() {
                o.add_inner(me.start(), me.end());
            }
            if me.start() <= o.start() && o.end() <= me.end() {
                me.add_inner(o.start(), o.end());
            }
        }
        ix.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// Binary search of the address table; None if a writer changed it meanwhile. (Forced
    /// into its two callers: out of line it cost W7 ~10 instructions per operation.)
    #[inline(always)]
    #[cfg(not(any(target_os = "none", heapcaps_compact)))]
    fn lookup_by_addr(&self, p: usize) -> Option<Option<&Slot>> {
        let ix = &self.index;
        let seq = ix.seq.load(Ordering::Acquire);
        if seq % 2 == 1 {
            return None;
        }
        let last = ix.last.load(Ordering::Relaxed);
        if let Some(s) = last.checked_sub(1).and_then(|i| self.slots.get(i)) {
            if p >= s.start()
                && p < s.end()
                && s.heap.load(Ordering::Relaxed) != 0
                && (!ix.nested.load(Ordering::Relaxed) || s.outside_inner(p))
            {
                core::sync::atomic::fence(Ordering::Acquire);
                if ix.seq.load(Ordering::Relaxed) == seq {
                    return Some(Some(s));
                }
            }
        }
        let (mut lo, mut hi) = (0, ix.nsorted.load(Ordering::Relaxed).min(MAX_HEAPS));
        // Invariant: every entry below `lo` starts at or below p, every entry from `hi` above.
        while lo < hi {
            let mid = (lo + hi) / 2;
            let s = self
                .slots
                .get(ix.sorted.get(mid)?.load(Ordering::Relaxed))?;
            if s.start() <= p {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        // Heap ranges are disjoint or nested (a runtime region can lie inside an older heap,
        // never around one), so the heap the list walk finds first (the newest, innermost) is
        // the containing entry with the greatest start: scan down from the last start <= p.
        // Without nesting the first entry looked at decides.
        let mut found = None;
        for i in (0..lo).rev() {
            let Some(s) = ix
                .sorted
                .get(i)
                .and_then(|i| self.slots.get(i.load(Ordering::Relaxed)))
            else {
                break;
            };
            if p < s.end() && s.heap.load(Ordering::Relaxed) != 0 {
                found = Some(s);
                if let Some(k) = ix.sorted.get(i) {
                    ix.last
                        .store(k.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                }
                break;
            }
        }
        core::sync::atomic::fence(Ordering::Acquire);
        (ix.seq.load(Ordering::Relaxed) == seq).then_some(found)
    }

    /// Puts slot `idx` at position `pos` of the index and adds it to `live` if its heap exists.
    fn publish(&self, idx: usize, pos: usize, live: &mut u32) {
        let (Some(slot), Some(ps)) = (self.slots.get(idx), self.index.slot.get(pos)) else {
            return;
        };
        slot.pos.store(pos, Ordering::Relaxed);
        ps.store(idx, Ordering::Relaxed);
        self.index.mark(pos, slot);
        if slot.heap.load(Ordering::Relaxed) != 0 {
            *live |= 1 << (pos % 32);
        }
    }

    /// Marks slot `s`'s heap as registered in the index (writer lock held).
    fn publish_live(&self, s: &Slot) {
        let live =
            self.index.live.load(Ordering::Relaxed) | 1 << (s.pos.load(Ordering::Relaxed) % 32);
        self.store_live(live);
    }

    /// Publishes `live` as the index's registered positions (writer lock held), after the
    /// first heaps of the common caps among them.
    fn store_live(&self, live: u32) {
        let ix = &self.index;
        #[cfg(not(heapcaps_flash_first))]
        for (f, &caps) in ix.first.iter().zip(COMMON_CAPS.iter()) {
            f.store(ix.first_position(caps, live), Ordering::Relaxed);
        }
        release(|o| ix.live.store(live, o));
    }

    /// Links slot `idx` before the first entry whose size is >= its own.
    #[inline]
    fn insert_sorted(&self, idx: usize) {
        let Some(me) = self.slots.get(idx) else {
            return;
        };
        let size = me.end() - me.start();
        // The link to rewrite: the head, then the `next` of each smaller entry.
        let mut link = &self.head;
        while let Some(s) = link
            .load(Ordering::Relaxed)
            .checked_sub(1)
            .and_then(|i| self.slots.get(i))
        {
            if s.end() - s.start() >= size {
                break;
            }
            link = &s.next;
        }
        me.next
            .store(link.load(Ordering::Relaxed), Ordering::Relaxed);
        release(|o| link.store(idx + 1, o));
    }

    /// Registers the startup-stack heaps (every slot still without a heap) and ends the startup
    /// phase: heaps added later get a minimum-free value of 0.
    pub fn enable_nonos_stack_heaps(&self) {
        // The writer lock keeps two callers from registering the same region twice.
        let _w = self.writer_lock();
        for s in self.iter() {
            // SAFETY: the region was given to `init` with the promise that startup-stack regions
            // belong to the heap from this call on.
            if s.heap().is_none() && unsafe { s.attach(false) }.is_some() {
                self.publish_live(s);
            }
        }
        release(|o| self.started.store(true, o));
    }

    /// Adds `[start, end)` as a heap with `caps`, at the head of the list.
    ///
    /// # Safety
    /// The range must be memory valid for reads and writes and reserved for the heap forever.
    pub unsafe fn add_region_with_caps(
        &self,
        caps: [u32; 3],
        start: usize,
        end: usize,
        name: TypeName,
    ) -> Result<(), Error> {
        // SAFETY: forwarded caller contract.
        unsafe { self.add_region_caps_ref(&caps, start, end, name) }
    }

    /// [`Registry::add_region_with_caps`] with the masks by reference: the C entry points pass
    /// the caller's array or the memory type's masks in place (no copy).
    ///
    /// # Safety
    /// As for [`Registry::add_region_with_caps`].
    pub(crate) unsafe fn add_region_caps_ref(
        &self,
        caps: &[u32; 3],
        start: usize,
        end: usize,
        name: TypeName,
    ) -> Result<(), Error> {
        let caps = *caps;
        if start == 0 || end == 0 || end <= start {
            return Err(Error::InvalidArg);
        }
        let _w = self.writer_lock();
        let used = self.used.load(Ordering::Relaxed);
        for s in self.slots.iter().take(used) {
            if !check_add_region_allowed(s.start(), s.end(), start, end) {
                return Err(Error::Fail);
            }
        }
        let idx = self.used.load(Ordering::Relaxed);
        let Some(slot) = self.slots.get(idx) else {
            return Err(Error::NoMem);
        };
        // ESP-IDF allocates the new heap's descriptor from internal memory; the slot here is
        // static, but the allocation (and its failure) is kept so free sizes and codes match.
        let desc = self.malloc_base(HEAP_T_SIZE, Caps::INTERNAL.bits() | Caps::BIT8.bits());
        if desc.is_null() {
            return Err(Error::NoMem);
        }
        // The slot is not in use (nor visible) until `used` and the list take it.
        slot.fill(start, end, caps, name);
        // SAFETY: the caller guarantees the range is ours.
        let Some(h) = (unsafe { slot.attach(self.started.load(Ordering::Relaxed)) }) else {
            // SAFETY: `desc` was just allocated here.
            unsafe { self.free(desc) };
            return Err(Error::InvalidSize);
        };
        self.used.store(idx + 1, Ordering::Relaxed);
        if self.monitoring.load(Ordering::Relaxed) {
            // A heap added while monitoring starts its local minimum now.
            slot.saved_min
                .store(h.raw_minimum_free_bytes(), Ordering::Relaxed);
        }
        slot.next
            .store(self.head.load(Ordering::Relaxed), Ordering::Relaxed);
        // A new head takes the position below every other one (list order = position order):
        // the `idx` used slots hold the top `idx` positions (see `Index`).
        let pos = MAX_HEAPS - 1 - idx;
        let mut live = self.index.live.load(Ordering::Relaxed);
        self.publish(idx, pos, &mut live);
        #[cfg(not(any(target_os = "none", heapcaps_compact)))]
        self.insert_by_addr(idx);
        release(|o| self.head.store(idx + 1, o));
        self.store_live(live);
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Allocation

    /// `esp_heap_adjust_alignment_to_hw`: raises alignment/size for DMA-type caps and rewrites
    /// the virtual caps.
    // On the chips the test inline and the work out of line: most requests need none, and
    // their values then stay in registers (size configuration: +8 B, ~3.5 instructions less
    // per operation).
    #[inline(always)]
    fn adjust_hw(&self, align: &mut usize, size: &mut usize, caps: &mut u32) {
        if *caps & CAPS_NEEDING_ALIGNMENT != 0 {
            self.adjust_hw_for(align, size, caps);
        }
    }

    /// `adjust_hw` for caps that may need it (hosts inline it, as they did `adjust_hw`).
    #[cfg_attr(not(target_os = "none"), inline)]
    #[cfg_attr(target_os = "none", inline(never))]
    fn adjust_hw_for(&self, align: &mut usize, size: &mut usize, caps: &mut u32) {
        #[cfg(target_os = "none")]
        if core::ptr::eq(self, &GLOBAL) {
            // On the chip, ESP-IDF's own function knows the cache configuration.
            port::adjust_alignment_to_hw(align, size, caps);
            return;
        }
        let spiram = *caps & Caps::SPIRAM.bits() != 0;
        let mut a = *align;
        let line = if spiram {
            self.hw_external.load(Ordering::Relaxed)
        } else {
            self.hw_internal.load(Ordering::Relaxed)
        };
        a = a.max(line);
        if *caps & Caps::SIMD.bits() != 0 {
            a = a.max(self.hw_simd.load(Ordering::Relaxed));
        }
        if a > 1 {
            // Round up; an overflow leaves a size that the size limit rejects.
            *size = size.checked_add(a - 1).map_or(usize::MAX, |s| s & !(a - 1));
        }
        *align = a;
        let mut c = *caps;
        if c & (Caps::DMA_DESC_AHB.bits() | Caps::DMA_DESC_AXI.bits()) != 0 {
            c &= !(Caps::DMA_DESC_AHB.bits() | Caps::DMA_DESC_AXI.bits());
            c |= Caps::DMA.bits();
        }
        if spiram {
            c &= !Caps::DMA.bits();
        }
        c &= !Caps::CACHE_ALIGNED.bits();
        *caps = c;
    }

    /// `heap_caps_aligned_alloc_base`: the search loop, no failure callback.
    pub fn aligned_alloc_base(&self, alignment: usize, size: usize, caps: u32) -> *mut u8 {
        let p = self.aligned_alloc_raw(alignment, size, caps);
        #[cfg(feature = "HEAP_TRACING_STANDALONE")]
        self.trace_alloc(p, size);
        p
    }

    /// Whether this registry's events go to the heap trace (the global one, behind the C API).
    #[cfg(feature = "HEAP_TRACING_STANDALONE")]
    #[inline(always)]
    fn traced(&self) -> bool {
        ptr::eq(self, &GLOBAL)
    }

    #[cfg(feature = "HEAP_TRACING_STANDALONE")]
    #[inline(always)]
    fn trace_alloc(&self, p: *mut u8, size: usize) {
        let t = &crate::trace::TRACER;
        if self.traced() && !p.is_null() && t.recording_allocs() {
            t.record_alloc(p, size, &crate::trace::callers());
        }
    }

    /// The search loop without tracing (ESP-IDF's calls inside heap_caps_base.c are not
    /// wrapped either, so realloc and calloc are traced once).
    fn aligned_alloc_raw(&self, alignment: usize, size: usize, caps: u32) -> *mut u8 {
        let (mut alignment, mut size, mut caps) = (alignment, size, caps);
        self.adjust_hw(&mut alignment, &mut size, &mut caps);
        if size == 0 || size > self.size_max.load(Ordering::Relaxed).saturating_sub(OWNER) {
            return ptr::null_mut();
        }
        let exec = caps & Caps::EXEC.bits() != 0;
        if !crate::COMPACT && !exec {
            return self.alloc_plain(alignment, size, caps);
        }
        if exec {
            if caps & (Caps::BIT8.bits() | Caps::DMA.bits()) != 0 {
                return ptr::null_mut();
            }
            caps |= Caps::BIT32.bits();
        }
        if caps & Caps::BIT32.bits() != 0 {
            size = (size + 3) & !3;
        }
        for prio in 0..3 {
            // Only the heaps that match `caps` at this priority, in list order (see `Index`).
            for s in self.eligible(prio, caps) {
                let Some(h) = s.heap() else { continue };
                let p = if exec {
                    self.alloc_exec_in(s, h, size, alignment)
                } else {
                    let p = alloc_in(h, size + OWNER, alignment, OWNER);
                    if p.is_null() {
                        continue;
                    }
                    self.owned(s, h, p)
                };
                if !p.is_null() {
                    crate::hooks::alloc(p, size, caps);
                    return p;
                }
            }
        }
        ptr::null_mut()
    }

    /// An EXEC allocation in heap `h` (slot `s`): in D/IRAM the block also holds its DRAM
    /// address, and the pointer handed out is the IRAM alias (see `to_iram`). Out of the
    /// search loop, whose common requests then keep fewer values live (the chips' size
    /// configuration: -26 B of flash, ~11 instructions less per allocation).
    #[inline(never)]
    fn alloc_exec_in(&self, s: &Slot, h: MultiHeap, size: usize, alignment: usize) -> *mut u8 {
        let a = self.alias().filter(|a| a.in_dram(s.start()));
        let extra = if a.is_some() { ALIAS_WORD } else { 0 };
        let p = alloc_in(
            h,
            size + OWNER + extra,
            alignment,
            alias_offset(a, alignment),
        );
        if p.is_null() {
            return p;
        }
        let p = self.owned(s, h, p);
        match a {
            Some(a) => to_iram(a, p, size + ALIAS_WORD),
            None => p,
        }
    }

    /// Hosts: `aligned_alloc_raw` for requests without EXEC (no IRAM alias to think of) whose
    /// alignment and size the hardware rules have already adjusted (`size` > 0 and within the
    /// limit): the search loop with the heap's allocation inlined.
    #[inline(always)]
    fn alloc_plain(&self, alignment: usize, size: usize, caps: u32) -> *mut u8 {
        let size = if caps & Caps::BIT32.bits() != 0 {
            (size + 3) & !3
        } else {
            size
        };
        for prio in 0..3 {
            for s in self.eligible(prio, caps) {
                let Some(h) = s.heap() else { continue };
                let p = if alignment <= WORD {
                    h.malloc_inline(size + OWNER)
                } else {
                    h.aligned_alloc_offs(size + OWNER, alignment, OWNER)
                };
                if !p.is_null() {
                    let p = self.owned(s, h, p);
                    crate::hooks::alloc(p, size, caps);
                    return p;
                }
            }
        }
        ptr::null_mut()
    }

    /// Task tracking: stores the running task in the owner word of the fresh block `p`, books
    /// the block to it, and returns the user pointer after the word. Without tracking: `p`.
    #[inline(always)]
    fn owned(&self, s: &Slot, h: MultiHeap, p: *mut u8) -> *mut u8 {
        #[cfg(feature = "HEAP_TASK_TRACKING")]
        {
            // SAFETY: `p` is a fresh block of at least OWNER + 1 bytes (4-aligned only).
            unsafe { ptr::write_unaligned(p as *mut *mut c_void, port::task_handle()) };
            let u = p.wrapping_add(OWNER);
            self.tasks
                .on_alloc(self, Self::heap_id(s, h), u, h.full_block_size(p));
            u
        }
        #[cfg(not(feature = "HEAP_TASK_TRACKING"))]
        {
            let _ = (s, h);
            p
        }
    }

    #[cfg(feature = "HEAP_TASK_TRACKING")]
    fn heap_id(s: &Slot, h: MultiHeap) -> crate::task_info::HeapId {
        crate::task_info::HeapId {
            heap: h,
            name: s.name(),
            caps: s.mask(),
            size: s.end() - s.start(),
        }
    }

    /// The per-task statistics of this registry.
    #[cfg(feature = "HEAP_TASK_TRACKING")]
    pub fn tasks(&self) -> &crate::task_info::Tasks {
        &self.tasks
    }

    /// Registered heaps as (OR-ed caps, start, heap), list order (task tracking's legacy walk).
    #[cfg(feature = "HEAP_TASK_TRACKING")]
    pub fn each_heap(&self) -> impl Iterator<Item = (u32, usize, MultiHeap)> + '_ {
        self.iter()
            .filter_map(|s| s.heap().map(|h| (s.mask(), s.start(), h)))
    }

    /// `heap_caps_malloc_base`.
    #[inline]
    pub fn malloc_base(&self, size: usize, caps: u32) -> *mut u8 {
        self.aligned_alloc_base(WORD, size, caps)
    }

    /// `heap_caps_calloc_base`: overflow-checked, zeroed.
    pub fn calloc_base(&self, n: usize, size: usize, caps: u32) -> *mut u8 {
        let p = self.calloc_raw(n, size, caps);
        #[cfg(feature = "HEAP_TRACING_STANDALONE")]
        self.trace_alloc(p, n.checked_mul(size).unwrap_or(0));
        p
    }

    fn calloc_raw(&self, n: usize, size: usize, caps: u32) -> *mut u8 {
        let Some(total) = n.checked_mul(size) else {
            return ptr::null_mut();
        };
        let p = self.aligned_alloc_raw(WORD, total, caps);
        if !p.is_null() {
            // SAFETY: p is a fresh allocation of at least `total` bytes.
            unsafe { ptr::write_bytes(p, 0, total) };
        }
        p
    }

    /// Translates an IRAM-alias pointer back to the DRAM address stored before it.
    // Inlined on hosts (every free and realloc asks); one copy on the chips (flash).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    fn dealias(&self, p: *mut u8) -> (*mut u8, bool) {
        if !crate::COMPACT {
            // `alias()` and `in_iram` in the fewest loads: no window (hi 0) or `p` outside it
            // is the common answer.
            let [lo, hi, iram, _] = &self.alias;
            let hi = hi.load(Ordering::Relaxed);
            let off = (p as usize).wrapping_sub(iram.load(Ordering::Relaxed));
            if hi == 0 || off >= hi.wrapping_sub(lo.load(Ordering::Relaxed)) {
                return (p, false);
            }
        }
        if let Some(a) = self.alias() {
            if a.in_iram(p as usize) && (p as usize) % WORD == 0 {
                // SAFETY: an IRAM-alias pointer handed out by `to_iram` has the DRAM address in
                // the word before it (readable through the alias mapping); `p` is word-aligned,
                // so with 32-bit addresses that word is aligned too.
                let d = unsafe {
                    let w = p.sub(ALIAS_WORD) as *const usize;
                    if ALIAS_WORD == WORD {
                        ptr::read(w)
                    } else {
                        ptr::read_unaligned(w)
                    }
                };
                return (d as *mut u8, true);
            }
        }
        (p, false)
    }

    /// The first registered heap (list order) whose range contains `p`: on hosts a binary search
    /// of the address table, or the list walk if a writer was busy with the table; on the chips
    /// the list walk.
    // One copy on the chips (free, realloc and five queries use it).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn find_heap(&self, p: usize) -> Option<(&Slot, MultiHeap)> {
        #[cfg(not(any(target_os = "none", heapcaps_compact)))]
        if let Some(found) = self.lookup_by_addr(p) {
            return found.and_then(|s| Some((s, s.heap()?)));
        }
        self.walk_to(p)
    }

    /// The list walk of `find_heap`, spelt out rather than through `iter()`'s shared
    /// out-of-line step (a call per heap: ~20 instructions more per free on the chips).
    #[inline(always)]
    fn walk_to(&self, p: usize) -> Option<(&Slot, MultiHeap)> {
        let mut next = acquire(|o| self.head.load(o));
        while let Some(s) = next.checked_sub(1).and_then(|i| self.slots.get(i)) {
            if let Some(h) = s.heap() {
                if p >= s.start() && p < s.end() {
                    return Some((s, h));
                }
            }
            next = acquire(|o| s.next.load(o));
        }
        None
    }

    /// `find_heap` for free and realloc. On chips not optimised for size its list walk is
    /// inlined into them, without the call.
    #[inline(always)]
    fn find_heap_of_block(&self, p: usize) -> Option<(&Slot, MultiHeap)> {
        if !crate::COMPACT || crate::FLASH_FIRST {
            return self.find_heap(p);
        }
        self.walk_to(p)
    }

    /// `heap_caps_free`. NULL is ignored; a pointer outside every heap aborts with a message.
    ///
    /// # Safety
    /// `p` must be NULL or a live pointer returned by this registry's allocation functions.
    pub unsafe fn free(&self, p: *mut u8) {
        #[cfg(feature = "HEAP_TRACING_STANDALONE")]
        {
            let t = &crate::trace::TRACER;
            if self.traced() && !p.is_null() && t.recording_frees() {
                t.record_free(p, &crate::trace::callers());
            }
        }
        // SAFETY: forwarded caller contract.
        unsafe { self.free_raw(p) }
    }

    /// `heap_caps_free` without tracing.
    ///
    /// # Safety
    /// As for [`Registry::free`].
    unsafe fn free_raw(&self, p: *mut u8) {
        if p.is_null() {
            return;
        }
        let (d, _) = self.dealias(p);
        let raw = d.wrapping_sub(OWNER);
        match self.find_heap_of_block(raw as usize) {
            Some((_, h)) => {
                #[cfg(feature = "HEAP_TASK_TRACKING")]
                {
                    // SAFETY: the word before a live block's user pointer is its owner word
                    // (and, for a bad pointer, still memory of this heap; `free` then aborts).
                    let owner = unsafe { ptr::read_unaligned(raw as *const *mut c_void) };
                    self.tasks.on_free(self, h, owner, d);
                }
                h.free(raw)
            }
            None => outside(cstr!("free"), p),
        }
        crate::hooks::free(d);
    }

    /// `heap_caps_realloc_base`: no failure callback.
    ///
    /// # Safety
    /// `p` must be NULL or a live pointer returned by this registry's allocation functions.
    pub unsafe fn realloc_base(&self, p: *mut u8, size: usize, caps: u32) -> *mut u8 {
        #[cfg(feature = "HEAP_TRACING_STANDALONE")]
        let t = &crate::trace::TRACER;
        #[cfg(feature = "HEAP_TRACING_STANDALONE")]
        let callers = if self.traced() && (t.recording_allocs() || t.recording_frees()) {
            crate::trace::callers()
        } else {
            [ptr::null_mut(); crate::trace::STACK_DEPTH]
        };
        // SAFETY: forwarded caller contract.
        let r = unsafe { self.realloc_raw(p, size, caps) };
        #[cfg(feature = "HEAP_TRACING_STANDALONE")]
        if self.traced() {
            // A free then an allocation, like ESP-IDF's wrapper; but a failed realloc leaves the
            // old block alive, so (unlike ESP-IDF) no free is recorded then.
            if !r.is_null() || size == 0 {
                t.record_free(p, &callers);
            }
            if size != 0 {
                t.record_alloc(r, size, &callers);
            }
        }
        r
    }

    /// `heap_caps_realloc_base` without tracing.
    ///
    /// # Safety
    /// As for [`Registry::realloc_base`].
    unsafe fn realloc_raw(&self, p: *mut u8, size: usize, caps: u32) -> *mut u8 {
        let (mut alignment, mut size, mut caps) = (WORD, size, caps);
        self.adjust_hw(&mut alignment, &mut size, &mut caps);
        if p.is_null() {
            return self.aligned_alloc_raw(alignment, size, caps);
        }
        if size == 0 {
            // SAFETY: forwarded caller contract.
            unsafe { self.free_raw(p) };
            return ptr::null_mut();
        }
        if size > self.size_max.load(Ordering::Relaxed).saturating_sub(OWNER) {
            return ptr::null_mut();
        }
        let (d, aliased) = self.dealias(p);
        let raw = d.wrapping_sub(OWNER);
        let Some((slot, h)) = self.find_heap_of_block(raw as usize) else {
            outside(cstr!("realloc"), p)
        };
        // (`find_heap` gives registered heaps only.)
        if !aliased && alignment <= WORD && caps & slot.mask() == caps {
            #[cfg(feature = "HEAP_TASK_TRACKING")]
            // SAFETY: the owner word of a live block (see `free_raw`).
            let old_owner = unsafe { ptr::read_unaligned(raw as *const *mut c_void) };
            let r = h.realloc(raw, size + OWNER);
            if !r.is_null() {
                #[cfg(feature = "HEAP_TASK_TRACKING")]
                {
                    // SAFETY: `r` is the resized block, at least OWNER + size bytes.
                    unsafe { ptr::write_unaligned(r as *mut *mut c_void, port::task_handle()) };
                    self.tasks.on_realloc(
                        self,
                        Self::heap_id(slot, h),
                        old_owner,
                        d,
                        r.wrapping_add(OWNER),
                        h.full_block_size(r),
                    );
                }
                let r = r.wrapping_add(OWNER);
                if r != d {
                    // The heap moved the block: report the old pointer gone (ESP-IDF only
                    // does so in KASAN builds, leaving hook users with a phantom block).
                    crate::hooks::free(d);
                }
                crate::hooks::alloc(r, size, caps);
                return r;
            }
        }
        let n = self.aligned_alloc_raw(alignment, size, caps);
        if n.is_null() {
            return n;
        }
        // An EXEC block holds one extra word (the DRAM address) besides the user data.
        let old = h.allocated_size(raw) - OWNER - if aliased { ALIAS_WORD } else { 0 };
        // SAFETY: both blocks are live and at least `min(size, old)` bytes long; distinct blocks.
        unsafe { ptr::copy_nonoverlapping(p, n, size.min(old)) };
        // SAFETY: forwarded caller contract.
        unsafe { self.free_raw(p) };
        n
    }

    // ---------------------------------------------------------------------------------------
    // Public allocation wrappers (with the failed-allocation callback)

    /// Registers the failed-allocation callback (replaces any previous one).
    pub fn set_failed_alloc_hook(&self, f: FailedAllocHook) {
        release(|o| self.failed_hook.store(f as *mut (), o));
    }

    // One copy on the chips (the allocation families' three call sites share it).
    #[cold]
    #[cfg_attr(target_os = "none", inline(never))]
    fn failed(&self, size: usize, caps: u32, func: &'static CStr) {
        let f = acquire(|o| self.failed_hook.load(o));
        if !f.is_null() {
            // SAFETY: only `set_failed_alloc_hook` stores here, from a `FailedAllocHook`.
            let f: FailedAllocHook = unsafe { core::mem::transmute::<*mut (), FailedAllocHook>(f) };
            f(size, caps, func);
        }
        #[cfg(feature = "HEAP_ABORT_WHEN_ALLOCATION_FAILS")]
        abort_alloc_failed(size, caps);
    }

    /// One allocation attempt of the caps families (see [`Attempt`]).
    ///
    /// # Safety
    /// For [`Attempt::Realloc`], its pointer must be NULL or a live pointer returned by this
    /// registry's allocation functions.
    #[inline(always)]
    unsafe fn attempt(&self, a: Attempt, size: usize, caps: u32) -> *mut u8 {
        match a {
            // Hosts: the common request's inlined path (chips: one call site, below, for flash).
            Attempt::Aligned(WORD) if !crate::COMPACT => self.alloc_word(size, caps),
            Attempt::Aligned(alignment) => self.aligned_alloc_base(alignment, size, caps),
            Attempt::Calloc(n) | Attempt::CallocWhole(n) => self.calloc_base(n, size, caps),
            // SAFETY: forwarded caller contract.
            Attempt::Realloc(p) => unsafe { self.realloc_base(p, size, caps) },
        }
    }

    /// The common core of the allocation functions with a failure callback: `a` with each of
    /// `caps` in turn until one succeeds (or `size` is 0, which ends the search); when all fail,
    /// the callback, named `f` and given the last caps tried (`MALLOC_CAP_DEFAULT` for an empty
    /// list). One copy on the chips for the plain, `_prefer` and `_default` families; inlined on
    /// hosts, where the lists are constants and the loop unrolls to the direct calls.
    ///
    /// # Safety
    /// As for [`Registry::attempt`].
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    unsafe fn first_of(&self, a: Attempt, size: usize, caps: &[u32], f: &'static CStr) -> *mut u8 {
        let last = caps.last().copied().unwrap_or(Caps::DEFAULT.bits());
        if let (true, Attempt::Aligned(alignment)) = (crate::COMPACT, a) {
            // Chips: the aligned functions' argument checks, here in the one copy (see
            // `aligned_of`). For the word-aligned malloc family they change nothing: a size of
            // 0 or above the limit fails every attempt anyway, with the same callback.
            if !self.aligned_args_ok(alignment, size, last, f) {
                return ptr::null_mut();
            }
        }
        for &c in caps {
            // SAFETY: forwarded caller contract; a failed realloc attempt leaves `p` valid.
            let r = unsafe { self.attempt(a, size, c) };
            if !r.is_null() || size == 0 {
                return r;
            }
        }
        if size > 0 {
            let reported = match a {
                Attempt::CallocWhole(n) => n.wrapping_mul(size),
                _ => size,
            };
            self.failed(reported, last, f);
        }
        ptr::null_mut()
    }

    /// [`Registry::first_of`] with the one `caps`. Out of line on the chips: the entry points
    /// then pass their arguments on without a stack frame for the list (flash).
    ///
    /// # Safety
    /// As for [`Registry::attempt`].
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    unsafe fn one_of(&self, a: Attempt, size: usize, caps: u32, f: &'static CStr) -> *mut u8 {
        // SAFETY: forwarded caller contract.
        unsafe { self.first_of(a, size, &[caps], f) }
    }

    /// `heap_caps_malloc`.
    pub fn malloc(&self, size: usize, caps: u32) -> *mut u8 {
        if crate::COMPACT {
            return self.alloc_family(WORD, size, caps, name_malloc);
        }
        // `one_of` spelt out for the one attempt: no list on the stack.
        let p = self.alloc_word(size, caps);
        if p.is_null() && size > 0 {
            self.failed(size, caps, name_malloc());
        }
        p
    }

    /// `heap_caps_malloc_base` (`aligned_alloc_base` with the word alignment). Hosts take
    /// `aligned_alloc_raw`'s path for the common request (no EXEC, nothing the hardware wants
    /// aligned) with the heap's malloc inlined into the caller.
    #[inline(always)]
    fn alloc_word(&self, size: usize, caps: u32) -> *mut u8 {
        if crate::COMPACT || caps & (CAPS_NEEDING_ALIGNMENT | Caps::EXEC.bits()) != 0 {
            return self.aligned_alloc_base(WORD, size, caps);
        }
        let p = if size == 0 || size > self.size_max.load(Ordering::Relaxed).saturating_sub(OWNER) {
            ptr::null_mut()
        } else {
            self.alloc_plain(WORD, size, caps)
        };
        #[cfg(feature = "HEAP_TRACING_STANDALONE")]
        self.trace_alloc(p, size);
        p
    }

    /// Chips not optimised for size, `heap_caps_malloc` and `heap_caps_aligned_alloc`: the
    /// common request (no EXEC, nothing the hardware wants aligned, a size within the limit)
    /// tried in the first eligible heap only; NULL means "ask `alloc_rest`" (which tries that
    /// heap again: only when it is full or a writer was busy). Without tracing, hooks or task
    /// tracking the heap's allocation is a tail call, so this one copy keeps no registers and
    /// its callers only their two arguments: against `aligned_alloc_raw`'s general loop (12
    /// registers saved and restored, the IRAM-alias bookkeeping) ~35 instructions less per
    /// allocation on RISC-V.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn alloc_first(&self, alignment: usize, size: usize, caps: u32) -> *mut u8 {
        if caps & (CAPS_NEEDING_ALIGNMENT | Caps::EXEC.bits()) != 0
            || size == 0
            || size > self.size_max.load(Ordering::Relaxed).saturating_sub(OWNER)
        {
            return ptr::null_mut();
        }
        let size = if caps & Caps::BIT32.bits() != 0 {
            (size + 3) & !3
        } else {
            size
        };
        let Some((s, h)) = self.first_eligible(caps).and_then(|s| Some((s, s.heap()?))) else {
            return ptr::null_mut();
        };
        // One call for both kinds: the alignment need not live across it.
        let p = h.malloc_or_aligned(size + OWNER, alignment, OWNER);
        if p.is_null() {
            return p;
        }
        let p = self.owned(s, h, p);
        crate::hooks::alloc(p, size, caps);
        #[cfg(feature = "HEAP_TRACING_STANDALONE")]
        self.trace_alloc(p, size);
        p
    }

    /// The first heap an allocation with `caps` tries: for the common caps the index's ready
    /// answer, else the lowest priority's first eligible heap in list order.
    #[inline(always)]
    fn first_eligible(&self, caps: u32) -> Option<&Slot> {
        let ix = &self.index;
        let live = acquire(|o| ix.live.load(o));
        let mut pos = NONE;
        #[cfg(not(heapcaps_flash_first))]
        if let Some(i) = common_index(caps) {
            let f = ix.first.get(i).map_or(NONE, |f| f.load(Ordering::Relaxed));
            if f < 32 && (live >> f) & 1 != 0 {
                pos = f;
            }
        }
        if pos == NONE {
            pos = ix.first_position(caps, live);
        }
        // (NONE is no index.)
        let idx = ix.slot.get(pos as usize)?.load(Ordering::Relaxed);
        self.slots.get(idx)
    }

    /// The chips' `heap_caps_malloc` and `malloc` (`heap_caps_malloc_default` without external
    /// memory in the policy): straight to `alloc_rest` in the size configuration (past
    /// `first_of`'s list loop: ~30 instructions less per allocation on RISC-V for 66 B), else
    /// `alloc_first` and `alloc_rest` only when that found nothing (a call, then a tail call).
    /// (`heap_caps_aligned_alloc` takes the latter outside the size configuration; inside it,
    /// `first_of`: its own direct path measured +136 B.)
    #[inline(always)]
    fn alloc_family(&self, alignment: usize, size: usize, caps: u32, f: Name) -> *mut u8 {
        if crate::FLASH_FIRST {
            return self.alloc_rest(alignment, size, caps, f);
        }
        self.alloc_first_then_rest(alignment, size, caps, f)
    }

    /// `alloc_first`, then `alloc_rest` if it found nothing.
    #[inline(always)]
    fn alloc_first_then_rest(&self, alignment: usize, size: usize, caps: u32, f: Name) -> *mut u8 {
        let p = self.alloc_first(alignment, size, caps);
        if !p.is_null() {
            return p;
        }
        self.alloc_rest(alignment, size, caps, f)
    }

    /// The general search, then the failure callback named `f` (after `alloc_first`, or on its
    /// own in the size configuration).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn alloc_rest(&self, alignment: usize, size: usize, caps: u32, f: Name) -> *mut u8 {
        let p = self.aligned_alloc_base(alignment, size, caps);
        if p.is_null() && size > 0 {
            self.failed(size, caps, f());
        }
        p
    }

    /// `heap_caps_calloc` (the callback condition looks at the element size, as ESP-IDF does).
    pub fn calloc(&self, n: usize, size: usize, caps: u32) -> *mut u8 {
        let f = cstr!("heap_caps_calloc");
        if crate::COMPACT {
            // Chips: through the one copy of the callback sequence.
            // SAFETY: no pointer argument.
            return unsafe { self.one_of(Attempt::CallocWhole(n), size, caps, f) };
        }
        let p = self.calloc_base(n, size, caps);
        if p.is_null() && size > 0 {
            self.failed(n.wrapping_mul(size), caps, f);
        }
        p
    }

    /// `heap_caps_realloc`.
    ///
    /// # Safety
    /// `p` must be NULL or a live pointer returned by this registry's allocation functions.
    pub unsafe fn realloc(&self, p: *mut u8, size: usize, caps: u32) -> *mut u8 {
        if crate::COMPACT && crate::FLASH_FIRST {
            // SAFETY: forwarded caller contract.
            return unsafe { self.one_of(Attempt::Realloc(p), size, caps, name_realloc()) };
        }
        // SAFETY: forwarded caller contract.
        unsafe { self.realloc_or_report(p, size, caps) }
    }

    /// `one_of` spelt out for one realloc attempt with `caps` (on the chips `first_of`'s
    /// general loop cost ~70 instructions per realloc).
    ///
    /// # Safety
    /// As for [`Registry::realloc`].
    #[inline(always)]
    unsafe fn realloc_or_report(&self, p: *mut u8, size: usize, caps: u32) -> *mut u8 {
        // SAFETY: forwarded caller contract.
        let r = unsafe { self.realloc_base(p, size, caps) };
        if r.is_null() && size > 0 {
            self.failed(size, caps, name_realloc());
        }
        r
    }

    fn aligned_args_ok(&self, alignment: usize, size: usize, caps: u32, f: &'static CStr) -> bool {
        if alignment == 0 || !alignment.is_power_of_two() || size == 0 {
            return false;
        }
        if size > self.size_max.load(Ordering::Relaxed) {
            self.failed(size, caps, f);
            return false;
        }
        true
    }

    /// `heap_caps_aligned_alloc`.
    pub fn aligned_alloc(&self, alignment: usize, size: usize, caps: u32) -> *mut u8 {
        if crate::COMPACT && !crate::FLASH_FIRST {
            // As `malloc` on the chips.
            if !self.aligned_args_ok(alignment, size, caps, name_aligned_alloc()) {
                return ptr::null_mut();
            }
            return self.alloc_first_then_rest(alignment, size, caps, name_aligned_alloc);
        }
        if crate::COMPACT {
            // SAFETY: no pointer argument.
            return unsafe {
                self.one_of(
                    Attempt::Aligned(alignment),
                    size,
                    caps,
                    name_aligned_alloc(),
                )
            };
        }
        self.aligned_of(alignment, size, &[caps], name_aligned_alloc())
    }

    /// The argument checks of the aligned functions, then [`Registry::first_of`]. The chips
    /// make the checks inside `first_of` (one copy of its call sequence).
    #[inline]
    fn aligned_of(&self, alignment: usize, size: usize, caps: &[u32], f: &'static CStr) -> *mut u8 {
        let last = caps.last().copied().unwrap_or(Caps::DEFAULT.bits());
        if !crate::COMPACT && !self.aligned_args_ok(alignment, size, last, f) {
            return ptr::null_mut();
        }
        // SAFETY: no pointer argument.
        unsafe { self.first_of(Attempt::Aligned(alignment), size, caps, f) }
    }

    /// `heap_caps_aligned_calloc`.
    pub fn aligned_calloc(&self, alignment: usize, n: usize, size: usize, caps: u32) -> *mut u8 {
        let Some(total) = n.checked_mul(size) else {
            return ptr::null_mut();
        };
        let p = self.aligned_alloc(alignment, total, caps);
        if !p.is_null() {
            // SAFETY: fresh allocation of `total` bytes.
            unsafe { ptr::write_bytes(p, 0, total) };
        }
        p
    }

    /// `heap_caps_malloc_prefer` with the caps as a slice.
    pub fn malloc_prefer(&self, size: usize, caps: &[u32]) -> *mut u8 {
        // SAFETY: no pointer argument.
        unsafe {
            self.first_of(
                Attempt::Aligned(WORD),
                size,
                caps,
                cstr!("heap_caps_malloc_prefer"),
            )
        }
    }

    /// `heap_caps_realloc_prefer` with the caps as a slice.
    ///
    /// # Safety
    /// `p` must be NULL or a live pointer returned by this registry's allocation functions.
    pub unsafe fn realloc_prefer(&self, p: *mut u8, size: usize, caps: &[u32]) -> *mut u8 {
        // SAFETY: forwarded caller contract.
        unsafe {
            self.first_of(
                Attempt::Realloc(p),
                size,
                caps,
                cstr!("heap_caps_realloc_prefer"),
            )
        }
    }

    /// `heap_caps_calloc_prefer` with the caps as a slice (reports the element size).
    pub fn calloc_prefer(&self, n: usize, size: usize, caps: &[u32]) -> *mut u8 {
        // SAFETY: no pointer argument.
        unsafe {
            self.first_of(
                Attempt::Calloc(n),
                size,
                caps,
                cstr!("heap_caps_calloc_prefer"),
            )
        }
    }

    // ---------------------------------------------------------------------------------------
    // Default (malloc) policy

    /// `heap_caps_malloc_extmem_enable`: allocations above `limit` prefer PSRAM. As in ESP-IDF the
    /// limit is kept as a signed int, so values >= 2^31 disable external allocation again.
    pub fn malloc_extmem_enable(&self, limit: usize) {
        // Truncate to 32 bits as the C int conversion does.
        let v = limit as u32;
        let v = if v >= 0x8000_0000 {
            EXTMEM_DISABLED
        } else {
            v as usize
        };
        self.extmem_limit.store(v, Ordering::Relaxed);
    }

    const INTERNAL_DEFAULT: u32 = Caps::DEFAULT.bits() | Caps::INTERNAL.bits();
    const SPIRAM_DEFAULT: u32 = Caps::DEFAULT.bits() | Caps::SPIRAM.bits();

    /// The default policy's first choice for `size`: `None` while external allocation is
    /// disabled (then the plain function with internal default caps runs), else internal or
    /// PSRAM by the limit (then `MALLOC_CAP_DEFAULT` is tried second).
    #[inline(always)]
    fn default_first(&self, size: usize) -> Option<u32> {
        let limit = self.extmem_limit.load(Ordering::Relaxed);
        if limit == EXTMEM_DISABLED {
            None
        } else if size <= limit {
            Some(Self::INTERNAL_DEFAULT)
        } else {
            Some(Self::SPIRAM_DEFAULT)
        }
    }

    /// The default policy for malloc and realloc: the plain function with internal default caps
    /// while external allocation is disabled (callback name `plain`), else the first choice for
    /// `size`, then `MALLOC_CAP_DEFAULT` (callback name `dflt`). One copy on the chips.
    ///
    /// # Safety
    /// As for [`Registry::attempt`].
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    unsafe fn default_of(
        &self,
        a: Attempt,
        size: usize,
        plain: &'static CStr,
        dflt: &'static CStr,
    ) -> *mut u8 {
        match self.default_first(size) {
            // SAFETY: forwarded caller contract.
            None => unsafe { self.first_of(a, size, &[Self::INTERNAL_DEFAULT], plain) },
            // SAFETY: forwarded caller contract; a failed attempt leaves a realloc's pointer
            // valid for the next one.
            Some(c) => unsafe { self.first_of(a, size, &[c, Caps::DEFAULT.bits()], dflt) },
        }
    }

    /// `heap_caps_malloc_default` (backs `malloc`).
    pub fn malloc_default(&self, size: usize) -> *mut u8 {
        if crate::COMPACT && self.default_first(size).is_none() {
            // Chips, no external memory in the policy: the one attempt of `default_of`, as
            // `malloc` makes it (`malloc` ends up here on the chips).
            return self.alloc_family(WORD, size, Self::INTERNAL_DEFAULT, name_malloc);
        }
        let (plain, dflt) = (name_malloc(), cstr!("heap_caps_malloc_default"));
        // SAFETY: no pointer argument.
        unsafe { self.default_of(Attempt::Aligned(WORD), size, plain, dflt) }
    }

    /// `heap_caps_realloc_default` (backs `realloc`).
    ///
    /// # Safety
    /// `p` must be NULL or a live pointer returned by this registry's allocation functions.
    pub unsafe fn realloc_default(&self, p: *mut u8, size: usize) -> *mut u8 {
        if crate::COMPACT && !crate::FLASH_FIRST && self.default_first(size).is_none() {
            // As in `malloc_default`: `realloc` with the internal default caps.
            // SAFETY: forwarded caller contract.
            return unsafe { self.realloc_or_report(p, size, Self::INTERNAL_DEFAULT) };
        }
        let (plain, dflt) = (name_realloc(), cstr!("heap_caps_realloc_default"));
        // SAFETY: forwarded caller contract.
        unsafe { self.default_of(Attempt::Realloc(p), size, plain, dflt) }
    }

    /// `heap_caps_aligned_alloc_default` (backs `memalign`, `aligned_alloc`, `posix_memalign`).
    pub fn aligned_alloc_default(&self, alignment: usize, size: usize) -> *mut u8 {
        let dflt = cstr!("heap_caps_aligned_alloc_default");
        if crate::COMPACT {
            // Chips: the aligned checks are part of `first_of`, so this is the default policy of
            // malloc and realloc with an aligned attempt (one copy of it).
            let a = Attempt::Aligned(alignment);
            // SAFETY: no pointer argument.
            return unsafe { self.default_of(a, size, name_aligned_alloc(), dflt) };
        }
        let Some(c) = self.default_first(size) else {
            return self.aligned_alloc(alignment, size, Self::INTERNAL_DEFAULT);
        };
        let caps = [c, Caps::DEFAULT.bits()];
        self.aligned_of(alignment, size, &caps, dflt)
    }

    // ---------------------------------------------------------------------------------------
    // Queries

    /// Registered heaps whose caps include all of `caps` (every heap for `caps == 0`), in list
    /// order. All queries share one copy of the step ([`Matching::next`]) on the chips.
    fn matching(&self, caps: u32) -> Matching<'_> {
        Matching {
            it: self.iter(),
            caps,
        }
    }

    /// Heaps selected by the check/dump/walk APIs: `INVALID` (bit 31, which no heap has) means
    /// all.
    fn selected(&self, caps: u32) -> Matching<'_> {
        self.matching(if caps & Caps::INVALID.bits() != 0 {
            0
        } else {
            caps
        })
    }

    /// Sum of `f` over the heaps with all of `caps` (one shared loop for the three size sums).
    #[inline(never)]
    fn sum(&self, caps: u32, f: fn(&Slot, MultiHeap) -> usize) -> usize {
        self.matching(caps).map(|(s, h)| f(s, h)).sum()
    }

    /// `heap_caps_get_total_size`.
    pub fn total_size(&self, caps: u32) -> usize {
        self.sum(caps, |s, _| s.end() - s.start())
    }

    /// `heap_caps_get_free_size`.
    pub fn free_size(&self, caps: u32) -> usize {
        self.sum(caps, |_, h| h.free_size())
    }

    /// `heap_caps_get_minimum_free_size`.
    pub fn minimum_free_size(&self, caps: u32) -> usize {
        self.sum(caps, |_, h| h.minimum_free_size())
    }

    /// `heap_caps_get_largest_free_block`.
    pub fn largest_free_block(&self, caps: u32) -> usize {
        let mut t = Info::default();
        self.info_into(caps, &mut t);
        t.largest_free_block
    }

    /// `heap_caps_get_info`: sums over matching heaps, maximum of the largest free blocks.
    pub fn info(&self, caps: u32) -> Info {
        let mut t = Info::default();
        self.info_into(caps, &mut t);
        t
    }

    /// Stores the statistics of the heaps with all of `caps` in `t` (the C entry point passes
    /// the caller's structure). Owner words are not the user's bytes. ESP-IDF subtracts
    /// them too, but from the running maximum inside the loop and without a floor (it can
    /// wrap); here each heap's figures are corrected on their own, floored at 0.
    pub(crate) fn info_into(&self, caps: u32, t: &mut Info) {
        *t = Info::default();
        for (_, h) in self.matching(caps) {
            h.add_info_to(t, OWNER);
        }
    }

    /// `heap_caps_print_heap_info`, in ESP-IDF's format, to standard output.
    pub fn print_heap_info(&self, caps: u32) {
        say!(out, "Heap summary for capabilities 0x%08X:\n", caps);
        for (s, h) in self.matching(caps) {
            let i = h.info();
            say!(
                out,
                "  At 0x%08x len %u free %u allocated %u min_free %u\n    largest_free_block %u \
                  alloc_blocks %u free_blocks %u total_blocks %u\n",
                s.start(),
                s.end() - s.start(),
                i.total_free_bytes,
                i.total_allocated_bytes,
                i.minimum_free_bytes,
                i.largest_free_block,
                i.allocated_blocks,
                i.free_blocks,
                i.total_blocks,
            );
        }
        let t = self.info(caps);
        say!(
            out,
            "  Totals:\n    free %u allocated %u min_free %u largest_free_block %u\n",
            t.total_free_bytes,
            t.total_allocated_bytes,
            t.minimum_free_bytes,
            t.largest_free_block,
        );
    }

    /// `heap_caps_check_integrity`: checks every selected heap (no short-circuit).
    pub fn check_integrity(&self, caps: u32, print_errors: bool) -> bool {
        let mut ok = true;
        for (_, h) in self.selected(caps) {
            ok &= h.check(print_errors);
        }
        ok
    }

    /// `heap_caps_check_integrity_addr`: checks the heap containing `addr`; false if none.
    pub fn check_integrity_addr(&self, addr: usize, print_errors: bool) -> bool {
        match self.find_heap(addr) {
            Some((_, h)) => h.check(print_errors),
            None => false,
        }
    }

    /// `heap_caps_dump`.
    pub fn dump(&self, caps: u32) {
        for (_, h) in self.selected(caps) {
            h.dump();
        }
    }

    /// `heap_caps_walk`: `f(heap_start, heap_end, block_ptr, block_size, used)`; returning false
    /// ends the walk of the current heap only.
    pub fn walk(&self, caps: u32, mut f: impl FnMut(usize, usize, *mut u8, usize, bool) -> bool) {
        for (s, h) in self.selected(caps) {
            let (start, end) = (s.start(), s.end());
            h.walk(|b| f(start, end, b.data, b.size, b.used));
        }
    }

    /// `heap_caps_get_allocated_size`: usable size of a block (no alias translation). NULL, a
    /// pointer outside every heap, or one that is not a live block gives 0: a query answers, it
    /// does not abort (ESP-IDF asserts on chips; its linux build answers 0, and its host test
    /// relies on that for a stack address).
    ///
    /// # Safety
    /// `p` must be NULL or a live pointer returned by this registry's allocation functions.
    pub unsafe fn allocated_size(&self, p: *mut u8) -> usize {
        if p.is_null() {
            return 0;
        }
        let raw = p.wrapping_sub(OWNER);
        match self.find_heap(raw as usize) {
            // Exact for any pointer (a public query; see MultiHeap::is_live_block).
            Some((_, h)) => h
                .live_block_size(raw)
                .saturating_sub(crate::multi_heap::POISON_OVERHEAD)
                .saturating_sub(OWNER),
            None => 0,
        }
    }

    /// `heap_caps_get_containing_block_size`: size of the allocated block containing `p`
    /// anywhere in its payload; 0 when `p` is in no heap or in no allocated block (ESP-IDF
    /// asserts on chips and answers 0 on linux).
    ///
    /// # Safety
    /// `p` must point into a live allocation of this registry.
    pub unsafe fn containing_block_size(&self, p: *mut u8) -> usize {
        let Some((_, h)) = self.find_heap(p as usize) else {
            return 0;
        };
        h.find_containing_block(p).map_or(0, |b| b.size)
    }

    /// The registered heaps in list order as (start, end, caps), for tests and tools.
    pub fn heaps(&self) -> impl Iterator<Item = (usize, usize, [u32; 3], bool)> + '_ {
        self.iter().map(|s| {
            (
                s.start(),
                s.end(),
                [s.prio(0), s.prio(1), s.prio(2)],
                s.heap().is_some(),
            )
        })
    }

    /// `heap_caps_match` for the heap containing `p`: registered and has all of `caps`.
    pub fn heap_matches(&self, p: usize, caps: u32) -> bool {
        self.find_heap(p)
            .is_some_and(|(s, _)| s.mask() & caps == caps)
    }

    /// Name of the memory type of the heap containing `p` (empty if none).
    pub fn heap_name(&self, p: usize) -> &'static str {
        self.find_heap(p).map_or("", |(s, _)| s.name())
    }

    // ---------------------------------------------------------------------------------------
    // Local minimum monitoring

    /// `heap_caps_monitor_local_minimum_free_size_start`: resets every heap's minimum to its
    /// current free size, keeping the lowest previous value per heap. Always `Ok` (calling it
    /// again while active re-resets, as in ESP-IDF).
    pub fn monitor_start(&self) -> Result<(), Error> {
        self.monitor(true)
    }

    /// `heap_caps_monitor_local_minimum_free_size_stop`: restores each heap's minimum to the lower
    /// of the local minimum and the saved global one. `Err(Fail)` when not monitoring.
    pub fn monitor_stop(&self) -> Result<(), Error> {
        self.monitor(false)
    }

    /// Start (`start`) or stop of local-minimum monitoring: one copy of the locked walk.
    #[inline(never)]
    fn monitor(&self, start: bool) -> Result<(), Error> {
        let _w = self.writer_lock();
        let active = self.monitoring.load(Ordering::Relaxed);
        if !start && !active {
            return Err(Error::Fail);
        }
        if start && !active {
            for s in &self.slots {
                s.saved_min.store(usize::MAX, Ordering::Relaxed);
            }
            // ESP-IDF keeps the saved values in a DEFAULT-caps array (one 4-byte value per heap)
            // allocated here, before the reset; the values live in the slots here, but the
            // allocation is kept so the figures match. Every used slot is in the list (see
            // `reindex`).
            let n = self.used.load(Ordering::Relaxed);
            let buf = self.malloc_base(n * 4, Caps::DEFAULT.bits());
            self.monitor_buf.store(buf, Ordering::Relaxed);
        }
        for s in self.iter() {
            if let Some(h) = s.heap() {
                let saved = s.saved_min.load(Ordering::Relaxed);
                if start {
                    let old = h.reset_minimum_free_bytes();
                    s.saved_min.store(saved.min(old), Ordering::Relaxed);
                } else {
                    h.restore_minimum_free_bytes(saved);
                }
            }
        }
        self.monitoring.store(start, Ordering::Relaxed);
        if !start {
            // Load + store (no read-modify-write atomics on rv32imc); the writer lock is held.
            let buf = self.monitor_buf.load(Ordering::Relaxed);
            self.monitor_buf.store(ptr::null_mut(), Ordering::Relaxed);
            // SAFETY: NULL or the block `monitor_start` allocated from this registry.
            unsafe { self.free(buf) };
        }
        Ok(())
    }
}

/// `heap_caps_check_add_region_allowed`: whether `[start, end)` may be added next to an existing
/// heap `[heap_start, heap_end)`. Rejects ranges straddling either end of it and the identical
/// range; accepts nested and touching ranges.
pub fn check_add_region_allowed(
    heap_start: usize,
    heap_end: usize,
    start: usize,
    end: usize,
) -> bool {
    !((start < heap_start && end > heap_start)
        || (start < heap_end && end > heap_end)
        || (start == heap_start && end == heap_end))
}

/// A name for the failure callback as a thin pointer (one register where a `&CStr` takes two).
type Name = fn() -> &'static CStr;

// Function names for the failed-allocation callback used by two functions each (one copy of
// each string).
#[inline(always)]
fn name_malloc() -> &'static CStr {
    cstr!("heap_caps_malloc")
}

#[inline(always)]
fn name_realloc() -> &'static CStr {
    cstr!("heap_caps_realloc")
}

#[inline(always)]
fn name_aligned_alloc() -> &'static CStr {
    cstr!("heap_caps_aligned_alloc")
}

/// One allocation attempt of the caps families, the caps aside: the shared core
/// ([`Registry::first_of`]) runs it with each caps of a list.
#[derive(Clone, Copy)]
enum Attempt {
    /// `heap_caps_aligned_alloc_base` with this alignment (a word: `heap_caps_malloc_base`).
    Aligned(usize),
    /// `heap_caps_calloc_base` with this element count.
    Calloc(usize),
    /// As `Calloc`, but a failure reports the whole size `n * size` (wrapping), as
    /// `heap_caps_calloc` does (`heap_caps_calloc_prefer` reports the element size). Chips only.
    CallocWhole(usize),
    /// `heap_caps_realloc_base` of this pointer.
    Realloc(*mut u8),
}

/// Allocates `size` bytes from `h`; with `alignment` above a word, `offset` bytes into the
/// block are aligned (see `alias_offset`).
#[inline(always)]
fn alloc_in(h: MultiHeap, size: usize, alignment: usize, offset: usize) -> *mut u8 {
    if crate::COMPACT {
        // Chips (flash): one call site; the heap's aligned path serves small alignments with
        // its plain malloc.
        return h.aligned_alloc_offs(size, alignment.max(1), offset);
    }
    if alignment <= WORD {
        h.malloc(size)
    } else {
        h.aligned_alloc_offs(size, alignment, offset)
    }
}

/// The offset into the block that an aligned request aligns: the user pointer after the owner
/// word (`OWNER`), or for an EXEC block in D/IRAM (`a`) the IRAM pointer handed out. ESP-IDF
/// aligns the DRAM block, so the IRAM pointer (one address word further) misses the requested
/// alignment; here, on chips with a linear alias, the block is placed so that the returned IRAM
/// pointer is aligned. (The word-reversed ESP32 alias keeps ESP-IDF's placement.)
#[inline(always)]
fn alias_offset(a: Option<DiramAlias>, alignment: usize) -> usize {
    match a {
        // The IRAM pointer is iram_lo + (p + OWNER - dram_lo) + ALIAS_WORD (the owner word, when
        // task tracking is on, comes first): aligned when p + (OWNER + ALIAS_WORD + iram_lo -
        // dram_lo) is.
        Some(a) if !a.inverted && alignment > WORD => {
            (OWNER + ALIAS_WORD)
                .wrapping_add(a.iram_lo)
                .wrapping_sub(a.dram_lo)
                & (alignment - 1)
        }
        _ => OWNER,
    }
}

/// Stores the DRAM address of an EXEC block in its first (or, inverted, last) word through the
/// IRAM view and returns the IRAM pointer one word further.
fn to_iram(a: DiramAlias, p: *mut u8, len: usize) -> *mut u8 {
    let word = if a.inverted {
        p as usize + len - ALIAS_WORD
    } else {
        p as usize
    };
    let ip = a.dram_to_iram(word) as *mut u8;
    // SAFETY: the IRAM view of a word of the freshly allocated block is writable memory (on the
    // chip by hardware, in the simulation by the second mapping of the same pages). Block words
    // and both views' bases are word-aligned, so with 32-bit addresses (one-word alias word:
    // the chips, i686) the store is aligned; 64-bit hosts store 8 bytes at a 4-aligned address.
    unsafe {
        if ALIAS_WORD == WORD {
            ptr::write(ip as *mut usize, p as usize)
        } else {
            ptr::write_unaligned(ip as *mut usize, p as usize)
        }
    };
    ip.wrapping_add(ALIAS_WORD)
}

#[cold]
fn outside(op: &'static CStr, p: *mut u8) -> ! {
    if crate::text::SHORT_FATAL {
        crate::text::fatal_at(p)
    }
    say!(
        err,
        "CORRUPT HEAP: heap_caps_%s(0x%08x): pointer is outside heap areas\n",
        op.as_ptr(),
        p
    );
    port::abort()
}

/// With `HEAP_ABORT_WHEN_ALLOCATION_FAILS`: prints ESP-IDF's message and aborts.
#[cfg(feature = "HEAP_ABORT_WHEN_ALLOCATION_FAILS")]
#[cold]
fn abort_alloc_failed(size: usize, caps: u32) -> ! {
    say!(
        err,
        "Mem alloc fail. size 0x%08x caps 0x%08x\n",
        size as u32,
        caps
    );
    port::abort()
}

#[cfg(feature = "HEAP_TASK_TRACKING")]
impl crate::task_info::Heaps for Registry {
    fn biggest(&self) -> Option<MultiHeap> {
        let mut best: Option<(usize, MultiHeap)> = None;
        for s in self.iter() {
            if let Some(h) = s.heap() {
                let size = s.end() - s.start();
                if best.map_or(true, |(b, _)| size > b) {
                    best = Some((size, h));
                }
            }
        }
        best.map(|(_, h)| h)
    }

    fn containing(&self, p: usize) -> Option<MultiHeap> {
        self.find_heap(p).map(|(_, h)| h)
    }
}

/// Boot-time registration in progress ([`Registry::boot`]): holds the writer lock and the region
/// being coalesced.
pub struct Boot<'a> {
    reg: &'a Registry,
    /// The region that following adjacent regions of the same kind extend.
    pending: Option<BootRegion>,
    /// Every slot is taken: the remaining regions are ignored.
    full: bool,
    _w: WriterGuard,
}

impl Boot<'_> {
    /// Adds the next region (in address order); it is registered once the following region
    /// shows that it does not continue it.
    pub fn add(&mut self, r: BootRegion) {
        if let Some(p) = self.pending.as_mut() {
            if r.start == p.start + p.size && r.ty == p.ty && r.startup_stack == p.startup_stack {
                p.size += r.size;
                return;
            }
        }
        self.flush();
        self.pending = Some(r);
    }

    /// Logs and registers the pending region.
    #[inline(never)]
    fn flush(&mut self) {
        let Some(r) = self.pending.take() else {
            return;
        };
        if self.full {
            return;
        }
        let reg = self.reg;
        #[cfg(target_os = "none")]
        say!(
            err,
            "I (0) heap_init: At %08X len %08X (%u KiB): %s\n",
            r.shown_at,
            r.size,
            r.size / 1024,
            r.name.as_ptr()
        );
        #[cfg(not(target_os = "none"))]
        {
            say!(
                err,
                "I (0) heap_init: At %08X len %08X (%u KiB): ",
                r.shown_at,
                r.size,
                r.size / 1024
            );
            // The name is a Rust string (no NUL): raw bytes, not `%s`.
            port::write_err(r.name.as_bytes());
            say!(err, "\n");
        }
        let idx = reg.used.load(Ordering::Relaxed);
        let Some(slot) = reg.slots.get(idx) else {
            say!(err, "heap_init: too many regions\n");
            self.full = true;
            return;
        };
        reg.used.store(idx + 1, Ordering::Relaxed);
        slot.fill(r.start, r.start + r.size, r.caps, r.name);
        if !r.startup_stack {
            // SAFETY: `Registry::boot`'s caller guarantees the region is ours.
            unsafe { slot.attach(false) };
        }
        reg.insert_sorted(idx);
    }

    /// Registers the last region, builds the selection index and marks the registry initialised.
    pub fn finish(mut self) {
        self.flush();
        let reg = self.reg;
        // ESP-IDF carves its array of boot heap descriptors from the first heap (by address)
        // with 8BIT|INTERNAL. The slots here are static, but the same bytes are taken so that
        // free-size figures match a real boot.
        let n = reg.used.load(Ordering::Relaxed);
        let want = Caps::BIT8.bits() | Caps::INTERNAL.bits();
        let mut first: Option<(usize, MultiHeap)> = None;
        for s in reg.slots.iter().take(n) {
            if let Some(h) = s.heap() {
                if s.mask() & want == want && first.map_or(true, |(a, _)| s.start() < a) {
                    first = Some((s.start(), h));
                    if crate::COMPACT {
                        // The regions came in address order: the first match is the lowest.
                        break;
                    }
                }
            }
        }
        reg.reindex();
        if let Some((_, h)) = first {
            h.malloc(HEAP_T_SIZE * n);
        }
        release(|o| reg.initialised.store(true, o));
    }
}

struct WriterGuard(*mut c_void);

impl Drop for WriterGuard {
    fn drop(&mut self) {
        port::unlock(self.0)
    }
}

/// See [`Registry::matching`].
struct Matching<'a> {
    it: Iter<'a>,
    caps: u32,
}

impl<'a> Iterator for Matching<'a> {
    type Item = (&'a Slot, MultiHeap);
    // One copy on the chips; inlined into each query on hosts (speed).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn next(&mut self) -> Option<(&'a Slot, MultiHeap)> {
        for s in self.it.by_ref() {
            if let Some(h) = s.heap() {
                if s.mask() & self.caps == self.caps {
                    return Some((s, h));
                }
            }
        }
        None
    }
}

struct Iter<'a> {
    reg: &'a Registry,
    next: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Slot;
    // One copy on the chips (the list walks of boot, queries, free and monitoring share it).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn next(&mut self) -> Option<&'a Slot> {
        let s = self.reg.slots.get(self.next.checked_sub(1)?)?;
        self.next = acquire(|o| s.next.load(o));
        Some(s)
    }
}

// -------------------------------------------------------------------------------------------
// The global registry and the Rust allocation API

static GLOBAL: Registry = Registry::new();

/// The registry behind the C API. On a host, the first use boots the selected simulated chip.
#[cfg(not(target_os = "none"))]
#[inline]
pub fn global() -> &'static Registry {
    if !GLOBAL.is_initialised() {
        chips::boot_default(&GLOBAL);
    }
    &GLOBAL
}

/// The registry behind the C API. On a chip there is no first-use boot: ESP-IDF's startup runs
/// `heap_caps_init` (the shim's `ESP_SYSTEM_INIT_FN`, CORE stage, priority 100, where ESP-IDF's
/// heap initialises) before the C library is set up and before anything else can allocate. Until
/// then the registry is empty and every allocation returns NULL, as with ESP-IDF's own heap,
/// which has no lazy initialisation either. (A check here would cost every C entry point a call.)
#[cfg(target_os = "none")]
#[inline(always)]
pub fn global() -> &'static Registry {
    &GLOBAL
}

/// The registry without booting it (for `heap_caps_init` and chip selection).
pub fn global_raw() -> &'static Registry {
    &GLOBAL
}

/// Allocates `size` bytes with `caps` from the global registry (NULL on failure).
pub fn malloc(size: usize, caps: Caps) -> *mut u8 {
    global().malloc(size, caps.bits())
}

/// Allocates `size` bytes aligned to `align` with `caps` from the global registry.
pub fn aligned_alloc(align: usize, size: usize, caps: Caps) -> *mut u8 {
    global().aligned_alloc(align, size, caps.bits())
}

/// Frees memory from [`malloc`] or [`aligned_alloc`].
///
/// # Safety
/// `p` must be NULL or a live pointer from this module's allocation functions.
pub unsafe fn free(p: *mut u8) {
    // SAFETY: forwarded caller contract.
    unsafe { global().free(p) }
}

/// A `GlobalAlloc` over the global registry with ESP-IDF's default internal caps
/// (`MALLOC_CAP_DEFAULT | MALLOC_CAP_INTERNAL`).
pub struct HeapCapsAlloc;

// SAFETY: the registry returns blocks of at least the requested size, aligned to 4 or to the
// requested alignment (aligned path), never overlapping live blocks; NULL on failure.
unsafe impl core::alloc::GlobalAlloc for HeapCapsAlloc {
    unsafe fn alloc(&self, l: core::alloc::Layout) -> *mut u8 {
        let caps = Caps::DEFAULT.bits() | Caps::INTERNAL.bits();
        if l.align() <= WORD {
            global().malloc_base(l.size().max(1), caps)
        } else {
            global().aligned_alloc_base(l.align(), l.size().max(1), caps)
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, _: core::alloc::Layout) {
        // SAFETY: GlobalAlloc contract: `p` came from `alloc` of this allocator.
        unsafe { global().free(p) }
    }

    unsafe fn realloc(&self, p: *mut u8, l: core::alloc::Layout, new: usize) -> *mut u8 {
        let caps = Caps::DEFAULT.bits() | Caps::INTERNAL.bits();
        if l.align() <= WORD {
            // SAFETY: GlobalAlloc contract: `p` is live and came from this allocator.
            return unsafe { global().realloc_base(p, new.max(1), caps) };
        }
        let n = global().aligned_alloc_base(l.align(), new.max(1), caps);
        if !n.is_null() {
            // SAFETY: both blocks are live and hold at least min(old, new) bytes.
            unsafe { ptr::copy_nonoverlapping(p, n, l.size().min(new)) };
            // SAFETY: GlobalAlloc contract.
            unsafe { global().free(p) };
        }
        n
    }
}
