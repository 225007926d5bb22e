//! The self-contained HTML analysis report: inline CSS, no scripts or external assets, and
//! every value from the input escaped, so the file can be opened or mailed as it is.

use muster_service::analysis::html::{escape_html, quoted_code_html};
use muster_service::analysis::{AccountReport, PrincipalReport, ReportLine};
use std::fmt::Write;

const STYLE: &str =
    "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1f24}\
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #d0d7de}\
h3{font-size:1.05rem;margin-bottom:.3rem}code{font-size:.9em;background:#f3f4f6;padding:0 .2em;border-radius:3px}\
table{border-collapse:collapse}td,th{text-align:left;padding:.25rem .8rem .25rem 0;vertical-align:top}\
.badge{display:inline-block;font-size:.75rem;padding:.05rem .45rem;border-radius:1rem;margin-left:.3rem;color:#fff}\
.admin{background:#b42318}.escalation{background:#c4320a}.risk{background:#475467}\
section.principal{border:1px solid #d0d7de;border-radius:6px;padding:.2rem 1rem 1rem;margin:1rem 0}\
details{margin:.2rem 0 .4rem 1.2rem}summary{cursor:pointer;color:#475467}\
ul{padding-left:1.2rem}li{margin:.2rem 0}.muted{color:#667085}.warning{color:#b54708}";

/// Renders the report as one HTML page. `source` names the analysed file in the title.
pub fn render(report: &AccountReport, source: &str) -> String {
    let mut page = String::new();
    let title = format!("Muster IAM analysis of {source}");
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape_html(&title),
        escape_html(&title)
    );
    summary(&mut page, report);

    let _ = writeln!(page, "<h2>Principals</h2>");
    for principal in &report.principals {
        principal_section(&mut page, principal);
    }
    let _ = writeln!(
        page,
        "<p class=\"muted\">Action catalog: {}</p>\n</body>\n</html>",
        escape_html(&report.catalog.join("; "))
    );
    page
}

fn summary(page: &mut String, report: &AccountReport) {
    let summary = &report.summary;
    let _ = writeln!(page, "<h2>Summary</h2>\n<table>");
    let mut row = |label: &str, value: String| {
        let _ = writeln!(page, "<tr><th>{}</th><td>{value}</td></tr>", escape_html(label));
    };
    row("Account", escape_html(report.account_id.as_deref().unwrap_or("unknown")));
    row("Principals analysed", summary.principals.to_string());
    row("Administrators", names(&summary.admins));
    row("Privilege-escalation techniques", summary.escalation_paths.to_string());
    let risks: Vec<String> = summary
        .risk_categories
        .iter()
        .map(|(category, count)| format!("{} {count}", category.replace('_', " ")))
        .collect();
    row("Principals per risk category", names(&risks));
    row("Roles anyone can assume", names(&summary.public_roles));
    row("Unknown actions", names(&summary.unknown_actions));
    row("Load problems", summary.load_problems.len().to_string());
    let _ = writeln!(page, "</table>");

    if !summary.load_problems.is_empty() {
        let _ = writeln!(page, "<h3>Load problems</h3>\n<ul class=\"warning\">");
        for problem in &summary.load_problems {
            let _ = writeln!(page, "<li>{}</li>", escape_html(problem));
        }
        let _ = writeln!(page, "</ul>");
    }
}

fn principal_section(page: &mut String, principal: &PrincipalReport) {
    let _ = write!(
        page,
        "<section class=\"principal\">\n<h3>{} <code>{}</code>",
        escape_html(&principal.kind),
        escape_html(&principal.name)
    );
    if principal.admin {
        let label = if principal.admin_conditional {
            "admin (conditional)"
        } else {
            "admin"
        };
        let _ = write!(page, "<span class=\"badge admin\">{label}</span>");
    }
    if principal.escalations > 0 {
        let _ = write!(page, "<span class=\"badge escalation\">escalation</span>");
    }
    for risk in &principal.risks {
        let _ = write!(
            page,
            "<span class=\"badge risk\">{}</span>",
            escape_html(&risk.replace('_', " "))
        );
    }
    let _ = writeln!(page, "</h3>\n<p class=\"muted\">{}</p>", escape_html(&principal.arn));

    if principal.findings.is_empty() && principal.access.is_empty() {
        let _ = writeln!(page, "<p class=\"muted\">No allowed actions.</p>");
    }
    lines(page, "Findings", &principal.findings);
    lines(page, "Access", &principal.access);
    if !principal.unknown_actions.is_empty() {
        let _ = writeln!(
            page,
            "<p class=\"warning\">Unknown actions: {}</p>",
            names(&principal.unknown_actions)
        );
    }
    let _ = writeln!(page, "</section>");
}

fn lines(page: &mut String, heading: &str, lines: &[ReportLine]) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(page, "<h4>{}</h4>\n<ul>", escape_html(heading));
    for line in lines {
        let _ = write!(page, "<li>{}", quoted_code_html(&line.text));
        if !line.statements.is_empty() {
            let _ = write!(
                page,
                "<details><summary>{} statement{}</summary><ul>",
                line.statements.len(),
                if line.statements.len() == 1 { "" } else { "s" }
            );
            for statement in &line.statements {
                let name = match &statement.sid {
                    Some(sid) => format!("Statement `{sid}` of {}", statement.policy),
                    None => format!("Statement {} of {}", statement.number, statement.policy),
                };
                let _ = write!(
                    page,
                    "<li>{}: <code>{}</code></li>",
                    quoted_code_html(&name),
                    escape_html(&statement.text)
                );
            }
            let _ = write!(page, "</ul></details>");
        }
        let _ = writeln!(page, "</li>");
    }
    let _ = writeln!(page, "</ul>");
}

fn names(items: &[String]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items.iter().map(|item| escape_html(item)).collect::<Vec<_>>().join(", ")
}
