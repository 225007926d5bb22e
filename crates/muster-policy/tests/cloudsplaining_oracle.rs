//! Oracle test against Cloudsplaining 0.9.1, run as an external program on the
//! authorization details of the moto fixture account: every privilege-escalation and
//! credentials-exposure finding it reports must be among Muster's findings for the same
//! principals.
//!
//! Cloudsplaining reports per policy: an escalation type with its actions, or an exposed
//! credentials action, when the policy allows the actions on `*`. Muster reports per
//! principal. Each policy finding is checked for every principal the policy applies to
//! (attached users and roles, members of attached groups). A finding is among Muster's
//! when the principal is administrator (directly or by escalation), or when Muster's
//! privilege-escalation risk, or its credentials-exposure risk, lists every action of the
//! finding.

mod oracle;

use std::collections::{BTreeMap, BTreeSet};

use muster_policy::{analyze_account, AnalysisOptions, PrincipalFindings, RiskCategory};
use oracle::{isolated_command, run, tools_present, Fixture, Tool, BASE_TOOLS};
use serde_json::Value;

/// One Cloudsplaining finding for one principal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Finding {
    principal: String,
    category: &'static str,
    /// The escalation type, or the exposed action.
    name: String,
    actions: Vec<String>,
}

/// Findings that Muster does not report, by category and Cloudsplaining name, with the
/// reason. The test fails when one of them stops occurring, so the list stays true.
const KNOWN_GAPS: &[(&str, &str, &str)] = &[
    (
        "privilege_escalation",
        "SetExistingDefaultPolicyVersion",
        "Cloudsplaining flags `iam:SetDefaultPolicyVersion` on `*` in any policy. It escalates \
         only for a principal attached to a managed policy with a more permissive non-default \
         version; `esc-set-default` has just its inline policy, so Muster rightly reports nothing",
    ),
];

fn principals_of(fixture: &Fixture, attached: &Value) -> BTreeSet<String> {
    let names = |key: &str| -> Vec<String> {
        attached[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|name| name.as_str().map(str::to_string))
            .collect()
    };
    let mut principals: BTreeSet<String> = names("users").into_iter().collect();
    principals.extend(names("roles"));
    for group in names("groups") {
        principals.extend(fixture.group_members(&group));
    }
    principals
}

/// Runs `cloudsplaining scan` and returns its findings per principal.
fn cloudsplaining_findings(fixture: &Fixture) -> BTreeSet<Finding> {
    let output = fixture.home.path().join("cloudsplaining");
    std::fs::create_dir_all(&output).unwrap();
    run(
        isolated_command(
            "cloudsplaining",
            &fixture.moto.endpoint,
            fixture.home.path(),
        )
        .arg("scan")
        .arg("--input-file")
        .arg(&fixture.details_path)
        .arg("--output")
        .arg(&output)
        .arg("--skip-open-report"),
        "cloudsplaining scan",
    );
    let results_path = output.join("iam-results-gaad.json");
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(&results_path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", results_path.display())),
    )
    .expect("Cloudsplaining wrote invalid JSON");

    let mut findings = BTreeSet::new();
    for kind in [
        "customer_managed_policies",
        "aws_managed_policies",
        "inline_policies",
    ] {
        for policy in results[kind]
            .as_object()
            .into_iter()
            .flat_map(|map| map.values())
        {
            let principals = principals_of(fixture, &policy["AttachedTo"]);
            for escalation in policy["PrivilegeEscalation"]["findings"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let actions: Vec<String> = escalation["actions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|action| action.as_str().unwrap().to_lowercase())
                    .collect();
                for principal in &principals {
                    findings.insert(Finding {
                        principal: principal.clone(),
                        category: "privilege_escalation",
                        name: escalation["type"].as_str().unwrap().to_string(),
                        actions: actions.clone(),
                    });
                }
            }
            for action in policy["CredentialsExposure"]["findings"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let action = action.as_str().unwrap().to_string();
                for principal in &principals {
                    findings.insert(Finding {
                        principal: principal.clone(),
                        category: "credentials_exposure",
                        name: action.clone(),
                        actions: vec![action.to_lowercase()],
                    });
                }
            }
        }
    }
    findings
}

fn risk_actions(findings: &PrincipalFindings, category: RiskCategory) -> BTreeSet<String> {
    findings
        .risks
        .iter()
        .filter(|risk| risk.category == category)
        .flat_map(|risk| &risk.actions)
        .map(|action| action.action.to_lowercase())
        .collect()
}

fn covered(muster: &PrincipalFindings, finding: &Finding) -> bool {
    if muster.admin.is_some() {
        return true;
    }
    let category = match finding.category {
        "privilege_escalation" => RiskCategory::PrivilegeEscalation,
        _ => RiskCategory::CredentialsExposure,
    };
    let listed = risk_actions(muster, category);
    finding.actions.iter().all(|action| listed.contains(action))
}

#[test]
fn cloudsplaining_findings_are_among_ours() {
    let cloudsplaining = Tool {
        name: "cloudsplaining",
        program: "cloudsplaining",
        args: &["--version"],
    };
    if !tools_present(&[BASE_TOOLS.as_slice(), &[cloudsplaining]].concat()) {
        return;
    }
    let fixture = Fixture::build();
    let theirs = cloudsplaining_findings(&fixture);
    assert!(
        theirs.len() >= 5,
        "Cloudsplaining reported only {} findings; is its output read?",
        theirs.len()
    );

    let analysis = analyze_account(&fixture.account, &AnalysisOptions::default());
    let ours: BTreeMap<&str, &PrincipalFindings> = analysis
        .principals
        .iter()
        .map(|findings| (findings.name.as_str(), findings))
        .collect();

    let known: BTreeSet<(&str, &str)> = KNOWN_GAPS
        .iter()
        .map(|(category, name, _)| (*category, *name))
        .collect();
    let mut gaps_seen = BTreeSet::new();
    let mut missing = Vec::new();
    for finding in &theirs {
        let muster = ours
            .get(finding.principal.as_str())
            .unwrap_or_else(|| panic!("Muster has no findings for `{}`", finding.principal));
        if covered(muster, finding) {
            continue;
        }
        let key = (finding.category, finding.name.as_str());
        if known.contains(&key) {
            gaps_seen.insert(key);
        } else {
            missing.push(finding);
        }
    }
    assert!(
        missing.is_empty(),
        "Cloudsplaining findings that Muster does not report: {missing:#?}"
    );
    let stale: Vec<_> = known.difference(&gaps_seen).collect();
    assert!(
        stale.is_empty(),
        "known gaps that no longer occur, remove them: {stale:#?}"
    );
}
