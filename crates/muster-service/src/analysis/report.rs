//! The analysis report: a summary of the account and, per principal, plain-language lines
//! with the statements behind each.

use muster_policy::{
    catalog, describe_access, describe_findings, effective_access, AccessLevel, Account, AccountAnalysis,
    EffectiveAccess, Line, PrincipalFindings, PrincipalId, ResourceScope, StatementRef,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Services above which a principal's access is summarised with one line per access level
/// instead of one line per service and level. An administrator policy allows actions of
/// more than 400 services, and one line for each would make a page of thousands of lines.
const MAX_SERVICES_LISTED: usize = 12;

/// Service names one summarised access line lists before "and N more".
const SERVICES_NAMED: usize = 5;

/// Counts and lists that head the report.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReportSummary {
    pub principals: usize,
    /// Names of the principals that are administrators or can make themselves one.
    pub admins: Vec<String>,
    /// Number of privilege-escalation techniques found, over every principal.
    pub escalation_paths: usize,
    /// Principals per risk category, keyed by category name (`data_exfiltration`, …).
    pub risk_categories: BTreeMap<String, usize>,
    /// ARNs of roles whose trust policy allows everyone.
    pub public_roles: Vec<String>,
    /// Parts of the input that were skipped, and why.
    pub load_problems: Vec<String>,
    /// Actions in policies that the action catalog does not list, as `action (policy)`.
    pub unknown_actions: Vec<String>,
}

/// One statement behind a line, as a reader needs it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct StatementSummary {
    /// Source of the statement, e.g. "managed policy `arn:…`".
    pub policy: String,
    /// Position in the policy's `Statement` list, starting at 1.
    pub number: usize,
    pub sid: Option<String>,
    /// The statement in short text: effect, actions, resources, principals, conditions.
    pub text: String,
}

/// One plain-language sentence about a principal.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReportLine {
    pub text: String,
    pub statements: Vec<StatementSummary>,
}

/// One principal's findings and access, in plain language.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PrincipalReport {
    pub arn: String,
    pub name: String,
    /// `user` or `role`.
    pub kind: String,
    pub admin: bool,
    /// The administrator access depends on conditions the analysis could not decide.
    pub admin_conditional: bool,
    pub escalations: usize,
    /// Risk categories found, by name.
    pub risks: Vec<String>,
    pub unknown_actions: Vec<String>,
    /// Administrator access, escalation techniques and risk categories.
    pub findings: Vec<ReportLine>,
    /// Effective access: one line per service and access level.
    pub access: Vec<ReportLine>,
}

/// The whole report for one account.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccountReport {
    pub account_id: Option<String>,
    /// Source and date of the action catalog used.
    pub catalog: Vec<String>,
    pub summary: ReportSummary,
    pub principals: Vec<PrincipalReport>,
}

impl AccountReport {
    /// Finds a principal's report by ARN.
    pub fn principal(&self, arn: &str) -> Option<&PrincipalReport> {
        self.principals.iter().find(|principal| principal.arn == arn)
    }
}

/// Builds the report of an analysed account. `load_problems` are the messages of what
/// loading the account skipped.
pub fn build_report(account: &Account, analysis: &AccountAnalysis, load_problems: Vec<String>) -> AccountReport {
    let mut summary = ReportSummary {
        principals: analysis.principals.len(),
        public_roles: analysis.public_roles.clone(),
        load_problems,
        ..ReportSummary::default()
    };

    let principals: Vec<PrincipalReport> = analysis
        .principals
        .par_iter()
        .map(|findings| principal_report(account, findings))
        .collect();
    for principal in &principals {
        for risk in &principal.risks {
            *summary.risk_categories.entry(risk.clone()).or_default() += 1;
        }
        if principal.admin {
            summary.admins.push(principal.name.clone());
        }
        summary.escalation_paths += principal.escalations;
        summary
            .unknown_actions
            .extend(principal.unknown_actions.iter().cloned());
    }
    summary.unknown_actions.sort();
    summary.unknown_actions.dedup();

    AccountReport {
        account_id: analysis.account_id.clone(),
        catalog: analysis.catalog.clone(),
        summary,
        principals,
    }
}

fn principal_report(account: &Account, findings: &PrincipalFindings) -> PrincipalReport {
    let access = effective_access(
        &account.policies_of(findings.principal),
        &account.principal_context(findings.principal),
        catalog(),
    );
    PrincipalReport {
        arn: findings.arn.clone(),
        name: findings.name.clone(),
        kind: match findings.principal {
            PrincipalId::User(_) => "user".into(),
            PrincipalId::Role(_) => "role".into(),
        },
        admin: findings.admin.is_some(),
        admin_conditional: findings.admin.as_ref().is_some_and(|admin| admin.conditional),
        escalations: findings.escalations.len(),
        risks: findings.risks.iter().map(|risk| category_name(risk.category)).collect(),
        unknown_actions: findings
            .unknown_actions
            .iter()
            .map(|unknown| format!("{} ({})", unknown.action, unknown.policy))
            .collect(),
        findings: describe_findings(findings).iter().map(report_line).collect(),
        access: access_lines(&access),
    }
}

/// Describes effective access per service and level, or per level alone when the access
/// spans more than [`MAX_SERVICES_LISTED`] services.
fn access_lines(access: &EffectiveAccess) -> Vec<ReportLine> {
    if access.services.len() <= MAX_SERVICES_LISTED {
        return describe_access(access, catalog()).iter().map(report_line).collect();
    }
    let mut lines = Vec::new();
    for level in AccessLevel::ALL {
        let mut services = Vec::new();
        let mut action_count = 0;
        let mut everywhere = true;
        let mut conditional = false;
        let mut statements: Vec<&StatementRef> = Vec::new();
        for service in &access.services {
            let Some(level_access) = service.levels.iter().find(|candidate| candidate.level == level) else {
                continue;
            };
            services.push(service.prefix.as_str());
            action_count += level_access.actions.len();
            for action in &level_access.actions {
                everywhere &= action.resources == ResourceScope::All;
                conditional |= action.conditional;
                for statement in &action.granted_by {
                    if !statements.contains(&statement) {
                        statements.push(statement);
                    }
                }
            }
        }
        if services.is_empty() {
            continue;
        }
        let mut named = services
            .iter()
            .take(SERVICES_NAMED)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if services.len() > SERVICES_NAMED {
            named.push_str(&format!(" and {} more", services.len() - SERVICES_NAMED));
        }
        let scope = if everywhere { "every resource" } else { "some resources" };
        let condition = if conditional {
            ", some only under conditions"
        } else {
            ""
        };
        lines.push(ReportLine {
            text: format!(
                "can {} {scope} of {} services ({action_count} {level} actions: {named}){condition}",
                verb(level),
                services.len()
            ),
            statements: statements.into_iter().map(statement_summary).collect(),
        });
    }
    lines
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

/// Returns the snake_case name of a risk category, as the analysis JSON spells it.
fn category_name(category: muster_policy::RiskCategory) -> String {
    serde_json::to_value(category)
        .ok()
        .and_then(|value| value.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{category:?}"))
}

fn report_line(line: &Line) -> ReportLine {
    ReportLine {
        text: line.text.clone(),
        statements: line.statements.iter().map(statement_summary).collect(),
    }
}

fn statement_summary(reference: &StatementRef) -> StatementSummary {
    let statement = reference.statement();
    StatementSummary {
        policy: reference.source.to_string(),
        number: reference.index + 1,
        sid: statement.and_then(|statement| statement.sid.clone()),
        text: statement.map(statement_text).unwrap_or_default(),
    }
}

/// Writes a statement as `Allow s3:GetObject on arn:aws:s3:::bucket/* when …`.
fn statement_text(statement: &muster_policy::Statement) -> String {
    use muster_policy::document::{ActionElement, PrincipalElement, ResourceElement};

    let join =
        |patterns: &[muster_policy::Pattern]| patterns.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let mut text = format!("{} ", statement.effect);
    match &statement.action {
        ActionElement::Action(patterns) => text.push_str(&join(patterns)),
        ActionElement::NotAction(patterns) => text.push_str(&format!("every action except {}", join(patterns))),
    }
    match &statement.resource {
        Some(ResourceElement::Resource(patterns)) => text.push_str(&format!(" on {}", join(patterns))),
        Some(ResourceElement::NotResource(patterns)) => {
            text.push_str(&format!(" on every resource except {}", join(patterns)))
        }
        None => {}
    }
    let principals = |entries: &[muster_policy::document::PrincipalEntry]| {
        entries
            .iter()
            .map(|entry| format!("{} {}", entry.kind.name(), entry.value))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &statement.principal {
        Some(PrincipalElement::Principal(entries)) => text.push_str(&format!(" for {}", principals(entries))),
        Some(PrincipalElement::NotPrincipal(entries)) => {
            text.push_str(&format!(" for everyone except {}", principals(entries)))
        }
        None => {}
    }
    if !statement.conditions.is_empty() {
        let conditions: Vec<String> = statement.conditions.iter().map(ToString::to_string).collect();
        text.push_str(&format!(" when {}", conditions.join(" and ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_policy::{analyze_account, load_authorization_details};

    #[test]
    fn report_names_admin_and_statement() {
        let details = r#"{"UserDetailList": [{"UserName": "ops", "Arn": "arn:aws:iam::111122223333:user/ops",
            "UserPolicyList": [{"PolicyName": "all", "PolicyDocument":
              {"Version": "2012-10-17", "Statement": [{"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"}]}}]}]}"#;
        let loaded = load_authorization_details(details).unwrap();
        let analysis = analyze_account(&loaded.account, &Default::default());
        let report = build_report(&loaded.account, &analysis, Vec::new());

        assert_eq!(report.summary.admins, vec!["ops".to_string()]);
        let ops = report.principal("arn:aws:iam::111122223333:user/ops").unwrap();
        assert!(ops.admin);
        assert_eq!(ops.kind, "user");
        assert!(
            ops.findings[0].text.starts_with("is administrator"),
            "{:?}",
            ops.findings
        );
        assert_eq!(
            ops.access.len(),
            AccessLevel::ALL.len(),
            "one line per access level: {:?}",
            ops.access
        );
        assert!(
            ops.access[0].text.starts_with("can list every resource of "),
            "{}",
            ops.access[0].text
        );
        let statement = &ops.access[0].statements[0];
        assert_eq!(statement.sid.as_deref(), Some("Everything"));
        assert_eq!(statement.policy, "inline policy `all`");
        assert_eq!(statement.text, "Allow * on *");
    }
}
