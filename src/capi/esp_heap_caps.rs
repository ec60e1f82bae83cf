//! `esp_heap_caps.h`: the capability allocator's C API, plus the entry points ESP-IDF declares
//! privately (`heap_private.h`: the `*_base` functions, `heap_caps_*_default`, `heap_caps_match`)
//! and the array forms behind the variadic `*_prefer` functions (see `prefer.c`).

use core::ffi::{c_char, c_void, CStr};
use core::ptr;
use core::sync::atomic::AtomicPtr;

use crate::capi::multi_heap::multi_heap_info_t;
use crate::caps::{self, Registry};

/// `intptr_t` (from stdint.h; not emitted).
pub type intptr_t = isize;
/// `esp_err_t` (from esp_err.h or the header prologue; not emitted).
pub type esp_err_t = i32;

/// Memory must be able to run executable code.
pub const MALLOC_CAP_EXEC: u32 = 0x1;
/// Memory must allow 32-bit aligned word access.
pub const MALLOC_CAP_32BIT: u32 = 0x2;
/// Memory must allow byte access.
pub const MALLOC_CAP_8BIT: u32 = 0x4;
/// Memory must be usable by DMA engines.
pub const MALLOC_CAP_DMA: u32 = 0x8;
/// Process-ID capability 2 (unused by any layout).
pub const MALLOC_CAP_PID2: u32 = 0x10;
/// Process-ID capability 3 (unused).
pub const MALLOC_CAP_PID3: u32 = 0x20;
/// Process-ID capability 4 (unused).
pub const MALLOC_CAP_PID4: u32 = 0x40;
/// Process-ID capability 5 (unused).
pub const MALLOC_CAP_PID5: u32 = 0x80;
/// Process-ID capability 6 (unused).
pub const MALLOC_CAP_PID6: u32 = 0x100;
/// Process-ID capability 7 (unused).
pub const MALLOC_CAP_PID7: u32 = 0x200;
/// Memory in external SPI RAM.
pub const MALLOC_CAP_SPIRAM: u32 = 0x400;
/// Memory inside the chip (not PSRAM).
pub const MALLOC_CAP_INTERNAL: u32 = 0x800;
/// Memory that plain malloc may return.
pub const MALLOC_CAP_DEFAULT: u32 = 0x1000;
/// ESP32 IRAM usable for 8/16-bit access.
pub const MALLOC_CAP_IRAM_8BIT: u32 = 0x2000;
/// Memory reachable by the retention DMA.
pub const MALLOC_CAP_RETENTION: u32 = 0x4000;
/// Memory in RTC fast RAM.
pub const MALLOC_CAP_RTCRAM: u32 = 0x8000;
/// Memory in a scratch-pad (tightly coupled) RAM.
pub const MALLOC_CAP_SPM: u32 = 0x10000;
/// Memory for AHB-GDMA descriptors (allocated as DMA memory).
pub const MALLOC_CAP_DMA_DESC_AHB: u32 = 0x20000;
/// Memory for AXI-GDMA descriptors (allocated as DMA memory, aligned for AXI).
pub const MALLOC_CAP_DMA_DESC_AXI: u32 = 0x40000;
/// Memory aligned and sized to the data cache line.
pub const MALLOC_CAP_CACHE_ALIGNED: u32 = 0x80000;
/// Memory suitable for SIMD instructions (aligned accordingly).
pub const MALLOC_CAP_SIMD: u32 = 0x100000;
/// PSRAM exempt from flash encryption.
pub const MALLOC_CAP_SPIRAM_NO_ENC: u32 = 0x200000;
/// No heap has this bit: allocations fail; in check/dump/walk it selects all heaps.
// Written `1u32 << 31` so that cbindgen emits `(1u << 31)`: an `unsigned int`. A hex or decimal
// literal came out as `2147483648`, a 64-bit `long long` on ILP32 targets that shifts every later
// `*_prefer` vararg; ESP-IDF's `(1<<31)` overflows `int` (undefined behaviour, UBSan reports it).
pub const MALLOC_CAP_INVALID: u32 = 1u32 << 31;

/// Called when an allocation fails: requested size, caps and the name of the public function.
pub type esp_alloc_failed_hook_t =
    Option<unsafe extern "C" fn(size: usize, caps: u32, function_name: *const c_char)>;

/// The heap a walked block belongs to: `[start, end)`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct walker_heap_into_t {
    /// First address of the heap.
    pub start: intptr_t,
    /// End of the heap (exclusive).
    pub end: intptr_t,
}

/// A walked block: data pointer, size, whether allocated.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct walker_block_info_t {
    /// Block data pointer.
    pub ptr: *mut c_void,
    /// Block size in bytes.
    pub size: usize,
    /// Whether the block is allocated.
    pub used: bool,
}

/// Called for each block by `heap_caps_walk`; returning false ends the walk of that heap.
pub type heap_caps_walker_cb_t = Option<
    unsafe extern "C" fn(
        heap_info: walker_heap_into_t,
        block_info: walker_block_info_t,
        user_data: *mut c_void,
    ) -> bool,
>;

const ESP_OK: esp_err_t = 0;
const ESP_ERR_INVALID_ARG: esp_err_t = 0x102;

#[inline(always)]
fn reg() -> &'static Registry {
    caps::global()
}

static FAILED_CB: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());

fn call_c_hook(size: usize, caps: u32, name: &'static CStr) {
    let f = caps::acquire(|o| FAILED_CB.load(o));
    if !f.is_null() {
        // SAFETY: only `heap_caps_register_failed_alloc_callback` stores here, from a non-NULL
        // `esp_alloc_failed_hook_t`.
        let f: unsafe extern "C" fn(usize, u32, *const c_char) = unsafe { core::mem::transmute(f) };
        // SAFETY: calling the user's callback with a valid NUL-terminated name.
        unsafe { f(size, caps, name.as_ptr()) };
    }
}

/// Registers the callback run when an allocation fails. NULL gives `ESP_ERR_INVALID_ARG`.
#[no_mangle]
pub extern "C" fn heap_caps_register_failed_alloc_callback(
    cb: esp_alloc_failed_hook_t,
) -> esp_err_t {
    match cb {
        None => ESP_ERR_INVALID_ARG,
        Some(f) => {
            caps::release(|o| FAILED_CB.store(f as *mut c_void, o));
            reg().set_failed_alloc_hook(call_c_hook);
            ESP_OK
        }
    }
}

/// Allocates `size` bytes from a heap with all of `caps`.
#[no_mangle]
pub extern "C" fn heap_caps_malloc(size: usize, caps: u32) -> *mut c_void {
    reg().malloc(size, caps) as *mut c_void
}

/// Frees memory from any `heap_caps_*` allocation function (NULL is ignored).
///
/// # Safety
/// `ptr` must be NULL or a live pointer from this allocator.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_free(ptr: *mut c_void) {
    // SAFETY: forwarded caller contract.
    unsafe { reg().free(ptr as *mut u8) }
}

/// Resizes `ptr` to `size` bytes in memory with all of `caps` (may move it to other memory).
///
/// # Safety
/// `ptr` must be NULL or a live pointer from this allocator.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_realloc(
    ptr: *mut c_void,
    size: usize,
    caps: u32,
) -> *mut c_void {
    // SAFETY: forwarded caller contract.
    unsafe { reg().realloc(ptr as *mut u8, size, caps) as *mut c_void }
}

/// Allocates `size` bytes aligned to `alignment` (a power of two) with all of `caps`.
#[no_mangle]
pub extern "C" fn heap_caps_aligned_alloc(alignment: usize, size: usize, caps: u32) -> *mut c_void {
    reg().aligned_alloc(alignment, size, caps) as *mut c_void
}

/// Frees memory from `heap_caps_aligned_alloc` (same as `heap_caps_free`).
///
/// # Safety
/// `ptr` must be NULL or a live pointer from this allocator.
#[deprecated]
#[no_mangle]
pub unsafe extern "C" fn heap_caps_aligned_free(ptr: *mut c_void) {
    // SAFETY: forwarded caller contract.
    unsafe { reg().free(ptr as *mut u8) }
}

/// Allocates `n * size` zeroed bytes aligned to `alignment` with all of `caps`.
#[no_mangle]
pub extern "C" fn heap_caps_aligned_calloc(
    alignment: usize,
    n: usize,
    size: usize,
    caps: u32,
) -> *mut c_void {
    reg().aligned_calloc(alignment, n, size, caps) as *mut c_void
}

/// Allocates `n * size` zeroed bytes with all of `caps`.
#[no_mangle]
pub extern "C" fn heap_caps_calloc(n: usize, size: usize, caps: u32) -> *mut c_void {
    reg().calloc(n, size, caps) as *mut c_void
}

/// Total size of the heaps with all of `caps`.
#[no_mangle]
pub extern "C" fn heap_caps_get_total_size(caps: u32) -> usize {
    reg().total_size(caps)
}

/// Free bytes in the heaps with all of `caps`.
#[no_mangle]
pub extern "C" fn heap_caps_get_free_size(caps: u32) -> usize {
    reg().free_size(caps)
}

/// Sum of the low-water marks of the heaps with all of `caps`.
#[no_mangle]
pub extern "C" fn heap_caps_get_minimum_free_size(caps: u32) -> usize {
    reg().minimum_free_size(caps)
}

/// Largest block that `heap_caps_malloc(size, caps)` can return now.
#[no_mangle]
pub extern "C" fn heap_caps_get_largest_free_block(caps: u32) -> usize {
    reg().largest_free_block(caps)
}

/// Starts tracking a local minimum of free memory (always `ESP_OK`).
#[no_mangle]
pub extern "C" fn heap_caps_monitor_local_minimum_free_size_start() -> esp_err_t {
    match reg().monitor_start() {
        Ok(()) => ESP_OK,
        Err(e) => e.code(),
    }
}

/// Stops local-minimum tracking; `ESP_FAIL` when it was not started.
#[no_mangle]
pub extern "C" fn heap_caps_monitor_local_minimum_free_size_stop() -> esp_err_t {
    match reg().monitor_stop() {
        Ok(()) => ESP_OK,
        Err(e) => e.code(),
    }
}

/// Fills `info` with statistics over the heaps with all of `caps` (NULL `info` is ignored).
///
/// # Safety
/// `info` must be NULL or valid for writing a `multi_heap_info_t`.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_get_info(info: *mut multi_heap_info_t, caps: u32) {
    if info.is_null() {
        return;
    }
    // SAFETY: checked non-NULL; caller guarantees it is writable; `Info` has the layout of
    // `multi_heap_info_t` (checked in capi/multi_heap.rs) and every bit pattern is valid.
    reg().info_into(caps, unsafe {
        &mut *info.cast::<crate::multi_heap::Info>()
    });
}

/// Prints a summary of the heaps with all of `caps` to standard output.
#[no_mangle]
pub extern "C" fn heap_caps_print_heap_info(caps: u32) {
    reg().print_heap_info(caps)
}

/// Checks every heap.
#[no_mangle]
pub extern "C" fn heap_caps_check_integrity_all(print_errors: bool) -> bool {
    reg().check_integrity(MALLOC_CAP_INVALID, print_errors)
}

/// Checks every heap with all of `caps` (`MALLOC_CAP_INVALID`: all heaps).
#[no_mangle]
pub extern "C" fn heap_caps_check_integrity(caps: u32, print_errors: bool) -> bool {
    reg().check_integrity(caps, print_errors)
}

/// Checks the heap containing `addr`; false when no heap contains it.
#[no_mangle]
pub extern "C" fn heap_caps_check_integrity_addr(addr: intptr_t, print_errors: bool) -> bool {
    reg().check_integrity_addr(addr as usize, print_errors)
}

/// Lets `malloc` use PSRAM for requests larger than `limit` bytes.
#[no_mangle]
pub extern "C" fn heap_caps_malloc_extmem_enable(limit: usize) {
    reg().malloc_extmem_enable(limit)
}

/// `heap_caps_malloc_prefer` with the caps in an array (the variadic form is in `prefer.c`).
///
/// # Safety
/// `caps` must point at `num` readable values (may be NULL when `num` is 0).
#[no_mangle]
pub unsafe extern "C" fn heapcaps_malloc_prefer_array(
    size: usize,
    num: usize,
    caps: *const u32,
) -> *mut c_void {
    // SAFETY: forwarded caller contract.
    let c = unsafe { caps_slice(caps, num) };
    reg().malloc_prefer(size, c) as *mut c_void
}

/// `heap_caps_realloc_prefer` with the caps in an array.
///
/// # Safety
/// As `heapcaps_malloc_prefer_array`; `ptr` must be NULL or a live pointer from this allocator.
#[no_mangle]
pub unsafe extern "C" fn heapcaps_realloc_prefer_array(
    ptr: *mut c_void,
    size: usize,
    num: usize,
    caps: *const u32,
) -> *mut c_void {
    // SAFETY: forwarded caller contract.
    unsafe { reg().realloc_prefer(ptr as *mut u8, size, caps_slice(caps, num)) as *mut c_void }
}

/// `heap_caps_calloc_prefer` with the caps in an array.
///
/// # Safety
/// As `heapcaps_malloc_prefer_array`.
#[no_mangle]
pub unsafe extern "C" fn heapcaps_calloc_prefer_array(
    n: usize,
    size: usize,
    num: usize,
    caps: *const u32,
) -> *mut c_void {
    // SAFETY: forwarded caller contract.
    let c = unsafe { caps_slice(caps, num) };
    reg().calloc_prefer(n, size, c) as *mut c_void
}

/// # Safety
/// `caps` must point at `num` readable values, or `num` must be 0.
unsafe fn caps_slice<'a>(caps: *const u32, num: usize) -> &'a [u32] {
    if caps.is_null() || num == 0 {
        &[]
    } else {
        // SAFETY: caller contract.
        unsafe { core::slice::from_raw_parts(caps, num) }
    }
}

/// Prints every block of the heaps with all of `caps`.
#[no_mangle]
pub extern "C" fn heap_caps_dump(caps: u32) {
    reg().dump(caps)
}

/// Prints every block of every heap.
#[no_mangle]
pub extern "C" fn heap_caps_dump_all() {
    reg().dump(MALLOC_CAP_INVALID)
}

/// Usable size of the block `ptr` (NULL gives 0; other non-heap pointers abort).
///
/// # Safety
/// `ptr` must be NULL or a live pointer from this allocator.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_get_allocated_size(ptr: *mut c_void) -> usize {
    // SAFETY: forwarded caller contract.
    unsafe { reg().allocated_size(ptr as *mut u8) }
}

/// Size of the allocated block containing `ptr` (anywhere in its data).
///
/// # Safety
/// `ptr` must point into a live allocation of this allocator.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_get_containing_block_size(ptr: *mut c_void) -> usize {
    // SAFETY: forwarded caller contract.
    unsafe { reg().containing_block_size(ptr as *mut u8) }
}

/// Calls `walker_func` for every block of the heaps with all of `caps` (`MALLOC_CAP_INVALID`:
/// all). A NULL callback does nothing (ESP-IDF asserts).
///
/// # Safety
/// `walker_func` must be safe to call with `user_data`; it runs with the heap lock held and must
/// not allocate or free.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_walk(
    caps: u32,
    walker_func: heap_caps_walker_cb_t,
    user_data: *mut c_void,
) {
    let Some(f) = walker_func else { return };
    reg().walk(caps, |start, end, p, size, used| {
        let h = walker_heap_into_t {
            start: start as intptr_t,
            end: end as intptr_t,
        };
        let b = walker_block_info_t {
            ptr: p as *mut c_void,
            size,
            used,
        };
        // SAFETY: caller contract for the callback.
        unsafe { f(h, b, user_data) }
    })
}

/// Walks every heap.
///
/// # Safety
/// As `heap_caps_walk`.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_walk_all(
    walker_func: heap_caps_walker_cb_t,
    user_data: *mut c_void,
) {
    // SAFETY: forwarded caller contract.
    unsafe { heap_caps_walk(MALLOC_CAP_INVALID, walker_func, user_data) }
}

/// `malloc()`'s allocation policy (internal memory, or PSRAM above the extmem limit).
#[no_mangle]
pub extern "C" fn heap_caps_malloc_default(size: usize) -> *mut c_void {
    reg().malloc_default(size) as *mut c_void
}

/// `realloc()`'s allocation policy.
///
/// # Safety
/// `ptr` must be NULL or a live pointer from this allocator.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_realloc_default(ptr: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: forwarded caller contract.
    unsafe { reg().realloc_default(ptr as *mut u8, size) as *mut c_void }
}

/// `memalign()`/`aligned_alloc()`'s allocation policy.
#[no_mangle]
pub extern "C" fn heap_caps_aligned_alloc_default(alignment: usize, size: usize) -> *mut c_void {
    reg().aligned_alloc_default(alignment, size) as *mut c_void
}

/// `heap_caps_malloc` without the failed-allocation callback.
#[no_mangle]
pub extern "C" fn heap_caps_malloc_base(size: usize, caps: u32) -> *mut c_void {
    reg().malloc_base(size, caps) as *mut c_void
}

/// `heap_caps_calloc` without the failed-allocation callback.
#[no_mangle]
pub extern "C" fn heap_caps_calloc_base(n: usize, size: usize, caps: u32) -> *mut c_void {
    reg().calloc_base(n, size, caps) as *mut c_void
}

/// `heap_caps_realloc` without the failed-allocation callback.
///
/// # Safety
/// `ptr` must be NULL or a live pointer from this allocator.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_realloc_base(
    ptr: *mut c_void,
    size: usize,
    caps: u32,
) -> *mut c_void {
    // SAFETY: forwarded caller contract.
    unsafe { reg().realloc_base(ptr as *mut u8, size, caps) as *mut c_void }
}

/// `heap_caps_aligned_alloc` without argument checks' callback and the failed-allocation callback.
#[no_mangle]
pub extern "C" fn heap_caps_aligned_alloc_base(
    alignment: usize,
    size: usize,
    caps: u32,
) -> *mut c_void {
    reg().aligned_alloc_base(alignment, size, caps) as *mut c_void
}

/// Whether the heap containing `heap` (any address inside it, e.g. its start) is registered and
/// has all of `caps`. ESP-IDF passes its private `heap_t *` here; heapcaps has no such descriptor
/// in memory, so the argument is an address of the heap itself.
#[no_mangle]
pub extern "C" fn heap_caps_match(heap: *const c_void, caps: u32) -> bool {
    reg().heap_matches(heap as usize, caps)
}
