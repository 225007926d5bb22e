//! HTML escaping for analysis lines, shared by the web UI and the offline HTML report.
//!
//! Finding lines quote names between backticks (`` `arn:aws:iam::…` ``); these render the
//! quoted parts as `<code>`.

/// Escapes text for HTML element content and quoted attribute values. `/` stays as it is,
/// so ARNs remain readable in the page source.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Escapes text and shows each backtick-quoted part as `<code>`. Text with an odd number
/// of backticks is only escaped.
pub fn quoted_code_html(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len() % 2 != 1 {
        return escape_html(text);
    }
    let mut html = String::with_capacity(text.len() + 16);
    for (index, part) in parts.iter().enumerate() {
        if index % 2 == 1 {
            html.push_str("<code>");
            html.push_str(&escape_html(part));
            html.push_str("</code>");
        } else {
            html.push_str(&escape_html(part));
        }
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_parts_become_code() {
        assert_eq!(
            quoted_code_html("on `a<b>/c` by <i>"),
            "on <code>a&lt;b&gt;/c</code> by &lt;i&gt;"
        );
        assert_eq!(quoted_code_html("one ` tick <"), "one ` tick &lt;");
    }
}
