//! The one narrow door through which platform services enter: locks, output, abort, task handle.
//!
//! Everything above this module calls these functions and nothing else of the platform. The host
//! implementation uses the C library of the build machine; the ESP-IDF implementation calls a
//! handful of C functions that the component's shim provides (FreeRTOS critical sections, the
//! ROM printf, ESP-IDF's abort).

#[cfg(not(target_os = "none"))]
mod host;
#[cfg(not(target_os = "none"))]
use host as imp;

#[cfg(target_os = "none")]
mod espidf;
#[cfg(target_os = "none")]
use espidf as imp;

use core::ffi::c_void;

/// Initial contents of an 8-byte lock object (`portMUX_TYPE` layout) before its first use: zero
/// in every port (the ESP-IDF shim initialises the `portMUX_TYPE` on first use), so statics that
/// hold locks are zero-initialised and take no flash for an initial image.
pub const LOCK_INIT: [u32; 2] = imp::LOCK_INIT;

/// Enters the critical section guarded by `lock` (a `multi_heap_lock_t`, i.e. a `portMUX_TYPE`).
/// A NULL lock means "no locking". Must be recursive on the same core/thread.
#[inline(always)]
pub fn lock(lock: *mut c_void) {
    // On the chips the shim tests for NULL: a test here would make the compiler duplicate the
    // code between lock and unlock for the two cases (flash).
    if cfg!(target_os = "none") || !lock.is_null() {
        imp::lock(lock)
    }
}

/// Leaves the critical section entered by [`lock`].
#[inline(always)]
pub fn unlock(lock: *mut c_void) {
    if cfg!(target_os = "none") || !lock.is_null() {
        imp::unlock(lock)
    }
}

/// ESP-IDF only: the ROM printf, which `text::say!` calls (see there).
#[cfg(target_os = "none")]
pub use imp::esp_rom_printf as printf;

/// Writes bytes to the console used for heap diagnostics (stderr on a host, ROM printf on a chip).
pub fn write_err(bytes: &[u8]) {
    imp::write_err(bytes)
}

/// Writes bytes to standard output (`printf` in ESP-IDF's info functions).
pub fn write_out(bytes: &[u8]) {
    imp::write_out(bytes)
}

/// Stops the program after a fatal heap error. The message has been printed already.
// (Inlined: on the chips a copy of its own was a 2-byte jump to the port's.)
#[inline(always)]
pub fn abort() -> ! {
    imp::abort()
}

/// The handle of the running task (FreeRTOS) or thread (host); NULL before a scheduler runs.
pub fn task_handle() -> *mut c_void {
    imp::task_handle()
}

/// Copies the name of task `handle` (the running one on a host: the thread name) into `out`,
/// NUL-terminated and truncated to fit. Used by task tracking when a task first allocates.
#[cfg(feature = "HEAP_TASK_TRACKING")]
pub fn task_name(handle: *mut c_void, out: &mut [u8]) {
    imp::task_name(handle, out)
}

/// Writes bytes to a C `FILE *` stream (NULL: standard output).
pub fn write_file(stream: *mut c_void, bytes: &[u8]) {
    if stream.is_null() {
        write_out(bytes)
    } else {
        imp::write_file(stream, bytes)
    }
}

/// `errno` value for "out of memory" (the same number in glibc, musl, newlib and picolibc).
pub const ENOMEM: i32 = 12;
/// `errno` value for "invalid argument" (the same number in glibc, musl, newlib and picolibc).
pub const EINVAL: i32 = 22;

/// Sets the calling thread's (task's) C `errno`. Only the C allocation entry points use this.
pub fn set_errno(code: i32) {
    imp::set_errno(code)
}

/// Prints `msg` to the diagnostic console and aborts.
#[cold]
pub fn fatal(msg: &[u8]) -> ! {
    write_err(msg);
    abort()
}

/// Host only: maps `len` bytes of zeroed memory for a simulated chip, plus optionally a second
/// view of part of it (the simulated D/IRAM instruction-bus alias). See `host::map_memory`.
#[cfg(not(target_os = "none"))]
pub fn map_memory(len: usize, alias_off: usize, alias_len: usize) -> Option<(*mut u8, *mut u8)> {
    imp::map_memory(len, alias_off, alias_len)
}

/// Host only: maps `len` bytes of zeroed private memory, reserved lazily (for the `host-large`
/// layout that real programs run on).
#[cfg(not(target_os = "none"))]
pub fn map_private(len: usize) -> Option<*mut u8> {
    imp::map_private(len)
}

/// ESP-IDF only: writes the D/IRAM window to `out` as {dram_lo, dram_hi, iram_lo, inverted}
/// and returns whether the chip's D/IRAM has separate instruction addresses (if not, `out`
/// holds the window with equal addresses).
#[cfg(target_os = "none")]
pub fn diram_alias_into(out: &[core::sync::atomic::AtomicUsize; 4]) -> bool {
    imp::diram_alias_into(out)
}

/// ESP-IDF only: start of the ROM's data at the top of internal RAM (chips whose ROM has a layout
/// table; it runs to the end of D/IRAM), which heap_caps_init keeps out of the heaps; 0 on the
/// other chips.
#[cfg(target_os = "none")]
pub fn rom_reserved_start() -> u32 {
    imp::rom_reserved_start()
}

/// ESP-IDF only: `esp_heap_adjust_alignment_to_hw` of the running chip.
#[cfg(target_os = "none")]
pub fn adjust_alignment_to_hw(alignment: &mut usize, size: &mut usize, caps: &mut u32) {
    imp::adjust_alignment_to_hw(alignment, size, caps)
}

/// Host only: an environment variable, read without allocating.
#[cfg(not(target_os = "none"))]
pub fn env(name: &core::ffi::CStr) -> Option<&'static [u8]> {
    imp::env(name)
}
