//! `heapcaps_sim.h` (host builds only): choosing the simulated chip from C.

use core::ffi::{c_char, CStr};

use crate::caps::chips;

/// `esp_err_t` (from the header prologue; not emitted).
pub type esp_err_t = i32;

/// Selects the simulated chip ("esp32", "esp32s3", "esp32c3", "esp32c6", "esp32-psram",
/// "esp32s3-psram", and the host-only "host-large") before the heaps exist. `ESP_ERR_NOT_FOUND`
/// for an unknown (or NULL) name, `ESP_ERR_INVALID_STATE` once the heaps are initialised.
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
