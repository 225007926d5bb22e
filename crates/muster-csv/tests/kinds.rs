//! CsvKind names, headers and templates.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use muster_csv::CsvKind;

#[test]
fn kind_names_round_trip() {
    for kind in CsvKind::ALL {
        assert_eq!(kind.as_str().parse::<CsvKind>(), Ok(kind));
        assert_eq!(kind.to_string(), kind.as_str());
    }
}

#[test]
fn kind_parses_loose_names() {
    let cases = [
        ("relations", CsvKind::EntityRelations),
        ("entity_relations", CsvKind::EntityRelations),
        ("Entity Relations", CsvKind::EntityRelations),
        ("entity", CsvKind::Entities),
        ("identity-mapping", CsvKind::IdentityMappings),
        ("identity_mappings", CsvKind::IdentityMappings),
        ("mappings", CsvKind::IdentityMappings),
        ("business_owners", CsvKind::BusinessOwners),
        ("owners", CsvKind::BusinessOwners),
        ("employee", CsvKind::Employees),
        ("ENTITLEMENTS", CsvKind::Entitlements),
    ];
    for (name, kind) in cases {
        assert_eq!(name.parse::<CsvKind>(), Ok(kind), "{name}");
    }
}

#[test]
fn unknown_kind_lists_valid_names() {
    let error = "groups".parse::<CsvKind>().unwrap_err().to_string();
    assert!(error.contains("`groups`"), "{error}");
    for kind in CsvKind::ALL {
        assert!(error.contains(kind.as_str()), "{error}");
    }
}

#[test]
fn required_headers_are_headers() {
    for kind in CsvKind::ALL {
        for required in kind.required() {
            assert!(kind.headers().contains(required), "{kind}: {required}");
        }
        for id in kind.id_columns() {
            assert!(kind.headers().contains(id), "{kind}: {id}");
        }
    }
}

#[test]
fn template_is_header_line() {
    assert_eq!(
        CsvKind::BusinessOwners.template(),
        "App ID,App Name,Owner Email,Owner Type\r\n"
    );
    assert_eq!(
        CsvKind::Entities.template(),
        "App,Name,Entity Type,Source System,Source ID,Source Type,Metadata Version,Metadata\r\n"
    );
    assert_eq!(CsvKind::EntityRelations.title(), "Entity relations");
}

#[test]
fn headers_match_the_documented_formats() {
    assert_eq!(CsvKind::Entitlements.headers().len(), 11);
    assert_eq!(CsvKind::Employees.headers().len(), 16);
    assert_eq!(CsvKind::IdentityMappings.headers().len(), 12);
    assert_eq!(
        CsvKind::EntityRelations.headers()[1],
        "Parent Entity Source ID"
    );
    assert_eq!(
        CsvKind::IdentityMappings.required(),
        &[
            "Identity ID",
            "Username",
            "Identity name",
            "App ID",
            "App Name"
        ]
    );
}
