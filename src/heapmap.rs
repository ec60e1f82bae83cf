//! Host only, beyond ESP-IDF: a picture of the heaps. Walks every registered heap and draws an
//! SVG map: one band per region, used and free blocks by address, coloured by the heap's kind
//! of memory, with labels and a legend, because fragmentation is easier to see than to read.
//!
//! This is a host tool (never built for a chip), so it uses `std` formatting freely.

use std::fmt::Write as _;
use std::string::String;
use std::vec::Vec;

use crate::caps::{Caps, Registry};
use crate::multi_heap::MultiHeap;

/// One block as drawn: offset from the region start, length, used.
#[derive(Clone, Copy)]
struct Span {
    off: usize,
    len: usize,
    used: bool,
}

/// The colour family of a heap, from its capabilities (most specific first).
fn kind(caps: u32) -> (&'static str, &'static str) {
    let c = Caps::from_bits_retain(caps);
    if c.contains(Caps::SPIRAM) {
        ("#8e44ad", "external PSRAM (SPIRAM)")
    } else if c.contains(Caps::RTCRAM) {
        ("#27ae60", "RTC memory (RTCRAM)")
    } else if c.contains(Caps::EXEC) && c.contains(Caps::BIT8) {
        ("#d35400", "D/IRAM: data and code (EXEC + 8BIT)")
    } else if c.contains(Caps::EXEC) {
        ("#e67e22", "IRAM: code-capable (EXEC, 32BIT)")
    } else if c.contains(Caps::DMA) {
        ("#2471a3", "internal DRAM, DMA-capable")
    } else {
        ("#17a589", "other internal memory")
    }
}

fn caps_names(caps: u32) -> String {
    let mut s = String::new();
    for (name, _) in Caps::from_bits_retain(caps).iter_names() {
        if !s.is_empty() {
            s.push('|');
        }
        s.push_str(name);
    }
    s
}

fn kib(n: usize) -> String {
    if n >= 10 * 1024 {
        std::format!("{} KiB", n / 1024)
    } else {
        std::format!("{n} B")
    }
}

/// Escapes text for SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The blocks of `h`, without allocating while the heap is locked (with the `c-malloc` feature
/// the vector itself lives in these heaps): count, reserve, then fill within the capacity.
fn spans(h: MultiHeap, start: usize) -> (Vec<Span>, usize) {
    let mut n = 0usize;
    h.walk(|_| {
        n += 1;
        true
    });
    // The reservation may split a block of this very heap: leave room for that.
    let mut v: Vec<Span> = Vec::with_capacity(n + 8);
    let mut first = usize::MAX;
    h.walk(|b| {
        first = first.min(b.header as usize - start);
        // Blocks past the reserved room are left out of the picture rather than reallocating.
        if v.len() < v.capacity() {
            v.push(Span {
                off: b.header as usize - start,
                len: b.size + 4,
                used: b.used,
            });
        }
        true
    });
    (v, if first == usize::MAX { 0 } else { first })
}

/// Renders the heaps of `reg` as an SVG document. `title` names the picture (e.g. the chip).
pub fn render(reg: &Registry, title: &str) -> String {
    const W: f64 = 960.0;
    const LEFT: f64 = 20.0;
    const BAR: f64 = 26.0;
    const ROW: f64 = 70.0;
    const TOP: f64 = 82.0;
    let heaps: Vec<(usize, usize, [u32; 3], bool)> = reg.heaps().filter(|h| h.3).collect();
    let mut rows = String::new();
    let mut kinds: Vec<(&str, &str)> = Vec::new();
    let (mut used_total, mut free_total) = (0usize, 0usize);
    for (i, &(start, end, caps, _)) in heaps.iter().enumerate() {
        let all = caps[0] | caps[1] | caps[2];
        let (colour, what) = kind(all);
        if !kinds.iter().any(|k| k.0 == colour) {
            kinds.push((colour, what));
        }
        // SAFETY: `start` is the region start of a registered heap, i.e. its handle.
        let Some(h) = (unsafe { MultiHeap::from_ptr(start as *mut core::ffi::c_void) }) else {
            continue;
        };
        let info = h.info();
        let (blocks, meta) = spans(h, start);
        let len = (end - start).max(1);
        let y = TOP + i as f64 * ROW;
        let scale = (W - 2.0 * LEFT) / len as f64;
        let name = reg.heap_name(start);
        let chip_at = crate::caps::chips::host_to_chip(start)
            .map_or(String::new(), |a| std::format!(" at 0x{a:08x}"));
        let _ = writeln!(
            rows,
            r#"<text x="{LEFT}" y="{:.1}" class="h">{} {}{} ({}): {}</text>"#,
            y - 6.0,
            esc(name),
            i,
            chip_at,
            kib(end - start),
            esc(&caps_names(all))
        );
        let _ = writeln!(
            rows,
            r#"<text x="{:.1}" y="{:.1}" class="s" text-anchor="middle">free {} in {} blocks, largest {}, {} used blocks</text>"#,
            W / 2.0,
            y + BAR + 13.0,
            kib(info.total_free_bytes),
            info.free_blocks,
            kib(info.largest_free_block),
            info.allocated_blocks
        );
        // Bookkeeping: region header and TLSF control structure, before the first block.
        let _ = writeln!(
            rows,
            r##"<rect x="{LEFT}" y="{y:.1}" width="{:.2}" height="{BAR}" fill="#7f8c8d"><title>bookkeeping, {} bytes</title></rect>"##,
            (meta as f64 * scale).max(1.0),
            meta
        );
        for b in &blocks {
            let x = LEFT + b.off as f64 * scale;
            let w = (b.len as f64 * scale).max(0.6);
            if b.used {
                used_total += b.len;
                let _ = writeln!(
                    rows,
                    r##"<rect x="{x:.2}" y="{y:.1}" width="{w:.2}" height="{BAR}" fill="{colour}" stroke="#ffffff" stroke-width="0.3"><title>used block at 0x{:x}, {} bytes</title></rect>"##,
                    start + b.off + 4,
                    b.len - 4
                );
            } else {
                free_total += b.len;
                let _ = writeln!(
                    rows,
                    r##"<rect x="{x:.2}" y="{y:.1}" width="{w:.2}" height="{BAR}" fill="url(#free)" stroke="#95a5a6" stroke-width="0.4"><title>free block at 0x{:x}, {} bytes</title></rect>"##,
                    start + b.off + 4,
                    b.len - 4
                );
            }
        }
        let _ = writeln!(
            rows,
            r##"<rect x="{LEFT}" y="{y:.1}" width="{:.1}" height="{BAR}" fill="none" stroke="#2c3e50" stroke-width="0.8"/>"##,
            W - 2.0 * LEFT
        );
        let _ = writeln!(
            rows,
            r#"<text x="{LEFT}" y="{:.1}" class="a">0x{start:x}</text><text x="{:.1}" y="{:.1}" class="a" text-anchor="end">0x{end:x}</text>"#,
            y + BAR + 13.0,
            W - LEFT,
            y + BAR + 13.0
        );
    }
    // Legend.
    let ly = TOP + heaps.len() as f64 * ROW + 6.0;
    let mut legend = String::new();
    let mut items: Vec<(String, String)> = kinds
        .iter()
        .map(|(c, w)| ((*c).into(), std::format!("used: {w}")))
        .collect();
    items.push(("url(#free)".into(), "free block".into()));
    items.push((
        "#7f8c8d".into(),
        "heap bookkeeping (header, TLSF control)".into(),
    ));
    for (k, (fill, text)) in items.iter().enumerate() {
        let x = LEFT + (k % 2) as f64 * 470.0;
        let y = ly + (k / 2) as f64 * 20.0;
        let _ = writeln!(
            legend,
            r##"<rect x="{x:.1}" y="{y:.1}" width="14" height="14" fill="{fill}" stroke="#2c3e50" stroke-width="0.5"/><text x="{:.1}" y="{:.1}" class="s">{}</text>"##,
            x + 20.0,
            y + 11.5,
            esc(text)
        );
    }
    let height = ly + items.len().div_ceil(2) as f64 * 20.0 + 28.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height:.0}" viewBox="0 0 {W} {height:.0}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
<defs><pattern id="free" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fdfefe"/><line x1="0" y1="0" x2="0" y2="6" stroke="#d5dbdb" stroke-width="2"/></pattern>
<style>.t{{font-size:17px;font-weight:bold;fill:#2c3e50}} .h{{font-size:12px;font-weight:bold;fill:#2c3e50}} .s{{font-size:11px;fill:#34495e}} .a{{font-size:9px;fill:#7f8c8d;font-family:monospace}}</style></defs>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="{LEFT}" y="26" class="t">{}</text>
<text x="{LEFT}" y="46" class="s">one band per heap, blocks by address (each band scaled to its own region); used {} B, free {} B in blocks (headers included)</text>"##,
        esc(title),
        used_total,
        free_total
    );
    svg.push_str(&rows);
    svg.push_str(&legend);
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="{:.1}" class="a">heapcaps heap map; hover a block for its address and size</text>"#,
        height - 8.0
    );
    svg.push_str("</svg>\n");
    svg
}

/// Writes the map of `reg` to the file `path`.
pub fn write(reg: &Registry, title: &str, path: &str) -> std::io::Result<()> {
    let svg = render(reg, title);
    std::fs::write(path, svg.as_bytes())
}
