//! Per-task heap statistics (`esp_heap_task_info.h`, feature `HEAP_TASK_TRACKING`): who owns which
//! block, per-task and per-heap current/peak usage, and ESP-IDF's print formats.
//!
//! The caps layer stores the allocating task's handle in a word before every block and reports
//! each allocation, free and resize here. Statistics are kept as ESP-IDF keeps them: linked
//! records allocated with plain `MultiHeap::malloc` from the largest heap (no owner word, never
//! visible in the statistics), tasks sorted by decreasing handle. On a host the calling thread
//! is the task (handle from `port::task_handle`, name from the thread name); there is no
//! `vTaskDelete`, so `heapcaps_sim_task_deleted` marks a task deleted.
//!
//! Differences from ESP-IDF (plain bugs there): usage counters never wrap (a block is only
//! subtracted from the entry that recorded it); a realloc always books the new block to the
//! current task even when the task had no entry for that heap yet; copying statistics out never
//! writes through the internal records.

use core::cell::UnsafeCell;
use core::ffi::{c_char, c_void};
use core::ptr;

use crate::multi_heap::MultiHeap;
use crate::port;
use crate::text::Line;

/// `configMAX_TASK_NAME_LEN` (ESP-IDF's default).
/// cbindgen:ignore
pub const TASK_NAME_LEN: usize = 16;
/// `NUM_HEAP_TASK_CAPS`.
pub const NUM_HEAP_TASK_CAPS: usize = 4;

/// `TaskHandle_t`.
pub type TaskHandle_t = *mut c_void;

/// `heap_task_block_t`: one block of a task.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct heap_task_block_t {
    /// Owner task.
    pub task: TaskHandle_t,
    /// Block address (task statistics: the user pointer; per-task info: the owner word).
    pub address: *mut c_void,
    /// Block size in bytes (the whole heap block, owner word included).
    pub size: u32,
}

/// `heap_stat_t`: a task's use of one heap.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct heap_stat_t {
    /// Memory type name of the heap.
    pub name: *const c_char,
    /// OR of the heap's capability masks.
    pub caps: u32,
    /// Heap size (end − start).
    pub size: usize,
    /// Bytes the task holds in this heap.
    pub current_usage: usize,
    /// Most bytes the task held in this heap at once.
    pub peak_usage: usize,
    /// Blocks the task holds in this heap.
    pub alloc_count: usize,
    /// The blocks (in the caller's array), or NULL when they did not fit.
    pub alloc_stat: *mut heap_task_block_t,
}

/// `task_stat_t`: one task.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct task_stat_t {
    /// Task name.
    pub name: [c_char; 16],
    /// Task handle (NULL: before the scheduler).
    pub handle: TaskHandle_t,
    /// False once the task was deleted.
    pub is_alive: bool,
    /// Most bytes held at once, over all heaps.
    pub overall_peak_usage: usize,
    /// Bytes held now, over all heaps.
    pub overall_current_usage: usize,
    /// Heaps the task has used.
    pub heap_count: usize,
    /// Per-heap statistics (in the caller's array), or NULL when they did not fit.
    pub heap_stat: *mut heap_stat_t,
}

/// `heap_single_task_stat_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct heap_single_task_stat_t {
    /// The task.
    pub stat: task_stat_t,
    /// In: entries at `heap_stat_start`; out: entries used.
    pub heap_count: usize,
    /// Array for the per-heap statistics.
    pub heap_stat_start: *mut heap_stat_t,
    /// In: entries at `alloc_stat_start`; out: entries used.
    pub alloc_count: usize,
    /// Array for the blocks.
    pub alloc_stat_start: *mut heap_task_block_t,
}

/// `heap_all_tasks_stat_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct heap_all_tasks_stat_t {
    /// In: entries at `stat_arr`; out: entries used.
    pub task_count: usize,
    /// Array for the tasks.
    pub stat_arr: *mut task_stat_t,
    /// In: entries at `heap_stat_start`; out: entries used.
    pub heap_count: usize,
    /// Array for the per-heap statistics.
    pub heap_stat_start: *mut heap_stat_t,
    /// In: entries at `alloc_stat_start`; out: entries used.
    pub alloc_count: usize,
    /// Array for the blocks.
    pub alloc_stat_start: *mut heap_task_block_t,
}

/// `heap_task_totals_t` (legacy per-task info).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct heap_task_totals_t {
    /// Task.
    pub task: TaskHandle_t,
    /// Bytes per capability group.
    pub size: [usize; NUM_HEAP_TASK_CAPS],
    /// Blocks per capability group.
    pub count: [usize; NUM_HEAP_TASK_CAPS],
}

/// `heap_task_info_params_t` (legacy per-task info).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct heap_task_info_params_t {
    /// Capability groups: a heap belongs to group i if `(heap caps & mask[i]) == caps[i]`.
    pub caps: [i32; NUM_HEAP_TASK_CAPS],
    /// Masks of the groups.
    pub mask: [i32; NUM_HEAP_TASK_CAPS],
    /// Tasks whose blocks are listed (NULL: all).
    pub tasks: *mut TaskHandle_t,
    /// Entries in `tasks`.
    pub num_tasks: usize,
    /// Per-task totals (in/out).
    pub totals: *mut heap_task_totals_t,
    /// In: valid entries in `totals`; out: entries used.
    pub num_totals: *mut usize,
    /// Capacity of `totals`.
    pub max_totals: usize,
    /// Block list (NULL: none).
    pub blocks: *mut heap_task_block_t,
    /// Capacity of `blocks`.
    pub max_blocks: usize,
}

struct AllocRec {
    block: heap_task_block_t,
    next: *mut AllocRec,
}

struct HeapRec {
    heap: usize,
    stat: heap_stat_t,
    allocs: *mut AllocRec,
    next: *mut HeapRec,
}

struct TaskRec {
    stat: task_stat_t,
    heaps: *mut HeapRec,
    next: *mut TaskRec,
}

/// Where a block lives: its heap and what the statistics show about that heap.
#[derive(Clone, Copy)]
pub struct HeapId {
    /// The heap.
    pub heap: MultiHeap,
    /// Type name.
    pub name: &'static str,
    /// OR of the heap's caps.
    pub caps: u32,
    /// end − start.
    pub size: usize,
}

/// What the statistics need from the registry: the heap to keep records in and the heap a
/// record lives in (to free it).
pub trait Heaps {
    /// The registered heap with the largest region.
    fn biggest(&self) -> Option<MultiHeap>;
    /// The registered heap containing `p`.
    fn containing(&self, p: usize) -> Option<MultiHeap>;
}

/// The statistics of one registry.
pub struct Tasks {
    lock: UnsafeCell<[u32; 2]>,
    head: UnsafeCell<*mut TaskRec>,
}

// SAFETY: `head` and everything reachable from it are only touched with `lock` held.
unsafe impl Sync for Tasks {}

impl Default for Tasks {
    fn default() -> Self {
        Self::new()
    }
}

struct Guard(*mut c_void);

impl Drop for Guard {
    fn drop(&mut self) {
        port::unlock(self.0)
    }
}

/// A NUL-terminated name for the statistics' `const char *` (host names are Rust literals).
fn c_name(name: &'static str) -> *const c_char {
    const KNOWN: [&core::ffi::CStr; 7] = [
        c"DRAM",
        c"D/IRAM",
        c"IRAM",
        c"SPIRAM",
        c"RTCRAM",
        c"RAM",
        c"Retention RAM",
    ];
    for k in KNOWN {
        if k.to_bytes() == name.as_bytes() {
            return k.as_ptr();
        }
    }
    // On a device the names come from ESP-IDF's table of C strings.
    if cfg!(target_os = "none") && !name.is_empty() {
        return name.as_ptr() as *const c_char;
    }
    c"".as_ptr()
}

/// Raw memory for `n` values of `T` from `h`, aligned for `T` (heap blocks are only 4-aligned,
/// records hold pointers: 8-aligned on 64-bit hosts).
pub fn raw_alloc<T>(h: MultiHeap, n: usize) -> *mut T {
    let Some(bytes) = n.checked_mul(core::mem::size_of::<T>()) else {
        return ptr::null_mut();
    };
    let align = core::mem::align_of::<T>();
    if align <= 4 {
        h.malloc(bytes) as *mut T
    } else {
        h.aligned_alloc_offs(bytes, align, 0) as *mut T
    }
}

fn alloc_rec<T>(heaps: &dyn Heaps) -> *mut T {
    match heaps.biggest() {
        Some(h) => raw_alloc::<T>(h, 1),
        None => ptr::null_mut(),
    }
}

fn free_rec<T>(heaps: &dyn Heaps, p: *mut T) {
    if let Some(h) = heaps.containing(p as usize) {
        h.free(p as *mut u8);
    }
}

#[cold]
fn no_memory() {
    Line::err().s("E heap_task_tracking: Could not allocate memory to add new task statistics\n");
}

impl Tasks {
    /// No statistics yet.
    pub const fn new() -> Tasks {
        Tasks {
            lock: UnsafeCell::new(port::LOCK_INIT),
            head: UnsafeCell::new(ptr::null_mut()),
        }
    }

    fn guard(&self) -> Guard {
        let l = self.lock.get() as *mut c_void;
        port::lock(l);
        Guard(l)
    }

    fn head(&self) -> *mut *mut TaskRec {
        self.head.get()
    }

    /// Books a new block of `size` bytes at `ptr` in heap `id` to the running task.
    pub fn on_alloc(&self, heaps: &dyn Heaps, id: HeapId, ptr: *mut u8, size: usize) {
        let task = port::task_handle();
        let _g = self.guard();
        // SAFETY: the lock is held; all records were created by this module.
        unsafe { self.add(heaps, id, task as usize, ptr as usize, size) }
    }

    /// Removes the block at `ptr` (in heap `heap`, owned by `owner`) from the statistics; a
    /// freed task handle marks that task deleted (FreeRTOS frees the TCB in `vTaskDelete`).
    pub fn on_free(&self, heaps: &dyn Heaps, heap: MultiHeap, owner: TaskHandle_t, ptr: *mut u8) {
        let _g = self.guard();
        // SAFETY: the lock is held.
        unsafe {
            if !owner.is_null() {
                self.remove(heaps, heap, owner as usize, ptr as usize);
            }
            self.mark_deleted(heaps, ptr as usize);
        }
    }

    /// A block moved or resized in place: the old record leaves its owner, the new block is
    /// booked to the running task.
    #[allow(clippy::too_many_arguments)]
    pub fn on_realloc(
        &self,
        heaps: &dyn Heaps,
        id: HeapId,
        old_owner: TaskHandle_t,
        old: *mut u8,
        new: *mut u8,
        new_size: usize,
    ) {
        let task = port::task_handle();
        let _g = self.guard();
        // SAFETY: the lock is held.
        unsafe {
            if !old_owner.is_null() {
                self.remove(heaps, id.heap, old_owner as usize, old as usize);
            }
            self.add(heaps, id, task as usize, new as usize, new_size);
        }
    }

    /// Marks `task` deleted (host stand-in for `vTaskDelete`). Without
    /// `HEAP_TRACK_DELETED_TASKS` its statistics are dropped.
    pub fn task_deleted(&self, heaps: &dyn Heaps, task: TaskHandle_t) {
        let _g = self.guard();
        // SAFETY: the lock is held.
        unsafe { self.mark_deleted(heaps, task as usize) }
    }

    /// # Safety
    /// Lock held.
    unsafe fn mark_deleted(&self, heaps: &dyn Heaps, task: usize) {
        if task == 0 {
            return;
        }
        // SAFETY: lock held; records are valid.
        unsafe {
            let mut link = self.head();
            while !(*link).is_null() {
                let t = *link;
                if (*t).stat.handle as usize == task && (*t).stat.is_alive {
                    (*t).stat.is_alive = false;
                    if !cfg!(feature = "HEAP_TRACK_DELETED_TASKS") {
                        *link = (*t).next;
                        drop_task(heaps, t);
                        continue;
                    }
                }
                link = &mut (*t).next;
            }
        }
    }

    /// # Safety
    /// Lock held.
    unsafe fn add(&self, heaps: &dyn Heaps, id: HeapId, task: usize, p: usize, size: usize) {
        let task = task as TaskHandle_t;
        // SAFETY: lock held; records are valid.
        unsafe {
            // Find the live entry of `task` (list sorted by decreasing handle, NULL last).
            let mut link = self.head();
            let mut t = ptr::null_mut::<TaskRec>();
            while !(*link).is_null() {
                let c = *link;
                if (*c).stat.handle == task && (*c).stat.is_alive {
                    t = c;
                    break;
                }
                if ((*c).stat.handle as usize) < task as usize {
                    break;
                }
                link = &mut (*c).next;
            }
            if t.is_null() {
                t = alloc_rec::<TaskRec>(heaps);
                if t.is_null() {
                    no_memory();
                    return;
                }
                let mut name = [0u8; TASK_NAME_LEN];
                if task.is_null() {
                    name[..13].copy_from_slice(b"Pre-scheduler");
                } else {
                    port::task_name(task, &mut name);
                }
                t.write(TaskRec {
                    stat: task_stat_t {
                        name: name.map(|b| b as c_char),
                        handle: task,
                        is_alive: true,
                        overall_peak_usage: 0,
                        overall_current_usage: 0,
                        heap_count: 0,
                        heap_stat: ptr::null_mut(),
                    },
                    heaps: ptr::null_mut(),
                    next: *link,
                });
                *link = t;
            }
            // Find or append the heap entry.
            let mut hlink: *mut *mut HeapRec = &mut (*t).heaps;
            while !(*hlink).is_null() && (**hlink).heap != id.heap.as_ptr() as usize {
                hlink = &mut (**hlink).next;
            }
            let mut h = *hlink;
            if h.is_null() {
                h = alloc_rec::<HeapRec>(heaps);
                if h.is_null() {
                    no_memory();
                    return;
                }
                h.write(HeapRec {
                    heap: id.heap.as_ptr() as usize,
                    stat: heap_stat_t {
                        name: c_name(id.name),
                        caps: id.caps,
                        size: id.size,
                        current_usage: 0,
                        peak_usage: 0,
                        alloc_count: 0,
                        alloc_stat: ptr::null_mut(),
                    },
                    allocs: ptr::null_mut(),
                    next: ptr::null_mut(),
                });
                *hlink = h;
                (*t).stat.heap_count += 1;
            }
            let a = alloc_rec::<AllocRec>(heaps);
            if a.is_null() {
                no_memory();
                return;
            }
            a.write(AllocRec {
                block: heap_task_block_t {
                    task,
                    address: p as *mut c_void,
                    size: size as u32,
                },
                next: ptr::null_mut(),
            });
            let mut alink: *mut *mut AllocRec = &mut (*h).allocs;
            while !(*alink).is_null() {
                alink = &mut (**alink).next;
            }
            *alink = a;
            let hs = &mut (*h).stat;
            hs.current_usage += size;
            hs.alloc_count += 1;
            hs.peak_usage = hs.peak_usage.max(hs.current_usage);
            let ts = &mut (*t).stat;
            ts.overall_current_usage += size;
            ts.overall_peak_usage = ts.overall_peak_usage.max(ts.overall_current_usage);
        }
    }

    /// # Safety
    /// Lock held.
    unsafe fn remove(&self, heaps: &dyn Heaps, heap: MultiHeap, owner: usize, p: usize) {
        // SAFETY: lock held; records are valid.
        unsafe {
            let mut t = *self.head();
            while !t.is_null() {
                if (*t).stat.handle as usize == owner {
                    let mut h = (*t).heaps;
                    while !h.is_null() && (*h).heap != heap.as_ptr() as usize {
                        h = (*h).next;
                    }
                    if !h.is_null() {
                        let mut alink: *mut *mut AllocRec = &mut (*h).allocs;
                        while !(*alink).is_null() {
                            let a = *alink;
                            if (*a).block.address as usize == p {
                                *alink = (*a).next;
                                let size = (*a).block.size as usize;
                                let hs = &mut (*h).stat;
                                hs.current_usage = hs.current_usage.saturating_sub(size);
                                hs.alloc_count = hs.alloc_count.saturating_sub(1);
                                let ts = &mut (*t).stat;
                                ts.overall_current_usage =
                                    ts.overall_current_usage.saturating_sub(size);
                                free_rec(heaps, a);
                                return;
                            }
                            alink = &mut (*a).next;
                        }
                    }
                }
                t = (*t).next;
            }
        }
    }

    /// Runs `f` on each task's statistics (list order) with the lock held.
    fn each(&self, mut f: impl FnMut(*mut TaskRec, bool) -> bool) {
        let _g = self.guard();
        // SAFETY: lock held; records valid.
        unsafe {
            let mut t = *self.head();
            while !t.is_null() {
                let next = (*t).next;
                if !f(t, next.is_null()) {
                    break;
                }
                t = next;
            }
        }
    }

    /// `heap_caps_get_all_task_stat`. `Err(())` for invalid arguments.
    pub fn get_all(&self, s: &mut heap_all_tasks_stat_t) -> Result<(), ()> {
        if (s.stat_arr.is_null() && s.task_count != 0)
            || (s.heap_stat_start.is_null() && s.heap_count != 0)
            || (s.alloc_stat_start.is_null() && s.alloc_count != 0)
        {
            return Err(());
        }
        let (mut ti, mut hi, mut ai) = (0usize, 0usize, 0usize);
        self.each(|t, _| {
            if ti >= s.task_count {
                return false;
            }
            // SAFETY: ti < task_count entries at stat_arr (caller contract); t is valid.
            unsafe {
                let out = s.stat_arr.add(ti);
                out.write((*t).stat);
                ti += 1;
                if hi + (*t).stat.heap_count > s.heap_count {
                    (*out).heap_stat = ptr::null_mut();
                    return true;
                }
                (*out).heap_stat = s.heap_stat_start.add(hi);
                let n = copy_heaps(
                    t,
                    s.heap_stat_start.add(hi),
                    s.alloc_stat_start,
                    &mut ai,
                    s.alloc_count,
                );
                hi += n;
                (*out).heap_count = n;
            }
            true
        });
        s.task_count = ti;
        s.heap_count = hi;
        s.alloc_count = ai;
        Ok(())
    }

    /// `heap_caps_get_single_task_stat`. `Err(true)` for invalid arguments, `Err(false)` for
    /// an unknown task.
    pub fn get_single(
        &self,
        s: &mut heap_single_task_stat_t,
        task: TaskHandle_t,
    ) -> Result<(), bool> {
        if (s.heap_stat_start.is_null() && s.heap_count != 0)
            || (s.alloc_stat_start.is_null() && s.alloc_count != 0)
        {
            return Err(true);
        }
        let task = if task.is_null() {
            port::task_handle()
        } else {
            task
        };
        let mut found = false;
        let (mut hi, mut ai) = (0usize, 0usize);
        self.each(|t, _| {
            // SAFETY: t valid with the lock held; arrays per caller contract.
            unsafe {
                if (*t).stat.handle != task {
                    return true;
                }
                found = true;
                s.stat = (*t).stat;
                s.stat.heap_stat = s.heap_stat_start;
                let mut h = (*t).heaps;
                while !h.is_null() && hi < s.heap_count {
                    let out = s.heap_stat_start.add(hi);
                    out.write((*h).stat);
                    (*out).alloc_stat = copy_allocs(h, s.alloc_stat_start, &mut ai, s.alloc_count);
                    hi += 1;
                    h = (*h).next;
                }
            }
            false
        });
        if !found {
            return Err(false);
        }
        s.heap_count = hi;
        s.alloc_count = ai;
        Ok(())
    }

    /// Counts for sizing the arrays: (tasks, heaps, blocks) of every task, or of the live task
    /// `only`.
    pub fn counts(&self, only: Option<TaskHandle_t>) -> (usize, usize, usize) {
        let (mut t_n, mut h_n, mut a_n) = (0, 0, 0);
        self.each(|t, _| {
            // SAFETY: valid with the lock held.
            unsafe {
                if let Some(task) = only {
                    if (*t).stat.handle != task || !(*t).stat.is_alive {
                        return true;
                    }
                }
                t_n += 1;
                h_n += (*t).stat.heap_count;
                let mut h = (*t).heaps;
                while !h.is_null() {
                    a_n += (*h).stat.alloc_count;
                    h = (*h).next;
                }
            }
            true
        });
        (t_n, h_n, a_n)
    }

    /// `heap_caps_print_single_task_stat` / `heap_caps_print_all_task_stat`.
    ///
    /// # Safety
    /// `stream` must be NULL or a valid C `FILE *`.
    pub unsafe fn print(&self, stream: *mut c_void, only: Option<TaskHandle_t>) {
        self.each(|t, last| {
            // SAFETY: valid with the lock held.
            unsafe {
                if let Some(task) = only {
                    if (*t).stat.handle != task {
                        return true;
                    }
                    print_task(stream, t, true);
                    return false;
                }
                print_task(stream, t, last);
            }
            true
        });
    }

    /// `heap_caps_print_*_task_stat_overview`.
    ///
    /// # Safety
    /// `stream` must be NULL or a valid C `FILE *`.
    pub unsafe fn print_overview(&self, stream: *mut c_void, only: Option<TaskHandle_t>) {
        let mut first = true;
        self.each(|t, last| {
            // SAFETY: valid with the lock held.
            let s = unsafe { &(*t).stat };
            if let Some(task) = only {
                if s.handle != task {
                    return true;
                }
                print_overview_row(stream, s, true, true);
                return false;
            }
            print_overview_row(stream, s, first, last);
            first = false;
            true
        });
    }
}

/// Copies the heap statistics of `t` to `out` (all of them: the caller checked the room), with
/// their blocks where they fit. Returns the number of heaps.
///
/// # Safety
/// `t` valid (lock held); `out` has room for `heap_count` entries; `allocs` for `cap` blocks.
unsafe fn copy_heaps(
    t: *mut TaskRec,
    out: *mut heap_stat_t,
    allocs: *mut heap_task_block_t,
    ai: &mut usize,
    cap: usize,
) -> usize {
    let mut n = 0;
    // SAFETY: caller contract.
    unsafe {
        let mut h = (*t).heaps;
        while !h.is_null() && n < (*t).stat.heap_count {
            let o = out.add(n);
            o.write((*h).stat);
            (*o).alloc_stat = copy_allocs(h, allocs, ai, cap);
            n += 1;
            h = (*h).next;
        }
    }
    n
}

/// Copies the blocks of `h` to `allocs[*ai..]` if all fit; returns where they went (or NULL).
///
/// # Safety
/// `h` valid (lock held); `allocs` has room for `cap` blocks.
unsafe fn copy_allocs(
    h: *mut HeapRec,
    allocs: *mut heap_task_block_t,
    ai: &mut usize,
    cap: usize,
) -> *mut heap_task_block_t {
    // SAFETY: caller contract.
    unsafe {
        let n = (*h).stat.alloc_count;
        if *ai + n > cap || n == 0 {
            return ptr::null_mut();
        }
        let start = allocs.add(*ai);
        let mut a = (*h).allocs;
        let mut k = 0;
        while !a.is_null() && k < n {
            start.add(k).write((*a).block);
            k += 1;
            a = (*a).next;
        }
        *ai += k;
        start
    }
}

/// Frees every record of `t` (already unlinked).
///
/// # Safety
/// `t` valid and unlinked; lock held.
unsafe fn drop_task(heaps: &dyn Heaps, t: *mut TaskRec) {
    // SAFETY: caller contract.
    unsafe {
        let mut h = (*t).heaps;
        while !h.is_null() {
            let mut a = (*h).allocs;
            while !a.is_null() {
                let next = (*a).next;
                free_rec(heaps, a);
                a = next;
            }
            let next = (*h).next;
            free_rec(heaps, h);
            h = next;
        }
        free_rec(heaps, t);
    }
}

fn name_str(name: &[c_char; TASK_NAME_LEN]) -> &str {
    // SAFETY: c_char and u8 have the same layout (and on the chips c_char is u8).
    let bytes = unsafe { core::slice::from_raw_parts(name.as_ptr().cast::<u8>(), TASK_NAME_LEN) };
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(TASK_NAME_LEN);
    core::str::from_utf8(bytes.get(..len).unwrap_or(&[])).unwrap_or("?")
}

fn cstr(p: *const c_char) -> &'static str {
    if p.is_null() {
        return "";
    }
    // SAFETY: heap names are NUL-terminated static strings (see `c_name`).
    unsafe { core::ffi::CStr::from_ptr(p) }
        .to_str()
        .unwrap_or("")
}

/// Right-aligns `text` in `width` columns (`%Ns`).
fn pad_s(l: &mut Line, text: &str, width: usize) {
    for _ in text.len()..width {
        l.s(" ");
    }
    l.s(text);
}

fn pad_d(l: &mut Line, v: usize, width: usize) {
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

/// # Safety
/// `t` valid with the lock held.
unsafe fn print_task(stream: *mut c_void, t: *mut TaskRec, last: bool) {
    // SAFETY: caller contract.
    let s = unsafe { &(*t).stat };
    let bar = if last { " " } else { "│" };
    Line::file(stream)
        .s(if last { "└" } else { "├" })
        .s(" ")
        .s(if s.is_alive { "ALIVE" } else { "DELETED" })
        .s(": ")
        .s(name_str(&s.name))
        .s(", CURRENT MEMORY USAGE ")
        .dec(s.overall_current_usage)
        .s(", PEAK MEMORY USAGE ")
        .dec(s.overall_peak_usage)
        .s(", TOTAL HEAP USED ")
        .dec(s.heap_count)
        .s(":\n");
    // SAFETY: caller contract.
    let mut h = unsafe { (*t).heaps };
    while !h.is_null() {
        // SAFETY: valid with the lock held.
        let (hs, next, mut a) = unsafe { (&(*h).stat, (*h).next, (*h).allocs) };
        let size = hs.size.max(1);
        Line::file(stream)
            .s(bar)
            .s("    ")
            .s(if next.is_null() { "└" } else { "├" })
            .s(" HEAP: ")
            .s(cstr(hs.name))
            .s(", CAPS: 0x")
            .hex(hs.caps as usize, 8, false)
            .s(", SIZE: ")
            .dec(hs.size)
            .s(", USAGE: CURRENT ")
            .dec(hs.current_usage)
            .s(" (")
            .dec(hs.current_usage * 100 / size)
            .s("%), PEAK ")
            .dec(hs.peak_usage)
            .s(" (")
            .dec(hs.peak_usage * 100 / size)
            .s("%), ALLOC COUNT: ")
            .dec(hs.alloc_count)
            .s("\n");
        while !a.is_null() {
            // SAFETY: valid with the lock held.
            let b = unsafe { (*a).block };
            Line::file(stream)
                .s(bar)
                .s("    ")
                .s(if next.is_null() { " " } else { "│" })
                .s("    ├ ALLOC ")
                .ptr(b.address)
                .s(", SIZE ")
                .dec(b.size as usize)
                .s("\n");
            // SAFETY: as above.
            a = unsafe { (*a).next };
        }
        h = next;
    }
}

fn print_overview_row(stream: *mut c_void, s: &task_stat_t, first: bool, last: bool) {
    if first {
        Line::file(stream).s("┌────────────────────┬─────────┬──────────────────────┬───────────────────┬─────────────────┐\n");
        Line::file(stream).s("│ TASK               │ STATUS  │ CURRENT MEMORY USAGE │ PEAK MEMORY USAGE │ TOTAL HEAP USED │\n");
        Line::file(stream).s("├────────────────────┼─────────┼──────────────────────┼───────────────────┼─────────────────┤\n");
    }
    let mut l = Line::file(stream);
    l.s("│ ");
    pad_s(&mut l, name_str(&s.name), 18);
    l.s(" │ ")
        .s(if s.is_alive { "ALIVE  " } else { "DELETED" })
        .s(" │ ");
    pad_d(&mut l, s.overall_current_usage, 20);
    l.s(" │ ");
    pad_d(&mut l, s.overall_peak_usage, 17);
    l.s(" │ ");
    pad_d(&mut l, s.heap_count, 15);
    l.s(" │\n");
    drop(l);
    if last {
        Line::file(stream).s("└────────────────────┴─────────┴──────────────────────┴───────────────────┴─────────────────┘\n");
    }
}
