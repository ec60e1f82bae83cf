//! The C ABI: the only module with `#[no_mangle]`. Each export checks its inputs, calls the safe
//! core, maps the result to ESP-IDF's C types and returns. One file per ESP-IDF header; cbindgen
//! reads each file on its own to write the header of the same name into `include/`.

pub mod esp_heap_caps;
pub mod esp_heap_caps_init;
#[cfg(feature = "HEAP_TASK_TRACKING")]
pub mod esp_heap_task_info;
#[cfg(feature = "HEAP_TRACING_STANDALONE")]
pub mod esp_heap_trace;
#[cfg(not(target_os = "none"))]
pub mod heapcaps_sim;
pub mod multi_heap;

/// `malloc`, `free`, ... over the capabilities allocator (replaces the C library's allocator).
#[cfg(feature = "c-malloc")]
pub mod libc;
