//! `multi_heap.h`: the region allocator's C API, plus the internal entry points other ESP-IDF
//! components link against (`multi_heap_internal.h`).

use core::ffi::c_void;
use core::ptr;

use crate::multi_heap::{Block, MultiHeap};

/// Opaque heap object; a handle is the start address of the registered region.
#[repr(C)]
pub struct multi_heap_info {
    _opaque: [u8; 0],
}

/// Handle of a registered heap (cbindgen: declared in the header prologue as in ESP-IDF).
pub type multi_heap_handle_t = *mut multi_heap_info;

/// Opaque block handle used by the block iterator functions.
pub type multi_heap_block_handle_t = *const c_void;

/// Statistics of one heap, as filled in by `multi_heap_get_info`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct multi_heap_info_t {
    /// Bytes free in the heap, overhead of free blocks included.
    pub total_free_bytes: usize,
    /// Bytes in allocated blocks (payloads).
    pub total_allocated_bytes: usize,
    /// Largest request that will succeed right now.
    pub largest_free_block: usize,
    /// Lowest `total_free_bytes` seen.
    pub minimum_free_bytes: usize,
    /// Number of allocated blocks.
    pub allocated_blocks: usize,
    /// Number of free blocks.
    pub free_blocks: usize,
    /// Number of blocks of either kind.
    pub total_blocks: usize,
}

/// Called for each block by `multi_heap_walk`; returning false stops the walk.
pub type multi_heap_walker_cb_t = Option<
    unsafe extern "C" fn(
        block_ptr: *mut c_void,
        block_size: usize,
        block_used: core::ffi::c_int,
        user_data: *mut c_void,
    ) -> bool,
>;

#[inline(always)]
fn heap_of(h: multi_heap_handle_t) -> Option<MultiHeap> {
    // SAFETY: a non-NULL handle given to the C API came from multi_heap_register (C contract).
    unsafe { MultiHeap::from_ptr(h as *mut c_void) }
}

// `Info` has `multi_heap_info_t`'s layout: the entry points store it in place (no copy).
const _: () = {
    use crate::multi_heap::Info;
    use core::mem::{offset_of, size_of};
    assert!(size_of::<Info>() == size_of::<multi_heap_info_t>());
    assert!(offset_of!(Info, total_free_bytes) == offset_of!(multi_heap_info_t, total_free_bytes));
    assert!(
        offset_of!(Info, total_allocated_bytes)
            == offset_of!(multi_heap_info_t, total_allocated_bytes)
    );
    assert!(
        offset_of!(Info, largest_free_block) == offset_of!(multi_heap_info_t, largest_free_block)
    );
    assert!(
        offset_of!(Info, minimum_free_bytes) == offset_of!(multi_heap_info_t, minimum_free_bytes)
    );
    assert!(offset_of!(Info, allocated_blocks) == offset_of!(multi_heap_info_t, allocated_blocks));
    assert!(offset_of!(Info, free_blocks) == offset_of!(multi_heap_info_t, free_blocks));
    assert!(offset_of!(Info, total_blocks) == offset_of!(multi_heap_info_t, total_blocks));
};

/// The caller's structure at `info` (not NULL, writable), zeroed, for the statistics to be
/// added to in place.
///
/// # Safety
/// `info` must be valid for writing a `multi_heap_info_t`, and not otherwise accessed while the
/// returned reference lives.
#[inline(always)]
pub(crate) unsafe fn info_out<'a>(info: *mut multi_heap_info_t) -> &'a mut crate::multi_heap::Info {
    // SAFETY: caller contract; `Info` has the same layout (checked above) and every bit pattern
    // of it is valid, so the write below needs no initialised value to drop.
    let out = unsafe { &mut *info.cast::<crate::multi_heap::Info>() };
    *out = Default::default();
    out
}

/// Allocates `size` bytes aligned to `alignment` (a power of two) from `heap`.
///
/// # Safety
/// `heap` must be NULL or a handle returned by `multi_heap_register`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_aligned_alloc(
    heap: multi_heap_handle_t,
    size: usize,
    alignment: usize,
) -> *mut c_void {
    match heap_of(heap) {
        // Hosts: a tail call (see `aligned_alloc_entry`).
        #[cfg(not(target_os = "none"))]
        Some(h) => h.aligned_alloc_entry(size, alignment) as *mut c_void,
        #[cfg(target_os = "none")]
        Some(h) => h.aligned_alloc_offs(size, alignment, 0) as *mut c_void,
        None => ptr::null_mut(),
    }
}

/// Allocates `size` bytes from `heap`; NULL for size 0, a NULL heap, or no room.
///
/// # Safety
/// `heap` must be NULL or a handle returned by `multi_heap_register`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_malloc(heap: multi_heap_handle_t, size: usize) -> *mut c_void {
    match heap_of(heap) {
        Some(h) => h.malloc_entry(size) as *mut c_void,
        None => ptr::null_mut(),
    }
}

/// Frees a block from `multi_heap_aligned_alloc` (same as `multi_heap_free`).
///
/// # Safety
/// As `multi_heap_free`.
#[deprecated]
#[no_mangle]
pub unsafe extern "C" fn multi_heap_aligned_free(heap: multi_heap_handle_t, p: *mut c_void) {
    // SAFETY: same contract as multi_heap_free.
    unsafe { multi_heap_free(heap, p) }
}

/// Frees `p` (NULL is ignored). Aborts with a message if `p` is not a live block of `heap`.
///
/// # Safety
/// `heap` must be NULL or a handle returned by `multi_heap_register`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_free(heap: multi_heap_handle_t, p: *mut c_void) {
    if let Some(h) = heap_of(heap) {
        h.free_entry(p as *mut u8)
    }
}

/// Resizes `p` to `size` bytes; see ESP-IDF's documentation. `size` 0 frees `p` and returns NULL.
///
/// # Safety
/// `heap` must be NULL or a handle returned by `multi_heap_register`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_realloc(
    heap: multi_heap_handle_t,
    p: *mut c_void,
    size: usize,
) -> *mut c_void {
    match heap_of(heap) {
        Some(h) => h.realloc_entry(p as *mut u8, size) as *mut c_void,
        None => ptr::null_mut(),
    }
}

/// Usable size of the allocated block `p` (0 for NULL arguments).
///
/// # Safety
/// `heap` must be NULL or a handle returned by `multi_heap_register`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_get_allocated_size(
    heap: multi_heap_handle_t,
    p: *mut c_void,
) -> usize {
    heap_of(heap).map_or(0, |h| {
        h.live_block_size(p as *mut u8)
            .saturating_sub(crate::multi_heap::POISON_OVERHEAD)
    })
}

/// Registers `[start, start + size)` as a heap and returns its handle (= `start`), or NULL when
/// the region is NULL, not 4-byte aligned, or too small.
///
/// # Safety
/// The region must be valid memory reserved for the heap from now on.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_register(
    start: *mut c_void,
    size: usize,
) -> multi_heap_handle_t {
    // SAFETY: forwarded caller contract.
    match unsafe { MultiHeap::register(start as *mut u8, size) } {
        Some(h) => h.as_ptr() as multi_heap_handle_t,
        None => ptr::null_mut(),
    }
}

/// Sets the lock (a `portMUX_TYPE`) taken around every operation on `heap`; NULL disables locking.
///
/// # Safety
/// `heap` must be NULL or a registered handle; `lock` must stay valid while the heap is used.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_set_lock(heap: multi_heap_handle_t, lock: *mut c_void) {
    if let Some(h) = heap_of(heap) {
        h.set_lock(lock)
    }
}

/// Prints every block of `heap` (address, size, free or not).
///
/// # Safety
/// `heap` must be NULL or a handle returned by `multi_heap_register`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_dump(heap: multi_heap_handle_t) {
    if let Some(h) = heap_of(heap) {
        h.dump()
    }
}

/// Checks the whole heap; returns false (and with `print_errors` describes the damage) if corrupt.
///
/// # Safety
/// `heap` must be NULL or a handle returned by `multi_heap_register`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_check(heap: multi_heap_handle_t, print_errors: bool) -> bool {
    heap_of(heap).is_some_and(|h| h.check(print_errors))
}

/// Free bytes in `heap` (0 for NULL).
///
/// # Safety
/// `heap` must be NULL or a handle returned by `multi_heap_register`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_free_size(heap: multi_heap_handle_t) -> usize {
    heap_of(heap).map_or(0, |h| h.free_size())
}

/// Lowest free bytes seen in `heap` (0 for NULL).
///
/// # Safety
/// `heap` must be NULL or a handle returned by `multi_heap_register`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_minimum_free_size(heap: multi_heap_handle_t) -> usize {
    heap_of(heap).map_or(0, |h| h.minimum_free_size())
}

/// Fills `info` with the statistics of `heap` (all zero for a NULL heap).
///
/// # Safety
/// `heap` must be NULL or a registered handle; `info` NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_get_info(
    heap: multi_heap_handle_t,
    info: *mut multi_heap_info_t,
) {
    if info.is_null() {
        return;
    }
    // SAFETY: `info` is non-NULL and valid for writes (caller contract).
    let out = unsafe { info_out(info) };
    if let Some(h) = heap_of(heap) {
        h.add_info_to(out, 0);
    }
}

/// Allocates `size` bytes so that `result + offset` is aligned to `alignment`.
///
/// # Safety
/// `heap` must be NULL or a handle returned by `multi_heap_register`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_aligned_alloc_offs(
    heap: multi_heap_handle_t,
    size: usize,
    alignment: usize,
    offset: usize,
) -> *mut c_void {
    match heap_of(heap) {
        Some(h) => h.aligned_alloc_offs(size, alignment, offset) as *mut c_void,
        None => ptr::null_mut(),
    }
}

/// Sets the low-water mark to the current free size; returns the previous mark.
///
/// # Safety
/// `heap` must be NULL or a handle returned by `multi_heap_register`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_reset_minimum_free_bytes(heap: multi_heap_handle_t) -> usize {
    heap_of(heap).map_or(0, |h| h.reset_minimum_free_bytes())
}

/// Lowers the low-water mark to `new_minimum_free_bytes_value` if that is lower.
///
/// # Safety
/// `heap` must be NULL or a handle returned by `multi_heap_register`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_restore_minimum_free_bytes(
    heap: multi_heap_handle_t,
    new_minimum_free_bytes_value: usize,
) {
    if let Some(h) = heap_of(heap) {
        h.restore_minimum_free_bytes(new_minimum_free_bytes_value)
    }
}

/// Calls `walker_func` for every block of `heap` in address order until it returns false.
///
/// # Safety
/// `heap` must be NULL or a registered handle; the callback must not use the heap.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_walk(
    heap: multi_heap_handle_t,
    walker_func: multi_heap_walker_cb_t,
    user_data: *mut c_void,
) {
    let (Some(h), Some(cb)) = (heap_of(heap), walker_func) else {
        return;
    };
    h.walk(|b| {
        // SAFETY: the callback is a C function supplied for exactly this call.
        unsafe {
            cb(
                b.data as *mut c_void,
                b.size,
                b.used as core::ffi::c_int,
                user_data,
            )
        }
    });
}

/// Full size of the block `p` including what the heap adds around the request.
///
/// # Safety
/// `heap` must be NULL or a handle returned by `multi_heap_register`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_get_full_block_size(
    heap: multi_heap_handle_t,
    p: *mut c_void,
) -> usize {
    heap_of(heap).map_or(0, |h| h.live_block_size(p as *mut u8))
}

/// The start of the allocated block containing `ptr`, or NULL when `ptr` is in no allocated block
/// (ESP-IDF asserts there).
///
/// # Safety
/// `heap` must be NULL or a handle returned by `multi_heap_register`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_find_containing_block(
    heap: multi_heap_handle_t,
    ptr: *mut c_void,
) -> *mut c_void {
    heap_of(heap)
        .and_then(|h| h.find_containing_block(ptr as *const u8))
        .map_or(ptr::null_mut(), |b: Block| b.data as *mut c_void)
}

/// Handle of the first block of `heap` (NULL for a NULL heap).
///
/// # Safety
/// `heap` must be NULL or a handle returned by `multi_heap_register`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_get_first_block(
    heap: multi_heap_handle_t,
) -> multi_heap_block_handle_t {
    heap_of(heap)
        .and_then(|h| h.first_block())
        .map_or(ptr::null(), |b| b.header as *const c_void)
}

/// Handle of the block after `block`, or NULL after the last one.
///
/// # Safety
/// `heap` must be NULL or a registered handle.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_get_next_block(
    heap: multi_heap_handle_t,
    block: multi_heap_block_handle_t,
) -> multi_heap_block_handle_t {
    heap_of(heap)
        .and_then(|h| h.next_block(block as *const u8))
        .map_or(ptr::null(), |b| b.header as *const c_void)
}

/// Whether `block` is free. Needs no heap: the block header says it.
///
/// # Safety
/// `block` must be a handle from `multi_heap_get_first_block` / `multi_heap_get_next_block`.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_is_free(block: multi_heap_block_handle_t) -> bool {
    if block.is_null() {
        return false;
    }
    // SAFETY: `block` points at a block header word (caller contract).
    unsafe { ptr::read(block as *const u32) & 1 != 0 }
}

/// Payload address of `block` (with poisoning, 8 bytes further: the user pointer).
///
/// # Safety
/// `block` must be a handle from the block iterator functions.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_get_block_address(
    block: multi_heap_block_handle_t,
) -> *mut c_void {
    if block.is_null() {
        return ptr::null_mut();
    }
    // With poisoning, the address a user of the block sees: past the poison head.
    (block as *mut u8).wrapping_add(crate::tlsf::HDR as usize + crate::multi_heap::POISON_HEAD)
        as *mut c_void
}

/// Takes the heap's lock (as the heap operations do).
///
/// # Safety
/// `heap` must be NULL or a registered handle.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_internal_lock(heap: multi_heap_handle_t) {
    if let Some(h) = heap_of(heap) {
        h.internal_lock()
    }
}

/// Releases the heap's lock.
///
/// # Safety
/// `heap` must be NULL or a registered handle whose lock this thread holds.
#[no_mangle]
pub unsafe extern "C" fn multi_heap_internal_unlock(heap: multi_heap_handle_t) {
    if let Some(h) = heap_of(heap) {
        h.internal_unlock()
    }
}
