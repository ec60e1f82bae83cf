//! Input decoding shared by the fuzz targets: the header bytes that pick the region and size
//! range, then 8-byte operations decoded by the model tests' `Op::from_bytes`.
#![allow(dead_code)]

#[path = "../../tests/common/model.rs"]
pub mod model;

/// Region sizes the targets choose from (byte 0 of the input).
pub const REGIONS: [usize; 6] = [128, 512, 4096, 16 * 1024, 64 * 1024, 512 * 1024];
/// Largest request per script (byte 1): small scripts stress splitting and merging, large ones
/// exhaustion.
pub const MAX_SIZES: [u32; 5] = [16, 256, 4096, 32768, 1 << 20];

/// Leaked, 16-aligned memory for one region size, reused by every input of the process.
pub fn arena(i: usize) -> &'static mut [u32] {
    use std::sync::Mutex;
    static ARENAS: Mutex<[usize; REGIONS.len()]> = Mutex::new([0; REGIONS.len()]);
    let mut a = ARENAS.lock().unwrap();
    if a[i] == 0 {
        let v: Vec<u128> = vec![0; REGIONS[i] / 16 + 1];
        a[i] = Box::leak(v.into_boxed_slice()).as_mut_ptr() as usize;
    }
    // SAFETY: the allocation is leaked (lives forever) and only the running input uses it (the
    // fuzzer runs one input at a time per process).
    unsafe { std::slice::from_raw_parts_mut(a[i] as *mut u32, REGIONS[i] / 4 + 4) }
}

/// The operations of an input after its header.
pub fn ops(data: &[u8], max: u32) -> impl Iterator<Item = model::Op> + '_ {
    data.chunks_exact(8)
        .map(move |c| model::Op::from_bytes(c.try_into().unwrap(), max))
}
