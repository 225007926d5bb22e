#!/usr/bin/env python3
"""Write the input of bench/csv_import.sh: an entities CSV and an entity-relations CSV.

The files use the upload formats (entities: App, Name, Entity Type, Source System,
Source ID, Source Type, Metadata Version, Metadata; entity relations: App, Parent Entity
Source ID, Parent Entity Type, Entity Source ID, Entity Type, Source System, Metadata
Version, Metadata). Both ends of every relation are in the entities file, and no two
relations repeat the same parent, child, project and privilege. The output is the same on
every run.

Default sizes: 150,000 identities, 45,000 connections and 5,000 resources (200,000
entities); 1,000,000 relations, of which 100,000 go from a connection to a resource and
the rest from an identity to a connection.

Usage: bench/build_relations_csv.py OUT_DIR [RELATIONS]
Writes OUT_DIR/entities.csv and OUT_DIR/relations.csv.
"""

import csv
import json
import os
import sys

APP = "Payroll"
SOURCE_SYSTEM = "payroll-db"
IDENTITIES = 150_000
CONNECTIONS = 45_000
RESOURCES = 5_000
RESOURCE_RELATIONS = 100_000
# Connections per identity and resources per connection; the strides below keep the ends
# of one entity distinct.
CONNECTIONS_PER_IDENTITY = 6
RESOURCES_PER_CONNECTION = 3
CONNECTION_STRIDE = 14_729
RESOURCE_STRIDE = 1_777

ENTITY_HEADER = ["App", "Name", "Entity Type", "Source System", "Source ID", "Source Type", "Metadata Version", "Metadata"]
RELATION_HEADER = [
    "App",
    "Parent Entity Source ID",
    "Parent Entity Type",
    "Entity Source ID",
    "Entity Type",
    "Source System",
    "Metadata Version",
    "Metadata",
]
PRIVILEGES = ["read", "write", "admin"]


def compact(value):
    return json.dumps(value, separators=(",", ":"))


def identity_id(number):
    return f"user-{number:06d}"


def connection_id(number):
    return f"group-{number:05d}"


def resource_id(number):
    return f"table-{number:04d}"


def write_entities(path):
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(ENTITY_HEADER)
        for number in range(IDENTITIES):
            source_id = identity_id(number)
            metadata = compact({"email": f"{source_id}@example.com", "department": f"dept-{number % 40}"})
            writer.writerow([APP, f"User {number}", "identity", SOURCE_SYSTEM, source_id, "user", "v1", metadata])
        for number in range(CONNECTIONS):
            source_id = connection_id(number)
            metadata = compact({"description": f"Group {number}"}) if number % 3 == 0 else ""
            writer.writerow([APP, f"Group {number}", "connection", SOURCE_SYSTEM, source_id, "group", "v1", metadata])
        for number in range(RESOURCES):
            source_id = resource_id(number)
            writer.writerow([APP, f"Table {number}", "resource", SOURCE_SYSTEM, source_id, "table", "v1", ""])
    return IDENTITIES + CONNECTIONS + RESOURCES


def membership_metadata(row):
    """About half the memberships name their privilege; a few are explicit denies."""
    if row % 2 == 0:
        return ""
    if row % 97 == 0:
        return compact({"privilegeName": "member", "privilegeValue": False})
    if row % 5 == 1:
        return compact({"privilegeName": "member", "connectionType": "group"})
    return compact({"privilegeName": "member"})


def write_relations(path, total):
    resource_rows = min(RESOURCE_RELATIONS, total)
    membership_rows = total - resource_rows
    if membership_rows > IDENTITIES * CONNECTIONS_PER_IDENTITY:
        sys.exit(f"at most {IDENTITIES * CONNECTIONS_PER_IDENTITY + RESOURCE_RELATIONS} relations")
    assert resource_rows <= CONNECTIONS * RESOURCES_PER_CONNECTION
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(RELATION_HEADER)
        for row in range(membership_rows):
            identity, slot = divmod(row, CONNECTIONS_PER_IDENTITY)
            connection = (identity * 7_919 + slot * CONNECTION_STRIDE) % CONNECTIONS
            writer.writerow(
                [
                    APP,
                    identity_id(identity),
                    "identity",
                    connection_id(connection),
                    "connection",
                    SOURCE_SYSTEM,
                    "v1",
                    membership_metadata(row),
                ]
            )
        for row in range(resource_rows):
            slot, connection = divmod(row, CONNECTIONS)
            resource = (connection * 31 + slot * RESOURCE_STRIDE) % RESOURCES
            metadata = compact({"privilegeName": PRIVILEGES[row % 3], "project": "finance" if row % 4 == 0 else "default"})
            writer.writerow(
                [APP, connection_id(connection), "connection", resource_id(resource), "resource", SOURCE_SYSTEM, "v1", metadata]
            )
    return total


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip().splitlines()[-2])
    out_dir = sys.argv[1]
    total = int(sys.argv[2]) if len(sys.argv) == 3 else 1_000_000
    os.makedirs(out_dir, exist_ok=True)
    entities = write_entities(os.path.join(out_dir, "entities.csv"))
    relations = write_relations(os.path.join(out_dir, "relations.csv"), total)
    print(f"wrote {entities} entities and {relations} relations to {out_dir}")


if __name__ == "__main__":
    main()
