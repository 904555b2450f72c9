#!/usr/bin/python3
"""Parses a Prometheus text exposition (a file, or stdin) with prometheus_client's own parser, independent
of the exporter's code, and prints every sample as one JSON object a line: {"name", "labels", "value", "type"}.
Exits 1 with the parser's message when the text does not parse."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1], encoding="utf-8").read() if len(sys.argv) > 1 else sys.stdin.read()
try:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            print(json.dumps({"name": sample.name, "labels": sample.labels, "value": sample.value, "type": family.type}))
except Exception as error:  # the parser raises ValueError and friends for malformed input
    print(f"metrics-parse: {error}", file=sys.stderr)
    sys.exit(1)
