#!/usr/bin/env python3
"""check_baseline_isa.py - no AVX instruction in the baseline (x86-64) objects.

usage: check_baseline_isa.py [--objdump PROG] [--exclude SUBSTRING]... ARCHIVE...

Disassembles every member of each static library with `objdump -d` and fails on any VEX or
EVEX encoded instruction (the encodings of AVX, AVX2, FMA, BMI and AVX-512) or any ymm/zmm/mask
register.  Members whose path contains an --exclude substring are skipped: that is how the
AVX2 kernel library, linked whole into the core library, is left out.  Everything else is
checked, so a new baseline object is covered without touching this script.

Two independent detectors, so an objdump that prints a mnemonic differently cannot hide one:
the encoding (after optional segment / address-size prefixes, a first opcode byte of C4/C5 is
VEX and 62 is EVEX in 64-bit mode) and the text (a mnemonic starting with 'v', BMI mnemonics,
%ymm / %zmm / %k registers).
"""
import argparse
import re
import subprocess
import sys

SKIPPABLE_PREFIXES = {"26", "2e", "36", "3e", "64", "65", "67"}
VEX_FIRST_BYTES = {"c4": "VEX3", "c5": "VEX2", "62": "EVEX"}
NON_AVX_V_MNEMONICS = {"verr", "verw"}
BMI_MNEMONICS = {"andn", "bextr", "blsi", "blsmsk", "blsr", "bzhi", "mulx", "pdep", "pext",
                 "rorx", "sarx", "shlx", "shrx"}
AVX_REGISTER = re.compile(r"%(?:[yz]mm\d+|k[0-7]\b)")
INSN = re.compile(r"^\s*[0-9a-f]+:\t((?:[0-9a-f]{2} )+)\s*\t(\S+)\s*(.*)$")
FUNC = re.compile(r"^[0-9a-f]+ <(.+)>:$")
MEMBER = re.compile(r"^(\S.*):\s+file format (\S+)$")


def why_avx(raw, mnemonic, operands):
    """A reason this instruction needs AVX (or a VEX encoding), or None."""
    bytes_ = raw.split()
    i = 0
    while i < len(bytes_) and bytes_[i] in SKIPPABLE_PREFIXES:
        i += 1
    if i < len(bytes_) and bytes_[i] in VEX_FIRST_BYTES:
        return f"{VEX_FIRST_BYTES[bytes_[i]]} encoding"
    m = mnemonic.split(".")[0]   # e.g. "vmovups.s"
    if m.startswith("v") and m not in NON_AVX_V_MNEMONICS:
        return "AVX mnemonic"
    if m in BMI_MNEMONICS or m.startswith("kmov"):
        return "VEX-only mnemonic"
    if AVX_REGISTER.search(operands):
        return "ymm/zmm/mask register"
    return None


def scan(objdump, archive, excludes):
    out = subprocess.run([objdump, "-d", "-w", archive], check=True, capture_output=True,
                         text=True).stdout
    member, func, skipping = None, None, False
    counts = {"members": 0, "skipped": 0, "insns": 0}
    findings = []
    for line in out.splitlines():
        m = MEMBER.match(line)
        if m:
            member, func = m.group(1), None
            skipping = any(x in member for x in excludes)
            counts["skipped" if skipping else "members"] += 1
            if not m.group(2).startswith("elf64-x86-64"):
                findings.append((member, "-", f"not an x86-64 object ({m.group(2)})"))
            continue
        if skipping:
            continue
        m = FUNC.match(line)
        if m:
            func = m.group(1)
            continue
        m = INSN.match(line)
        if not m:
            continue
        counts["insns"] += 1
        reason = why_avx(m.group(1), m.group(2), m.group(3))
        if reason:
            findings.append((member, func, f"{reason}: {line.strip()}"))
    return counts, findings


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objdump", default="objdump")
    ap.add_argument("--exclude", action="append", default=[],
                    help="skip archive members whose path contains this")
    ap.add_argument("archives", nargs="+")
    args = ap.parse_args()
    status = 0
    for archive in args.archives:
        counts, findings = scan(args.objdump, archive, args.exclude)
        print(f"{archive}: {counts['members']} members checked ({counts['skipped']} excluded), "
              f"{counts['insns']} instructions")
        if counts["members"] == 0 or counts["insns"] == 0:
            print(f"FAIL: {archive}: nothing was disassembled")
            status = 1
        for member, func, what in findings[:50]:
            print(f"FAIL: {member} <{func}>: {what}")
        if findings:
            print(f"FAIL: {archive}: {len(findings)} AVX/VEX instruction(s) in baseline code")
            status = 1
    if status == 0:
        print("baseline objects are free of AVX")
    return status


if __name__ == "__main__":
    sys.exit(main())
