#!/usr/bin/env python3
"""Sums what one archive contributes to a linked ELF, from the GNU ld map file.

    mapsize.py MAP ARCHIVE_NAME [TOP]

Prints text / rodata / data / bss bytes of the input sections that came from ARCHIVE_NAME
(e.g. libheapcaps.a) and were kept after --gc-sections, split by object kind, then the TOP
largest kept sections. Flash = text + rodata (+ data's initial values); RAM = data + bss.
"""
import re
import sys


def kind(section):
    s = section.lstrip(".")
    for k, prefixes in (
        ("text", ("text",)),
        ("rodata", ("rodata", "srodata")),
        ("data", ("data", "sdata")),
        ("bss", ("bss", "sbss")),
    ):
        if any(s == p or s.startswith(p + ".") for p in prefixes):
            return k
    return None


def module(section, group):
    """Rust path of a mangled section name (heapcaps::tlsf, core::slice, ...) or a coarse kind."""
    if group != "heapcaps":
        return group
    name = section.split(".", 2)[-1] if section.count(".") >= 2 else section
    if name.startswith("unlikely."):
        name = name[len("unlikely."):]
    m = re.match(r"_ZN((?:\d+[A-Za-z_$][A-Za-z0-9_$]*)+)", name)
    if m:
        parts = re.findall(r"(\d+)", m.group(1))
        out, rest = [], m.group(1)
        while rest and len(out) < 2:
            n = int(re.match(r"\d+", rest).group(0))
            rest = rest[len(str(n)):]
            out.append(rest[:n])
            rest = rest[n:]
        return "::".join(out)
    if name.startswith("_R"):
        for crate in ("core", "compiler_builtins", "heapcaps"):
            if crate in name:
                return crate + " (v0)"
    if re.match(r"(heap_caps|multi_heap|heapcaps)_", name):
        return "heapcaps::capi (C entry points)"
    if section.startswith(".rodata") or section.startswith(".srodata"):
        return "rodata (constants, strings)"
    if section.startswith(".data") or section.startswith(".bss"):
        return "statics"
    return "other"


def main():
    path, archive = sys.argv[1], sys.argv[2]
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    try:
        start = next(i for i, l in enumerate(lines) if l.startswith("Linker script and memory map"))
    except StopIteration:
        sys.exit("no memory map in " + path)
    entry = re.compile(r"^ (\.\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
    totals = {}
    items = []
    mods = {}
    pending = None
    for line in lines[start:]:
        if line.startswith("/DISCARD/"):
            break
        m = entry.match(line)
        if m and (m.group(1) or pending):
            name = m.group(1) or pending
            pending = None
            size = int(m.group(3), 16)
            src = m.group(4)
            k = kind(name)
            if k is None or size == 0 or archive + "(" not in src:
                continue
            obj = src.split("(", 1)[1].rstrip(")")
            group = "compiler_builtins" if obj.startswith("compiler_builtins") else (
                "C shim" if obj.endswith("prefer.o") else "heapcaps")
            totals[(group, k)] = totals.get((group, k), 0) + size
            items.append((size, k, name, group))
            mod = module(name, group)
            mods[mod] = mods.get(mod, 0) + (size if k in ("text", "rodata") else 0)
            continue
        m2 = re.match(r"^ (\.\S+)$", line)
        pending = m2.group(1) if m2 else None

    def tot(k, group=None):
        return sum(v for (g, kk), v in totals.items() if kk == k and (group is None or g == group))

    for g in ("heapcaps", "C shim", "compiler_builtins"):
        if any(gg == g for gg, _ in totals):
            print("  %-18s text %5d  rodata %5d  data %4d  bss %4d" % (
                g, tot("text", g), tot("rodata", g), tot("data", g), tot("bss", g)))
    flash = tot("text") + tot("rodata")
    ram = tot("data") + tot("bss")
    print("  TOTAL flash (.text+.rodata) = %d B (%.2f KiB)   RAM (.data+.bss) = %d B   (+%d B .data init in flash)" % (
        flash, flash / 1024.0, ram, tot("data")))
    print("  flash by module: " + ", ".join(
        "%s %d" % (m, v) for m, v in sorted(mods.items(), key=lambda x: -x[1]) if v))
    if top:
        print("  largest kept sections:")
        for size, k, name, g in sorted(items, reverse=True)[:top]:
            print("    %6d %-6s %s" % (size, k, name))
    print("FLASH=%d RAM=%d DATA=%d" % (flash, ram, tot("data")))


if __name__ == "__main__":
    main()
