# Sourced by scripts/size-report.sh and tests/qemu/run.sh: the chip archive of one configuration,
# built the one way both measure and run it (so the figures and the QEMU runs are the same code).
#
#   chip_config CONFIG    sets `profile` and `features` for CONFIG (default | size | light |
#                         comprehensive | multicore); 1 if unknown
#   chip_archive TRIPLE   builds libheapcaps.a for TRIPLE in that configuration (target/size) and
#                         sets `lib` to its path; the build's status otherwise

# Every configuration is that of a single-core chip's ESP-IDF project (C2, C3, C5, C6, C61, H2:
# ESP-IDF selects FREERTOS_UNICORE for them; no effect on rv32imc, which has one hart anyway). A
# dual-core riscv32imac chip keeps the registry's fence instructions (about 120 B more).
chip_config() {
  case $1 in
    # `cargo rustc --release --crate-type staticlib`: opt-level "s", no heap options.
    default) profile=release features=(--features FREERTOS_UNICORE) ;;
    # What an ESP-IDF project set to "Optimize for size" with silent assertions builds.
    size) profile=release-size features=(--features COMPILER_OPTIMIZATION_ASSERTIONS_SILENT,COMPILER_OPTIMIZATION_SIZE,FREERTOS_UNICORE) ;;
    # Heap poisoning (ESP-IDF's Kconfig choice) in the default configuration.
    light) profile=release features=(--features HEAP_POISONING_LIGHT,FREERTOS_UNICORE) ;;
    comprehensive) profile=release features=(--features HEAP_POISONING_COMPREHENSIVE,FREERTOS_UNICORE) ;;
    # A dual-core chip's project (FreeRTOS on both cores): riscv32imac keeps its fences.
    multicore) profile=release features=() ;;
    # The size configuration of a dual-core chip's project (README's dual-core figure).
    size-multicore) profile=release-size features=(--features COMPILER_OPTIMIZATION_ASSERTIONS_SILENT,COMPILER_OPTIMIZATION_SIZE) ;;
    *) return 1 ;;
  esac
}

chip_archive() {
  lib="target/size/$1/$profile/libheapcaps.a"
  cargo rustc --quiet --profile "$profile" "${features[@]}" --crate-type staticlib \
      --target "$1" --target-dir target/size
}
