//! Boots each simulated chip in a child process (one global registry per process) and checks
//! the boot log, the heap totals and where EXEC memory comes from.

use heapcaps::capi::esp_heap_caps::*;

const CHIPS: &[(&str, &str, usize, bool)] = &[
    // (name, one boot-log line, internal total after full boot, EXEC returns an IRAM alias)
    (
        "esp32",
        "At 3FFB2A48 len 0002D5B8 (181 KiB): DRAM",
        0x1920 + 0x2D5B8 + 0x3AE0 + 0x1BCB0 + 0x14C30,
        false,
    ),
    (
        "esp32s3",
        "At 3FC96A38 len 00052CD8 (331 KiB): RAM",
        0x52CD8 + 0x5724 + 0x8000 + 0x1FD8,
        true,
    ),
    (
        "esp32c3",
        "At 3FCC0000 len 0001C710 (113 KiB): Retention RAM",
        0x2C1F0 + 0x1C710 + 0x294C + 0x1FD8,
        true,
    ),
    (
        "esp32c6",
        "At 40810C90 len 0006B980 (430 KiB): RAM",
        0x6B980 + 0x2F54 + 0x3FD8,
        false,
    ),
    (
        "esp32c2",
        "At 3FCABCB0 len 00030EC0 (195 KiB): RAM",
        0x30EC0 + 0x28BC,
        true,
    ),
    (
        "esp32s2",
        "At 3FFC4E30 len 000371D0 (220 KiB): RAM",
        0x1FD8 + 0x371D0 + 0x3A10,
        true,
    ),
    (
        "esp32h2",
        "At 4080B010 len 00042370 (264 KiB): RAM",
        0x42370 + 0x2B60 + 0xFD8,
        false,
    ),
    (
        "esp32c5",
        "At 4080FCB0 len 0004C8F0 (306 KiB): RAM",
        0x4C8F0 + 0x2F58 + 0x3FD8,
        false,
    ),
    (
        "esp32c61",
        "At 40809890 len 00042DE0 (267 KiB): RAM",
        0x42DE0 + 0x2F60,
        false,
    ),
];

#[test]
fn each_chip_boots() {
    if let Ok(chip) = std::env::var("HEAPCAPS_CHIPS_CHILD") {
        let &(_, _, total, alias) = CHIPS.iter().find(|c| c.0 == chip).unwrap();
        let p = heap_caps_malloc(64, MALLOC_CAP_EXEC);
        assert!(!p.is_null());
        assert_eq!(heap_caps_get_total_size(MALLOC_CAP_INTERNAL), total);
        // An IRAM alias lies outside every heap; plain EXEC memory lies inside one.
        assert_eq!(!heap_caps_check_integrity_addr(p as isize, false), alias);
        // SAFETY: p came from heap_caps_malloc.
        unsafe { heap_caps_free(p) };
        assert!(heap_caps_check_integrity_all(true));
        println!("CHILD-OK");
        return;
    }
    for &(chip, line, _, _) in CHIPS {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "each_chip_boots", "--nocapture"])
            .env("HEAPCAPS_CHIPS_CHILD", chip)
            .env("HEAPCAPS_CHIP", chip)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let so = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && so.contains("CHILD-OK"),
            "{chip}: {so}\n{err}"
        );
        assert!(
            err.contains("I (0) heap_init: Initializing. RAM available for dynamic allocation:")
        );
        assert!(err.contains(line), "{chip}: {err}");
    }
}
