//! The user's allocation and free hooks (`CONFIG_HEAP_USE_HOOKS`): `esp_heap_trace_alloc_hook` and
//! `esp_heap_trace_free_hook` are weak C symbols, so they are called through the C shim
//! (`capi/hooks.c`), which checks whether the program defines them. Without the feature these
//! functions are empty and the calls vanish.

#[cfg(feature = "HEAP_USE_HOOKS")]
extern "C" {
    fn heapcaps_call_alloc_hook(ptr: *mut core::ffi::c_void, size: usize, caps: u32);
    fn heapcaps_call_free_hook(ptr: *mut core::ffi::c_void);
}

/// After a successful allocation: the user pointer, the (adjusted) size and caps.
#[inline(always)]
pub fn alloc(p: *mut u8, size: usize, caps: u32) {
    #[cfg(feature = "HEAP_USE_HOOKS")]
    // SAFETY: the shim only forwards to the user's hook when it is defined.
    unsafe {
        heapcaps_call_alloc_hook(p as *mut core::ffi::c_void, size, caps)
    };
    #[cfg(not(feature = "HEAP_USE_HOOKS"))]
    let _ = (p, size, caps);
}

/// After a block went back to its heap: the user pointer that was freed.
#[inline(always)]
pub fn free(p: *mut u8) {
    #[cfg(feature = "HEAP_USE_HOOKS")]
    // SAFETY: as above.
    unsafe {
        heapcaps_call_free_hook(p as *mut core::ffi::c_void)
    };
    #[cfg(not(feature = "HEAP_USE_HOOKS"))]
    let _ = p;
}
