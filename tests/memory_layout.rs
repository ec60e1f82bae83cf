//! The ESP-IDF port's memory layout tables (port/esp_idf/memory_layout/<target>.c) against the
//! simulated chips (src/caps/chips.rs): each target file is built for the host (gcc -m32, so the
//! records have the chips' 32-bit layout) with stand-in values for ESP-IDF's linker symbols, and
//! must give the simulation's memory types and regions, and the same heap memory once the reserved
//! ranges are cut out. Also checks what two sdkconfig options do to the tables.

use heapcaps::caps::chips::{self, Chip, MemType, Region};
use heapcaps::caps::Caps;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A target: its simulated chip, the sdkconfig options the simulation corresponds to, and values
/// of the linker symbols its reserved ranges use, chosen to describe the simulation's small app.
struct Target {
    name: &'static str,
    config: &'static [&'static str],
    symbols: &'static [(&'static str, u32)],
}

// The simulated chips model ESP-IDF's defaults except memory protection, which is off (as in
// ESP-IDF's heap test apps): EXEC memory exists. ESP32: dual core, so no RTC heap.
const TARGETS: &[Target] = &[
    Target {
        name: "esp32",
        config: &[],
        symbols: &[
            ("_data_start", 0x3FFB_0000),
            ("_heap_start", 0x3FFB_2A48),
            ("_heap_end", 0x4000_0000),
            ("_iram_start", 0x4008_0000),
            ("_iram_end", 0x4008_B3D0),
            ("_rtc_force_fast_end", 0x3FF8_0000),
            ("_rtc_noinit_end", 0x3FF8_0000),
            // No bootloader data in RTC fast memory; the RTC timer's 24 bytes at the top of RTC
            // slow memory, which is never heap on the ESP32.
            ("_rtc_fast_reserved_start", 0x3FF8_2000),
            ("_rtc_fast_reserved_end", 0x3FF8_2000),
            ("_rtc_slow_reserved_start", 0x5000_1FE8),
            ("_rtc_slow_reserved_end", 0x5000_2000),
        ],
    },
    Target {
        name: "esp32s3",
        config: &[
            "CONFIG_ESP32S3_INSTRUCTION_CACHE_16KB",
            "CONFIG_ESP32S3_DATA_CACHE_32KB",
            "CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP",
        ],
        symbols: &[
            // IRAM code from the I-cache block's free half into D/IRAM, data right after it.
            ("_iram_start", 0x4037_4000),
            ("_iram_end", 0x4038_6A00),
            ("_data_start", 0x3FC9_6A00),
            ("_heap_start", 0x3FC9_6A38),
            ("_rtc_force_fast_end", 0x600F_E010),
            ("_rtc_noinit_end", 0x600F_E010),
            // The RTC timer's 24 bytes at the top of RTC fast memory.
            ("_rtc_reserved_start", 0x600F_FFE8),
            ("_rtc_reserved_end", 0x6010_0000),
        ],
    },
    Target {
        name: "esp32c3",
        config: &["CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP"],
        symbols: &[
            ("_iram_start", 0x4037_C000),
            ("_iram_end", 0x4038_C000),
            ("_data_start", 0x3FC8_C000),
            ("_heap_start", 0x3FC9_3E10),
            ("_rtc_force_slow_end", 0x5000_0010),
            // As on the S3: the RTC timer's 24 bytes.
            ("_rtc_reserved_start", 0x5000_1FE8),
            ("_rtc_reserved_end", 0x5000_2000),
        ],
    },
    Target {
        name: "esp32c6",
        config: &["CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP"],
        symbols: &[
            ("_iram_start", 0x4080_0000),
            ("_iram_end", 0x4080_E000),
            ("_data_start", 0x4080_E000),
            ("_heap_start", 0x4081_0C90),
            ("_rtc_force_slow_end", 0x5000_0010),
            ("_rtc_reserved_start", 0x5000_3FE8),
            ("_rtc_reserved_end", 0x5000_4000),
        ],
    },
    Target {
        name: "esp32c2",
        config: &[],
        symbols: &[
            // IRAM code from the start of D/IRAM (after the I-cache), data right after it.
            ("_iram_start", 0x4038_0000),
            ("_iram_end", 0x4038_8A00),
            ("_data_start", 0x3FCA_8A00),
            ("_heap_start", 0x3FCA_BCB0),
        ],
    },
    Target {
        name: "esp32s2",
        config: &[
            "CONFIG_ESP32S2_INSTRUCTION_CACHE_8KB",
            "CONFIG_ESP32S2_DATA_CACHE_8KB",
            "CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP",
        ],
        symbols: &[
            // The ROM's data (esp32s2.rom.ld).
            ("_dram0_rtos_reserved_start", 0x3FFF_FA10),
            // IRAM code from the first block the caches leave free, data right after it.
            ("_iram_start", 0x4002_4000),
            ("_iram_end", 0x4003_0A00),
            ("_data_start", 0x3FFC_0A00),
            ("_heap_start", 0x3FFC_4E30),
            ("_rtc_force_fast_end", 0x3FF9_E010),
            ("_rtc_noinit_end", 0x3FF9_E010),
            ("_rtc_reserved_start", 0x3FF9_FFE8),
            ("_rtc_reserved_end", 0x3FFA_0000),
        ],
    },
    Target {
        name: "esp32h2",
        config: &["CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP"],
        symbols: &[
            ("_iram_start", 0x4080_0000),
            ("_iram_end", 0x4080_8C00),
            ("_data_start", 0x4080_8C00),
            ("_heap_start", 0x4080_B010),
            ("_rtc_force_slow_end", 0x5000_0010),
            ("_rtc_reserved_start", 0x5000_0FE8),
            ("_rtc_reserved_end", 0x5000_1000),
        ],
    },
    Target {
        name: "esp32c5",
        config: &["CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP"],
        symbols: &[
            ("_iram_start", 0x4080_0000),
            ("_iram_end", 0x4080_C000),
            ("_data_start", 0x4080_C000),
            ("_heap_start", 0x4080_FCB0),
            ("_rtc_force_slow_end", 0x5000_0010),
            ("_rtc_reserved_start", 0x5000_3FE8),
            ("_rtc_reserved_end", 0x5000_4000),
        ],
    },
    Target {
        name: "esp32c61",
        config: &[],
        symbols: &[
            ("_iram_start", 0x4080_0000),
            ("_iram_end", 0x4080_6C00),
            ("_data_start", 0x4080_6C00),
            ("_heap_start", 0x4080_9890),
        ],
    },
];

/// The tables one build of a target file printed.
#[derive(Debug)]
struct Tables {
    types: Vec<(String, [u32; 3])>,
    regions: Vec<Region>,
    reserved: Vec<(u32, u32)>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds `<target>.c` with tests/layout/dump.c for the host (32-bit) with the given sdkconfig
/// options and linker symbols, runs it and parses its output.
fn build(t: &Target, extra: &[&str], tag: &str) -> Tables {
    let layout = root().join("port/esp_idf/memory_layout");
    let exe = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("layout-{}-{tag}", t.name));
    let cc = std::env::var("CC").unwrap_or_else(|_| "gcc".into());
    let mut cmd = Command::new(&cc);
    cmd.args([
        "-m32",
        "-std=gnu11",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-fno-pie",
        "-no-pie",
    ])
    .arg("-I")
    .arg(root().join("include"))
    .arg("-I")
    .arg(&layout)
    .arg("-DHEAPCAPS_RESERVED_SECTION=\"heapcaps_reserved\"")
    .arg("-DHEAPCAPS_RESERVED_SECTION_ID=heapcaps_reserved");
    for d in t.config.iter().chain(extra) {
        cmd.arg(format!("-D{d}"));
    }
    for (s, v) in t.symbols {
        cmd.arg(format!("-Wl,--defsym={s}={v:#x}"));
    }
    cmd.arg(layout.join(format!("{}.c", t.name)))
        .arg(root().join("tests/layout/dump.c"))
        .arg("-o")
        .arg(&exe);
    let out = cmd.output().unwrap_or_else(|e| panic!("{cc}: {e}"));
    assert!(
        out.status.success(),
        "building {}.c failed:\n{}",
        t.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&exe).output().expect("run the table dump");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("ASCII output");
    let mut tables = Tables {
        types: vec![],
        regions: vec![],
        reserved: vec![],
    };
    let num = |s: &str| -> u32 { s.parse().unwrap_or_else(|_| panic!("number: {s}")) };
    for line in text.lines() {
        let f: Vec<&str> = line.splitn(5, ' ').collect();
        match f[0] {
            // The chips' record sizes (soc_memory_type_desc_t, soc_memory_region_t,
            // soc_reserved_region_t), which src/caps/chips.rs asserts for its FFI mirrors.
            "sizes" => assert_eq!(&f[1..], ["16", "20", "8"], "{}: record sizes", t.name),
            "type" => tables
                .types
                .push((f[4].to_string(), [num(f[1]), num(f[2]), num(f[3])])),
            "region" => tables.regions.push(Region {
                start: num(f[1]),
                size: num(f[2]),
                ty: num(f[3]) as usize,
                iram: num(f[4].split(' ').next().unwrap()),
                startup_stack: f[4].ends_with(" 1"),
            }),
            "reserved" => tables.reserved.push((num(f[1]), num(f[2]))),
            _ => panic!("unexpected line {line:?}"),
        }
    }
    tables
}

fn sim(name: &str) -> &'static Chip {
    chips::chip(name).unwrap_or_else(|| panic!("no simulated chip {name}"))
}

fn types_of(types: &[MemType]) -> Vec<(String, [u32; 3])> {
    types.iter().map(|t| (t.name.to_string(), t.caps)).collect()
}

fn fields(r: &Region) -> (u32, u32, usize, u32, bool) {
    (r.start, r.size, r.ty, r.iram, r.startup_stack)
}

/// The heap memory the tables leave: ESP-IDF's available regions.
fn heap_memory(
    regions: &[Region],
    reserved: &[(u32, u32)],
    rom: u32,
) -> Vec<(u32, u32, usize, bool)> {
    let mut v = vec![];
    chips::available(regions, reserved, rom, |r| {
        v.push((r.start, r.size, r.ty, r.startup_stack))
    });
    v
}

#[test]
fn tables_match_the_simulated_chips() {
    for t in TARGETS {
        let c = build(t, &[], "sim");
        let s = sim(t.name);
        assert_eq!(c.types, types_of(s.types), "{}: memory types", t.name);
        let cr: Vec<_> = c.regions.iter().map(fields).collect();
        let sr: Vec<_> = s.regions.iter().map(fields).collect();
        assert_eq!(cr, sr, "{}: regions", t.name);
        // The ROM's data start is read from the ROM at boot on a device
        // (heapcaps_port_rom_reserved_start), not from the tables: both sides use the simulation's.
        let mut sim_memory = vec![];
        s.available(|r| sim_memory.push((r.start, r.size, r.ty, r.startup_stack)));
        assert_eq!(
            heap_memory(&c.regions, &c.reserved, s.rom),
            sim_memory,
            "{}: heap memory after the reserved ranges (C reserved: {:x?})",
            t.name,
            c.reserved
        );
    }
}

/// The chips whose ROM publishes a layout table (ESP-IDF's `ESP_ROM_HAS_LAYOUT_TABLE`): their
/// simulation keeps the ROM's data at the top of internal RAM out of the heaps, as the device
/// boot does; its start lies in the startup-stack region, which runs to the end of D/IRAM (and
/// would otherwise hand the ROM's data out once the scheduler runs).
#[test]
fn rom_data_stays_out_of_the_heaps() {
    const ROM_LAYOUT_TABLE: &[&str] = &[
        "esp32s3",
        "esp32s3-psram",
        "esp32c2",
        "esp32c3",
        "esp32c5",
        "esp32c6",
        "esp32c61",
        "esp32h2",
    ];
    for c in chips::CHIPS {
        let name = c.name.to_str().unwrap();
        let start = c.rom;
        if start == 0 {
            assert!(
                !ROM_LAYOUT_TABLE.contains(&name),
                "{name}: ROM data not reserved"
            );
            continue;
        }
        assert!(
            ROM_LAYOUT_TABLE.contains(&name),
            "{name}: has no ROM layout table"
        );
        let stack = c
            .regions
            .iter()
            .find(|r| r.startup_stack)
            .expect("startup-stack region");
        // The data runs to the end of D/IRAM, where the startup-stack region ends.
        let end = stack.start + stack.size;
        assert!(
            start > stack.start && start < end,
            "{name}: ROM data inside the stack region"
        );
        let mut touched = false;
        c.available(|r| touched |= r.start < end && r.start + r.size > start);
        assert!(!touched, "{name}: a heap overlaps the ROM's data");
    }
}

#[test]
fn memory_protection_removes_exec_memory() {
    // CONFIG_ESP_SYSTEM_MEMPROT (on by default where the chip has it; the ESP32 has not): no memory
    // type offers EXEC, and no region is left that only code could use (the S3's I-cache block).
    let exec = Caps::EXEC.bits();
    for t in TARGETS.iter().filter(|t| t.name != "esp32") {
        let c = build(t, &["CONFIG_ESP_SYSTEM_MEMPROT"], "memprot");
        let s = sim(t.name);
        let want: Vec<_> = s
            .types
            .iter()
            .map(|m| (m.name.to_string(), m.caps.map(|c| c & !exec)))
            .collect();
        assert_eq!(c.types, want, "{}: memory types without EXEC", t.name);
        let code_only =
            |ty: usize| c.types[ty].1.iter().fold(0, |a, m| a | m) & Caps::BIT8.bits() == 0;
        let kept: Vec<_> = s
            .regions
            .iter()
            .filter(|r| !code_only(r.ty))
            .map(fields)
            .collect();
        let got: Vec<_> = c.regions.iter().map(fields).collect();
        assert_eq!(got, kept, "{}: regions", t.name);
    }
}

#[test]
fn psram_window_is_a_region_and_entirely_reserved() {
    for t in TARGETS
        .iter()
        .filter(|t| ["esp32", "esp32s2", "esp32s3", "esp32c5"].contains(&t.name))
    {
        let c = build(t, &["CONFIG_SPIRAM"], "psram");
        let plain = build(t, &[], "psram-plain");
        let spiram = c
            .types
            .iter()
            .position(|(n, _)| n == "SPIRAM")
            .expect("SPIRAM type");
        let win: Vec<_> = c.regions.iter().filter(|r| r.ty == spiram).collect();
        assert_eq!(win.len(), 1, "{}: one PSRAM region", t.name);
        // The simulated PSRAM (what esp_psram maps and adds at startup) lies in that window
        // (no PSRAM variant is simulated for the S2 and C5).
        if let Some(p) = chips::chip(&format!("{}-psram", t.name)) {
            let (at, size, _, _) = p.psram.unwrap();
            assert!(at >= win[0].start && at + size <= win[0].start + win[0].size);
        }
        // ... and the window is not heap at boot: the rest is the same as without PSRAM.
        assert_eq!(
            heap_memory(&c.regions, &c.reserved, 0),
            heap_memory(&plain.regions, &plain.reserved, 0),
            "{}",
            t.name
        );
    }
}

#[test]
fn regions_are_in_address_order() {
    // heapcaps' boot merges a region with the one before it and, on the chips, takes the first
    // byte-accessible internal heap as the lowest one: both need ascending start addresses.
    let all = [
        "CONFIG_SPIRAM",
        "CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP",
        "CONFIG_ESP32S3_DATA_CACHE_16KB",
        "CONFIG_ESP32S2_DATA_CACHE_0KB",
        "CONFIG_ESP32S2_TRACEMEM_RESERVE_DRAM=0x8000",
    ];
    for t in TARGETS {
        for (i, extra) in [&[][..], &all[..]].into_iter().enumerate() {
            let c = build(t, extra, &format!("order{i}"));
            assert!(
                c.regions.windows(2).all(|w| w[0].start <= w[1].start),
                "{}: {:x?}",
                t.name,
                c.regions
            );
        }
    }
}

#[test]
fn esp32s2_cache_sizes_and_trace_memory() {
    // The 8 KiB blocks 1..3 below 0x3FFB8000 are heap unless the caches (I-cache first, then
    // D-cache, from 0x3FFB0000) use them: ESP-IDF's table for each Kconfig choice.
    const CASES: &[(&[&str], &[u32])] = &[
        (
            &[
                "CONFIG_ESP32S2_INSTRUCTION_CACHE_8KB",
                "CONFIG_ESP32S2_DATA_CACHE_0KB",
            ],
            &[0x3FFB_2000, 0x3FFB_4000, 0x3FFB_6000],
        ),
        (
            &[
                "CONFIG_ESP32S2_INSTRUCTION_CACHE_8KB",
                "CONFIG_ESP32S2_DATA_CACHE_8KB",
            ],
            &[0x3FFB_4000, 0x3FFB_6000],
        ),
        (
            &[
                "CONFIG_ESP32S2_INSTRUCTION_CACHE_8KB",
                "CONFIG_ESP32S2_DATA_CACHE_16KB",
            ],
            &[0x3FFB_6000],
        ),
        (
            &[
                "CONFIG_ESP32S2_INSTRUCTION_CACHE_16KB",
                "CONFIG_ESP32S2_DATA_CACHE_0KB",
            ],
            &[0x3FFB_4000, 0x3FFB_6000],
        ),
        (
            &[
                "CONFIG_ESP32S2_INSTRUCTION_CACHE_16KB",
                "CONFIG_ESP32S2_DATA_CACHE_8KB",
            ],
            &[0x3FFB_6000],
        ),
        (
            &[
                "CONFIG_ESP32S2_INSTRUCTION_CACHE_16KB",
                "CONFIG_ESP32S2_DATA_CACHE_16KB",
            ],
            &[],
        ),
    ];
    let s2 = TARGETS.iter().find(|t| t.name == "esp32s2").unwrap();
    for (i, &(config, blocks)) in CASES.iter().enumerate() {
        let t = Target {
            name: "esp32s2",
            config,
            symbols: s2.symbols,
        };
        let c = build(&t, &[], &format!("cache{i}"));
        let small: Vec<u32> = c
            .regions
            .iter()
            .filter(|r| r.start >= 0x3FFB_0000 && r.start < 0x3FFB_8000)
            .inspect(|r| assert_eq!((r.size, r.iram), (0x2000, r.start + 0x70000)))
            .map(|r| r.start)
            .collect();
        assert_eq!(small, blocks, "{config:?}");
        // The 16 KiB blocks 4..21 are always there; only the last holds the startup stack.
        let big: Vec<_> = c
            .regions
            .iter()
            .filter(|r| r.start >= 0x3FFB_8000)
            .collect();
        assert_eq!(big.len(), 18);
        assert!(big
            .iter()
            .all(|r| r.startup_stack == (r.start == 0x3FFF_C000)));
    }
    // Trace memory: half of the reservation at the start of each TRAX block (19 and 20).
    let c = build(
        s2,
        &["CONFIG_ESP32S2_TRACEMEM_RESERVE_DRAM=0x4000"],
        "trace",
    );
    assert!(c.reserved.contains(&(0x3FFF_4000, 0x3FFF_6000)));
    assert!(c.reserved.contains(&(0x3FFF_8000, 0x3FFF_A000)));
    assert_eq!(c.reserved.len(), s2_reserved_plain().len() + 2);
}

fn s2_reserved_plain() -> Vec<(u32, u32)> {
    let s2 = TARGETS.iter().find(|t| t.name == "esp32s2").unwrap();
    build(s2, &[], "plain").reserved
}

/// With secure boot the ROM keeps the image digest at the end of LP RAM (32 bytes, 48 with ECDSA
/// P-384 keys; layout.h): the RTC heap region of the chips with LP RAM ends before it.
#[test]
fn secure_boot_keeps_the_digest_out_of_lp_ram() {
    for name in ["esp32c5", "esp32c6", "esp32h2"] {
        let t = TARGETS.iter().find(|t| t.name == name).unwrap();
        let rtc_end = |extra: &[&str], tag: &str| {
            let c = build(t, extra, tag);
            let rtc = c
                .types
                .iter()
                .position(|(n, _)| n == "RTCRAM")
                .expect("RTCRAM type");
            let r = c
                .regions
                .iter()
                .find(|r| r.ty == rtc)
                .expect("RTCRAM region");
            r.start + r.size
        };
        let plain = rtc_end(&[], "sb-none");
        assert_eq!(
            rtc_end(&["CONFIG_SECURE_BOOT"], "sb-256"),
            plain - 32,
            "{name}"
        );
        assert_eq!(
            rtc_end(
                &[
                    "CONFIG_SECURE_BOOT",
                    "CONFIG_SECURE_BOOT_ECDSA_KEY_LEN_384_BITS"
                ],
                "sb-384"
            ),
            plain - 48,
            "{name}"
        );
    }
}
