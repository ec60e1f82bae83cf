//! ESP-IDF implementation of the platform port: small C functions provided by the component's
//! shim (`port/esp_idf/heapcaps_port.c`), which maps them to FreeRTOS and the ROM.

use core::ffi::{c_char, c_int, c_void};

extern "C" {
    fn heapcaps_port_lock(lock: *mut c_void);
    fn heapcaps_port_unlock(lock: *mut c_void);
    fn heapcaps_port_write(bytes: *const u8, len: usize);
    fn heapcaps_port_abort() -> !;
    fn heapcaps_port_task_handle() -> *mut c_void;
    // newlib and picolibc (as ESP-IDF builds them) both reach errno through this function.
    fn __errno() -> *mut i32;
    fn heapcaps_port_diram(out: *mut usize) -> bool;
    fn heapcaps_port_rom_reserved_start() -> isize;
    fn esp_heap_adjust_alignment_to_hw(alignment: *mut usize, size: *mut usize, caps: *mut u32);
}

extern "C" {
    /// ESP-IDF's ROM printf (`ets_printf` in the mask ROM of every chip, so formatting costs
    /// no flash; ESP-IDF's heap prints its messages with it too). Callable with the flash cache
    /// disabled.
    pub fn esp_rom_printf(fmt: *const c_char, ...) -> c_int;
}

/// ESP-IDF's own hardware alignment adjustment (esp_hw_support), which knows the chip's cache.
pub fn adjust_alignment_to_hw(alignment: &mut usize, size: &mut usize, caps: &mut u32) {
    // SAFETY: three valid, exclusive pointers to initialised values.
    unsafe { esp_heap_adjust_alignment_to_hw(alignment, size, caps) }
}

pub fn diram_alias_into(out: &[core::sync::atomic::AtomicUsize; 4]) -> bool {
    // SAFETY: the shim writes 4 words {SOC_DIRAM_DRAM_LOW, SOC_DIRAM_DRAM_HIGH,
    // SOC_DIRAM_IRAM_LOW, SOC_DIRAM_INVERTED} and returns whether DRAM and IRAM addresses differ.
    // `AtomicUsize` has `usize`'s layout and lets its value change behind a shared reference;
    // the boot that calls this is single-threaded, so the plain stores race with nothing.
    unsafe { heapcaps_port_diram(out.as_ptr() as *mut usize) }
}

/// Start of the ROM's data at the top of internal RAM (to the end of D/IRAM), which must stay out
/// of the heaps, on chips whose ROM publishes a layout table; 0 elsewhere.
pub fn rom_reserved_start() -> u32 {
    // SAFETY: the shim reads the ROM's layout table (or returns 0); no arguments.
    unsafe { heapcaps_port_rom_reserved_start() as u32 }
}

/// Initial value of a lock object: zero bytes, not `portMUX_INITIALIZER_UNLOCKED` ({0xB33FFFFF,
/// 0}), so that statics holding locks are zero-initialised (`.bss`, no flash image). The shim's
/// `heapcaps_port_lock` turns a never-used (zero) lock into an unlocked `portMUX_TYPE` on first
/// use, race-free (see port/esp_idf/heapcaps_port.c).
pub const LOCK_INIT: [u32; 2] = [0, 0];

pub fn lock(lock: *mut c_void) {
    // SAFETY: NULL (no locking: the shim returns at once) or the portMUX_TYPE the heap was
    // given, on which the shim enters portENTER_CRITICAL_SAFE.
    unsafe { heapcaps_port_lock(lock) }
}

pub fn unlock(lock: *mut c_void) {
    // SAFETY: pairs with `lock` on the same portMUX_TYPE (or NULL, ignored).
    unsafe { heapcaps_port_unlock(lock) }
}

pub fn write_err(bytes: &[u8]) {
    // SAFETY: the slice is valid for its length.
    unsafe { heapcaps_port_write(bytes.as_ptr(), bytes.len()) }
}

pub fn write_out(bytes: &[u8]) {
    write_err(bytes)
}

#[inline(always)]
pub fn abort() -> ! {
    // SAFETY: no preconditions.
    unsafe { heapcaps_port_abort() }
}

pub fn task_handle() -> *mut c_void {
    // SAFETY: no preconditions; returns NULL before the scheduler starts.
    unsafe { heapcaps_port_task_handle() }
}

pub fn set_errno(code: i32) {
    // SAFETY: newlib/picolibc return a valid pointer to the running task's errno.
    unsafe { *__errno() = code }
}

extern "C" {
    fn fwrite(p: *const c_void, size: usize, n: usize, stream: *mut c_void) -> usize;
}

#[cfg(feature = "HEAP_TASK_TRACKING")]
extern "C" {
    fn pcTaskGetName(task: *mut c_void) -> *const u8;
}

/// FreeRTOS' name of `handle`, truncated to fit `out` (NUL-terminated).
#[cfg(feature = "HEAP_TASK_TRACKING")]
pub fn task_name(handle: *mut c_void, out: &mut [u8]) {
    let Some(cap) = out.len().checked_sub(1) else {
        return;
    };
    // SAFETY: FreeRTOS returns the task's NUL-terminated name (or NULL).
    let name = unsafe { pcTaskGetName(handle) };
    let mut i = 0;
    while i < cap && !name.is_null() {
        // SAFETY: reading up to the NUL of a C string.
        let b = unsafe { *name.add(i) };
        if b == 0 {
            break;
        }
        out[i] = b;
        i += 1;
    }
    out[i] = 0;
}

pub fn write_file(stream: *mut c_void, bytes: &[u8]) {
    // SAFETY: the caller passes a valid `FILE *` from C.
    unsafe { fwrite(bytes.as_ptr() as *const c_void, 1, bytes.len(), stream) };
}
