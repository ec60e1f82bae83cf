//! The text of `multi_heap_dump`, `heap_caps_dump` and `heap_caps_print_heap_info`, line for line
//! against ESP-IDF's format strings (constants.txt §E, behavior.md §3.9, §5.7), in every poisoning
//! mode. The output goes straight to fd 1 / fd 2, so each scenario runs in a child process.

use std::fmt::Write as _;
use std::process::Command;

use heapcaps::caps::{BootRegion, Registry};
use heapcaps::multi_heap::MultiHeap;

fn child(name: &str) -> (String, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1", "-q"])
        .env("DUMP_CHILD", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn in_child() -> bool {
    std::env::var_os("DUMP_CHILD").is_some()
}

fn leak(len: usize) -> usize {
    Box::leak(vec![0u32; len / 4].into_boxed_slice()).as_mut_ptr() as usize
}

/// `%p` of the host C library for a non-NULL pointer is `0x` plus lowercase hex; ESP-IDF's ROM
/// printf pads to 8 digits. Ours pads to 8 digits too (identical on the 32-bit chips).
fn p(v: usize) -> String {
    format!("0x{v:08x}")
}

/// Marker lines separating the expected text (computed by the child from the walk and the
/// statistics, formatted here with ESP-IDF's format strings) from the real output.
const BEGIN: &str = "<<<expect\n";
const END: &str = ">>>\n";

/// (real output from the first `first` up to the expectation, expectation). The test harness
/// writes its own lines before the output.
fn between<'a>(s: &'a str, first: &str) -> (&'a str, &'a str) {
    let b = s.find(BEGIN).expect("expectation");
    let e = s[b..].find(END).unwrap() + b;
    let start = s[..b].find(first).unwrap_or(b);
    (&s[start..b], &s[b + BEGIN.len()..e])
}

#[test]
fn multi_heap_dump_format() {
    if in_child() {
        let h = unsafe_heap(4096);
        let a = h.malloc(40);
        let b = h.malloc(80);
        let _c = h.malloc(120);
        h.free(b);
        let _ = a;
        h.dump();
        let mut want = format!("Showing data for heap: {} \n", p(h.as_ptr() as usize));
        h.walk(|bl| {
            let free = if bl.used { "No" } else { "Yes" };
            let _ = writeln!(
                want,
                "Block {} data, size: {} bytes, Free: {} ",
                p(bl.data as usize),
                bl.size,
                free
            );
            true
        });
        eprint!("{BEGIN}{want}{END}");
        return;
    }
    let (_, err) = child("multi_heap_dump_format");
    let (got, want) = between(&err, "Showing data");
    assert_eq!(got, want);
    assert_eq!(got.lines().count(), 5, "{got}");
}

fn unsafe_heap(len: usize) -> MultiHeap {
    let m = leak(len);
    // SAFETY: leaked memory, used for nothing else.
    unsafe { MultiHeap::register(m as *mut u8, len) }.unwrap()
}

#[test]
fn print_heap_info_and_heap_caps_dump_format() {
    const B8: u32 = heapcaps::Caps::BIT8.bits();
    const D: u32 = heapcaps::Caps::DEFAULT.bits();
    const DMA: u32 = heapcaps::Caps::DMA.bits();
    if in_child() {
        let r: &'static Registry = Box::leak(Box::new(Registry::new()));
        let (a, b) = (leak(0x4000), leak(0x2000));
        let region = |start, size, ty| BootRegion {
            start,
            size,
            ty,
            caps: [B8 | D, DMA, 0],
            startup_stack: false,
            shown_at: start,
            name: "T",
        };
        // SAFETY: leaked memory, owned by the registry from now on.
        unsafe { r.init(&[region(a, 0x4000, 0), region(b, 0x2000, 1)]) };
        let x = r.malloc(1000, B8);
        let y = r.malloc(300, B8);
        // SAFETY: from r.
        unsafe { r.free(x) };
        let _ = y;
        r.print_heap_info(B8);
        let mut want = format!("Heap summary for capabilities 0x{B8:08X}:\n");
        for (start, end, _, _) in r.heaps() {
            // SAFETY: `start` is the region start of a registered heap (its handle).
            let h = unsafe { MultiHeap::from_ptr(start as *mut _) }.unwrap();
            let i = h.info();
            let _ = writeln!(
                want,
                "  At 0x{:08x} len {} free {} allocated {} min_free {}",
                start,
                end - start,
                i.total_free_bytes,
                i.total_allocated_bytes,
                i.minimum_free_bytes
            );
            let _ = writeln!(
                want,
                "    largest_free_block {} alloc_blocks {} free_blocks {} total_blocks {}",
                i.largest_free_block, i.allocated_blocks, i.free_blocks, i.total_blocks
            );
        }
        let t = r.info(B8);
        let _ = write!(
            want,
            "  Totals:\n    free {} allocated {} min_free {} largest_free_block {}\n",
            t.total_free_bytes, t.total_allocated_bytes, t.minimum_free_bytes, t.largest_free_block
        );
        print!("{BEGIN}{want}{END}");
        // heap_caps_dump: one multi_heap_dump per selected heap, in list order.
        r.dump(B8);
        let mut dump = String::new();
        for (start, _, _, _) in r.heaps() {
            // SAFETY: as above.
            let h = unsafe { MultiHeap::from_ptr(start as *mut _) }.unwrap();
            let _ = writeln!(dump, "Showing data for heap: {} ", p(start));
            h.walk(|bl| {
                let _ = writeln!(
                    dump,
                    "Block {} data, size: {} bytes, Free: {} ",
                    p(bl.data as usize),
                    bl.size,
                    if bl.used { "No" } else { "Yes" }
                );
                true
            });
        }
        eprint!("{BEGIN}{dump}{END}");
        return;
    }
    let (out, err) = child("print_heap_info_and_heap_caps_dump_format");
    let (got, want) = between(&out, "Heap summary");
    assert_eq!(got, want);
    assert_eq!(got.lines().count(), 1 + 2 * 2 + 2, "{got}");
    let (got, want) = between(&err, "Showing data");
    assert_eq!(got, want);
    assert!(got.contains("Free: Yes \n") && got.contains("Free: No \n"));
}

#[test]
fn heap_map_svg_shows_every_block() {
    const B8: u32 = heapcaps::Caps::BIT8.bits();
    const D: u32 = heapcaps::Caps::DEFAULT.bits();
    let r: &'static Registry = Box::leak(Box::new(Registry::new()));
    let (a, b) = (leak(0x4000), leak(0x2000));
    let region = |start, size, ty, caps| BootRegion {
        start,
        size,
        ty,
        caps,
        startup_stack: false,
        shown_at: start,
        name: "T",
    };
    let x = heapcaps::Caps::EXEC.bits() | heapcaps::Caps::BIT32.bits();
    // SAFETY: leaked memory, owned by the registry from now on.
    unsafe {
        r.init(&[
            region(a, 0x4000, 0, [B8 | D, 0, 0]),
            region(b, 0x2000, 1, [x, 0, 0]),
        ])
    };
    let ps: Vec<_> = (0..10).map(|i| r.malloc(50 + i * 10, B8)).collect();
    // SAFETY: from r.
    unsafe { r.free(ps[3]) };
    let svg = heapcaps::heapmap::render(r, "test <map>");
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    assert!(svg.contains("test &lt;map&gt;"));
    let info = r.info(0);
    assert_eq!(
        svg.matches("<title>used block").count(),
        info.allocated_blocks
    );
    assert_eq!(svg.matches("<title>free block").count(), info.free_blocks);
    assert!(svg.contains("BIT8|DEFAULT") && svg.contains("EXEC|BIT32"));
    assert!(svg.contains("used: IRAM: code-capable"));
}
