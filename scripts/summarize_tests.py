#!/usr/bin/env python3
"""Totals JUnit XML reports (lit, pytest) into one line:
"N passed, N failed, N skipped". Exits non-zero if anything failed or a
report is missing."""
import sys
import xml.etree.ElementTree as ET


def count(path):
    passed = failed = skipped = 0
    for case in ET.parse(path).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main(paths):
    totals = [0, 0, 0]
    for path in paths:
        try:
            counts = count(path)
        except (OSError, ET.ParseError) as error:
            print(f"{path}: no test report ({error})")
            counts = (0, 1, 0)
        print(f"{path}: {counts[0]} passed, {counts[1]} failed, {counts[2]} skipped")
        totals = [t + c for t, c in zip(totals, counts)]
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 1 if totals[1] or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
