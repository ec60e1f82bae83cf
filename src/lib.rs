//! heapcaps: ESP-IDF's heap component (capabilities allocator, region allocator, TLSF) in Rust,
//! with the same C ABI. See `ARCHITECTURE.md` for the layers.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types)]

pub mod capi;
pub mod caps;
#[cfg(not(target_os = "none"))]
pub mod heapmap;
pub mod hooks;
pub mod multi_heap;
pub mod poison;
pub mod port;
#[cfg(feature = "HEAP_TASK_TRACKING")]
pub mod task_info;
pub mod text;
pub mod tlsf;
#[cfg(feature = "HEAP_TRACING_STANDALONE")]
pub mod trace;

pub use caps::{Caps, HeapCapsAlloc};

/// The chips' code paths, chosen for flash over speed or thoroughness (the same switch as
/// `tlsf`'s own): on the chips, and on a host built with `--cfg heapcaps_compact` (a test stage
/// runs the tests over them).
pub(crate) const COMPACT: bool = cfg!(any(target_os = "none", heapcaps_compact));
/// The chips' build for a project optimised for size (ESP-IDF's `COMPILER_OPTIMIZATION_SIZE`):
/// where a compact path costs speed, the smaller one.
pub(crate) const FLASH_FIRST: bool = cfg!(feature = "COMPILER_OPTIMIZATION_SIZE");

// On a host the C library and std are there anyway; linking std gives the host staticlib its
// panic machinery and lets Rust test binaries link this crate without a second panic handler.
#[cfg(not(target_os = "none"))]
extern crate std;

/// Bare-metal builds need a panic handler; the allocator path never panics by design, so reaching
/// this is a bug: report and abort without `core::fmt`.
#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    port::fatal(b"heapcaps: internal error (panic)\n")
}
