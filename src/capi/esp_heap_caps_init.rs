//! `esp_heap_caps_init.h`: building the heaps at boot and adding regions at run time.

use crate::caps::{self, chips};

/// `intptr_t` (from stdint.h; not emitted).
pub type intptr_t = isize;
/// `esp_err_t` (from esp_err.h or the header prologue; not emitted).
pub type esp_err_t = i32;

const ESP_OK: esp_err_t = 0;
const ESP_ERR_INVALID_ARG: esp_err_t = 0x102;
const ESP_ERR_NOT_FOUND: esp_err_t = 0x105;

/// Registers the boot heaps from the chip's memory layout (on a host: the simulated chip).
#[no_mangle]
pub extern "C" fn heap_caps_init() {
    chips::boot(caps::global_raw(), false)
}

/// Registers the heaps over the startup stacks; afterwards runtime regions start with a minimum
/// free size of 0.
#[no_mangle]
pub extern "C" fn heap_caps_enable_nonos_stack_heaps() {
    caps::global().enable_nonos_stack_heaps()
}

/// Adds `[start, end)` as a heap with the caps of the memory region containing `start`.
///
/// # Safety
/// The range must be memory the caller owns and gives to the heap for good.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_add_region(start: intptr_t, end: intptr_t) -> esp_err_t {
    if start == 0 {
        return ESP_ERR_INVALID_ARG;
    }
    let reg = caps::global();
    let Some((c, name)) = chips::region_caps(start as usize) else {
        return ESP_ERR_NOT_FOUND;
    };
    // SAFETY: forwarded caller contract.
    match unsafe { reg.add_region_caps_ref(c, start as usize, end as usize, name) } {
        Ok(()) => ESP_OK,
        Err(e) => e.code(),
    }
}

/// Adds `[start, end)` as a heap with the three priority masks `caps[0..3]`.
///
/// # Safety
/// `caps` must be NULL or point at 3 values; the range must be memory the caller owns and gives
/// to the heap for good.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_add_region_with_caps(
    caps: *const u32,
    start: intptr_t,
    end: intptr_t,
) -> esp_err_t {
    if caps.is_null() {
        return ESP_ERR_INVALID_ARG;
    }
    // SAFETY: caller contract: 3 readable values (4-aligned, as `uint32_t[3]`).
    let c = unsafe { &*(caps as *const [u32; 3]) };
    let reg = caps::global();
    // SAFETY: forwarded caller contract.
    match unsafe { reg.add_region_caps_ref(c, start as usize, end as usize, caps::no_name()) } {
        Ok(()) => ESP_OK,
        Err(e) => e.code(),
    }
}

/// Whether `[start, end)` may be added beside an existing heap `[heap_start, heap_end)`.
#[no_mangle]
pub extern "C" fn heap_caps_check_add_region_allowed(
    heap_start: intptr_t,
    heap_end: intptr_t,
    start: intptr_t,
    end: intptr_t,
) -> bool {
    caps::check_add_region_allowed(
        heap_start as usize,
        heap_end as usize,
        start as usize,
        end as usize,
    )
}
