//! Reading policy documents from JSON into [`Policy`], with errors that name the JSON path
//! of the offending element (such as `Statement[2].Condition.StringEquals`).
//!
//! Every form IAM accepts is read: `Statement` as one object or a list, string-or-list
//! values, `"Principal": "*"`, principal maps, every condition operator, and documents
//! percent-encoded the way the IAM API returns them.

use serde_json::{Map, Value};

use crate::condition::{Condition, Operator, ValueError};
use crate::document::{
    ActionElement, Effect, Policy, PolicyVersion, PrincipalElement, PrincipalEntry, PrincipalKind,
    ResourceElement, Statement,
};
use crate::pattern::{Pattern, PatternSyntax};

/// An invalid policy document: where, and what is wrong.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid policy at `{path}`: {problem}")]
pub struct PolicyError {
    /// JSON path of the element, empty for the whole document.
    pub path: String,
    pub problem: Problem,
}

/// The problem found in a policy element.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("{0}")]
    Document(#[from] muster_domain::policy_document::PolicyDocumentError),
    #[error("expected {expected}, found {found}")]
    WrongType {
        expected: &'static str,
        found: &'static str,
    },
    #[error("`{0}` is missing")]
    Missing(&'static str),
    #[error("unknown element `{0}`")]
    UnknownElement(String),
    #[error("`{0}` and `{1}` cannot both be present")]
    Conflict(&'static str, &'static str),
    #[error("the list is empty")]
    EmptyList,
    #[error("unsupported version `{0}` (expected `2012-10-17` or `2008-10-17`)")]
    Version(String),
    #[error("effect `{0}` is neither `Allow` nor `Deny`")]
    Effect(String),
    #[error("action `{0}` is not `*` or `service:action`")]
    Action(String),
    #[error(
        "unknown principal type `{0}` (expected `AWS`, `Service`, `Federated` or `CanonicalUser`)"
    )]
    PrincipalKind(String),
    #[error("unknown condition operator `{0}`")]
    Operator(String),
    #[error("{0}")]
    ConditionValue(#[from] ValueError),
}

/// Parses a policy document given as text: JSON, or JSON percent-encoded as IAM returns it
/// (a `+` stays a `+`).
pub fn parse_policy_text(text: &str) -> Result<Policy, PolicyError> {
    let value = muster_domain::policy_document::decode_policy_document(text).map_err(|error| {
        PolicyError {
            path: String::new(),
            problem: Problem::Document(error),
        }
    })?;
    parse_policy(&value)
}

/// Parses a policy document from JSON.
pub fn parse_policy(document: &Value) -> Result<Policy, PolicyError> {
    let root = Path::root();
    let object = as_object(document, &root)?;

    for key in object.keys() {
        if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
            return Err(root.error(Problem::UnknownElement(key.clone())));
        }
    }

    let version = match object.get("Version") {
        None => PolicyVersion::Missing,
        Some(value) => match as_str(value, &root.key("Version"))? {
            "2012-10-17" => PolicyVersion::V2012_10_17,
            "2008-10-17" => PolicyVersion::V2008_10_17,
            other => {
                return Err(root
                    .key("Version")
                    .error(Problem::Version(other.to_string())))
            }
        },
    };
    let id = object
        .get("Id")
        .map(|value| as_str(value, &root.key("Id")).map(str::to_string))
        .transpose()?;

    let statement_path = root.key("Statement");
    let statements = match object.get("Statement") {
        None => return Err(root.error(Problem::Missing("Statement"))),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| parse_statement(item, &statement_path.index(index), version))
            .collect::<Result<Vec<_>, _>>()?,
        Some(single @ Value::Object(_)) => vec![parse_statement(single, &statement_path, version)?],
        Some(other) => {
            return Err(statement_path.error(Problem::WrongType {
                expected: "an object or a list of objects",
                found: kind_of(other),
            }))
        }
    };

    Ok(Policy {
        version,
        id,
        statements,
    })
}

fn parse_statement(
    value: &Value,
    path: &Path,
    version: PolicyVersion,
) -> Result<Statement, PolicyError> {
    let object = as_object(value, path)?;
    for key in object.keys() {
        let known = matches!(
            key.as_str(),
            "Sid"
                | "Effect"
                | "Principal"
                | "NotPrincipal"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Condition"
        );
        if !known {
            return Err(path.error(Problem::UnknownElement(key.clone())));
        }
    }

    let sid = object
        .get("Sid")
        .map(|value| as_str(value, &path.key("Sid")).map(str::to_string))
        .transpose()?;

    let effect = match object.get("Effect") {
        None => return Err(path.error(Problem::Missing("Effect"))),
        Some(value) => match as_str(value, &path.key("Effect"))? {
            "Allow" => Effect::Allow,
            "Deny" => Effect::Deny,
            other => return Err(path.key("Effect").error(Problem::Effect(other.to_string()))),
        },
    };

    let action = match (object.get("Action"), object.get("NotAction")) {
        (Some(_), Some(_)) => return Err(path.error(Problem::Conflict("Action", "NotAction"))),
        (None, None) => return Err(path.error(Problem::Missing("Action"))),
        (Some(value), None) => ActionElement::Action(parse_actions(value, &path.key("Action"))?),
        (None, Some(value)) => {
            ActionElement::NotAction(parse_actions(value, &path.key("NotAction"))?)
        }
    };

    let resource_syntax = PatternSyntax {
        wildcards: true,
        case_insensitive: false,
        variables: version.has_variables(),
    };
    let resource = match (object.get("Resource"), object.get("NotResource")) {
        (Some(_), Some(_)) => return Err(path.error(Problem::Conflict("Resource", "NotResource"))),
        (None, None) => None,
        (Some(value), None) => Some(ResourceElement::Resource(parse_patterns(
            value,
            &path.key("Resource"),
            resource_syntax,
        )?)),
        (None, Some(value)) => Some(ResourceElement::NotResource(parse_patterns(
            value,
            &path.key("NotResource"),
            resource_syntax,
        )?)),
    };

    let principal = match (object.get("Principal"), object.get("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err(path.error(Problem::Conflict("Principal", "NotPrincipal")))
        }
        (None, None) => None,
        (Some(value), None) => Some(PrincipalElement::Principal(parse_principals(
            value,
            &path.key("Principal"),
        )?)),
        (None, Some(value)) => Some(PrincipalElement::NotPrincipal(parse_principals(
            value,
            &path.key("NotPrincipal"),
        )?)),
    };

    let conditions = match object.get("Condition") {
        None => Vec::new(),
        Some(value) => parse_conditions(value, &path.key("Condition"), version)?,
    };

    Ok(Statement::new(
        sid, effect, action, resource, principal, conditions,
    ))
}

fn parse_actions(value: &Value, path: &Path) -> Result<Vec<Pattern>, PolicyError> {
    let syntax = PatternSyntax {
        wildcards: true,
        case_insensitive: true,
        variables: false,
    };
    let texts = string_or_list(value, path)?;
    let mut patterns = Vec::with_capacity(texts.len());
    for (text, text_path) in texts {
        let valid = text == "*"
            || text
                .split_once(':')
                .is_some_and(|(service, name)| !service.is_empty() && !name.is_empty());
        if !valid {
            return Err(text_path.error(Problem::Action(text.to_string())));
        }
        patterns.push(Pattern::new(text, syntax));
    }
    Ok(patterns)
}

fn parse_patterns(
    value: &Value,
    path: &Path,
    syntax: PatternSyntax,
) -> Result<Vec<Pattern>, PolicyError> {
    Ok(string_or_list(value, path)?
        .into_iter()
        .map(|(text, _)| Pattern::new(text, syntax))
        .collect())
}

fn parse_principals(value: &Value, path: &Path) -> Result<Vec<PrincipalEntry>, PolicyError> {
    let map = match value {
        Value::String(text) if text == "*" => {
            return Ok(vec![PrincipalEntry {
                kind: PrincipalKind::Aws,
                value: "*".to_string(),
            }])
        }
        Value::Object(map) => map,
        other => {
            return Err(path.error(Problem::WrongType {
                expected: "`*` or an object of principal types",
                found: kind_of(other),
            }))
        }
    };

    let mut entries = Vec::new();
    for (key, values) in map {
        let kind = match key.as_str() {
            "AWS" => PrincipalKind::Aws,
            "Service" => PrincipalKind::Service,
            "Federated" => PrincipalKind::Federated,
            "CanonicalUser" => PrincipalKind::CanonicalUser,
            other => return Err(path.error(Problem::PrincipalKind(other.to_string()))),
        };
        for (text, _) in string_or_list(values, &path.key(key))? {
            entries.push(PrincipalEntry {
                kind,
                value: text.to_string(),
            });
        }
    }
    if entries.is_empty() {
        return Err(path.error(Problem::EmptyList));
    }
    Ok(entries)
}

fn parse_conditions(
    value: &Value,
    path: &Path,
    version: PolicyVersion,
) -> Result<Vec<Condition>, PolicyError> {
    let block = as_object(value, path)?;
    let mut conditions = Vec::new();
    for (operator_name, keys) in block {
        let operator_path = path.key(operator_name);
        let operator = Operator::parse(operator_name)
            .ok_or_else(|| operator_path.error(Problem::Operator(operator_name.clone())))?;
        for (key, values) in as_object(keys, &operator_path)? {
            let key_path = operator_path.key(key);
            let values = condition_values(values, &key_path)?;
            let condition = Condition::new(operator, key, values, version.has_variables())
                .map_err(|error| key_path.error(Problem::ConditionValue(error)))?;
            conditions.push(condition);
        }
    }
    Ok(conditions)
}

/// Condition values may be strings, numbers or booleans, alone or in a list.
fn condition_values(value: &Value, path: &Path) -> Result<Vec<String>, PolicyError> {
    let scalar = |value: &Value, path: &Path| match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        other => Err(path.error(Problem::WrongType {
            expected: "a string, number or boolean",
            found: kind_of(other),
        })),
    };
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| scalar(item, &path.index(index)))
            .collect(),
        single => Ok(vec![scalar(single, path)?]),
    }
}

fn string_or_list<'a>(
    value: &'a Value,
    path: &'a Path<'a>,
) -> Result<Vec<(&'a str, Path<'a>)>, PolicyError> {
    match value {
        Value::String(text) => Ok(vec![(text.as_str(), *path)]),
        Value::Array(items) if items.is_empty() => Err(path.error(Problem::EmptyList)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let item_path = path.index(index);
                as_str(item, &item_path).map(|text| (text, item_path))
            })
            .collect(),
        other => Err(path.error(Problem::WrongType {
            expected: "a string or a list of strings",
            found: kind_of(other),
        })),
    }
}

fn as_object<'a>(value: &'a Value, path: &Path) -> Result<&'a Map<String, Value>, PolicyError> {
    value.as_object().ok_or_else(|| {
        path.error(Problem::WrongType {
            expected: "an object",
            found: kind_of(value),
        })
    })
}

fn as_str<'a>(value: &'a Value, path: &Path) -> Result<&'a str, PolicyError> {
    value.as_str().ok_or_else(|| {
        path.error(Problem::WrongType {
            expected: "a string",
            found: kind_of(value),
        })
    })
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A JSON path in the notation of error messages: `Statement[2].Condition.StringEquals`.
/// It is a chain of borrowed steps, written out only when an error needs it.
#[derive(Debug, Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    fn root() -> Path<'static> {
        Path::Root
    }

    fn key(&'a self, key: &'a str) -> Path<'a> {
        Path::Key(self, key)
    }

    fn index(&'a self, index: usize) -> Path<'a> {
        Path::Index(self, index)
    }

    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Key(parent, key) => {
                let parent = parent.render();
                if parent.is_empty() {
                    key.to_string()
                } else {
                    format!("{parent}.{key}")
                }
            }
            Path::Index(parent, index) => format!("{}[{index}]", parent.render()),
        }
    }

    fn error(&self, problem: Problem) -> PolicyError {
        PolicyError {
            path: self.render(),
            problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::BaseOperator;
    use serde_json::json;

    fn error_of(document: Value) -> PolicyError {
        parse_policy(&document).unwrap_err()
    }

    #[test]
    fn statement_object_and_list() {
        let single = parse_policy(&json!({"Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}))
        .unwrap();
        assert_eq!(single.statements.len(), 1);
        let list = parse_policy(&json!({"Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": ["a", "b"]},
            {"Effect": "Deny", "NotAction": "iam:*", "NotResource": "*"}]}))
        .unwrap();
        assert_eq!(list.version, PolicyVersion::Missing);
        assert_eq!(list.statements.len(), 2);
        assert!(matches!(
            list.statements[1].action,
            ActionElement::NotAction(_)
        ));
        assert!(matches!(
            list.statements[1].resource,
            Some(ResourceElement::NotResource(_))
        ));
    }

    #[test]
    fn versions() {
        let old = parse_policy(&json!({"Version": "2008-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::${aws:username}"}]}))
        .unwrap();
        assert_eq!(old.version, PolicyVersion::V2008_10_17);
        assert!(!old.statements[0].resource_patterns()[0].has_variables());
        let error = error_of(json!({"Version": "2012-10-18", "Statement": []}));
        assert_eq!(error.path, "Version");
        assert_eq!(error.problem, Problem::Version("2012-10-18".into()));
    }

    #[test]
    fn principals_in_every_form() {
        let policy = parse_policy(&json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": ["111122223333", "arn:aws:iam::444455556666:root"],
                "Service": "ec2.amazonaws.com", "Federated": "cognito-identity.amazonaws.com",
                "CanonicalUser": "79a59df900b949e55d96a1e698fbaced"}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/admin"}, "Action": "*", "Resource": "*"}]}))
        .unwrap();
        assert!(policy.is_public());
        let entries = policy.statements[1].principal.as_ref().unwrap().entries();
        assert_eq!(entries.len(), 5);
        assert_eq!(
            entries
                .iter()
                .filter(|entry| entry.kind == PrincipalKind::Aws)
                .count(),
            2
        );
        assert!(matches!(
            policy.statements[2].principal,
            Some(PrincipalElement::NotPrincipal(_))
        ));
        let error = error_of(
            json!({"Statement": [{"Effect": "Allow", "Principal": {"Group": "x"}, "Action": "*"}]}),
        );
        assert_eq!(error.path, "Statement[0].Principal");
        let error = error_of(
            json!({"Statement": [{"Effect": "Allow", "Principal": "someone", "Action": "*"}]}),
        );
        assert_eq!(error.path, "Statement[0].Principal");
    }

    #[test]
    fn conditions_with_scalars_and_lists() {
        let policy = parse_policy(
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "ec2:*", "Resource": "*", "Condition": {
                "NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
                "Bool": {"aws:SecureTransport": true},
                "ForAnyValue:StringLike": {"aws:TagKeys": ["team*", "cost"]},
                "IpAddressIfExists": {"aws:SourceIp": ["203.0.113.0/24"]}}}]}),
        )
        .unwrap();
        let conditions = &policy.statements[0].conditions;
        assert_eq!(conditions.len(), 4);
        assert!(conditions
            .iter()
            .any(|c| c.operator.base == BaseOperator::Bool && c.values == ["true"]));
        assert!(conditions.iter().any(|c| c.values == ["3600"]));
    }

    #[test]
    fn errors_name_the_path() {
        let cases = [
            (json!([]), "", "expected an object, found a list"),
            (json!({"Statement": 3}), "Statement", "expected an object or a list of objects, found a number"),
            (json!({"Version": "2012-10-17"}), "", "`Statement` is missing"),
            (json!({"Statement": [{"Action": "*"}]}), "Statement[0]", "`Effect` is missing"),
            (json!({"Statement": [{"Effect": "allow", "Action": "*"}]}), "Statement[0].Effect", "effect `allow` is neither `Allow` nor `Deny`"),
            (json!({"Statement": [{"Effect": "Allow", "Resource": "*"}]}), "Statement[0]", "`Action` is missing"),
            (json!({"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "*"}]}), "Statement[0]", "`Action` and `NotAction` cannot both be present"),
            (json!({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", 5]}]}), "Statement[0].Action[1]", "expected a string, found a number"),
            (json!({"Statement": [{"Effect": "Allow", "Action": "s3GetObject"}]}), "Statement[0].Action", "action `s3GetObject` is not `*` or `service:action`"),
            (json!({"Statement": [{"Effect": "Allow", "Action": []}]}), "Statement[0].Action", "the list is empty"),
            (json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resources": "*"}]}), "Statement[0]", "unknown element `Resources`"),
            (json!({"Statement": [{"Effect": "Allow", "Action": "*"}, {"Effect": "Allow", "Action": "*", "Condition": {"StringEqualz": {"a": "b"}}}]}),
                "Statement[1].Condition.StringEqualz", "unknown condition operator `StringEqualz`"),
            (json!({"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": "x"}}]}),
                "Statement[0].Condition.StringEquals", "expected an object, found a string"),
            (json!({"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": {"k": {"a": 1}}}}]}),
                "Statement[0].Condition.StringEquals.k", "expected a string, number or boolean, found an object"),
            (json!({"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"NumericLessThan": {"k": ["1", "x"]}}}]}),
                "Statement[0].Condition.NumericLessThan.k", "`x` is not a number"),
            (json!({"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"DateLessThan": {"k": "soon"}}}]}),
                "Statement[0].Condition.DateLessThan.k", "`soon` is not a date (expected ISO 8601 such as `2024-05-01T00:00:00Z`, or epoch seconds)"),
        ];
        for (document, path, message) in cases {
            let error = error_of(document.clone());
            assert_eq!(error.path, path, "path for {document}");
            assert_eq!(error.problem.to_string(), message, "message for {document}");
        }
    }

    #[test]
    fn error_display_names_path() {
        let error = error_of(
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"Bool": {"aws:SecureTransport": "yes"}}}]}),
        );
        assert_eq!(
            error.to_string(),
            "invalid policy at `Statement[0].Condition.Bool.aws:SecureTransport`: `yes` is not `true` or `false`"
        );
    }

    #[test]
    fn percent_encoded_text_keeps_plus() {
        let text = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C\
                    %22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2Fc++%2F%2A%22%7D%7D";
        let policy = parse_policy_text(text).unwrap();
        assert_eq!(
            policy.statements[0].resource_patterns()[0].as_str(),
            "arn:aws:s3:::b/c++/*"
        );
        let error = parse_policy_text("%7Bnot json").unwrap_err();
        assert_eq!(error.path, "");
    }
}
