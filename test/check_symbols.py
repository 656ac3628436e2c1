#!/usr/bin/env python3
"""check_symbols.py - the dynamic symbols libmnet.so exports: only mnet_*, exactly mnet.h's API.

usage: check_symbols.py LIBRARY.so [mnet.h [libmnet.map]]

Reads the ELF .dynsym table directly (32/64-bit, either byte order), so it works on a library
built for another architecture without a cross nm.  Fails if a defined global or weak symbol
does not start with "mnet_"; with the header, also if the exported set differs from the
functions declared MNET_API (an internal mnet_ symbol leaking, or an API function missing);
with the version script too, also if its global list differs (the list is kept by hand, so a new
public function is exported on purpose).  Version-node symbols (MNET_0, ...) are not functions.
"""
import re
import struct
import sys

SHT_DYNSYM = 11
SHN_UNDEF = 0
SHN_ABS = 0xFFF1
STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE = 1, 2, 10
BINDINGS = {STB_GLOBAL: "GLOBAL", STB_WEAK: "WEAK", STB_GNU_UNIQUE: "UNIQUE"}


def read_dynsym(path):
    """Return [(name, binding, section index)] for every .dynsym entry."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        raise ValueError(f"{path}: not an ELF file")
    is64 = {1: False, 2: True}[data[4]]
    end = {1: "<", 2: ">"}[data[5]]
    if is64:
        (shoff,) = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)
        sh_fmt = end + "IIQQQQIIQQ"
    else:
        (shoff,) = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x2E)
        sh_fmt = end + "IIIIIIIIII"
    if shnum == 0 and shoff:   # more than 0xff00 sections: the count is in section 0
        shnum = struct.unpack_from(sh_fmt, data, shoff)[5]

    sections = []
    for i in range(shnum):
        name, stype, _flags, _addr, offset, size, link, _info, _align, entsize = \
            struct.unpack_from(sh_fmt, data, shoff + i * shentsize)
        sections.append((stype, offset, size, link, entsize))

    symbols = []
    for stype, offset, size, link, entsize in sections:
        if stype != SHT_DYNSYM:
            continue
        str_off = sections[link][1]
        for pos in range(offset, offset + size, entsize):
            if is64:
                st_name, st_info, _other, st_shndx, _value, _size = \
                    struct.unpack_from(end + "IBBHQQ", data, pos)
            else:
                st_name, _value, _size, st_info, _other, st_shndx = \
                    struct.unpack_from(end + "IIIBBH", data, pos)
            nul = data.index(b"\0", str_off + st_name)
            name = data[str_off + st_name:nul].decode("ascii", "replace")
            symbols.append((name, st_info >> 4, st_shndx))
    if not symbols:
        raise ValueError(f"{path}: no .dynsym section")
    return symbols


def api_functions(header):
    """Names of the functions mnet.h declares MNET_API."""
    with open(header, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)          # comments
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)            # preprocessor lines
    return set(re.findall(r"\bMNET_API\b[^;{}]*?\b(mnet_\w+)\s*\(", text))


def main(argv):
    if len(argv) not in (2, 3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    exported = sorted((name, BINDINGS[bind]) for name, bind, shndx in read_dynsym(argv[1])
                      if bind in BINDINGS and shndx != SHN_UNDEF and
                      not (shndx == SHN_ABS and re.fullmatch(r"MNET_\d+", name)))
    print(f"{argv[1]}: {len(exported)} defined global/weak dynamic symbols")
    for name, bind in exported:
        print(f"  {bind:6} {name}")
    status = 0
    bad = [name for name, _ in exported if not name.startswith("mnet_")]
    if bad:
        print(f"FAIL: {len(bad)} exported symbol(s) without the mnet_ prefix: {', '.join(bad)}")
        status = 1
    if not exported:
        print("FAIL: the library exports nothing")
        status = 1
    if len(argv) == 3:
        api = api_functions(argv[2])
        names = {name for name, _ in exported}
        if not api:
            print(f"FAIL: no MNET_API declarations found in {argv[2]}")
            status = 1
        for name in sorted(names - api):
            print(f"FAIL: {name} is exported but not declared MNET_API in {argv[2]}")
            status = 1
        for name in sorted(api - names):
            print(f"FAIL: {name} is declared MNET_API but not exported")
            status = 1
        if status == 0:
            print(f"exports match the {len(api)} MNET_API functions of {argv[2]}")
    if len(argv) == 4:
        text = re.sub(r"/\*.*?\*/", "", open(argv[3]).read(), flags=re.S)
        block = re.search(r"global:(.*?)local:", text, re.S)
        listed = set(re.findall(r"(\w+)\s*;", block.group(1))) if block else set()
        names = {name for name, _ in exported}
        for name in sorted(names ^ listed):
            print(f"FAIL: {name} is {'exported but not listed' if name in names else 'listed but not exported'} in {argv[3]}")
            status = 1
        if not (names ^ listed):
            print(f"exports match the {len(listed)} symbols of {argv[3]}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
