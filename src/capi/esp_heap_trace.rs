//! `esp_heap_trace.h` (feature `HEAP_TRACING_STANDALONE`): heap tracing into a buffer of records.
//! The record and summary types depend on the build options and are written by hand in the
//! header's prologue (see `tests/headers.rs`); `heap_trace_init_tohost` is not provided (ESP-IDF
//! does not provide it either: it comes from an external component).

use core::ffi::c_void;

use crate::caps::{self, Caps};
use crate::trace::{heap_trace_mode_t, heap_trace_record_t, heap_trace_summary_t, TRACER};

include!(concat!(env!("OUT_DIR"), "/heapcaps_trace_layout.rs"));

/// `esp_err_t` (from esp_err.h or the header prologue; not emitted).
pub type esp_err_t = i32;

const ESP_OK: esp_err_t = 0;
const ESP_ERR_INVALID_ARG: esp_err_t = 0x102;
const ESP_ERR_INVALID_STATE: esp_err_t = 0x103;

fn code(r: Result<(), caps::Error>) -> esp_err_t {
    match r {
        Ok(()) => ESP_OK,
        Err(e) => e.code(),
    }
}

/// Gives the tracer a buffer of `num_records` records. `ESP_ERR_INVALID_STATE` while tracing,
/// `ESP_ERR_INVALID_ARG` for a NULL buffer or zero records (the buffer cannot be taken back).
///
/// # Safety
/// `record_buffer` must be valid for `num_records` records and left to the tracer for as long as
/// tracing may run.
#[no_mangle]
pub unsafe extern "C" fn heap_trace_init_standalone(
    record_buffer: *mut heap_trace_record_t,
    num_records: usize,
) -> esp_err_t {
    // SAFETY: caller contract.
    code(unsafe { TRACER.init(record_buffer, num_records) })
}

/// Clears the buffer and starts recording (`HEAP_TRACE_ALL` or `HEAP_TRACE_LEAKS`).
/// `ESP_ERR_INVALID_STATE` without a buffer.
#[no_mangle]
pub extern "C" fn heap_trace_start(mode: heap_trace_mode_t) -> esp_err_t {
    code(TRACER.start(mode))
}

/// Stops recording. `ESP_ERR_INVALID_STATE` when already stopped.
#[no_mangle]
pub extern "C" fn heap_trace_stop() -> esp_err_t {
    code(TRACER.stop())
}

/// Stops recording allocations but keeps recording frees. `ESP_ERR_INVALID_STATE` when already
/// paused.
#[no_mangle]
pub extern "C" fn heap_trace_alloc_pause() -> esp_err_t {
    code(TRACER.alloc_pause())
}

/// Records again, keeping the records. `ESP_ERR_INVALID_STATE` when already recording.
#[no_mangle]
pub extern "C" fn heap_trace_resume() -> esp_err_t {
    code(TRACER.resume())
}

/// Number of records in the buffer.
#[no_mangle]
pub extern "C" fn heap_trace_get_count() -> usize {
    TRACER.count()
}

/// Copies record `index` (0 = oldest). `ESP_ERR_INVALID_STATE` for a NULL `record` (as ESP-IDF),
/// `ESP_ERR_INVALID_ARG` for an index beyond the count.
///
/// # Safety
/// `record` must be NULL or valid for writing one record.
#[no_mangle]
pub unsafe extern "C" fn heap_trace_get(
    index: usize,
    record: *mut heap_trace_record_t,
) -> esp_err_t {
    if record.is_null() {
        return ESP_ERR_INVALID_STATE;
    }
    match TRACER.get(index) {
        Ok(r) => {
            // SAFETY: caller contract.
            unsafe { record.write(r) };
            ESP_OK
        }
        Err(e) => e.code(),
    }
}

fn is_internal(p: *mut c_void) -> bool {
    caps::global().heap_matches(p as usize, Caps::INTERNAL.bits())
}

fn is_psram(p: *mut c_void) -> bool {
    caps::global().heap_matches(p as usize, Caps::SPIRAM.bits())
}

/// Prints every record and the summary (`heap_trace_dump_caps(INTERNAL | SPIRAM)`).
#[no_mangle]
pub extern "C" fn heap_trace_dump() {
    heap_trace_dump_caps(Caps::INTERNAL.bits() | Caps::SPIRAM.bits())
}

/// Prints the records of blocks in internal memory (`MALLOC_CAP_INTERNAL`) and/or PSRAM
/// (`MALLOC_CAP_SPIRAM`), then the summary, in ESP-IDF's format.
#[no_mangle]
pub extern "C" fn heap_trace_dump_caps(caps: u32) {
    TRACER.dump(caps, is_internal, is_psram)
}

/// Fills `summary`. `ESP_ERR_INVALID_ARG` for NULL.
///
/// # Safety
/// `summary` must be NULL or valid for writing one summary.
#[no_mangle]
pub unsafe extern "C" fn heap_trace_summary(summary: *mut heap_trace_summary_t) -> esp_err_t {
    if summary.is_null() {
        return ESP_ERR_INVALID_ARG;
    }
    // SAFETY: caller contract.
    unsafe { summary.write(TRACER.summary()) };
    ESP_OK
}
