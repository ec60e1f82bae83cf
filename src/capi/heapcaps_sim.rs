//! `heapcaps_sim.h` (host builds only): choosing the simulated chip from C.

use core::ffi::{c_char, CStr};

use crate::caps::chips;

/// `esp_err_t` (from the header prologue; not emitted).
pub type esp_err_t = i32;

/// Selects the simulated chip ("esp32", "esp32s2", "esp32s3", "esp32c2", "esp32c3", "esp32c5",
/// "esp32c6", "esp32c61", "esp32h2", "esp32-psram", "esp32s3-psram", and the host-only
/// "host-large") before the heaps exist. `ESP_ERR_NOT_FOUND` for an unknown (or NULL) name, `ESP_ERR_INVALID_STATE` once the
/// heaps are initialised.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn heapcaps_sim_select_chip(name: *const c_char) -> esp_err_t {
    if name.is_null() {
        return 0x105;
    }
    // SAFETY: caller contract.
    let name = unsafe { CStr::from_ptr(name) };
    let Ok(name) = name.to_str() else {
        return 0x105;
    };
    match chips::select_chip(name) {
        Ok(()) => 0,
        Err(e) => e.code(),
    }
}

/// Name of the simulated chip (the one that will boot, if the heaps do not exist yet).
#[no_mangle]
pub extern "C" fn heapcaps_sim_chip_name() -> *const c_char {
    let n: &'static CStr = chips::selected_chip().name;
    n.as_ptr()
}

/// Host tool (not in ESP-IDF): writes an SVG picture of every registered heap to `path`: one band
/// per region, used and free blocks by address, coloured by the kind of memory. Boots the
/// simulated chip if needed. `ESP_ERR_INVALID_ARG` for a NULL or non-UTF-8 path, `ESP_FAIL` when
/// the file cannot be written.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn heapcaps_sim_write_heap_map(path: *const c_char) -> esp_err_t {
    if path.is_null() {
        return 0x102;
    }
    // SAFETY: caller contract.
    let Ok(path) = unsafe { CStr::from_ptr(path) }.to_str() else {
        return 0x102;
    };
    let reg = crate::caps::global();
    let chip = chips::selected_chip().name.to_str().unwrap_or("?");
    let title = std::format!("heapcaps heap map: simulated {chip}");
    match crate::heapmap::write(reg, &title, path) {
        Ok(()) => 0,
        Err(_) => -1,
    }
}

/// Task tracking builds only (feature `HEAP_TASK_TRACKING`): marks the task (on a host, the
/// thread) `handle` as deleted, the host's stand-in for FreeRTOS' `vTaskDelete`. Its statistics
/// are then reported as DELETED (feature `HEAP_TRACK_DELETED_TASKS`) or dropped.
#[cfg(feature = "HEAP_TASK_TRACKING")]
#[no_mangle]
pub extern "C" fn heapcaps_sim_task_deleted(handle: *mut core::ffi::c_void) {
    let reg = crate::caps::global();
    reg.tasks().task_deleted(reg, handle)
}

/// Task tracking builds only: the handle that stands for the calling thread (what
/// `xTaskGetCurrentTaskHandle` returns on a chip).
#[cfg(feature = "HEAP_TASK_TRACKING")]
#[no_mangle]
pub extern "C" fn heapcaps_sim_current_task() -> *mut core::ffi::c_void {
    crate::port::task_handle()
}
