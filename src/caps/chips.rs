//! Memory layouts: where the boot heaps come from.
//!
//! On a device (`target_os = "none"`) the regions are ESP-IDF's own tables (`soc_memory_types`,
//! `soc_memory_regions`, the `.reserved_memory_address` ranges) read through FFI.
//!
//! On a host the heaps live in a SIMULATED CHIP: the region, type and reserved tables of an
//! ESP32, ESP32-S2, ESP32-S3, ESP32-C2, ESP32-C3, ESP32-C5, ESP32-C6, ESP32-C61 or ESP32-H2
//! (default build options), backed by memory mapped from the OS. Each contiguous window of chip addresses ("bank") is one
//! mapping; a chip address `a` in a bank lives at host address `host_base + (a - bank.lo)`, so
//! offsets (and alignment below the page size) are preserved. Heaps work at host addresses; the boot log prints chip addresses.
//! D/IRAM banks are mapped twice (memfd), so the IRAM alias of an EXEC allocation is real memory
//! shared with its DRAM view. ESP32's word-reversed alias is simulated as a linear one.
//! Reserved ranges model ROM data, the app's .data/.bss and IRAM code of a typical small app.

use super::{BootRegion, Caps, HwParams, Registry};

const D: u32 = Caps::DEFAULT.bits();
const I: u32 = Caps::INTERNAL.bits();
const B8: u32 = Caps::BIT8.bits();
const B32: u32 = Caps::BIT32.bits();
const X: u32 = Caps::EXEC.bits();
const DMA: u32 = Caps::DMA.bits();
const R: u32 = Caps::RETENTION.bits();
const RTC: u32 = Caps::RTCRAM.bits();
const S: u32 = Caps::SPIRAM.bits();
const SIMD: u32 = Caps::SIMD.bits();

/// A memory type: name and three priority masks.
#[derive(Clone, Copy, Debug)]
pub struct MemType {
    pub name: &'static str,
    pub caps: [u32; 3],
}

/// A region of the chip's table, in chip addresses.
#[derive(Clone, Copy, Debug)]
pub struct Region {
    pub start: u32,
    pub size: u32,
    pub ty: usize,
    pub iram: u32,
    pub startup_stack: bool,
}

/// A simulated chip.
#[derive(Debug)]
pub struct Chip {
    /// Name as given to `heapcaps_sim_select_chip` / `HEAPCAPS_CHIP`.
    pub name: &'static core::ffi::CStr,
    pub types: &'static [MemType],
    pub regions: &'static [Region],
    /// Reserved `[start, end)` ranges (sorted, non-overlapping).
    pub reserved: &'static [(u32, u32)],
    /// Start of the ROM's own data at the top of internal RAM (0: none), on chips whose ROM
    /// publishes a layout table (`ESP_ROM_HAS_LAYOUT_TABLE`): ESP-IDF reads it from the table at
    /// boot and keeps it up to the end of D/IRAM out of the heaps (see [`before_rom`]; the device
    /// port reads it as `heapcaps_port_rom_reserved_start`). The start is the ROM's; the figures
    /// here are those of ESP-IDF's published boot logs.
    pub rom: u32,
    /// Chip-address windows backed by one host mapping each: (lo, hi, unused).
    pub banks: &'static [(u32, u32, u32)],
    /// The D/IRAM window when its instruction addresses differ: (dram_lo, dram_hi, iram_lo).
    pub diram: Option<(u32, u32, u32)>,
    pub hw: HwParams,
    /// PSRAM added at boot as esp_psram does: (chip address, size, SPIRAM_USE_MALLOC).
    pub psram: Option<(u32, u32, bool, [u32; 3])>,
}

const fn r(start: u32, size: u32, ty: usize, iram: u32, ss: bool) -> Region {
    Region {
        start,
        size,
        ty,
        iram,
        startup_stack: ss,
    }
}

const ESP32_TYPES: &[MemType] = &[
    MemType {
        name: "DRAM",
        caps: [B8 | D, I | DMA | B32, 0],
    },
    MemType {
        name: "D/IRAM",
        caps: [0, DMA | B8 | I | D, B32 | X],
    },
    MemType {
        name: "IRAM",
        caps: [I | X | B32, 0, 0],
    },
    MemType {
        name: "SPIRAM",
        caps: [S | D, 0, B8 | B32],
    },
    MemType {
        name: "RTCRAM",
        caps: [RTC, B8 | D, I | B32 | X],
    },
];

const ESP32_REGIONS: &[Region] = &[
    r(0x3FFA_E000, 0x2000, 0, 0, false),
    r(0x3FFB_0000, 0x8000, 0, 0, false),
    r(0x3FFB_8000, 0x8000, 0, 0, false),
    r(0x3FFC_0000, 0x2000, 0, 0, false),
    r(0x3FFC_2000, 0x2000, 0, 0, false),
    r(0x3FFC_4000, 0x2000, 0, 0, false),
    r(0x3FFC_6000, 0x2000, 0, 0, false),
    r(0x3FFC_8000, 0x2000, 0, 0, false),
    r(0x3FFC_A000, 0x2000, 0, 0, false),
    r(0x3FFC_C000, 0x2000, 0, 0, false),
    r(0x3FFC_E000, 0x2000, 0, 0, false),
    r(0x3FFD_0000, 0x2000, 0, 0, false),
    r(0x3FFD_2000, 0x2000, 0, 0, false),
    r(0x3FFD_4000, 0x2000, 0, 0, false),
    r(0x3FFD_6000, 0x2000, 0, 0, false),
    r(0x3FFD_8000, 0x2000, 0, 0, false),
    r(0x3FFD_A000, 0x2000, 0, 0, false),
    r(0x3FFD_C000, 0x2000, 0, 0, false),
    r(0x3FFD_E000, 0x2000, 0, 0, false),
    r(0x3FFE_0000, 0x4000, 1, 0x400B_C000, true),
    r(0x3FFE_4000, 0x4000, 1, 0x400B_8000, true),
    r(0x3FFE_8000, 0x8000, 1, 0x400B_0000, true),
    r(0x3FFF_0000, 0x8000, 1, 0x400A_8000, true),
    r(0x3FFF_8000, 0x4000, 1, 0x400A_4000, true),
    r(0x3FFF_C000, 0x4000, 1, 0x400A_0000, true),
    r(0x4007_0000, 0x8000, 2, 0, false),
    r(0x4007_8000, 0x8000, 2, 0, false),
    r(0x4008_0000, 0x2000, 2, 0, false),
    r(0x4008_2000, 0x2000, 2, 0, false),
    r(0x4008_4000, 0x2000, 2, 0, false),
    r(0x4008_6000, 0x2000, 2, 0, false),
    r(0x4008_8000, 0x2000, 2, 0, false),
    r(0x4008_A000, 0x2000, 2, 0, false),
    r(0x4008_C000, 0x2000, 2, 0, false),
    r(0x4008_E000, 0x2000, 2, 0, false),
    r(0x4009_0000, 0x2000, 2, 0, false),
    r(0x4009_2000, 0x2000, 2, 0, false),
    r(0x4009_4000, 0x2000, 2, 0, false),
    r(0x4009_6000, 0x2000, 2, 0, false),
    r(0x4009_8000, 0x2000, 2, 0, false),
    r(0x4009_A000, 0x2000, 2, 0, false),
    r(0x4009_C000, 0x2000, 2, 0, false),
    r(0x4009_E000, 0x2000, 2, 0, false),
];

/// ESP32 reserved ranges: ROM data, .data/.bss of a small app (ends at 0x3FFB2A48), ROM PRO/APP
/// data in D/IRAM, both CPUs' cache pages, IRAM code up to 0x4008B3D0.
const ESP32_RESERVED: &[(u32, u32)] = &[
    (0x3FFA_E000, 0x3FFA_E6E0),
    (0x3FFB_0000, 0x3FFB_2A48),
    (0x3FFE_0000, 0x3FFE_0440),
    (0x3FFE_3F20, 0x3FFE_4350),
    (0x4007_0000, 0x4007_8000),
    (0x4007_8000, 0x4008_0000),
    (0x4008_0000, 0x4008_B3D0),
];

const S3_TYPES: &[MemType] = &[
    MemType {
        name: "RAM",
        caps: [D | B32 | B8 | I | DMA | R | X | SIMD, 0, 0],
    },
    MemType {
        name: "DRAM",
        caps: [0, D | B32 | B8 | I | DMA | SIMD, 0],
    },
    MemType {
        name: "IRAM",
        caps: [X, B32 | I, 0],
    },
    MemType {
        name: "SPIRAM",
        caps: [S, 0, D | B32 | B8 | SIMD],
    },
    MemType {
        name: "RTCRAM",
        caps: [RTC, 0, D | B32 | B8 | I | X],
    },
];

const S3_APP_DRAM_END: u32 = 0x3FCE_9710;

const S3_REGIONS: &[Region] = &[
    r(0x3FC8_8000, 0x8000, 0, 0x4037_8000, false),
    r(0x3FC9_0000, 0x10000, 0, 0x4038_0000, false),
    r(0x3FCA_0000, 0x10000, 0, 0x4039_0000, false),
    r(0x3FCB_0000, 0x10000, 0, 0x403A_0000, false),
    r(0x3FCC_0000, 0x10000, 0, 0x403B_0000, false),
    r(0x3FCD_0000, 0x10000, 0, 0x403C_0000, false),
    r(
        0x3FCE_0000,
        S3_APP_DRAM_END - 0x3FCE_0000,
        0,
        0x403D_0000,
        false,
    ),
    r(
        S3_APP_DRAM_END,
        0x3FCF_0000 - S3_APP_DRAM_END,
        0,
        0x403D_9710,
        true,
    ),
    r(0x3FCF_0000, 0x8000, 1, 0, false),
    r(0x4037_4000, 0x4000, 2, 0, false),
    r(0x600F_E000, 0x2000, 4, 0, false),
];

/// ESP32-S3: IRAM code (0x40370000..0x40386A00, i.e. DRAM view up to 0x3FC96A00 and the whole
/// 16 KiB IRAM region), .data/.bss up to 0x3FC96A38, RTC fast data (16 bytes) and the RTC
/// reserved area at its end (24 bytes).
const S3_RESERVED: &[(u32, u32)] = &[
    (0x3FC8_8000, 0x3FC9_6A00),
    (0x3FC9_6A00, 0x3FC9_6A38),
    (0x4037_0000, 0x4038_6A00),
    (0x600F_E000, 0x600F_E010),
    (0x600F_FFE8, 0x6010_0000),
];

const C3_TYPES: &[MemType] = &[
    MemType {
        name: "RAM",
        caps: [D | I | B32 | B8 | X | DMA, 0, 0],
    },
    MemType {
        name: "Retention RAM",
        caps: [R, D | I | B32 | B8 | X | DMA, 0],
    },
    MemType {
        name: "RTCRAM",
        caps: [RTC, 0, D | I | B32 | B8 | X],
    },
];

const C3_APP_DRAM_END: u32 = 0x3FCD_C710;

const C3_REGIONS: &[Region] = &[
    r(0x3FC8_0000, 0x20000, 0, 0x4038_0000, false),
    r(0x3FCA_0000, 0x20000, 0, 0x403A_0000, false),
    r(
        0x3FCC_0000,
        C3_APP_DRAM_END - 0x3FCC_0000,
        1,
        0x403C_0000,
        false,
    ),
    r(
        C3_APP_DRAM_END,
        0x3FCE_0000 - C3_APP_DRAM_END,
        1,
        0x403D_C710,
        true,
    ),
    r(0x5000_0000, 0x2000, 2, 0, false),
];

/// ESP32-C3: IRAM code (DRAM view 0x3FC7C000..0x3FC8C000), .data/.bss up to 0x3FC93E10, RTC
/// data (16 bytes) and the RTC reserved area at its end (24 bytes).
const C3_RESERVED: &[(u32, u32)] = &[
    (0x3FC7_C000, 0x3FC8_C000),
    (0x3FC8_C000, 0x3FC9_3E10),
    (0x5000_0000, 0x5000_0010),
    (0x5000_1FE8, 0x5000_2000),
];

const C6_TYPES: &[MemType] = &[
    MemType {
        name: "RAM",
        caps: [D | I | B32 | B8 | X | DMA, 0, 0],
    },
    MemType {
        name: "RTCRAM",
        caps: [RTC, D | I | B32 | B8 | X, 0],
    },
];

const C6_APP_DRAM_END: u32 = 0x4087_C610;

const C6_REGIONS: &[Region] = &[
    r(0x4080_0000, 0x20000, 0, 0x4080_0000, false),
    r(0x4082_0000, 0x20000, 0, 0x4082_0000, false),
    r(0x4084_0000, 0x20000, 0, 0x4084_0000, false),
    r(
        0x4086_0000,
        C6_APP_DRAM_END - 0x4086_0000,
        0,
        0x4086_0000,
        false,
    ),
    r(
        C6_APP_DRAM_END,
        0x4088_0000 - C6_APP_DRAM_END,
        0,
        C6_APP_DRAM_END,
        true,
    ),
    r(0x5000_0000, 0x4000, 1, 0, false),
];

/// ESP32-C6: IRAM code 0x40800000..0x4080E000, .data/.bss up to 0x40810C90, LP RAM data (16
/// bytes) and the RTC reserved area at its end (24 bytes).
const C6_RESERVED: &[(u32, u32)] = &[
    (0x4080_0000, 0x4080_E000),
    (0x4080_E000, 0x4081_0C90),
    (0x5000_0000, 0x5000_0010),
    (0x5000_3FE8, 0x5000_4000),
];

const C2_TYPES: &[MemType] = &[MemType {
    name: "RAM",
    caps: [D | DMA | B8 | I | B32 | X, 0, 0],
}];

const C2_APP_DRAM_END: u32 = 0x3FCD_CB70;

const C2_REGIONS: &[Region] = &[
    r(0x3FCA_0000, 0x10000, 0, 0x4038_0000, false),
    r(0x3FCB_0000, 0x10000, 0, 0x4039_0000, false),
    r(
        0x3FCC_0000,
        C2_APP_DRAM_END - 0x3FCC_0000,
        0,
        0x403A_0000,
        false,
    ),
    r(
        C2_APP_DRAM_END,
        0x3FCE_0000 - C2_APP_DRAM_END,
        0,
        0x403B_CB70,
        true,
    ),
];

/// ESP32-C2: IRAM code 0x40380000..0x40388A00 (DRAM view 0x3FCA0000..0x3FCA8A00), .data/.bss up
/// to 0x3FCABCB0. No RTC memory.
const C2_RESERVED: &[(u32, u32)] = &[(0x3FCA_0000, 0x3FCA_8A00), (0x3FCA_8A00, 0x3FCA_BCB0)];

const S2_TYPES: &[MemType] = &[
    MemType {
        name: "RAM",
        caps: [D | B32 | B8 | I | DMA | X, 0, 0],
    },
    MemType {
        name: "SPIRAM",
        caps: [S, 0, D | B32 | B8],
    },
    MemType {
        name: "RTCRAM",
        caps: [RTC, 0, D | B32 | B8 | I | X],
    },
];

/// One 16 KiB D/IRAM block of the ESP32-S2 (blocks 4..21 from 0x3FFB8000).
const fn s2_block(n: u32) -> Region {
    let a = 0x3FFB_8000 + 0x4000 * (n - 4);
    r(a, 0x4000, 0, a + 0x70000, n == 21)
}

const S2_REGIONS: &[Region] = &[
    r(0x3FF9_E000, 0x2000, 2, 0x4007_0000, false),
    r(0x3FFB_4000, 0x2000, 0, 0x4002_4000, false),
    r(0x3FFB_6000, 0x2000, 0, 0x4002_6000, false),
    s2_block(4),
    s2_block(5),
    s2_block(6),
    s2_block(7),
    s2_block(8),
    s2_block(9),
    s2_block(10),
    s2_block(11),
    s2_block(12),
    s2_block(13),
    s2_block(14),
    s2_block(15),
    s2_block(16),
    s2_block(17),
    s2_block(18),
    s2_block(19),
    s2_block(20),
    s2_block(21),
];

/// ESP32-S2 (8 KiB I-cache, 8 KiB D-cache): RTC fast data (16 bytes), the RTC reserved area at
/// its end (24 bytes), IRAM code 0x40024000..0x40030A00 (DRAM view up to 0x3FFC0A00), .data/.bss
/// up to 0x3FFC4E30, ROM data from 0x3FFFFA10 to the end of D/IRAM.
const S2_RESERVED: &[(u32, u32)] = &[
    (0x3FF9_E000, 0x3FF9_E010),
    (0x3FF9_FFE8, 0x3FFA_0000),
    (0x3FFB_4000, 0x3FFC_0A00),
    (0x3FFC_0A00, 0x3FFC_4E30),
    (0x3FFF_FA10, 0x4000_0000),
];

const H2_APP_DRAM_END: u32 = 0x4084_D380;

const H2_REGIONS: &[Region] = &[
    r(0x4080_0000, 0x10000, 0, 0x4080_0000, false),
    r(0x4081_0000, 0x10000, 0, 0x4081_0000, false),
    r(0x4082_0000, 0x10000, 0, 0x4082_0000, false),
    r(0x4083_0000, 0x10000, 0, 0x4083_0000, false),
    r(
        0x4084_0000,
        H2_APP_DRAM_END - 0x4084_0000,
        0,
        0x4084_0000,
        false,
    ),
    r(
        H2_APP_DRAM_END,
        0x4085_0000 - H2_APP_DRAM_END,
        0,
        H2_APP_DRAM_END,
        true,
    ),
    r(0x5000_0000, 0x1000, 1, 0, false),
];

/// ESP32-H2: IRAM code 0x40800000..0x40808C00, .data/.bss up to 0x4080B010 (the heap start of
/// ESP-IDF's H2 boot log), LP RAM data (16 bytes) and the RTC reserved area at its end (24 bytes).
const H2_RESERVED: &[(u32, u32)] = &[
    (0x4080_0000, 0x4080_8C00),
    (0x4080_8C00, 0x4080_B010),
    (0x5000_0000, 0x5000_0010),
    (0x5000_0FE8, 0x5000_1000),
];

const C5_TYPES: &[MemType] = &[
    MemType {
        name: "RAM",
        caps: [D | I | B32 | B8 | X | DMA, 0, 0],
    },
    MemType {
        name: "RTCRAM",
        caps: [RTC, D | I | B32 | B8 | X, 0],
    },
    MemType {
        name: "SPIRAM",
        caps: [S | D, 0, B8 | B32],
    },
];

const C5_APP_DRAM_END: u32 = 0x4085_C5A0;

const C5_REGIONS: &[Region] = &[
    r(
        0x4080_0000,
        C5_APP_DRAM_END - 0x4080_0000,
        0,
        0x4080_0000,
        false,
    ),
    r(
        C5_APP_DRAM_END,
        0x4086_0000 - C5_APP_DRAM_END,
        0,
        C5_APP_DRAM_END,
        true,
    ),
    r(0x5000_0000, 0x4000, 1, 0, false),
];

/// ESP32-C5: IRAM code 0x40800000..0x4080C000, .data/.bss up to 0x4080FCB0 (the heap start of
/// ESP-IDF's C5 boot log), LP RAM data (16 bytes) and the RTC reserved area at its end (24 bytes).
const C5_RESERVED: &[(u32, u32)] = &[
    (0x4080_0000, 0x4080_C000),
    (0x4080_C000, 0x4080_FCB0),
    (0x5000_0000, 0x5000_0010),
    (0x5000_3FE8, 0x5000_4000),
];

const C61_TYPES: &[MemType] = &[MemType {
    name: "RAM",
    caps: [D | I | B32 | B8 | X | DMA, 0, 0],
}];

const C61_APP_DRAM_END: u32 = 0x4084_C670;

const C61_REGIONS: &[Region] = &[
    r(
        0x4080_0000,
        C61_APP_DRAM_END - 0x4080_0000,
        0,
        0x4080_0000,
        false,
    ),
    r(
        C61_APP_DRAM_END,
        0x4085_0000 - C61_APP_DRAM_END,
        0,
        C61_APP_DRAM_END,
        true,
    ),
];

/// ESP32-C61: IRAM code 0x40800000..0x40806C00, .data/.bss up to 0x40809890 (the heap start of
/// ESP-IDF's C61 boot log). No RTC memory heap.
const C61_RESERVED: &[(u32, u32)] = &[(0x4080_0000, 0x4080_6C00), (0x4080_6C00, 0x4080_9890)];

const PSRAM_ESP32: [u32; 3] = [S | D, 0, B8 | B32];
const PSRAM_S3: [u32; 3] = [S | D, 0, B8 | B32 | SIMD];

/// The simulated chips. `-psram` variants add 4 MiB (ESP32) / 8 MiB (S3) of PSRAM at boot with
/// `CONFIG_SPIRAM_USE_MALLOC` (malloc_extmem_enable(16384)).
pub static CHIPS: &[Chip] = &[
    Chip {
        name: c"esp32",
        types: ESP32_TYPES,
        regions: ESP32_REGIONS,
        reserved: ESP32_RESERVED,
        rom: 0,
        banks: &[(0x3FFA_E000, 0x4000_0000, 0), (0x4008_0000, 0x400A_0000, 0)],
        diram: Some((0x3FFE_0000, 0x4000_0000, 0x400A_0000)),
        hw: HwParams::ESP32,
        psram: None,
    },
    Chip {
        name: c"esp32s3",
        types: S3_TYPES,
        regions: S3_REGIONS,
        reserved: S3_RESERVED,
        rom: 0x3FCE_EE34,
        banks: &[(0x3FC8_8000, 0x3FCF_8000, 0), (0x600F_E000, 0x6010_0000, 0)],
        diram: Some((0x3FC8_8000, 0x3FCF_0000, 0x4037_8000)),
        hw: HwParams {
            internal_line: 0,
            external_line: 32,
            simd_align: 16,
            size_max: 0x0200_0000,
        },
        psram: None,
    },
    Chip {
        name: c"esp32c3",
        types: C3_TYPES,
        regions: C3_REGIONS,
        reserved: C3_RESERVED,
        rom: 0x3FCD_F05C,
        banks: &[(0x3FC8_0000, 0x3FCE_0000, 0), (0x5000_0000, 0x5000_2000, 0)],
        diram: Some((0x3FC8_0000, 0x3FCE_0000, 0x4038_0000)),
        hw: HwParams {
            internal_line: 0,
            external_line: 0,
            simd_align: 0,
            size_max: 0x0006_4000,
        },
        psram: None,
    },
    Chip {
        name: c"esp32c6",
        types: C6_TYPES,
        regions: C6_REGIONS,
        reserved: C6_RESERVED,
        rom: 0x4087_F564,
        banks: &[(0x4080_0000, 0x4088_0000, 0), (0x5000_0000, 0x5000_4000, 0)],
        diram: None,
        hw: HwParams {
            internal_line: 0,
            external_line: 0,
            simd_align: 0,
            size_max: 0x0008_0000,
        },
        psram: None,
    },
    Chip {
        name: c"esp32-psram",
        types: ESP32_TYPES,
        regions: ESP32_REGIONS,
        reserved: ESP32_RESERVED,
        rom: 0,
        banks: &[(0x3FFA_E000, 0x4000_0000, 0), (0x4008_0000, 0x400A_0000, 0)],
        diram: Some((0x3FFE_0000, 0x4000_0000, 0x400A_0000)),
        hw: HwParams::ESP32,
        psram: Some((0x3F80_0000, 0x40_0000, true, PSRAM_ESP32)),
    },
    Chip {
        name: c"esp32s3-psram",
        types: S3_TYPES,
        regions: S3_REGIONS,
        reserved: S3_RESERVED,
        rom: 0x3FCE_EE34,
        banks: &[(0x3FC8_8000, 0x3FCF_8000, 0), (0x600F_E000, 0x6010_0000, 0)],
        diram: Some((0x3FC8_8000, 0x3FCF_0000, 0x4037_8000)),
        hw: HwParams {
            internal_line: 0,
            external_line: 32,
            simd_align: 16,
            size_max: 0x0200_0000,
        },
        psram: Some((0x3D00_0000, 0x80_0000, true, PSRAM_S3)),
    },
    Chip {
        name: c"esp32c2",
        types: C2_TYPES,
        regions: C2_REGIONS,
        reserved: C2_RESERVED,
        rom: 0x3FCD_F42C,
        banks: &[(0x3FCA_0000, 0x3FCE_0000, 0)],
        diram: Some((0x3FCA_0000, 0x3FCE_0000, 0x4038_0000)),
        hw: HwParams {
            internal_line: 0,
            external_line: 0,
            simd_align: 0,
            size_max: 0x0004_4000,
        },
        psram: None,
    },
    Chip {
        name: c"esp32s2",
        types: S2_TYPES,
        regions: S2_REGIONS,
        reserved: S2_RESERVED,
        rom: 0,
        // RTC fast memory (data bus) and the D/IRAM blocks, with the unused gap between them.
        banks: &[(0x3FF9_E000, 0x4000_0000, 0)],
        diram: Some((0x3FFB_0000, 0x4000_0000, 0x4002_0000)),
        hw: HwParams {
            internal_line: 0,
            external_line: 32,
            simd_align: 0,
            size_max: 0x00A8_0000,
        },
        psram: None,
    },
    Chip {
        name: c"esp32h2",
        types: C6_TYPES,
        regions: H2_REGIONS,
        reserved: H2_RESERVED,
        rom: 0x4084_FEE0,
        banks: &[(0x4080_0000, 0x4085_0000, 0), (0x5000_0000, 0x5000_1000, 0)],
        diram: None,
        hw: HwParams {
            internal_line: 0,
            external_line: 0,
            simd_align: 0,
            size_max: 0x0005_0000,
        },
        psram: None,
    },
    Chip {
        name: c"esp32c5",
        types: C5_TYPES,
        regions: C5_REGIONS,
        reserved: C5_RESERVED,
        rom: 0x4085_F4F8,
        banks: &[(0x4080_0000, 0x4086_0000, 0), (0x5000_0000, 0x5000_4000, 0)],
        diram: None,
        hw: HwParams {
            internal_line: 0,
            external_line: 32,
            simd_align: 0,
            size_max: 0x0200_0000,
        },
        psram: None,
    },
    Chip {
        name: c"esp32c61",
        types: C61_TYPES,
        regions: C61_REGIONS,
        reserved: C61_RESERVED,
        rom: 0x4084_F5D0,
        banks: &[(0x4080_0000, 0x4085_0000, 0)],
        diram: None,
        hw: HwParams {
            internal_line: 0,
            external_line: 32,
            simd_align: 0,
            size_max: 0x0200_0000,
        },
        psram: None,
    },
    // Not a chip: one large RAM heap for running real programs on the host (LD_PRELOAD of the
    // c-malloc shared object). Mapped private (a forked child gets its own copy, as with any
    // malloc) and without reserve: pages cost nothing until touched.
    Chip {
        name: HOST_LARGE,
        types: HOST_LARGE_TYPES,
        regions: &[r(0x1000_0000, 0x2000_0000, 0, 0, false)],
        reserved: &[],
        rom: 0,
        banks: &[(0x1000_0000, 0x3000_0000, 0)],
        diram: None,
        hw: HwParams {
            internal_line: 0,
            external_line: 0,
            simd_align: 0,
            size_max: 0x2000_0000,
        },
        psram: None,
    },
];

/// Name of the host-only chip with one 512 MiB heap (`HEAPCAPS_CHIP=host-large`).
pub const HOST_LARGE: &core::ffi::CStr = c"host-large";

const HOST_LARGE_TYPES: &[MemType] = &[MemType {
    name: "RAM",
    caps: [D | B32 | B8 | I | DMA, 0, 0],
}];

/// Finds a chip by name.
pub fn chip(name: &str) -> Option<&'static Chip> {
    CHIPS.iter().find(|c| c.name.to_bytes() == name.as_bytes())
}

impl Chip {
    /// This chip's heap memory at boot: its regions less the reserved ranges and the ROM's data.
    pub fn available(&self, out: impl FnMut(Region)) {
        available(self.regions, self.reserved, self.rom, out)
    }
}

/// `reg` without the ROM's data from `rom` on (0: no ROM data). That data runs to the end of
/// D/IRAM, which is where the region holding its start ends, so that region is cut short there.
#[inline(always)]
pub fn before_rom(mut reg: Region, rom: u32) -> Region {
    if rom.wrapping_sub(reg.start) < reg.size {
        reg.size = rom - reg.start;
    }
    reg
}

/// Cuts `reserved` and the ROM's data from `rom` on (see [`before_rom`]) out of `regions`
/// (ESP-IDF's `soc_get_available_memory_regions`): pieces of 16 bytes or less are dropped;
/// reserved ends are widened to word boundaries. Calls `out` per piece. The reserved ranges may
/// come in any order (see [`cut`]).
pub fn available(
    regions: &[Region],
    reserved: &[(u32, u32)],
    rom: u32,
    mut out: impl FnMut(Region),
) {
    for reg in regions {
        let res = |i: usize| reserved.get(i).copied();
        cut(before_rom(*reg, rom), reserved.len(), res, &mut out);
    }
}

/// The pieces of `reg` outside the reserved ranges `res(0..n)`, in address order. Each step takes
/// the overlapping range that starts first, so the ranges need no sorting (ESP-IDF sorts a copy
/// of them; on the chips that copy and sort cost flash and stack). (32-bit arithmetic,
/// saturating at the top of the address space, where no chip has RAM: 64-bit arithmetic doubled
/// this code on the 32-bit chips. One call site of `out`, so that it is inlined once.)
pub fn cut(
    reg: Region,
    n: usize,
    res: impl Fn(usize) -> Option<(u32, u32)>,
    out: &mut impl FnMut(Region),
) {
    let end = reg.start.saturating_add(reg.size);
    let mut start = reg.start;
    loop {
        // The piece from `start` ends where the first overlapping reserved range begins (or at
        // `end`); the next one starts where that range ends.
        let (mut piece_end, mut next) = (end, end);
        for i in 0..n {
            let Some((rs, re)) = res(i) else { break };
            let (rs, re) = (rs & !3, re.saturating_add(3) & !3);
            if re > start && rs < end && rs.max(start) < piece_end {
                (piece_end, next) = (rs.max(start), re.min(end));
            }
        }
        if piece_end - start > 16 {
            out(Region {
                start,
                size: piece_end - start,
                ..reg
            });
        }
        if next >= end {
            break;
        }
        start = next;
    }
}

/// Name of the memory type whose OR-ed caps equal `caps` (for runtime heaps), else "".
pub fn type_name(types: &'static [MemType], caps: [u32; 3]) -> &'static str {
    let all = caps[0] | caps[1] | caps[2];
    types
        .iter()
        .find(|t| t.caps[0] | t.caps[1] | t.caps[2] == all)
        .map_or("", |t| t.name)
}

#[cfg(not(target_os = "none"))]
pub use host::*;

#[cfg(not(target_os = "none"))]
mod host {
    use super::super::DiramAlias;
    use super::*;
    use core::sync::atomic::{AtomicUsize, Ordering};

    /// Selected chip (index into CHIPS + 1; 0 = not chosen yet: `HEAPCAPS_CHIP` or esp32).
    static SELECTED: AtomicUsize = AtomicUsize::new(0);
    /// Host base address of each bank of the booted chip (at most 4 banks).
    static BANK_BASE: [AtomicUsize; 4] = [
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    ];
    static PSRAM_BASE: AtomicUsize = AtomicUsize::new(0);
    static BOOT: spin::Once<()> = spin::Once::new();

    /// Selects the simulated chip. `Err(NotFound)` for an unknown name, `Err(InvalidState)` once
    /// the heaps exist.
    pub fn select_chip(name: &str) -> Result<(), super::super::Error> {
        let i = CHIPS
            .iter()
            .position(|c| c.name.to_bytes() == name.as_bytes())
            .ok_or(super::super::Error::NotFound)?;
        if BOOT.is_completed() || super::super::global_raw().is_initialised() {
            return Err(super::super::Error::InvalidState);
        }
        SELECTED.store(i + 1, Ordering::Relaxed);
        Ok(())
    }

    /// The chip that is (or will be) simulated.
    pub fn selected_chip() -> &'static Chip {
        let i = SELECTED.load(Ordering::Relaxed);
        if let Some(c) = i.checked_sub(1).and_then(|i| CHIPS.get(i)) {
            return c;
        }
        // No allocation here: this runs while booting, possibly from inside malloc.
        let env = crate::port::env(c"HEAPCAPS_CHIP");
        let c = env
            .and_then(|v| CHIPS.iter().find(|c| c.name.to_bytes() == v))
            .unwrap_or(&CHIPS[0]);
        SELECTED.store(
            CHIPS.iter().position(|x| core::ptr::eq(x, c)).unwrap_or(0) + 1,
            Ordering::Relaxed,
        );
        c
    }

    /// Host address of chip address `a`, if it is in a mapped bank.
    pub fn chip_to_host(a: u32) -> Option<usize> {
        let c = selected_chip();
        c.banks
            .iter()
            .zip(BANK_BASE.iter())
            .find_map(|(&(lo, hi, _), b)| {
                let base = b.load(Ordering::Relaxed);
                (base != 0 && a >= lo && a < hi).then(|| base + (a - lo) as usize)
            })
    }

    /// Chip address of host address `p`, if it is in a mapped bank or the PSRAM.
    pub fn host_to_chip(p: usize) -> Option<u32> {
        let c = selected_chip();
        let bank = c
            .banks
            .iter()
            .zip(BANK_BASE.iter())
            .find_map(|(&(lo, hi, _), b)| {
                let base = b.load(Ordering::Relaxed);
                (base != 0 && p >= base && p < base + (hi - lo) as usize)
                    .then(|| lo + (p - base) as u32)
            });
        bank.or_else(|| {
            let (a, size, _, _) = c.psram?;
            let base = PSRAM_BASE.load(Ordering::Relaxed);
            (base != 0 && p >= base && p < base + size as usize).then(|| a + (p - base) as u32)
        })
    }

    /// Caps of the raw table region containing host address `p` (for `heap_caps_add_region`).
    pub fn region_caps(p: usize) -> Option<(&'static [u32; 3], &'static str)> {
        let c = selected_chip();
        let a = host_to_chip(p)?;
        let reg = c
            .regions
            .iter()
            .find(|r| a >= r.start && (a - r.start) < r.size)?;
        let t = c.types.get(reg.ty)?;
        Some((&t.caps, t.name))
    }

    /// `heap_caps_init` on the host: maps the selected chip, registers its boot heaps and (for
    /// `-psram` chips) adds PSRAM as esp_psram does during startup. With `full`, also runs
    /// `heap_caps_enable_nonos_stack_heaps` (what the first allocation of a plain program gets).
    pub fn boot(reg: &'static Registry, full: bool) {
        BOOT.call_once(|| {
            let c = selected_chip();
            reg.set_hw(c.hw);
            for (&(lo, hi, _), b) in c.banks.iter().zip(BANK_BASE.iter()) {
                let len = (hi - lo) as usize;
                // The D/IRAM window, if in this bank, gets a second view: the IRAM addresses.
                let win = c.diram.filter(|&(dl, dh, _)| dl >= lo && dh <= hi);
                let (off, alen) = win.map_or((0, 0), |(dl, dh, _)| {
                    ((dl - lo) as usize, (dh - dl) as usize)
                });
                let mapped = if c.name == HOST_LARGE {
                    crate::port::map_private(len).map(|p| (p, core::ptr::null_mut()))
                } else {
                    crate::port::map_memory(len, off, alen)
                };
                let Some((base, alias)) = mapped else {
                    crate::port::fatal(b"heapcaps: cannot map simulated chip memory\n")
                };
                b.store(base as usize, Ordering::Relaxed);
                if win.is_some() {
                    reg.set_diram_alias(Some(DiramAlias {
                        dram_lo: base as usize + off,
                        dram_hi: base as usize + off + alen,
                        iram_lo: alias as usize,
                        inverted: false,
                    }));
                }
            }
            let mut regs = [None::<BootRegion>; 64];
            let mut n = 0;
            c.available(|r| {
                let (Some(host), Some(t)) = (chip_to_host(r.start), c.types.get(r.ty)) else {
                    return;
                };
                if let Some(slot) = regs.get_mut(n) {
                    *slot = Some(BootRegion {
                        start: host,
                        size: r.size as usize,
                        ty: r.ty,
                        caps: t.caps,
                        startup_stack: r.startup_stack,
                        shown_at: r.start as usize,
                        name: t.name,
                    });
                    n += 1;
                }
            });
            let mut list = [BootRegion {
                start: 0,
                size: 0,
                ty: 0,
                caps: [0; 3],
                startup_stack: false,
                shown_at: 0,
                name: "",
            }; 64];
            for (d, s) in list.iter_mut().zip(regs.iter().flatten()) {
                *d = *s;
            }
            // SAFETY: the banks were just mapped for the heaps and are never unmapped.
            unsafe { reg.init(&list[..n]) };
            if let Some((_, size, use_malloc, caps)) = c.psram {
                let Some((base, _)) = crate::port::map_memory(size as usize, 0, 0) else {
                    crate::port::fatal(b"heapcaps: cannot map simulated PSRAM\n")
                };
                PSRAM_BASE.store(base as usize, Ordering::Relaxed);
                // SAFETY: freshly mapped memory owned by the heap from now on.
                let _ = unsafe {
                    reg.add_region_with_caps(
                        caps,
                        base as usize,
                        base as usize + size as usize,
                        "SPIRAM",
                    )
                };
                if use_malloc {
                    reg.malloc_extmem_enable(16384);
                }
            }
            if full {
                reg.enable_nonos_stack_heaps();
                if let Some((_, _, true, _)) = c.psram {
                    reserve_dma_pool(RESERVE_INTERNAL);
                }
            }
        });
    }

    /// ESP-IDF's default `CONFIG_SPIRAM_MALLOC_RESERVE_INTERNAL`: internal memory that its
    /// startup sets aside for DMA and internal-only requests when malloc may use PSRAM.
    pub const RESERVE_INTERNAL: usize = 32 * 1024;

    /// What ESP-IDF's startup task does right after `heap_caps_enable_nonos_stack_heaps` on a
    /// board whose malloc uses PSRAM: takes `size` bytes of internal DMA-capable memory, the
    /// largest free block first, and makes each piece a heap of its own that a plain malloc
    /// reaches only after every other heap. A failure there stops ESP-IDF's startup; so here.
    #[cold]
    #[inline(never)]
    fn reserve_dma_pool(size: usize) {
        // (The global registry named here, not passed in: taken as a parameter it stopped the
        // compiler from specialising the C entry points' paths for it, i686 W7 +3 instructions
        // per operation.)
        reserve_dma_pool_in(crate::caps::global_raw(), size)
    }

    /// `reserve_dma_pool` in `reg` (for harnesses that boot a registry of their own the way
    /// the global one boots, e.g. the caps fuzz target).
    #[inline(always)]
    pub fn reserve_dma_pool_in(reg: &Registry, mut size: usize) {
        const WANT: u32 = DMA | I;
        crate::text::say!(
            err,
            "I (0) esp_psram: Reserving pool of %uK of internal memory for DMA/internal allocations\n",
            size / 1024
        );
        while size > 0 {
            let next = reg.largest_free_block(WANT).min(size);
            // (`heap_caps_malloc` without its failure hooks, which stop the boot here anyway:
            // a second caller of `Registry::malloc` would take it out of line in
            // `heap_caps_malloc`, i686 W7 +5-8 instructions per operation.)
            let p = if next == 0 {
                0
            } else {
                reg.malloc_base(next, WANT) as usize
            };
            // ESP-IDF names the piece's last byte as the end, so the heap is one byte short
            // of the piece (then rounded down); kept, so the free sizes are ESP-IDF's.
            // SAFETY: the piece was just allocated for the pool and is never freed.
            let added = p != 0
                && unsafe {
                    reg.add_region_with_caps(POOL_CAPS, p, p + next - 1, crate::caps::no_name())
                }
                .is_ok();
            if !added {
                crate::port::fatal(b"heapcaps: could not reserve the internal DMA pool\n");
            }
            size -= next;
        }
    }

    /// The pool's priority masks (ESP-IDF's `esp_psram_extram_reserve_dma_pool`).
    const POOL_CAPS: [u32; 3] = [0, DMA | I, D | B8 | B32];

    /// Boots the global registry on first use (full boot); concurrent first users wait for it.
    #[cold]
    pub fn boot_default(reg: &'static Registry) {
        boot(reg, true)
    }
}

#[cfg(target_os = "none")]
pub use device::*;

#[cfg(target_os = "none")]
mod device {
    //! ESP-IDF's tables, read through FFI. Layouts: types.md §5 (checked at compile time below).
    use super::super::TypeName;
    use super::*;
    use core::sync::atomic::{AtomicBool, Ordering};

    /// `soc_memory_type_desc_t`
    #[repr(C)]
    pub struct SocMemoryTypeDesc {
        pub name: *const u8,
        pub caps: [u32; 3],
    }

    /// `soc_memory_region_t`
    #[repr(C)]
    pub struct SocMemoryRegion {
        pub start: isize,
        pub size: usize,
        pub ty: usize,
        pub iram_address: isize,
        pub startup_stack: bool,
    }

    /// `soc_reserved_region_t`
    #[repr(C)]
    pub struct SocReservedRegion {
        pub start: isize,
        pub end: isize,
    }

    const _: () = {
        assert!(core::mem::size_of::<SocMemoryTypeDesc>() == 16);
        assert!(core::mem::size_of::<SocMemoryRegion>() == 20);
        assert!(core::mem::offset_of!(SocMemoryRegion, iram_address) == 12);
        assert!(core::mem::offset_of!(SocMemoryRegion, startup_stack) == 16);
        assert!(core::mem::size_of::<SocReservedRegion>() == 8);
    };

    extern "C" {
        static soc_memory_types: [SocMemoryTypeDesc; 0];
        static soc_memory_type_count: usize;
        static soc_memory_regions: [SocMemoryRegion; 0];
        static soc_memory_region_count: usize;
        static soc_reserved_memory_region_start: [SocReservedRegion; 0];
        static soc_reserved_memory_region_end: [SocReservedRegion; 0];
    }

    static BOOTED: AtomicBool = AtomicBool::new(false);

    fn types() -> &'static [SocMemoryTypeDesc] {
        // SAFETY: ESP-IDF's port defines the array with `soc_memory_type_count` entries.
        unsafe { core::slice::from_raw_parts(soc_memory_types.as_ptr(), soc_memory_type_count) }
    }

    fn regions() -> &'static [SocMemoryRegion] {
        // SAFETY: as above for the region table.
        unsafe { core::slice::from_raw_parts(soc_memory_regions.as_ptr(), soc_memory_region_count) }
    }

    fn type_name(t: &SocMemoryTypeDesc) -> TypeName {
        // SAFETY: names in the table are NULL or NUL-terminated string literals.
        unsafe { TypeName::new(t.name as *const core::ffi::c_char) }
    }

    /// Caps and type name of the raw table region containing `p`.
    pub fn region_caps(p: usize) -> Option<(&'static [u32; 3], TypeName)> {
        let r = regions().iter().find(|r| {
            let s = r.start as usize;
            p >= s && p - s < r.size
        })?;
        let t = types().get(r.ty)?;
        Some((&t.caps, type_name(t)))
    }

    /// `heap_caps_init` on the device. Single-threaded at boot, so a plain flag guards it.
    pub fn boot(reg: &'static Registry, full: bool) {
        if !BOOTED.load(Ordering::Relaxed) {
            BOOTED.store(true, Ordering::Relaxed);
            // The chip is unknown here: bound requests by the largest HEAP_SIZE_MAX of any chip
            // (64 MiB); alignment comes from ESP-IDF's own function (see Registry::adjust_hw),
            // so the registry's cache-line facts are never read.
            reg.set_size_max(0x0400_0000);
            reg.set_diram_alias_from_port();
            // The `.reserved_memory_address` section, in link order (`cut` needs no sorting).
            // SAFETY: the linker brackets the section with these two symbols.
            let reserved = unsafe {
                let s = soc_reserved_memory_region_start.as_ptr();
                let e = soc_reserved_memory_region_end.as_ptr();
                core::slice::from_raw_parts(s, (e as usize - s as usize) / 8)
            };
            // Start of the ROM's data, read from the ROM at boot (0 on chips without the ROM
            // table). Cutting the region holding it short (`before_rom`) takes less flash than one
            // more range for `cut`.
            let rom = crate::port::rom_reserved_start();
            let tys = types();
            // SAFETY: the available regions are the RAM ESP-IDF leaves to the heap.
            if let Some(mut b) = unsafe { reg.boot() } {
                // Each piece goes straight to the registry (no list of regions on the stack).
                for r in regions() {
                    let one = Region {
                        start: r.start as u32,
                        size: r.size as u32,
                        ty: r.ty,
                        iram: r.iram_address as u32,
                        startup_stack: r.startup_stack,
                    };
                    let one = before_rom(one, rom);
                    let res = |i: usize| reserved.get(i).map(|r| (r.start as u32, r.end as u32));
                    cut(one, reserved.len(), res, &mut |p| {
                        let Some(t) = tys.get(p.ty) else { return };
                        b.add(BootRegion {
                            start: p.start as usize,
                            size: p.size as usize,
                            ty: p.ty,
                            caps: t.caps,
                            startup_stack: p.startup_stack,
                            shown_at: p.start as usize,
                            name: type_name(t),
                        });
                    });
                }
                b.finish();
            }
        }
        if full {
            reg.enable_nonos_stack_heaps();
        }
    }
}
