//! Condition operators and their evaluation against a request context.
//!
//! Semantics follow the IAM reference for condition operators: the values listed for one
//! key are alternatives (any may match), except for negated operators, where the context
//! value must match none of them. A key missing from the request makes a condition false,
//! except for negated operators (true), `...IfExists` (true) and `Null` (true when the
//! policy value is `"true"`). `ForAllValues:` holds when every context value matches (also for
//! an empty or missing key) and `ForAnyValue:` when at least one does.

use std::fmt;
use std::net::IpAddr;

use crate::context::{Lookup, RequestContext, Truth};
use crate::pattern::{Pattern, PatternSyntax};

/// The operator of a condition without its `IfExists` suffix and set qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

const OPERATORS: &[(&str, BaseOperator)] = &[
    ("StringEquals", BaseOperator::StringEquals),
    ("StringNotEquals", BaseOperator::StringNotEquals),
    (
        "StringEqualsIgnoreCase",
        BaseOperator::StringEqualsIgnoreCase,
    ),
    (
        "StringNotEqualsIgnoreCase",
        BaseOperator::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", BaseOperator::StringLike),
    ("StringNotLike", BaseOperator::StringNotLike),
    ("NumericEquals", BaseOperator::NumericEquals),
    ("NumericNotEquals", BaseOperator::NumericNotEquals),
    ("NumericLessThan", BaseOperator::NumericLessThan),
    ("NumericLessThanEquals", BaseOperator::NumericLessThanEquals),
    ("NumericGreaterThan", BaseOperator::NumericGreaterThan),
    (
        "NumericGreaterThanEquals",
        BaseOperator::NumericGreaterThanEquals,
    ),
    ("DateEquals", BaseOperator::DateEquals),
    ("DateNotEquals", BaseOperator::DateNotEquals),
    ("DateLessThan", BaseOperator::DateLessThan),
    ("DateLessThanEquals", BaseOperator::DateLessThanEquals),
    ("DateGreaterThan", BaseOperator::DateGreaterThan),
    ("DateGreaterThanEquals", BaseOperator::DateGreaterThanEquals),
    ("Bool", BaseOperator::Bool),
    ("BinaryEquals", BaseOperator::BinaryEquals),
    ("IpAddress", BaseOperator::IpAddress),
    ("NotIpAddress", BaseOperator::NotIpAddress),
    ("ArnEquals", BaseOperator::ArnEquals),
    ("ArnLike", BaseOperator::ArnLike),
    ("ArnNotEquals", BaseOperator::ArnNotEquals),
    ("ArnNotLike", BaseOperator::ArnNotLike),
    ("Null", BaseOperator::Null),
];

impl BaseOperator {
    /// Checks whether the operator succeeds when the value matches none of the policy
    /// values.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            BaseOperator::StringNotEquals
                | BaseOperator::StringNotEqualsIgnoreCase
                | BaseOperator::StringNotLike
                | BaseOperator::NumericNotEquals
                | BaseOperator::DateNotEquals
                | BaseOperator::NotIpAddress
                | BaseOperator::ArnNotEquals
                | BaseOperator::ArnNotLike
        )
    }

    /// Returns the name as written in policies.
    pub fn name(self) -> &'static str {
        OPERATORS
            .iter()
            .find(|(_, operator)| *operator == self)
            .map_or("", |(name, _)| name)
    }
}

/// The `ForAllValues:` or `ForAnyValue:` qualifier for multivalued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum SetOperator {
    ForAllValues,
    ForAnyValue,
}

/// A full condition operator such as `ForAnyValue:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Operator {
    pub base: BaseOperator,
    pub if_exists: bool,
    pub set: Option<SetOperator>,
}

impl Operator {
    /// Reads an operator name; returns `None` for an unknown one. Names are
    /// case-sensitive, as IAM's are.
    pub fn parse(text: &str) -> Option<Operator> {
        let (set, rest) = if let Some(rest) = text.strip_prefix("ForAllValues:") {
            (Some(SetOperator::ForAllValues), rest)
        } else if let Some(rest) = text.strip_prefix("ForAnyValue:") {
            (Some(SetOperator::ForAnyValue), rest)
        } else {
            (None, text)
        };
        let (if_exists, name) = match rest.strip_suffix("IfExists") {
            Some(name) => (true, name),
            None => (false, rest),
        };
        let base = OPERATORS
            .iter()
            .find(|(candidate, _)| *candidate == name)
            .map(|(_, operator)| *operator)?;
        if base == BaseOperator::Null && (if_exists || set.is_some()) {
            return None;
        }
        Some(Operator {
            base,
            if_exists,
            set,
        })
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.set {
            Some(SetOperator::ForAllValues) => formatter.write_str("ForAllValues:")?,
            Some(SetOperator::ForAnyValue) => formatter.write_str("ForAnyValue:")?,
            None => {}
        }
        formatter.write_str(self.base.name())?;
        if self.if_exists {
            formatter.write_str("IfExists")?;
        }
        Ok(())
    }
}

/// A policy value compiled for its operator family.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(Pattern),
    Number(f64),
    /// Seconds since the Unix epoch.
    Date(f64),
    Bool(bool),
    Binary(String),
    Network(Network),
    Arn(Vec<Pattern>),
    Null(bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    fn parse(text: &str) -> Option<Network> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address.trim().parse().ok()?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= max)?,
            None => max,
        };
        Some(Network { address, prefix })
    }

    fn contains(&self, address: IpAddr) -> bool {
        match (self.address, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

/// The reason a condition value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("`{0}` is not a number")]
    Number(String),
    #[error(
        "`{0}` is not a date (expected ISO 8601 such as `2024-05-01T00:00:00Z`, or epoch seconds)"
    )]
    Date(String),
    #[error("`{0}` is not `true` or `false`")]
    Bool(String),
    #[error("`{0}` is not an IP address or CIDR range")]
    Network(String),
    #[error("`{0}` is not base64")]
    Binary(String),
}

/// One key test inside a `Condition` block, such as `"DateLessThan": {"aws:CurrentTime": ...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub operator: Operator,
    /// The key as written in the policy.
    pub key: String,
    /// The values as written in the policy (numbers and booleans as their JSON text).
    pub values: Vec<String>,
    lower_key: String,
    compiled: Vec<Value>,
}

impl serde::Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut state = serializer.serialize_struct("Condition", 3)?;
        state.serialize_field("operator", &self.operator.to_string())?;
        state.serialize_field("key", &self.key)?;
        state.serialize_field("values", &self.values)?;
        state.end()
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {} ", self.operator, self.key)?;
        match self.values.as_slice() {
            [single] => write!(formatter, "`{single}`"),
            values => {
                formatter.write_str("[")?;
                for (index, value) in values.iter().enumerate() {
                    if index > 0 {
                        formatter.write_str(", ")?;
                    }
                    write!(formatter, "`{value}`")?;
                }
                formatter.write_str("]")
            }
        }
    }
}

impl Condition {
    /// Compiles a condition. `variables` enables policy variables in string and ARN values.
    pub fn new(
        operator: Operator,
        key: &str,
        values: Vec<String>,
        variables: bool,
    ) -> Result<Condition, ValueError> {
        let compiled = values
            .iter()
            .map(|value| compile_value(operator.base, value, variables))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Condition {
            operator,
            key: key.to_string(),
            values,
            lower_key: key.to_ascii_lowercase(),
            compiled,
        })
    }

    /// Returns the key, lower-cased for context lookups.
    pub fn lower_key(&self) -> &str {
        &self.lower_key
    }

    /// Evaluates the condition against `context`.
    pub fn evaluate(&self, context: &RequestContext) -> Truth {
        let operator = self.operator;
        match context.lookup(&self.lower_key) {
            Lookup::Unknown => Truth::Unknown,
            Lookup::Absent => Truth::from(self.holds_when_absent()),
            Lookup::Present(values) => {
                if operator.base == BaseOperator::Null {
                    // `"Null": "false"` holds when the key is present.
                    return Truth::any(
                        self.compiled
                            .iter()
                            .map(|value| Truth::from(*value == Value::Null(false))),
                    );
                }
                match operator.set {
                    Some(SetOperator::ForAllValues) => {
                        Truth::all(values.iter().map(|value| self.test_one(value, context)))
                    }
                    Some(SetOperator::ForAnyValue) => {
                        Truth::any(values.iter().map(|value| self.test_one(value, context)))
                    }
                    None if values.is_empty() => Truth::from(self.holds_when_absent()),
                    None if operator.base.is_negated() => {
                        Truth::all(values.iter().map(|value| self.test_one(value, context)))
                    }
                    None => Truth::any(values.iter().map(|value| self.test_one(value, context))),
                }
            }
        }
    }

    fn holds_when_absent(&self) -> bool {
        let operator = self.operator;
        if operator.base == BaseOperator::Null {
            return self.compiled.contains(&Value::Null(true));
        }
        match operator.set {
            Some(SetOperator::ForAllValues) => true,
            Some(SetOperator::ForAnyValue) => operator.if_exists,
            None => operator.if_exists || operator.base.is_negated(),
        }
    }

    /// Tests one context value: it matches one of the policy values, or for a negated
    /// operator, none of them.
    fn test_one(&self, actual: &str, context: &RequestContext) -> Truth {
        let matched = Truth::any(
            self.compiled
                .iter()
                .map(|expected| value_matches(self.operator.base, expected, actual, context)),
        );
        if self.operator.base.is_negated() {
            matched.negate()
        } else {
            matched
        }
    }
}

fn compile_value(base: BaseOperator, value: &str, variables: bool) -> Result<Value, ValueError> {
    use BaseOperator as Op;
    let text_syntax = |wildcards: bool, case_insensitive: bool| PatternSyntax {
        wildcards,
        case_insensitive,
        variables,
    };
    Ok(match base {
        Op::StringEquals | Op::StringNotEquals => {
            Value::Text(Pattern::new(value, text_syntax(false, false)))
        }
        Op::StringEqualsIgnoreCase | Op::StringNotEqualsIgnoreCase => {
            Value::Text(Pattern::new(value, text_syntax(false, true)))
        }
        Op::StringLike | Op::StringNotLike => {
            Value::Text(Pattern::new(value, text_syntax(true, false)))
        }
        Op::NumericEquals
        | Op::NumericNotEquals
        | Op::NumericLessThan
        | Op::NumericLessThanEquals
        | Op::NumericGreaterThan
        | Op::NumericGreaterThanEquals => {
            Value::Number(parse_number(value).ok_or_else(|| ValueError::Number(value.to_string()))?)
        }
        Op::DateEquals
        | Op::DateNotEquals
        | Op::DateLessThan
        | Op::DateLessThanEquals
        | Op::DateGreaterThan
        | Op::DateGreaterThanEquals => {
            Value::Date(parse_date(value).ok_or_else(|| ValueError::Date(value.to_string()))?)
        }
        Op::Bool => {
            Value::Bool(parse_bool(value).ok_or_else(|| ValueError::Bool(value.to_string()))?)
        }
        Op::Null => {
            Value::Null(parse_bool(value).ok_or_else(|| ValueError::Bool(value.to_string()))?)
        }
        Op::BinaryEquals => {
            let valid = !value.is_empty()
                && value
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'='));
            if !valid {
                return Err(ValueError::Binary(value.to_string()));
            }
            Value::Binary(value.to_string())
        }
        Op::IpAddress | Op::NotIpAddress => Value::Network(
            Network::parse(value).ok_or_else(|| ValueError::Network(value.to_string()))?,
        ),
        Op::ArnEquals | Op::ArnLike | Op::ArnNotEquals | Op::ArnNotLike => Value::Arn(
            split_arn(value)
                .into_iter()
                .map(|segment| Pattern::new(segment, text_syntax(true, false)))
                .collect(),
        ),
    })
}

fn value_matches(
    base: BaseOperator,
    expected: &Value,
    actual: &str,
    context: &RequestContext,
) -> Truth {
    match expected {
        Value::Text(pattern) => pattern.matches_in(actual, context),
        Value::Number(expected) => {
            let Some(actual) = parse_number(actual) else {
                return Truth::False;
            };
            Truth::from(compare(base, actual, *expected))
        }
        Value::Date(expected) => {
            let Some(actual) = parse_date(actual) else {
                return Truth::False;
            };
            Truth::from(compare(base, actual, *expected))
        }
        Value::Bool(expected) => Truth::from(parse_bool(actual) == Some(*expected)),
        Value::Binary(expected) => Truth::from(expected == actual),
        Value::Network(network) => match actual.trim().parse::<IpAddr>() {
            Ok(address) => Truth::from(network.contains(address)),
            Err(_) => Truth::False,
        },
        Value::Arn(segments) => {
            let actual_segments = split_arn(actual);
            if actual_segments.len() != segments.len() {
                return Truth::False;
            }
            Truth::all(
                segments
                    .iter()
                    .zip(actual_segments)
                    .map(|(pattern, segment)| pattern.matches_in(segment, context)),
            )
        }
        // `Null` is decided from the key's presence alone, before values are compared.
        Value::Null(_) => Truth::False,
    }
}

/// Compares for the numeric and date operators; equality operators use `==`.
fn compare(base: BaseOperator, actual: f64, expected: f64) -> bool {
    use BaseOperator as Op;
    match base {
        Op::NumericEquals | Op::NumericNotEquals | Op::DateEquals | Op::DateNotEquals => {
            actual == expected
        }
        Op::NumericLessThan | Op::DateLessThan => actual < expected,
        Op::NumericLessThanEquals | Op::DateLessThanEquals => actual <= expected,
        Op::NumericGreaterThan | Op::DateGreaterThan => actual > expected,
        Op::NumericGreaterThanEquals | Op::DateGreaterThanEquals => actual >= expected,
        _ => false,
    }
}

/// Splits an ARN into its six colon-separated parts; the last part keeps its colons.
fn split_arn(text: &str) -> Vec<&str> {
    text.splitn(6, ':').collect()
}

fn parse_number(text: &str) -> Option<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|number| number.is_finite())
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Parses the date forms IAM accepts: ISO 8601 date or date-time (UTC when no offset is
/// given) and epoch seconds. Returns seconds since the Unix epoch.
pub(crate) fn parse_date(text: &str) -> Option<f64> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;

    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Some(seconds as f64);
    }
    if let Ok(at) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Some(at.unix_timestamp_nanos() as f64 / 1e9);
    }
    let without_zone = text.strip_suffix('Z').unwrap_or(text);
    let local_formats: [&[time::format_description::BorrowedFormatItem<'_>]; 3] = [
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    ];
    for format in local_formats {
        if let Ok(at) = time::PrimitiveDateTime::parse(without_zone, format) {
            return Some(at.assume_utc().unix_timestamp_nanos() as f64 / 1e9);
        }
    }
    let date = time::Date::parse(text, format_description!("[year]-[month]-[day]")).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(operator: &str, key: &str, values: &[&str]) -> Condition {
        let operator = Operator::parse(operator).unwrap();
        Condition::new(
            operator,
            key,
            values.iter().map(|value| value.to_string()).collect(),
            true,
        )
        .unwrap()
    }

    fn context(pairs: &[(&str, &str)]) -> RequestContext {
        let mut context = RequestContext::complete();
        for (key, value) in pairs {
            context.insert(key, *value);
        }
        context
    }

    fn check(operator: &str, values: &[&str], actual: &str) -> Truth {
        condition(operator, "k", values).evaluate(&context(&[("k", actual)]))
    }

    #[test]
    fn operator_names() {
        let operator = Operator::parse("ForAnyValue:StringLikeIfExists").unwrap();
        assert_eq!(operator.base, BaseOperator::StringLike);
        assert!(operator.if_exists);
        assert_eq!(operator.set, Some(SetOperator::ForAnyValue));
        assert_eq!(operator.to_string(), "ForAnyValue:StringLikeIfExists");
        assert!(Operator::parse("StringEqualz").is_none());
        assert!(Operator::parse("stringequals").is_none());
        assert!(Operator::parse("NullIfExists").is_none());
    }

    #[test]
    fn string_family() {
        assert_eq!(check("StringEquals", &["a", "b"], "b"), Truth::True);
        assert_eq!(check("StringEquals", &["a*"], "ab"), Truth::False);
        assert_eq!(check("StringEquals", &["A"], "a"), Truth::False);
        assert_eq!(check("StringNotEquals", &["a", "b"], "b"), Truth::False);
        assert_eq!(check("StringNotEquals", &["a", "b"], "c"), Truth::True);
        assert_eq!(
            check("StringEqualsIgnoreCase", &["ABC"], "abc"),
            Truth::True
        );
        assert_eq!(
            check("StringNotEqualsIgnoreCase", &["ABC"], "abc"),
            Truth::False
        );
        assert_eq!(
            check("StringLike", &["home/*/x?"], "home/a/b/x1"),
            Truth::True
        );
        assert_eq!(check("StringNotLike", &["home/*"], "home/a"), Truth::False);
        assert_eq!(check("StringNotLike", &["home/*"], "work/a"), Truth::True);
    }

    #[test]
    fn numeric_family() {
        assert_eq!(check("NumericEquals", &["10"], "10.0"), Truth::True);
        assert_eq!(check("NumericNotEquals", &["10"], "11"), Truth::True);
        assert_eq!(check("NumericLessThan", &["3600"], "100"), Truth::True);
        assert_eq!(check("NumericLessThanEquals", &["100"], "100"), Truth::True);
        assert_eq!(check("NumericGreaterThan", &["100"], "100"), Truth::False);
        assert_eq!(
            check("NumericGreaterThanEquals", &["100"], "100"),
            Truth::True
        );
        assert_eq!(
            check("NumericLessThan", &["10"], "not-a-number"),
            Truth::False
        );
        let operator = Operator::parse("NumericLessThan").unwrap();
        assert!(Condition::new(operator, "k", vec!["ten".into()], true).is_err());
    }

    #[test]
    fn date_family() {
        assert_eq!(
            check(
                "DateLessThan",
                &["2024-05-01T00:00:00Z"],
                "2024-04-30T23:59:59Z"
            ),
            Truth::True
        );
        assert_eq!(
            check("DateLessThan", &["2024-05-01"], "2024-05-01T00:00:00Z"),
            Truth::False
        );
        assert_eq!(
            check(
                "DateLessThanEquals",
                &["2024-05-01"],
                "2024-05-01T00:00:00+00:00"
            ),
            Truth::True
        );
        assert_eq!(
            check("DateGreaterThan", &["2024-05-01T00:00:00Z"], "1714521601"),
            Truth::True
        );
        assert_eq!(
            check(
                "DateGreaterThanEquals",
                &["2024-05-01T02:00:00+02:00"],
                "2024-05-01T00:00:00Z"
            ),
            Truth::True
        );
        assert_eq!(
            check(
                "DateEquals",
                &["2024-05-01T00:00:00Z"],
                "2024-05-01T00:00:00.000Z"
            ),
            Truth::True
        );
        assert_eq!(
            check("DateNotEquals", &["2024-05-01"], "2024-05-02"),
            Truth::True
        );
        let operator = Operator::parse("DateLessThan").unwrap();
        assert!(Condition::new(operator, "k", vec!["yesterday".into()], true).is_err());
    }

    #[test]
    fn bool_binary_and_ip() {
        assert_eq!(check("Bool", &["true"], "true"), Truth::True);
        assert_eq!(check("Bool", &["true"], "false"), Truth::False);

        assert_eq!(
            check("BinaryEquals", &["QmluYXJ5"], "QmluYXJ5"),
            Truth::True
        );
        assert_eq!(
            check("BinaryEquals", &["QmluYXJ5"], "QmluYXJ6"),
            Truth::False
        );

        assert_eq!(
            check("IpAddress", &["203.0.113.0/24"], "203.0.113.9"),
            Truth::True
        );
        assert_eq!(
            check("IpAddress", &["203.0.113.0/24"], "203.0.114.9"),
            Truth::False
        );
        assert_eq!(
            check("IpAddress", &["203.0.113.7"], "203.0.113.7"),
            Truth::True
        );
        assert_eq!(
            check("IpAddress", &["2001:db8::/32"], "2001:db8::1"),
            Truth::True
        );
        assert_eq!(
            check("IpAddress", &["0.0.0.0/0"], "198.51.100.1"),
            Truth::True
        );
        assert_eq!(
            check("NotIpAddress", &["203.0.113.0/24"], "198.51.100.1"),
            Truth::True
        );
        assert_eq!(
            check("NotIpAddress", &["203.0.113.0/24"], "203.0.113.1"),
            Truth::False
        );

        let operator = Operator::parse("IpAddress").unwrap();
        assert!(Condition::new(operator, "k", vec!["10.0.0.0/33".into()], true).is_err());
    }

    #[test]
    fn arn_family_matches_segment_by_segment() {
        let role = "arn:aws:iam::111122223333:role/app/worker";
        assert_eq!(
            check("ArnLike", &["arn:aws:iam::*:role/app/*"], role),
            Truth::True
        );
        assert_eq!(
            check(
                "ArnEquals",
                &["arn:aws:iam::111122223333:role/app/worker"],
                role
            ),
            Truth::True
        );
        assert_eq!(
            check("ArnNotLike", &["arn:aws:iam::*:role/other/*"], role),
            Truth::True
        );
        assert_eq!(
            check("ArnNotEquals", &["arn:aws:iam::*:role/app/*"], role),
            Truth::False
        );
        // `*` in the account part cannot swallow the region and account separators.
        assert_eq!(check("ArnLike", &["arn:aws:*"], role), Truth::False);
        assert_eq!(check("ArnLike", &["arn:aws:iam::*:*"], role), Truth::True);
    }

    #[test]
    fn missing_key_rules() {
        let empty = RequestContext::complete();
        assert_eq!(
            condition("StringEquals", "k", &["a"]).evaluate(&empty),
            Truth::False
        );
        assert_eq!(
            condition("StringNotEquals", "k", &["a"]).evaluate(&empty),
            Truth::True
        );
        assert_eq!(
            condition("StringEqualsIfExists", "k", &["a"]).evaluate(&empty),
            Truth::True
        );
        assert_eq!(
            condition("NumericLessThanIfExists", "k", &["1"]).evaluate(&empty),
            Truth::True
        );
        assert_eq!(
            condition("Null", "k", &["true"]).evaluate(&empty),
            Truth::True
        );
        assert_eq!(
            condition("Null", "k", &["false"]).evaluate(&empty),
            Truth::False
        );
        assert_eq!(
            condition("ForAllValues:StringEquals", "k", &["a"]).evaluate(&empty),
            Truth::True
        );
        assert_eq!(
            condition("ForAnyValue:StringEquals", "k", &["a"]).evaluate(&empty),
            Truth::False
        );

        let unknown = RequestContext::new();
        assert_eq!(
            condition("StringEquals", "k", &["a"]).evaluate(&unknown),
            Truth::Unknown
        );
        assert_eq!(
            condition("Null", "k", &["true"]).evaluate(&unknown),
            Truth::Unknown
        );
    }

    #[test]
    fn if_exists_checks_present_values() {
        let present = context(&[("k", "b")]);
        assert_eq!(
            condition("StringEqualsIfExists", "k", &["a"]).evaluate(&present),
            Truth::False
        );
        assert_eq!(
            condition("StringEqualsIfExists", "k", &["b"]).evaluate(&present),
            Truth::True
        );
        assert_eq!(
            condition("Null", "k", &["false"]).evaluate(&present),
            Truth::True
        );
        assert_eq!(
            condition("Null", "k", &["true"]).evaluate(&present),
            Truth::False
        );
    }

    #[test]
    fn set_operators() {
        let tags = context(&[("aws:TagKeys", "team"), ("aws:TagKeys", "cost")]);
        let all = |values: &[&str]| {
            condition("ForAllValues:StringEquals", "aws:TagKeys", values).evaluate(&tags)
        };
        let any = |values: &[&str]| {
            condition("ForAnyValue:StringEquals", "aws:TagKeys", values).evaluate(&tags)
        };
        assert_eq!(all(&["team", "cost", "owner"]), Truth::True);
        assert_eq!(all(&["team"]), Truth::False);
        assert_eq!(any(&["team"]), Truth::True);
        assert_eq!(any(&["owner"]), Truth::False);
        let not_any =
            condition("ForAnyValue:StringNotEquals", "aws:TagKeys", &["team"]).evaluate(&tags);
        assert_eq!(not_any, Truth::True);
        let not_all =
            condition("ForAllValues:StringNotEquals", "aws:TagKeys", &["team"]).evaluate(&tags);
        assert_eq!(not_all, Truth::False);
        let mut empty = RequestContext::complete();
        empty.insert_empty("aws:TagKeys");
        assert_eq!(
            condition("ForAllValues:StringEquals", "aws:TagKeys", &["a"]).evaluate(&empty),
            Truth::True
        );
        assert_eq!(
            condition("ForAnyValue:StringEquals", "aws:TagKeys", &["a"]).evaluate(&empty),
            Truth::False
        );
    }

    #[test]
    fn keys_match_case_insensitively_and_values_take_variables() {
        let owner = condition(
            "StringEquals",
            "s3:ExistingObjectTag/Owner",
            &["${aws:username}"],
        );
        let request = context(&[
            ("S3:existingobjecttag/owner", "alice"),
            ("aws:username", "alice"),
        ]);
        assert_eq!(owner.evaluate(&request), Truth::True);
        let other = context(&[
            ("s3:ExistingObjectTag/Owner", "alice"),
            ("aws:username", "bob"),
        ]);
        assert_eq!(owner.evaluate(&other), Truth::False);
    }

    #[test]
    fn display_shows_operator_key_and_values() {
        let shown = condition(
            "DateLessThan",
            "aws:TokenIssueTime",
            &["2024-05-01T00:00:00Z"],
        )
        .to_string();
        assert_eq!(
            shown,
            "DateLessThan aws:TokenIssueTime `2024-05-01T00:00:00Z`"
        );
    }
}
