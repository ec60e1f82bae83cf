//! The C library's allocation entry points (`malloc`, `free`, ...) over the capabilities
//! allocator, as ESP-IDF's libc layer provides them. Compiled only with the `c-malloc` feature.
//!
//! Allocation policy follows ESP-IDF: every request goes through `heap_caps_*_default` (internal
//! RAM unless `heap_caps_malloc_extmem_enable` opted in to PSRAM), returned pointers are 4-byte
//! aligned, and `malloc(0)` / `calloc(0, n)` / `realloc(p, 0)` return NULL.
//!
//! On a host this keeps ESP-IDF's 4-byte alignment on purpose (the simulation should behave like
//! the chip), although C asks `malloc` for `alignof(max_align_t)` (16 on x86_64 glibc). Programs
//! needing more use `aligned_alloc` / `posix_memalign`. The host-only feature
//! `host-malloc-align16` makes every block 16-byte aligned instead, for running unmodified host
//! programs with `LD_PRELOAD` (tests/preload/): they store pointers and SSE data in their blocks.
//!
//! Deliberate differences from ESP-IDF, which follow C and POSIX here:
//! - a failed allocation of a non-zero size sets `errno = ENOMEM` (ESP-IDF leaves errno alone);
//! - `posix_memalign` returns `EINVAL` for an alignment that is not a power-of-two multiple of
//!   `sizeof(void *)` (ESP-IDF returns `ENOMEM` for every failure, bad alignment included);
//! - `aligned_alloc` / `memalign` with an alignment that is zero or not a power of two set
//!   `errno = EINVAL` (ESP-IDF returns NULL without touching errno);
//! - `malloc_usable_size` returns the real usable size of the block (ESP-IDF always returns 0).

use core::ffi::{c_int, c_void};
use core::ptr;

use crate::caps::global;
use crate::port;

// The capabilities layer's `heap_caps_*_default` and `heap_caps_free`, as used by ESP-IDF's libc
// layer, through the registry's Rust API (the first call boots the simulated chip on a host).
#[cfg(not(feature = "host-malloc-align16"))]
#[inline(always)]
fn heap_caps_malloc_default(size: usize) -> *mut c_void {
    global().malloc_default(size) as *mut c_void
}

#[cfg(not(feature = "host-malloc-align16"))]
#[inline(always)]
unsafe fn heap_caps_realloc_default(p: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: forwarded caller contract (NULL or a live block).
    unsafe { global().realloc_default(p as *mut u8, size) as *mut c_void }
}

/// With `host-malloc-align16`: the alignment of every block (`alignof(max_align_t)` of the
/// x86_64 and i686 glibc ABIs), for running unmodified host programs on heapcaps.
#[cfg(feature = "host-malloc-align16")]
const MIN_ALIGN: usize = 16;

#[cfg(feature = "host-malloc-align16")]
#[inline(always)]
fn heap_caps_malloc_default(size: usize) -> *mut c_void {
    global().aligned_alloc_default(MIN_ALIGN, size) as *mut c_void
}

/// Realloc keeping 16-byte alignment: shrinking stays in place (checked); growing allocates an
/// aligned block, copies and frees, so a failure leaves `p` untouched.
#[cfg(feature = "host-malloc-align16")]
unsafe fn heap_caps_realloc_default(p: *mut c_void, size: usize) -> *mut c_void {
    if p.is_null() {
        return heap_caps_malloc_default(size);
    }
    if size == 0 {
        // SAFETY: forwarded caller contract (a live block).
        unsafe { heap_caps_free(p) };
        return ptr::null_mut();
    }
    // SAFETY: forwarded caller contract (a live block).
    let old = unsafe { heap_caps_get_allocated_size(p) };
    if size <= old {
        // SAFETY: as above.
        let r = unsafe { global().realloc_default(p as *mut u8, size) as *mut c_void };
        if r.is_null() || r as usize % MIN_ALIGN == 0 {
            return r;
        }
        // Moved to a less aligned block (not expected for a shrink): move it once more.
        let n = heap_caps_malloc_default(size);
        if !n.is_null() {
            // SAFETY: both blocks are live and at least `size` bytes long; distinct blocks.
            unsafe { ptr::copy_nonoverlapping(r as *const u8, n as *mut u8, size) };
            // SAFETY: `r` is live and now unused.
            unsafe { heap_caps_free(r) };
            return n;
        }
        return r;
    }
    let n = heap_caps_malloc_default(size);
    if !n.is_null() {
        // SAFETY: `p` holds `old` bytes, `n` at least `size` > `old`; distinct live blocks.
        unsafe { ptr::copy_nonoverlapping(p as *const u8, n as *mut u8, old) };
        // SAFETY: `p` is live (caller contract) and its contents were copied.
        unsafe { heap_caps_free(p) };
    }
    n
}

#[inline(always)]
fn heap_caps_aligned_alloc_default(alignment: usize, size: usize) -> *mut c_void {
    global().aligned_alloc_default(alignment, size) as *mut c_void
}

#[inline(always)]
unsafe fn heap_caps_free(p: *mut c_void) {
    // SAFETY: forwarded caller contract (NULL or a live block).
    unsafe { global().free(p as *mut u8) }
}

#[inline(always)]
unsafe fn heap_caps_get_allocated_size(p: *mut c_void) -> usize {
    // SAFETY: forwarded caller contract (a live block).
    unsafe { global().allocated_size(p as *mut u8) }
}

/// Sets ENOMEM when an allocation of a non-zero size came back NULL; passes `p` through.
#[inline(always)]
fn nomem_if_null(p: *mut c_void, size: usize) -> *mut c_void {
    if p.is_null() && size != 0 {
        port::set_errno(port::ENOMEM);
    }
    p
}

/// Allocates `size` bytes from internal RAM (ESP-IDF's default `malloc` policy).
/// Returns NULL for `size == 0` (errno unchanged) and NULL with `errno = ENOMEM` on failure.
///
/// # Safety
/// Always safe to call; the result must be released with `free`.
#[no_mangle]
pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    let p = heap_caps_malloc_default(size);
    nomem_if_null(p, size)
}

/// Releases a block from `malloc` and friends; NULL is ignored. A pointer that no heap owns
/// aborts with a message naming it.
///
/// # Safety
/// `ptr` must be NULL or a live block of this allocator.
#[no_mangle]
pub unsafe extern "C" fn free(ptr: *mut c_void) {
    // SAFETY: forwarded contract.
    unsafe { heap_caps_free(ptr) }
}

/// Allocates a zeroed array of `n` elements of `size` bytes. An overflowing product returns NULL
/// with `errno = ENOMEM`; a zero product returns NULL with errno unchanged (as ESP-IDF).
///
/// # Safety
/// Always safe to call; the result must be released with `free`.
#[no_mangle]
pub unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    let Some(total) = n.checked_mul(size) else {
        port::set_errno(port::ENOMEM);
        return ptr::null_mut();
    };
    let p = heap_caps_malloc_default(total);
    if !p.is_null() {
        // SAFETY: `p` is a fresh block of at least `total` bytes.
        unsafe { ptr::write_bytes(p as *mut u8, 0, total) };
    }
    nomem_if_null(p, total)
}

/// Resizes a block (possibly moving it). `realloc(NULL, n)` is `malloc(n)`; `realloc(p, 0)` frees
/// `p` and returns NULL (ESP-IDF). On failure returns NULL with `errno = ENOMEM`, `p` untouched.
///
/// # Safety
/// `ptr` must be NULL or a live block of this allocator.
#[no_mangle]
pub unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: forwarded contract.
    let p = unsafe { heap_caps_realloc_default(ptr, size) };
    nomem_if_null(p, size)
}

/// Shared body of the aligned entry points: NULL + EINVAL for a zero or non-power-of-two
/// alignment, NULL for size 0, NULL + ENOMEM on failure.
fn aligned(alignment: usize, size: usize) -> *mut c_void {
    if !alignment.is_power_of_two() {
        port::set_errno(port::EINVAL);
        return ptr::null_mut();
    }
    let p = heap_caps_aligned_alloc_default(alignment, size);
    nomem_if_null(p, size)
}

/// Allocates `size` bytes aligned to `alignment` (any power of two). C17: `size` need not be a
/// multiple of `alignment`.
///
/// # Safety
/// Always safe to call; the result must be released with `free`.
#[no_mangle]
pub unsafe extern "C" fn aligned_alloc(alignment: usize, size: usize) -> *mut c_void {
    aligned(alignment, size)
}

/// Obsolete spelling of [`aligned_alloc`].
///
/// # Safety
/// Always safe to call; the result must be released with `free`.
#[no_mangle]
pub unsafe extern "C" fn memalign(alignment: usize, size: usize) -> *mut c_void {
    aligned(alignment, size)
}

/// POSIX aligned allocation: 0 and `*out` set on success; `EINVAL` (nothing stored) when
/// `alignment` is not a power-of-two multiple of `sizeof(void *)`; `ENOMEM` (nothing stored) when
/// memory runs out. `size == 0` stores NULL and returns 0, as ESP-IDF. A NULL `out` gives EINVAL.
///
/// # Safety
/// `out` must be NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn posix_memalign(
    out: *mut *mut c_void,
    alignment: usize,
    size: usize,
) -> c_int {
    if out.is_null()
        || !alignment.is_power_of_two()
        || alignment % core::mem::size_of::<*mut c_void>() != 0
    {
        return port::EINVAL;
    }
    if size == 0 {
        // SAFETY: `out` is non-NULL and writable (contract).
        unsafe { *out = ptr::null_mut() };
        return 0;
    }
    let p = heap_caps_aligned_alloc_default(alignment, size);
    if p.is_null() {
        return port::ENOMEM;
    }
    // SAFETY: as above.
    unsafe { *out = p };
    0
}

/// Like `malloc` (ESP-IDF: no page alignment, as there is no MMU paging for the heap).
///
/// # Safety
/// Always safe to call; the result must be released with `free`.
#[no_mangle]
pub unsafe extern "C" fn valloc(size: usize) -> *mut c_void {
    // SAFETY: forwarded.
    unsafe { malloc(size) }
}

/// Like `malloc` (ESP-IDF: no page alignment or rounding).
///
/// # Safety
/// Always safe to call; the result must be released with `free`.
#[no_mangle]
pub unsafe extern "C" fn pvalloc(size: usize) -> *mut c_void {
    // SAFETY: forwarded.
    unsafe { malloc(size) }
}

/// Old alias of `free`.
///
/// # Safety
/// As [`free`].
#[no_mangle]
pub unsafe extern "C" fn cfree(ptr: *mut c_void) {
    // SAFETY: forwarded contract.
    unsafe { free(ptr) }
}

/// The usable size of a live block (at least what was asked for); 0 for NULL.
/// ESP-IDF always returns 0 here; the real size is what C programs expect.
///
/// # Safety
/// `ptr` must be NULL or a live block of this allocator (another pointer aborts).
#[no_mangle]
pub unsafe extern "C" fn malloc_usable_size(ptr: *mut c_void) -> usize {
    if ptr.is_null() {
        return 0;
    }
    // SAFETY: forwarded contract; the pointer is non-NULL.
    unsafe { heap_caps_get_allocated_size(ptr) }
}

/// Nothing to give back to a system: returns 0 ("no memory released").
#[no_mangle]
pub extern "C" fn malloc_trim(_pad: usize) -> c_int {
    0
}

/// No tunables: returns 0 ("not changed"), as ESP-IDF.
#[no_mangle]
pub extern "C" fn mallopt(_param: c_int, _value: c_int) -> c_int {
    0
}

/// No-op, as ESP-IDF (use `heap_caps_print_heap_info` instead).
#[no_mangle]
pub extern "C" fn malloc_stats() {}

/// Counter type of `struct mallinfo`: `int` in glibc, `size_t` in newlib (the same size on the
/// ILP32 chips).
#[cfg(not(target_os = "none"))]
pub type mallinfo_field = c_int;
/// Counter type of `struct mallinfo`: `size_t` in newlib.
#[cfg(target_os = "none")]
pub type mallinfo_field = usize;

/// The C library's `struct mallinfo` (field order shared by glibc and newlib).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct mallinfo {
    pub arena: mallinfo_field,
    pub ordblks: mallinfo_field,
    pub smblks: mallinfo_field,
    pub hblks: mallinfo_field,
    pub hblkhd: mallinfo_field,
    pub usmblks: mallinfo_field,
    pub fsmblks: mallinfo_field,
    pub uordblks: mallinfo_field,
    pub fordblks: mallinfo_field,
    pub keepcost: mallinfo_field,
}

/// All zero, as ESP-IDF (the heap_caps statistics functions have the real figures). Defined so
/// that a call does not pull the C library's own allocator into the link.
#[no_mangle]
pub extern "C" fn mallinfo() -> mallinfo {
    mallinfo::default()
}

/// newlib's reentrant `malloc`; the reentrancy structure is not needed (errno of the running
/// task is set on failure).
///
/// # Safety
/// As [`malloc`].
#[no_mangle]
pub unsafe extern "C" fn _malloc_r(_reent: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: forwarded.
    unsafe { malloc(size) }
}

/// newlib's reentrant `calloc`.
///
/// # Safety
/// As [`calloc`].
#[no_mangle]
pub unsafe extern "C" fn _calloc_r(_reent: *mut c_void, n: usize, size: usize) -> *mut c_void {
    // SAFETY: forwarded.
    unsafe { calloc(n, size) }
}

/// newlib's reentrant `realloc`.
///
/// # Safety
/// As [`realloc`].
#[no_mangle]
pub unsafe extern "C" fn _realloc_r(
    _reent: *mut c_void,
    ptr: *mut c_void,
    size: usize,
) -> *mut c_void {
    // SAFETY: forwarded contract.
    unsafe { realloc(ptr, size) }
}

/// newlib's reentrant `free`.
///
/// # Safety
/// As [`free`].
#[no_mangle]
pub unsafe extern "C" fn _free_r(_reent: *mut c_void, ptr: *mut c_void) {
    // SAFETY: forwarded contract.
    unsafe { free(ptr) }
}
