//! The request context (condition keys and their values) and three-valued truth.
//!
//! An analysis rarely has every key of a real request. A context therefore separates a
//! key that is known to be absent from a key whose value is unknown. Conditions on
//! unknown keys evaluate to [`Truth::Unknown`], which the evaluator reports as a
//! conditional result instead of guessing.

use std::collections::HashMap;

/// The outcome of a test that may depend on facts the context does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl From<bool> for Truth {
    fn from(value: bool) -> Truth {
        if value {
            Truth::True
        } else {
            Truth::False
        }
    }
}

impl Truth {
    /// Kleene conjunction: false wins, then unknown.
    pub fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::Unknown, _) | (_, Truth::Unknown) => Truth::Unknown,
            _ => Truth::True,
        }
    }

    /// Kleene disjunction: true wins, then unknown.
    pub fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::Unknown, _) | (_, Truth::Unknown) => Truth::Unknown,
            _ => Truth::False,
        }
    }

    /// Kleene negation: unknown stays unknown.
    pub fn negate(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }

    /// Disjunction over an iterator, stopping at the first true.
    pub fn any<I: IntoIterator<Item = Truth>>(items: I) -> Truth {
        let mut result = Truth::False;
        for item in items {
            result = result.or(item);
            if result == Truth::True {
                break;
            }
        }
        result
    }

    /// Conjunction over an iterator, stopping at the first false.
    pub fn all<I: IntoIterator<Item = Truth>>(items: I) -> Truth {
        let mut result = Truth::True;
        for item in items {
            result = result.and(item);
            if result == Truth::False {
                break;
            }
        }
        result
    }
}

/// The result of looking up one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    Present(&'a [String]),
    Absent,
    Unknown,
}

/// Condition keys and values of a request. Key names match case-insensitively, as in IAM.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    values: HashMap<String, Vec<String>>,
    /// Every key not in `values` is absent (a full simulation) rather than unknown.
    complete: bool,
    /// Lower-cased key prefixes whose keys are all listed, such as `aws:principaltag/`
    /// once a principal's tags are loaded.
    complete_prefixes: Vec<String>,
    /// Lower-cased keys known to be absent.
    absent: Vec<String>,
}

impl RequestContext {
    /// Creates an open context, where keys not inserted are unknown.
    pub fn new() -> RequestContext {
        RequestContext::default()
    }

    /// Creates a closed context, where keys not inserted are absent from the request.
    pub fn complete() -> RequestContext {
        RequestContext {
            complete: true,
            ..RequestContext::default()
        }
    }

    /// Adds one value for `key`; a key may hold several (multivalued keys such as
    /// `aws:TagKeys`).
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.values
            .entry(key.to_ascii_lowercase())
            .or_default()
            .push(value.into());
    }

    /// Sets `key` to an empty value set (present, but with no values).
    pub fn insert_empty(&mut self, key: &str) {
        self.values.entry(key.to_ascii_lowercase()).or_default();
    }

    /// Declares `key` absent from the request.
    pub fn mark_absent(&mut self, key: &str) {
        self.absent.push(key.to_ascii_lowercase());
    }

    /// Declares that every key starting with `prefix` is listed, so the others are absent.
    pub fn mark_prefix_complete(&mut self, prefix: &str) {
        self.complete_prefixes.push(prefix.to_ascii_lowercase());
    }

    /// Looks up a key that is already lower-cased.
    pub fn lookup(&self, lower_key: &str) -> Lookup<'_> {
        if let Some(values) = self.values.get(lower_key) {
            return Lookup::Present(values);
        }
        let known_absent = self.complete
            || self.absent.iter().any(|key| key == lower_key)
            || self
                .complete_prefixes
                .iter()
                .any(|prefix| lower_key.starts_with(prefix.as_str()));
        if known_absent {
            Lookup::Absent
        } else {
            Lookup::Unknown
        }
    }

    /// Checks whether the context has no keys and treats every key as unknown.
    pub fn is_open_and_empty(&self) -> bool {
        !self.complete
            && self.values.is_empty()
            && self.absent.is_empty()
            && self.complete_prefixes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_tables() {
        assert_eq!(Truth::True.and(Truth::Unknown), Truth::Unknown);
        assert_eq!(Truth::False.and(Truth::Unknown), Truth::False);
        assert_eq!(Truth::True.or(Truth::Unknown), Truth::True);
        assert_eq!(Truth::False.or(Truth::Unknown), Truth::Unknown);
        assert_eq!(Truth::Unknown.negate(), Truth::Unknown);
        assert_eq!(Truth::any([]), Truth::False);
        assert_eq!(Truth::all([]), Truth::True);
    }

    #[test]
    fn lookup_tells_absent_from_unknown() {
        let mut context = RequestContext::new();
        context.insert("aws:UserName", "alice");
        context.mark_prefix_complete("aws:PrincipalTag/");
        context.mark_absent("aws:SourceIp");
        assert_eq!(
            context.lookup("aws:username"),
            Lookup::Present(&["alice".to_string()])
        );
        assert_eq!(context.lookup("aws:principaltag/team"), Lookup::Absent);
        assert_eq!(context.lookup("aws:sourceip"), Lookup::Absent);
        assert_eq!(context.lookup("aws:currenttime"), Lookup::Unknown);
        assert_eq!(
            RequestContext::complete().lookup("aws:currenttime"),
            Lookup::Absent
        );
    }
}
