//! Plain-language lines for an entity page, each with the statements behind it, such as
//! "can read every resource of Amazon S3 (all 20 Read actions)" or "can make itself
//! administrator through iam:CreatePolicyVersion on `arn:...`".

use crate::access::{ActionAccess, EffectiveAccess, ResourceScope};
use crate::catalog::{AccessLevel, Catalog};
use crate::escalation::{EscalationPath, EscalationStep};
use crate::evaluate::StatementRef;
use crate::findings::{PrincipalFindings, Reach, RiskCategory};

/// How many action or resource names one line lists before "and N more".
const LISTED_NAMES: usize = 3;

/// One sentence about a principal and the statements that make it true.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Line {
    pub text: String,
    pub statements: Vec<StatementRef>,
}

/// Describes effective access: one line per service and access level.
pub fn describe_access(access: &EffectiveAccess, catalog: &Catalog) -> Vec<Line> {
    let mut lines = Vec::new();
    for service in &access.services {
        let total_by_level = |level: AccessLevel| {
            catalog.find_service(&service.prefix).map_or(0, |entry| {
                catalog.level_set(level).count_in(entry.actions.clone())
            })
        };
        for level in &service.levels {
            let actions = &level.actions;
            let total = total_by_level(level.level);
            let count = if actions.len() == total {
                format!("all {total} {} actions", level.level)
            } else {
                format!(
                    "{} of {total} {} actions: {}",
                    actions.len(),
                    level.level,
                    list_names(actions.iter().map(|access| access.action.as_str()))
                )
            };
            let mut text = format!(
                "can {} {} of {} ({count})",
                verb(level.level),
                scope_text(actions),
                service.name
            );
            let conditions = conditions_text(actions);
            if !conditions.is_empty() {
                text.push_str(&format!(", only under conditions: {conditions}"));
            }
            lines.push(Line {
                text,
                statements: distinct(actions.iter().flat_map(|access| access.granted_by.iter())),
            });
        }
    }
    lines
}

/// Describes the findings of a principal: administrator access, escalation techniques and
/// risk categories.
pub fn describe_findings(findings: &PrincipalFindings) -> Vec<Line> {
    let mut lines = Vec::new();

    if let Some(admin) = &findings.admin {
        let condition = if admin.conditional {
            ", but only under conditions"
        } else {
            ""
        };
        match &admin.path {
            None => lines.push(Line {
                text: format!("is administrator: its policies allow every action on every resource{condition}"),
                statements: Vec::new(),
            }),
            Some(path) => lines.push(path_line(path, condition)),
        }
    }

    for found in &findings.escalations {
        let targets = if found.target_count == 1 {
            format!("`{}`", found.example.target)
        } else {
            format!(
                "{} targets ({})",
                found.target_count,
                list_names(found.targets.iter().map(String::as_str))
            )
        };
        let condition = if found.conditional {
            ", only under conditions"
        } else {
            ""
        };
        lines.push(Line {
            text: format!(
                "can use {} on {targets}{condition}: {}",
                found.technique,
                lowercase_first(found.example.description)
            ),
            statements: distinct(
                found
                    .example
                    .grants
                    .iter()
                    .flat_map(|grant| grant.statements.iter()),
            ),
        });
    }

    for risk in &findings.risks {
        let what = match risk.category {
            RiskCategory::PrivilegeEscalation => continue,
            RiskCategory::DataExfiltration => "read stored data or secrets",
            RiskCategory::ResourceExposure => "change who may access resources",
            RiskCategory::CredentialsExposure => "create or read credentials",
            RiskCategory::InfrastructureModification => "change infrastructure on every resource",
        };
        let detail = if risk.covered_by_admin {
            "as administrator".to_string()
        } else if !risk.actions.is_empty() {
            let everywhere = risk
                .actions
                .iter()
                .filter(|action| action.reach == Reach::AllResources)
                .count();
            let scope = match everywhere {
                0 => "on specific resources only".to_string(),
                count if count == risk.actions.len() => "on every resource".to_string(),
                count => format!("{count} of them on every resource"),
            };
            format!(
                "{} ({scope})",
                list_names(risk.actions.iter().map(|action| action.action))
            )
        } else {
            let total: usize = risk.services.iter().map(|count| count.actions).sum();
            format!(
                "{total} actions in {}",
                list_names(risk.services.iter().map(|count| count.service))
            )
        };
        lines.push(Line {
            text: format!("can {what}: {detail}"),
            statements: Vec::new(),
        });
    }
    lines
}

fn path_line(path: &EscalationPath, condition: &str) -> Line {
    let steps: Vec<String> = path.steps.iter().map(step_text).collect();
    Line {
        text: format!(
            "can make itself administrator {}{condition}",
            steps.join(", then ")
        ),
        statements: distinct(
            path.steps
                .iter()
                .flat_map(|step| step.grants.iter())
                .flat_map(|grant| grant.statements.iter()),
        ),
    }
}

fn step_text(step: &EscalationStep) -> String {
    let actions: Vec<&str> = step
        .grants
        .iter()
        .map(|grant| grant.action.as_str())
        .collect();
    let existing = if step.needs_existing_resource {
        " (if a resource already runs with that role)"
    } else {
        ""
    };
    format!(
        "through {} on `{}`{existing}",
        actions.join(" and "),
        step.target
    )
}

fn verb(level: AccessLevel) -> &'static str {
    match level {
        AccessLevel::List => "list",
        AccessLevel::Read => "read",
        AccessLevel::Write => "change",
        AccessLevel::PermissionsManagement => "manage permissions of",
        AccessLevel::Tagging => "tag",
    }
}

fn scope_text(actions: &[ActionAccess]) -> String {
    if actions
        .iter()
        .all(|access| access.resources == ResourceScope::All)
    {
        return "every resource".to_string();
    }
    let mut patterns: Vec<&str> = Vec::new();
    let mut excepted: Vec<&str> = Vec::new();
    for access in actions {
        match &access.resources {
            ResourceScope::All => {}
            ResourceScope::Specific(list) => patterns.extend(list.iter().map(String::as_str)),
            ResourceScope::AllExcept(list) => excepted.extend(list.iter().map(String::as_str)),
        }
    }
    patterns.sort_unstable();
    patterns.dedup();
    excepted.sort_unstable();
    excepted.dedup();
    match (patterns.is_empty(), excepted.is_empty()) {
        (false, _) => format!("resources matching {}", list_quoted(&patterns)),
        (true, false) => format!("every resource except {}", list_quoted(&excepted)),
        (true, true) => "every resource".to_string(),
    }
}

fn conditions_text(actions: &[ActionAccess]) -> String {
    let mut conditions: Vec<&str> = actions
        .iter()
        .filter(|access| access.conditional)
        .flat_map(|access| access.conditions.iter().map(String::as_str))
        .collect();
    conditions.sort_unstable();
    conditions.dedup();
    if conditions.is_empty() && actions.iter().any(|access| access.conditional) {
        return "conditions of the boundary or service control policies".to_string();
    }
    conditions.join("; ")
}

fn list_names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    let mut text = names
        .iter()
        .take(LISTED_NAMES)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > LISTED_NAMES {
        text.push_str(&format!(" and {} more", names.len() - LISTED_NAMES));
    }
    text
}

fn list_quoted(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    list_names(quoted.iter().map(String::as_str))
}

fn lowercase_first(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => first.to_lowercase().chain(characters).collect(),
        None => String::new(),
    }
}

/// Collects the statements, each once, in first-seen order.
fn distinct<'a>(statements: impl Iterator<Item = &'a StatementRef>) -> Vec<StatementRef> {
    let mut found: Vec<StatementRef> = Vec::new();
    for statement in statements {
        if !found.contains(statement) {
            found.push(statement.clone());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::catalog::catalog;
    use crate::findings::{analyze_account, AnalysisOptions};
    use crate::test_support::*;

    #[test]
    fn access_lines_name_scope_and_counts() {
        let account = account(
            vec![user(
                "reader",
                vec![json!({"Statement": [
                {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"},
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::uploads/*"}]})],
            )],
            vec![],
            vec![],
            vec![],
        );
        let principal = account.principal_by_name("reader").unwrap();
        let access = crate::access::effective_access(
            &account.policies_of(principal),
            &account.principal_context(principal),
            catalog(),
        );
        let lines = describe_access(&access, catalog());
        let texts: Vec<&str> = lines.iter().map(|line| line.text.as_str()).collect();
        assert!(
            texts
                .iter()
                .any(|text| text.starts_with("can read every resource of Amazon S3 (")),
            "{texts:?}"
        );
        let write = texts
            .iter()
            .find(|text| text.starts_with("can change "))
            .unwrap();
        assert!(
            write.starts_with(
                "can change resources matching `arn:aws:s3:::uploads/*` of Amazon S3 (1 of "
            ),
            "{write}"
        );
        assert!(write.ends_with(" Write actions: s3:PutObject)"), "{write}");
        assert_eq!(lines[0].statements.len(), 1);
    }

    #[test]
    fn finding_lines_explain_admin_paths() {
        let account = account(
            vec![user(
                "climber",
                vec![allow(json!("iam:CreatePolicyVersion"), json!("*"))],
            )],
            vec![],
            vec![],
            vec![],
        );
        let mut details = account;
        details.users[0]
            .managed_policy_arns
            .push(policy_arn("team"));
        let team = crate::account::ManagedPolicy {
            arn: policy_arn("team"),
            name: "team".into(),
            default_version_id: Some("v1".into()),
            document: std::sync::Arc::new(
                crate::parse::parse_policy(&allow(json!("s3:ListAllMyBuckets"), json!("*")))
                    .unwrap(),
            ),
            other_versions: Vec::new(),
        };
        let account = crate::account::Account::new(None, details.users, vec![], vec![], vec![team]);
        let analysis = analyze_account(&account, &AnalysisOptions::default());
        let lines = describe_findings(&analysis.principals[0]);
        assert_eq!(
            lines[0].text,
            format!(
                "can make itself administrator through iam:CreatePolicyVersion on `{}`",
                policy_arn("team")
            )
        );
        assert_eq!(
            lines[0].statements[0].to_string(),
            "statement 1 of inline policy `inline0`"
        );
        assert!(
            lines[1]
                .text
                .starts_with("can use create-policy-version on `"),
            "{}",
            lines[1].text
        );
    }

    #[test]
    fn direct_admin_line() {
        let account = account(
            vec![user("root-like", vec![allow(json!("*"), json!("*"))])],
            vec![],
            vec![],
            vec![],
        );
        let analysis = analyze_account(&account, &AnalysisOptions::default());
        let lines = describe_findings(&analysis.principals[0]);
        assert_eq!(
            lines[0].text,
            "is administrator: its policies allow every action on every resource"
        );
        assert!(lines
            .iter()
            .any(|line| line.text == "can read stored data or secrets: as administrator"));
    }
}
