#!/usr/bin/env python3
"""Prints each failed test of the TRX files given: its name, message and the top of its stack trace."""
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
count = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        print(f"(cannot read {path}: {e})")
        continue
    for result in root.iterfind(".//t:UnitTestResult", NS):
        if result.get("outcome") not in ("Failed", "Error"):
            continue
        count += 1
        message = result.findtext("t:Output/t:ErrorInfo/t:Message", default="", namespaces=NS).strip()
        stack = result.findtext("t:Output/t:ErrorInfo/t:StackTrace", default="", namespaces=NS).strip().splitlines()
        print(f"FAILED {result.get('testName')}")
        for line in message.splitlines()[:40]:
            print(f"  | {line}")
        for line in stack[:8]:
            print(f"  | {line.strip()}")
if count:
    print(f"{count} failed test(s) above")
