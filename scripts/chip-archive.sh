# Sourced by scripts/size-report.sh and tests/qemu/run.sh: the chip archive of one configuration,
# built the one way both measure and run it (so the figures and the QEMU runs are the same code).
#
#   chip_config CONFIG    sets `profile` and `features` for CONFIG (default | size | light |
#                         comprehensive); 1 if unknown
#   chip_archive TRIPLE   builds libheapcaps.a for TRIPLE in that configuration (target/size) and
#                         sets `lib` to its path; the build's status otherwise

chip_config() {
  case $1 in
    # `cargo rustc --release --crate-type staticlib`: opt-level "s", no features.
    default) profile=release features=() ;;
    # What an ESP-IDF project set to "Optimize for size" with silent assertions builds.
    size) profile=release-size features=(--features COMPILER_OPTIMIZATION_ASSERTIONS_SILENT) ;;
    # Heap poisoning (ESP-IDF's Kconfig choice) in the default configuration.
    light) profile=release features=(--features HEAP_POISONING_LIGHT) ;;
    comprehensive) profile=release features=(--features HEAP_POISONING_COMPREHENSIVE) ;;
    *) return 1 ;;
  esac
}

chip_archive() {
  lib="target/size/$1/$profile/libheapcaps.a"
  cargo rustc --quiet --profile "$profile" "${features[@]}" --crate-type staticlib \
      --target "$1" --target-dir target/size
}
