#!/usr/bin/python3
"""Validates JSON Lines records against newswatch's JSON Schemas (schemas/*.schema.json).

Each line is one record; its "schema" member ("newswatch.doc/1", ...) picks the schema
(the file whose $id is urn:newswatch:schema:<that name>). A line that is not JSON, has
no known "schema", or breaks its schema is reported as FILE:LINE: SCHEMA: PATH: MESSAGE.

Usage: validate_schemas.py [--schemas DIR] [--expect SCHEMA=N]... FILE...  ("-": stdin)
  --expect SCHEMA=N   fail unless at least N records of SCHEMA were validated
Exit status: 0 every record is valid (and there was at least one); 1 otherwise; 2 usage.

The validator is python3-jsonschema (Debian 12: 4.10), Draft202012Validator, with format
checking on: "date" is jsonschema's own; "date-time" (RFC 3339, section 5.6) is checked
here, as that version has no checker for it without extra packages.
"""
import argparse
import collections
import datetime
import glob
import json
import os
import re
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("validate_schemas.py: python3-jsonschema is missing (make deps installs it)")

RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
                     r"([Zz]|[+-]\d{2}:\d{2})$")

FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def is_date_time(value):
    if not isinstance(value, str):
        return True
    m = RFC3339.match(value)
    if m is None:
        raise ValueError("%r is not an RFC 3339 date-time" % value)
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    datetime.datetime(y, mo, d, h, mi, min(s, 59))  # a leap second (60) is allowed
    if s > 60:
        raise ValueError("%r: seconds out of range" % value)
    return True


def load_schemas(directory):
    validators = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.schema.json"))):
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        sid = schema.get("$id", "")
        prefix = "urn:newswatch:schema:"
        if not sid.startswith(prefix):
            sys.exit("validate_schemas.py: %s: $id %r does not start with %s" % (path, sid, prefix))
        validators[sid[len(prefix):]] = jsonschema.Draft202012Validator(
            schema, format_checker=FORMATS)
    if not validators:
        sys.exit("validate_schemas.py: no schemas in %s" % directory)
    return validators


def where(error):
    return "/" + "/".join(str(p) for p in error.absolute_path)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--schemas", default=os.path.join(here, "..", "..", "schemas"))
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    validators = load_schemas(args.schemas)
    counts = collections.Counter()
    bad = 0
    for name in args.files:
        f = sys.stdin if name == "-" else open(name, encoding="utf-8")
        with f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError as e:
                    print("%s:%d: not JSON: %s" % (name, n, e))
                    bad += 1
                    continue
                schema = record.get("schema") if isinstance(record, dict) else None
                v = validators.get(schema)
                if v is None:
                    print("%s:%d: no schema for %r (known: %s)" % (name, n, schema,
                                                                 ", ".join(sorted(validators))))
                    bad += 1
                    continue
                errors = sorted(v.iter_errors(record), key=lambda e: list(e.absolute_path))
                for e in errors[:5]:
                    print("%s:%d: %s: %s: %s" % (name, n, schema, where(e), e.message[:300]))
                bad += 1 if errors else 0
                counts[schema] += 0 if errors else 1
    for want in args.expect:
        schema, _, n = want.partition("=")
        if counts[schema] < int(n or 1):
            print("expected at least %s valid %s records, found %d" % (n, schema, counts[schema]))
            bad += 1
    print("valid: " + (", ".join("%s %d" % kv for kv in sorted(counts.items())) or "none")
          + "; invalid: %d" % bad)
    return 0 if bad == 0 and sum(counts.values()) > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
