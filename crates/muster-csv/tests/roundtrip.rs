//! Round trips: rows → Writer (Safe and Raw) → Reader give the same rows, over many
//! combinations of awkward values.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::read_bytes;
use muster_csv::{
    BusinessOwnerRow, EmployeeRow, EntitlementRow, EntityRow, ExportMode, FormatRow,
    IdentityMappingRow, MappingType, OwnerType, RelationRow, Writer,
};
use muster_domain::EntityType;
use serde_json::{json, Map, Value};
use time::Date;

/// Values that break naive CSV code. Every one is already trimmed, as read values are.
const TEXT: &[&str] = &[
    "plain",
    "with, comma",
    "with \"quotes\"",
    "two\nlines",
    "crlf\r\ninside",
    "=HYPERLINK(\"http://x\",\"y\")",
    "+1 555",
    "-42",
    "@SUM(A1:A2)",
    "Zoë",
    "Ørsted",
    "semi;colon|pipe\ttab",
    "'quoted",
];

/// Values whose text starts with `'` and a formula trigger: they survive only Safe export.
const SAFE_ONLY_TEXT: &[&str] = &["'=already protected", "''+two quotes"];

const IDS: &[&str] = &[
    "00123",
    "0",
    "arn:aws:iam::000000000000:user/Zoë",
    "-007",
    "id,with,commas",
    "=1+1",
];

const EMAILS: &[&str] = &[
    "zoe@example.com",
    "zoë@ørsted.dk",
    "o'brien+x@example.com",
    "-a@example.com",
    "=b@example.com",
];

/// A small deterministic generator, so failures reproduce.
struct Picker(u64);

impl Picker {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn pick<'a>(&mut self, values: &[&'a str]) -> &'a str {
        values[(self.next() % values.len() as u64) as usize]
    }

    fn text(&mut self, safe: bool) -> String {
        if safe && self.below(5) == 0 {
            self.pick(SAFE_ONLY_TEXT).to_string()
        } else {
            self.pick(TEXT).to_string()
        }
    }

    fn optional(&mut self, safe: bool) -> Option<String> {
        (self.below(3) != 0).then(|| self.text(safe))
    }

    fn id(&mut self) -> String {
        self.pick(IDS).to_string()
    }

    fn email(&mut self) -> String {
        self.pick(EMAILS).to_string()
    }

    fn flag(&mut self) -> bool {
        self.below(2) == 0
    }

    fn entity_type(&mut self) -> EntityType {
        [
            EntityType::Identity,
            EntityType::Connection,
            EntityType::Resource,
        ][(self.next() % 3) as usize]
    }

    fn date(&mut self) -> Date {
        Date::from_julian_day(2_440_000 + (self.next() % 30_000) as i32).unwrap()
    }

    fn metadata(&mut self, safe: bool) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("Metadata Version".into(), json!("v1"));
        if self.flag() {
            map.insert(self.text(safe), json!(self.text(safe)));
            map.insert(
                "nested".into(),
                json!({"list": [1, 2.5, null, true], "text": self.text(safe)}),
            );
        }
        map
    }
}

fn round_trip<T: FormatRow + Clone + PartialEq + std::fmt::Debug>(
    rows: &[T],
    mode: ExportMode,
    set_line: fn(&mut T),
) {
    let mut writer = Writer::new(Vec::new(), T::KIND, mode).unwrap();
    for row in rows {
        writer.write_row(row).unwrap();
    }
    let bytes = writer.finish().unwrap();

    let outcome = read_bytes::<T>(&bytes).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(outcome.report.encoding, "UTF-8");
    assert_eq!(outcome.report.delimiter, ',');
    assert!(outcome.report.ignored_columns.is_empty());
    let mut read = outcome.ok_rows();
    read.iter_mut().for_each(set_line);
    assert_eq!(read.len(), rows.len());
    for (index, (got, want)) in read.iter().zip(rows).enumerate() {
        assert_eq!(got, want, "{:?} row {index}", mode);
    }
}

const ROWS: usize = 300;

fn modes() -> [(ExportMode, bool); 2] {
    [(ExportMode::Safe, true), (ExportMode::Raw, false)]
}

#[test]
fn entities_round_trip() {
    for (mode, safe) in modes() {
        let mut p = Picker(0x5eed_0001);
        let rows: Vec<EntityRow> = (0..ROWS)
            .map(|_| EntityRow {
                line: 0,
                app: p.optional(safe),
                name: p.text(safe),
                entity_type: p.entity_type(),
                source_system: p.text(safe),
                source_id: p.id(),
                source_type: p.text(safe),
                metadata: p.metadata(safe),
            })
            .collect();
        round_trip(&rows, mode, |row| row.line = 0);
    }
}

#[test]
fn relations_round_trip() {
    for (mode, safe) in modes() {
        let mut p = Picker(0x5eed_0002);
        let rows: Vec<RelationRow> = (0..ROWS)
            .map(|_| {
                let mut metadata = p.metadata(safe);
                if p.flag() {
                    metadata.insert("project".into(), json!(p.id()));
                    metadata.insert("privilegeValue".into(), json!(p.flag()));
                    metadata.insert("connectionType".into(), json!(p.text(safe)));
                }
                RelationRow {
                    line: 0,
                    app: p.optional(safe),
                    parent_source_id: p.id(),
                    parent_type: p.entity_type(),
                    child_source_id: p.id(),
                    child_type: p.entity_type(),
                    source_system: p.optional(safe),
                    metadata,
                }
            })
            .collect();
        round_trip(&rows, mode, |row| row.line = 0);
    }
}

#[test]
fn entitlements_round_trip() {
    for (mode, safe) in modes() {
        let mut p = Picker(0x5eed_0003);
        let rows: Vec<EntitlementRow> = (0..ROWS)
            .map(|_| {
                let with_connection = p.flag();
                let with_resource = p.flag();
                EntitlementRow {
                    line: 0,
                    project: p.text(safe),
                    privilege_name: p.text(safe),
                    privilege_value: p.flag(),
                    email: Some(p.email()),
                    user_id: p.flag().then(|| p.id()),
                    username: p.optional(safe),
                    name: p.optional(safe),
                    connection: with_connection.then(|| p.text(safe)),
                    connection_type: with_connection.then(|| p.text(safe)),
                    resource: with_resource.then(|| p.text(safe)),
                    resource_type: with_resource.then(|| p.text(safe)),
                }
            })
            .collect();
        round_trip(&rows, mode, |row| row.line = 0);
    }
}

#[test]
fn employees_round_trip() {
    for (mode, safe) in modes() {
        let mut p = Picker(0x5eed_0004);
        let rows: Vec<EmployeeRow> = (0..ROWS)
            .map(|_| EmployeeRow {
                line: 0,
                employee_id: p.flag().then(|| p.id()),
                full_name: p.optional(safe),
                first_name: p.optional(safe),
                last_name: p.optional(safe),
                work_email: p.email(),
                department: p.optional(safe),
                title: p.optional(safe),
                start_date: p.date(),
                end_date: p.flag().then(|| p.date()),
                employment_type: p.optional(safe),
                manager: p.optional(safe),
                manager_work_email: p.flag().then(|| p.email()),
                source_employee_id: p.flag().then(|| p.id()),
                roles: match p.next() % 3 {
                    0 => vec![],
                    1 => vec!["admin".into()],
                    _ => vec!["reviewer".into(), "=auditor".into(), "Zoë's role".into()],
                },
                metadata: p.metadata(safe),
            })
            .collect();
        round_trip(&rows, mode, |row| row.line = 0);
    }
}

#[test]
fn identity_mappings_round_trip() {
    for (mode, safe) in modes() {
        let mut p = Picker(0x5eed_0005);
        let rows: Vec<IdentityMappingRow> = (0..ROWS)
            .map(|_| IdentityMappingRow {
                line: 0,
                identity_id: p.id(),
                username: p.text(safe),
                identity_email: p.flag().then(|| p.email()),
                identity_name: p.text(safe),
                app_id: p.id(),
                app_name: p.text(safe),
                app_description: p.optional(safe),
                relation_type: if p.flag() {
                    MappingType::Is
                } else {
                    MappingType::Owns
                },
                employee_email: p.flag().then(|| p.email()),
                employee_name: p.optional(safe),
                employee_department: p.optional(safe),
                employee_job_title: p.optional(safe),
            })
            .collect();
        round_trip(&rows, mode, |row| row.line = 0);
    }
}

#[test]
fn business_owners_round_trip() {
    for (mode, safe) in modes() {
        let mut p = Picker(0x5eed_0006);
        let rows: Vec<BusinessOwnerRow> = (0..ROWS)
            .map(|_| BusinessOwnerRow {
                line: 0,
                app_id: p.id(),
                app_name: p.optional(safe),
                owner_email: p.email(),
                owner_type: if p.flag() {
                    OwnerType::Primary
                } else {
                    OwnerType::Secondary
                },
            })
            .collect();
        round_trip(&rows, mode, |row| row.line = 0);
    }
}

#[test]
fn round_trip_keeps_line_numbers_of_multiline_rows() {
    let rows = vec![
        BusinessOwnerRow {
            line: 2,
            app_id: "1".into(),
            app_name: Some("two\r\nlines".into()),
            owner_email: "a@example.com".into(),
            owner_type: OwnerType::Primary,
        },
        BusinessOwnerRow {
            line: 4,
            app_id: "2".into(),
            app_name: None,
            owner_email: "b@example.com".into(),
            owner_type: OwnerType::Secondary,
        },
    ];
    round_trip(&rows, ExportMode::Safe, |_| {});
}
