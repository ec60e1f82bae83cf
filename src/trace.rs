//! Heap tracing, standalone mode (`esp_heap_trace.h`, feature `HEAP_TRACING_STANDALONE`): a record
//! of allocations and frees kept in a buffer the application provides, with ESP-IDF's record
//! layout, state machine, overflow rule (drop the oldest), optional address hash map and dump text.
//!
//! The caps layer reports events from its `*_base` entry points and `free` (where ESP-IDF links
//! its `--wrap` functions). Records form a doubly linked list threaded through the records
//! themselves (`tailq_list`, same semantics as BSD `TAILQ`), oldest first, because
//! `heap_trace_get` hands out whole records including those links.
//!
//! Differences from ESP-IDF (plain bugs there): a failed realloc does not record a free of the
//! block that is still alive; without the hash map, a free marks the *newest* record of that
//! address (ESP-IDF scans from the oldest, so a re-used address marks a stale record). The
//! `ccount` is a counter advanced by 4 per event (the CPU bit is 0): there is no cycle counter
//! to read on a host.

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use crate::caps::{Caps, Error};
use crate::port;
use crate::text::Line;

mod config {
    include!(concat!(env!("OUT_DIR"), "/heapcaps_config.rs"));
}
pub use config::{HASH_MAP_SIZE, STACK_DEPTH};

/// `heap_trace_mode_t` (a C enum: 4 bytes).
pub type heap_trace_mode_t = u32;
/// Record every allocation and mark frees.
pub const HEAP_TRACE_ALL: heap_trace_mode_t = 0;
/// Keep only allocations that were not freed.
pub const HEAP_TRACE_LEAKS: heap_trace_mode_t = 1;

/// `TAILQ_ENTRY(heap_trace_record_t)`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TailqEntry {
    /// Next record, NULL at the end.
    pub tqe_next: *mut heap_trace_record_t,
    /// Address of the previous record's `tqe_next` (or of the list head).
    pub tqe_prev: *mut *mut heap_trace_record_t,
}

/// `heap_trace_record_t` for the configured stack depth (and hash map option).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct heap_trace_record_t {
    /// Event counter value when the allocation was recorded (bit 0: CPU, always 0 here).
    pub ccount: u32,
    /// Allocated address; NULL marks an unused record.
    pub address: *mut c_void,
    /// Requested size (calloc: n * size, 0 when that overflows).
    pub size: usize,
    /// Whether the block was freed (ALL mode).
    pub freed: bool,
    /// Return addresses of the allocating call chain, innermost first.
    pub alloced_by: [*mut c_void; STACK_DEPTH],
    /// Return addresses of the freeing call chain (all NULL while not freed).
    pub freed_by: [*mut c_void; STACK_DEPTH],
    /// List links (standalone tracing).
    pub tailq_list: TailqEntry,
    /// Next record in the same hash bucket.
    #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
    pub slist_hashmap: *mut heap_trace_record_t,
}

/// `heap_trace_summary_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct heap_trace_summary_t {
    /// Mode of the current or last trace.
    pub mode: heap_trace_mode_t,
    /// Allocations recorded since `heap_trace_start`.
    pub total_allocations: usize,
    /// Frees recorded since `heap_trace_start`.
    pub total_frees: usize,
    /// Records in the buffer.
    pub count: usize,
    /// Capacity of the buffer.
    pub capacity: usize,
    /// Largest `count` seen.
    pub high_water_mark: usize,
    /// Non-zero once a record had to be dropped.
    pub has_overflowed: usize,
    /// Frees whose record was found through the hash map.
    #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
    pub total_hashmap_hits: usize,
    /// Hash map look-ups that found nothing.
    #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
    pub total_hashmap_miss: usize,
}

/// Caller frames of one event.
pub type Callers = [*mut c_void; STACK_DEPTH];

type Rec = heap_trace_record_t;

// The initial state is 0, so that the tracer starts zeroed, in `.bss` (no image in flash).
const UNKNOWN: u8 = 0;
const STARTED: u8 = 1;
const STOPPED: u8 = 2;
const ALLOC_PAUSED: u8 = 3;

/// A `TAILQ_HEAD`.
struct Head {
    first: *mut Rec,
    last: *mut *mut Rec,
}

struct Inner {
    mode: heap_trace_mode_t,
    buf: *mut Rec,
    capacity: usize,
    count: usize,
    high_water_mark: usize,
    overflowed: bool,
    list: Head,
    unused: Head,
    total_allocations: usize,
    total_frees: usize,
    /// Cursor of `get` (sequential reads are O(1)).
    get_cur: *mut Rec,
    get_idx: usize,
    clock: u32,
    #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
    map: *mut *mut Rec,
    #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
    hits: usize,
    #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
    misses: usize,
}

/// The trace state (one per program, like ESP-IDF's).
pub struct Tracer {
    /// Read without the lock on the allocation path (cheap "are we tracing" test).
    state: AtomicU8,
    /// Copy of the record count (updated under the lock): a free with no records to update
    /// skips the lock and the caller capture.
    live: AtomicUsize,
    lock: UnsafeCell<[u32; 2]>,
    inner: UnsafeCell<Inner>,
}

// SAFETY: `inner` is only accessed with `lock` held (see `Tracer::with`); `state` is atomic; the
// lock words are only handed to the port's lock functions.
unsafe impl Sync for Tracer {}

/// The tracer behind the C API.
pub static TRACER: Tracer = Tracer::new();

impl Tracer {
    const fn new() -> Tracer {
        Tracer {
            state: AtomicU8::new(UNKNOWN),
            live: AtomicUsize::new(0),
            lock: UnsafeCell::new(port::LOCK_INIT),
            inner: UnsafeCell::new(Inner {
                mode: HEAP_TRACE_ALL,
                buf: ptr::null_mut(),
                capacity: 0,
                count: 0,
                high_water_mark: 0,
                overflowed: false,
                list: Head {
                    first: ptr::null_mut(),
                    last: ptr::null_mut(),
                },
                unused: Head {
                    first: ptr::null_mut(),
                    last: ptr::null_mut(),
                },
                total_allocations: 0,
                total_frees: 0,
                get_cur: ptr::null_mut(),
                get_idx: 0,
                clock: 0,
                #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
                map: ptr::null_mut(),
                #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
                hits: 0,
                #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
                misses: 0,
            }),
        }
    }

    /// Runs `f` on the state with the trace lock held. Never nested (no `f` calls back here).
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let l = self.lock.get() as *mut c_void;
        port::lock(l);
        // SAFETY: the lock serialises all access to `inner`, and `with` is never re-entered
        // from `f` (nothing in this module allocates or calls out while holding it).
        let inner = unsafe { &mut *self.inner.get() };
        let r = f(inner);
        self.live.store(inner.count, Ordering::Relaxed);
        port::unlock(l);
        r
    }

    fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    /// Moves to `s`; `InvalidState` when already there.
    fn set_state(&self, s: u8) -> Result<(), Error> {
        self.with(|_| {
            if self.state.load(Ordering::Relaxed) == s {
                return Err(Error::InvalidState);
            }
            self.state.store(s, Ordering::Release);
            Ok(())
        })
    }

    /// Whether allocations are being recorded (checked before capturing callers).
    #[inline(always)]
    pub fn recording_allocs(&self) -> bool {
        self.state() == STARTED
    }

    /// Whether frees are being recorded.
    #[inline(always)]
    pub fn recording_frees(&self) -> bool {
        self.state() != STOPPED && self.live.load(Ordering::Relaxed) != 0
    }

    /// `heap_trace_init_standalone`: `buf` must stay valid (and untouched by the program) for as
    /// long as tracing may run. `map` is the hash bucket array (hash map option), allocated by
    /// the caller on the first call.
    ///
    /// # Safety
    /// `buf` must be valid for reads and writes of `n` records for the rest of the trace.
    pub unsafe fn init(&self, buf: *mut Rec, n: usize) -> Result<(), Error> {
        let s = self.state();
        if s == STARTED || s == ALLOC_PAUSED {
            return Err(Error::InvalidState);
        }
        if buf.is_null() || n == 0 {
            return Err(Error::InvalidArg);
        }
        #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
        if self.with(|t| t.map.is_null()) {
            let bytes = HASH_MAP_SIZE * core::mem::size_of::<*mut Rec>();
            // Aligned for pointers: heap blocks are only 4-byte aligned, pointers need 8 on
            // 64-bit hosts.
            let m = crate::caps::global().aligned_calloc(
                core::mem::align_of::<*mut Rec>(),
                1,
                bytes,
                Caps::INTERNAL.bits(),
            );
            if m.is_null() {
                // ESP-IDF does not check this allocation; refusing is the safe answer.
                return Err(Error::NoMem);
            }
            self.with(|t| t.map = m as *mut *mut Rec);
        }
        register_entries();
        self.with(|t| {
            t.buf = buf;
            t.capacity = n;
        });
        Ok(())
    }

    /// `heap_trace_start`: clears the buffer and all counters except the high-water mark (kept,
    /// as in ESP-IDF) and starts recording in `mode`.
    pub fn start(&self, mode: heap_trace_mode_t) -> Result<(), Error> {
        self.with(|t| {
            if t.buf.is_null() || t.capacity == 0 {
                return Err(Error::InvalidState);
            }
            self.state.store(STOPPED, Ordering::Release);
            t.mode = mode;
            // SAFETY: `init` was given `capacity` valid records at `buf`.
            unsafe { ptr::write_bytes(t.buf, 0, t.capacity) };
            #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
            {
                // SAFETY: the map has HASH_MAP_SIZE buckets (allocated in `init`).
                unsafe { ptr::write_bytes(t.map, 0, HASH_MAP_SIZE) };
                t.hits = 0;
                t.misses = 0;
            }
            t.count = 0;
            t.overflowed = false;
            t.get_cur = ptr::null_mut();
            t.get_idx = 0;
            t.list = Head {
                first: ptr::null_mut(),
                last: ptr::null_mut(),
            };
            t.list.last = &mut t.list.first;
            t.unused = Head {
                first: ptr::null_mut(),
                last: ptr::null_mut(),
            };
            t.unused.last = &mut t.unused.first;
            for i in 0..t.capacity {
                // SAFETY: i < capacity; the record is in the buffer and in no list.
                unsafe { insert_tail(&mut t.unused, t.buf.add(i)) };
            }
            t.total_allocations = 0;
            t.total_frees = 0;
            self.state.store(STARTED, Ordering::Release);
            Ok(())
        })
    }

    /// `heap_trace_stop`.
    pub fn stop(&self) -> Result<(), Error> {
        self.set_state(STOPPED)
    }

    /// `heap_trace_alloc_pause`: frees are still recorded.
    pub fn alloc_pause(&self) -> Result<(), Error> {
        self.set_state(ALLOC_PAUSED)
    }

    /// `heap_trace_resume`.
    pub fn resume(&self) -> Result<(), Error> {
        self.set_state(STARTED)
    }

    /// `heap_trace_get_count`.
    pub fn count(&self) -> usize {
        self.with(|t| t.count)
    }

    /// `heap_trace_get`: a copy of record `i` (oldest first).
    pub fn get(&self, i: usize) -> Result<Rec, Error> {
        self.with(|t| {
            if i >= t.count {
                return Err(Error::InvalidArg);
            }
            let r = if !t.get_cur.is_null() && i > 0 && t.get_idx == i - 1 {
                // SAFETY: the cursor is a record of the list (reset whenever records move).
                unsafe { (*t.get_cur).tailq_list.tqe_next }
            } else {
                let mut r = t.list.first;
                for _ in 0..i {
                    if r.is_null() {
                        break;
                    }
                    // SAFETY: r is a record of the list.
                    r = unsafe { (*r).tailq_list.tqe_next };
                }
                r
            };
            if r.is_null() {
                // Cannot happen while count matches the list; answer as for a bad index.
                t.get_cur = ptr::null_mut();
                return Err(Error::InvalidArg);
            }
            t.get_cur = r;
            t.get_idx = i;
            // SAFETY: r is a record in the buffer.
            Ok(unsafe { *r })
        })
    }

    /// `heap_trace_summary`.
    pub fn summary(&self) -> heap_trace_summary_t {
        self.with(|t| heap_trace_summary_t {
            mode: t.mode,
            total_allocations: t.total_allocations,
            total_frees: t.total_frees,
            count: t.count,
            capacity: t.capacity,
            high_water_mark: t.high_water_mark,
            has_overflowed: t.overflowed as usize,
            #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
            total_hashmap_hits: t.hits,
            #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
            total_hashmap_miss: t.misses,
        })
    }

    /// Records an allocation (ignored unless tracing is started, and for NULL).
    pub fn record_alloc(&self, p: *mut u8, size: usize, callers: &Callers) {
        if !self.recording_allocs() || p.is_null() {
            return;
        }
        self.with(|t| {
            if self.state.load(Ordering::Relaxed) != STARTED || t.capacity == 0 {
                return;
            }
            t.get_cur = ptr::null_mut();
            if t.count == t.capacity {
                t.overflowed = true;
                let oldest = t.list.first;
                if !oldest.is_null() {
                    // SAFETY: the oldest record is in the list (and in the map).
                    unsafe {
                        #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
                        map_remove(t.map, oldest);
                        list_remove(t, oldest);
                    }
                }
            }
            let r = t.unused.first;
            if r.is_null() {
                t.overflowed = true;
                return;
            }
            t.clock = t.clock.wrapping_add(4);
            // SAFETY: r is an unused record of the buffer; it moves to the list.
            unsafe {
                remove(&mut t.unused, r);
                (*r).ccount = t.clock & !3;
                (*r).address = p as *mut c_void;
                (*r).size = size;
                (*r).freed = false;
                (*r).alloced_by = *callers;
                (*r).freed_by = [ptr::null_mut(); STACK_DEPTH];
                insert_tail(&mut t.list, r);
                #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
                map_add(t.map, r);
            }
            t.count += 1;
            t.high_water_mark = t.high_water_mark.max(t.count);
            t.total_allocations += 1;
        })
    }

    /// Records a free (ignored when stopped, for NULL, and while the buffer is empty).
    pub fn record_free(&self, p: *mut u8, callers: &Callers) {
        if !self.recording_frees() || p.is_null() {
            return;
        }
        let p = p as *mut c_void;
        self.with(|t| {
            if self.state.load(Ordering::Relaxed) == STOPPED || t.count == 0 {
                return;
            }
            t.total_frees += 1;
            let found = find(t, p);
            if found.is_null() {
                return;
            }
            if t.mode == HEAP_TRACE_ALL {
                // SAFETY: found is a record of the list.
                unsafe {
                    (*found).freed = true;
                    (*found).freed_by = *callers;
                }
            } else {
                t.get_cur = ptr::null_mut();
                // SAFETY: found is a record of the list (and of the map).
                unsafe {
                    #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
                    map_remove(t.map, found);
                    list_remove(t, found);
                }
            }
        })
    }

    /// `heap_trace_dump_caps`: prints the records in `INTERNAL` and/or `SPIRAM` memory (both bits:
    /// every record) and the summary, in ESP-IDF's format, to the diagnostic console.
    /// `is_internal`/`is_psram` classify an address.
    pub fn dump(
        &self,
        caps: u32,
        is_internal: impl Fn(*mut c_void) -> bool,
        is_psram: impl Fn(*mut c_void) -> bool,
    ) {
        let want_int = caps & Caps::INTERNAL.bits() != 0;
        let want_ext = caps & Caps::SPIRAM.bits() != 0;
        self.with(|t| {
            let start_count = t.count;
            let mut alive_size = 0usize;
            let mut alive = 0usize;
            Line::err()
                .s("====== Heap Trace: ")
                .dec(t.count)
                .s(" records (")
                .dec(t.capacity)
                .s(" capacity) ======\n");
            let mut r = t.list.first;
            for _ in 0..t.count {
                if r.is_null() {
                    Line::err()
                        .s("\nError: heap trace linked list is corrupt. expected more records.\n");
                    break;
                }
                // SAFETY: r is a record of the list.
                let rec = unsafe { &*r };
                let a = rec.address;
                let int = !a.is_null() && is_internal(a);
                let ext = !a.is_null() && is_psram(a);
                if !a.is_null() && ((want_int && (want_ext || int)) || (want_ext && ext))
                {
                    let label = if ext {
                        ",    PSRAM"
                    } else if int {
                        ", Internal"
                    } else {
                        ""
                    };
                    let mut l = Line::err();
                    pad_dec(&mut l, rec.size, 6);
                    l.s(" bytes (@ ")
                        .ptr(a)
                        .s(label)
                        .s(") allocated CPU ")
                        .dec((rec.ccount & 1) as usize)
                        .s(" ccount 0x")
                        .hex((rec.ccount & !3) as usize, 8, false);
                    if STACK_DEPTH != 0 && !rec.alloced_by[0].is_null() {
                        l.s(" caller ");
                        for (j, c) in rec.alloced_by.iter().enumerate() {
                            if c.is_null() {
                                break;
                            }
                            l.ptr(*c).s(if j < STACK_DEPTH - 1 { ":" } else { "" });
                        }
                    }
                    if rec.freed {
                        if t.mode == HEAP_TRACE_ALL
                            && STACK_DEPTH != 0
                            && !rec.freed_by[0].is_null()
                        {
                            l.s("\nfreed by ");
                            for (j, c) in rec.freed_by.iter().enumerate() {
                                l.ptr(*c).s(if j < STACK_DEPTH - 1 { ":" } else { "\n" });
                            }
                        } else {
                            l.s(" freed\n");
                        }
                    } else {
                        alive_size += rec.size;
                        alive += 1;
                        l.s("\n");
                    }
                }
                r = rec.tailq_list.tqe_next;
            }
            Line::err().s("====== Heap Trace Summary ======\n");
            if t.mode == HEAP_TRACE_ALL {
                Line::err()
                    .s("Mode: Heap Trace All\n")
                    .dec(alive_size)
                    .s(" bytes alive in trace (")
                    .dec(alive)
                    .s("/")
                    .dec(t.count)
                    .s(" allocations)\n");
            } else {
                Line::err()
                    .s("Mode: Heap Trace Leaks\n")
                    .dec(alive_size)
                    .s(" bytes 'leaked' in trace (")
                    .dec(alive)
                    .s(" allocations)\n");
            }
            Line::err()
                .s("records: ")
                .dec(t.count)
                .s(" (")
                .dec(t.capacity)
                .s(" capacity, ")
                .dec(t.high_water_mark)
                .s(" high water mark)\n");
            #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
            Line::err()
                .s("hashmap: ")
                .dec(HASH_MAP_SIZE)
                .s(" capacity (")
                .dec(t.hits)
                .s(" hits, ")
                .dec(t.misses)
                .s(" misses)\n");
            Line::err()
                .s("total allocations: ")
                .dec(t.total_allocations)
                .s("\ntotal frees: ")
                .dec(t.total_frees)
                .s("\n");
            if start_count != t.count {
                Line::err().s("(NB: New entries were traced while dumping, so trace dump may have duplicate entries.)\n");
            }
            if t.overflowed {
                Line::err()
                    .s("(NB: Internal Buffer has overflowed, so trace data is incomplete.)\n");
            }
            Line::err().s("================================\n");
        })
    }
}

/// Right-aligns `v` in `width` columns (`%6d`).
fn pad_dec(l: &mut Line, v: usize, width: usize) {
    let mut digits = 1;
    let mut x = v;
    while x >= 10 {
        x /= 10;
        digits += 1;
    }
    for _ in digits..width {
        l.s(" ");
    }
    l.dec(v);
}

/// Appends `r` to `h`.
///
/// # Safety
/// `h` is a valid list whose `last` points at its own `first` or at the last record's link, and
/// `r` is a valid record in no list.
unsafe fn insert_tail(h: &mut Head, r: *mut Rec) {
    // SAFETY: caller contract.
    unsafe {
        (*r).tailq_list.tqe_next = ptr::null_mut();
        (*r).tailq_list.tqe_prev = h.last;
        *h.last = r;
        h.last = &mut (*r).tailq_list.tqe_next;
    }
}

/// Puts `r` at the front of `h`.
///
/// # Safety
/// As for [`insert_tail`].
unsafe fn insert_head(h: &mut Head, r: *mut Rec) {
    // SAFETY: caller contract.
    unsafe {
        (*r).tailq_list.tqe_next = h.first;
        if h.first.is_null() {
            h.last = &mut (*r).tailq_list.tqe_next;
        } else {
            (*h.first).tailq_list.tqe_prev = &mut (*r).tailq_list.tqe_next;
        }
        h.first = r;
        (*r).tailq_list.tqe_prev = &mut h.first;
    }
}

/// Unlinks `r` from `h`.
///
/// # Safety
/// `r` must be a record of list `h`.
unsafe fn remove(h: &mut Head, r: *mut Rec) {
    // SAFETY: caller contract.
    unsafe {
        let next = (*r).tailq_list.tqe_next;
        if next.is_null() {
            h.last = (*r).tailq_list.tqe_prev;
        } else {
            (*next).tailq_list.tqe_prev = (*r).tailq_list.tqe_prev;
        }
        *(*r).tailq_list.tqe_prev = next;
    }
}

/// Moves `r` from the record list back to the unused list, clearing it.
///
/// # Safety
/// `r` must be a record of `t.list`.
unsafe fn list_remove(t: &mut Inner, r: *mut Rec) {
    // SAFETY: caller contract.
    unsafe {
        remove(&mut t.list, r);
        (*r).address = ptr::null_mut();
        (*r).size = 0;
        (*r).freed = false;
        insert_head(&mut t.unused, r);
    }
    t.count -= 1;
}

/// The record for address `p`: newest first (hash bucket, else list scanned from the newest).
fn find(t: &mut Inner, p: *mut c_void) -> *mut Rec {
    #[cfg(feature = "HEAP_TRACE_HASH_MAP")]
    {
        let mut r = bucket(t.map, p);
        while !r.is_null() {
            // SAFETY: bucket entries are records of the list.
            unsafe {
                if (*r).address == p {
                    t.hits += 1;
                    return r;
                }
                r = (*r).slist_hashmap;
            }
        }
        t.misses += 1;
    }
    // Scan from the newest: `last` points at the last record's `tqe_next`, and each record's
    // `tqe_prev` at its predecessor's (or the head's first field).
    let mut link = t.list.last;
    while !ptr::eq(link, &t.list.first) {
        // SAFETY: `link` is the `tqe_next` field of a record in the list; `tailq_list` is a
        // field of that record at a fixed offset, so stepping back gives the record.
        let r =
            unsafe { (link as *mut u8).sub(core::mem::offset_of!(Rec, tailq_list)) as *mut Rec };
        // SAFETY: r is a record of the list.
        unsafe {
            if (*r).address == p {
                return r;
            }
            link = (*r).tailq_list.tqe_prev;
        }
    }
    ptr::null_mut()
}

/// ESP-IDF's bucket index: three shifts of the 32-bit address summed, times the FNV prime.
#[cfg(feature = "HEAP_TRACE_HASH_MAP")]
pub fn hash_idx(p: *const c_void) -> usize {
    let a = p as usize as u32;
    let h = ((a >> 3).wrapping_add(a >> 5).wrapping_add(a >> 7)).wrapping_mul(16_777_619);
    (h % HASH_MAP_SIZE as u32) as usize
}

#[cfg(feature = "HEAP_TRACE_HASH_MAP")]
fn bucket(map: *mut *mut Rec, p: *mut c_void) -> *mut Rec {
    // SAFETY: the map has HASH_MAP_SIZE buckets and hash_idx is below that.
    unsafe { *map.add(hash_idx(p)) }
}

/// Pushes `r` onto its bucket.
///
/// # Safety
/// `map` is the bucket array; `r` a record in no bucket.
#[cfg(feature = "HEAP_TRACE_HASH_MAP")]
unsafe fn map_add(map: *mut *mut Rec, r: *mut Rec) {
    // SAFETY: caller contract; index in range.
    unsafe {
        let b = map.add(hash_idx((*r).address));
        (*r).slist_hashmap = *b;
        *b = r;
    }
}

/// Unlinks `r` from its bucket (if present).
///
/// # Safety
/// `map` is the bucket array; `r` a valid record.
#[cfg(feature = "HEAP_TRACE_HASH_MAP")]
unsafe fn map_remove(map: *mut *mut Rec, r: *mut Rec) {
    // SAFETY: caller contract; every bucket entry is a valid record.
    unsafe {
        let mut link = map.add(hash_idx((*r).address));
        while !(*link).is_null() {
            if *link == r {
                *link = (*r).slist_hashmap;
                (*r).slist_hashmap = ptr::null_mut();
                return;
            }
            link = &mut (**link).slist_hashmap;
        }
    }
}

extern "C" {
    fn heapcaps_trace_callers(out: *mut *mut c_void, depth: usize) -> usize;
    fn heapcaps_trace_set_entries(fns: *const *const c_void, n: usize);
}

/// Tells the caller capture which Rust functions are heapcaps entry points: an exported C
/// function may tail-call one of them and then has no stack frame of its own.
fn register_entries() {
    use crate::caps::Registry as R;
    let fns: [*const c_void; 22] = [
        R::malloc as *const c_void,
        R::calloc as *const c_void,
        R::realloc as *const c_void,
        R::free as *const c_void,
        R::aligned_alloc as *const c_void,
        R::aligned_calloc as *const c_void,
        R::malloc_default as *const c_void,
        R::realloc_default as *const c_void,
        R::aligned_alloc_default as *const c_void,
        R::malloc_prefer as *const c_void,
        R::calloc_prefer as *const c_void,
        R::realloc_prefer as *const c_void,
        R::malloc_base as *const c_void,
        R::calloc_base as *const c_void,
        R::realloc_base as *const c_void,
        R::aligned_alloc_base as *const c_void,
        crate::caps::malloc as *const c_void,
        crate::caps::free as *const c_void,
        crate::caps::aligned_alloc as *const c_void,
        <crate::caps::HeapCapsAlloc as core::alloc::GlobalAlloc>::alloc as *const c_void,
        <crate::caps::HeapCapsAlloc as core::alloc::GlobalAlloc>::dealloc as *const c_void,
        <crate::caps::HeapCapsAlloc as core::alloc::GlobalAlloc>::realloc as *const c_void,
    ];
    // SAFETY: the shim copies the array.
    unsafe { heapcaps_trace_set_entries(fns.as_ptr(), fns.len()) };
}

/// Caller frames of the current heap call (see `hooks.c` for what is captured).
#[inline(always)]
pub fn callers() -> Callers {
    let mut c: Callers = [ptr::null_mut(); STACK_DEPTH];
    if STACK_DEPTH > 0 {
        // SAFETY: `c` has room for STACK_DEPTH pointers.
        unsafe { heapcaps_trace_callers(c.as_mut_ptr(), STACK_DEPTH) };
    }
    c
}
