//! Wildcard patterns as IAM matches them in `Action`, `Resource` and string conditions.
//!
//! `*` matches any run of characters, including `/` and `:`, and `?` matches exactly one
//! character. A pattern may contain policy variables (`${aws:username}`), which are looked
//! up in the request context at match time. `${*}`, `${?}` and `${$}` stand for the
//! literal characters. Patterns are compiled once when a policy is parsed, so matching a pattern
//! without variables allocates nothing.

use std::fmt;

use crate::context::{Lookup, RequestContext, Truth};

/// The syntax a pattern text is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternSyntax {
    /// `*` and `?` are wildcards (they are literal in `StringEquals` values).
    pub wildcards: bool,
    /// ASCII letters match regardless of case (action names, `...IgnoreCase` operators).
    pub case_insensitive: bool,
    /// `${...}` is a policy variable (only in documents with `Version` `2012-10-17`).
    pub variables: bool,
}

/// One element of a compiled glob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A literal byte (already lower-cased when the pattern is case-insensitive).
    Byte(u8),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters.
    Run,
}

/// A run of the pattern between policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Tokens(Vec<Token>),
    Variable {
        key: String,
        default: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Compiled {
    /// Exactly `*`.
    Any,
    /// No wildcard and no variable: the text is compared whole.
    Literal,
    /// Wildcards and literal characters only, so each byte of the text is one token and
    /// the text is matched as it is.
    Wildcards,
    /// A glob whose tokens differ from its text (it spells `${*}`, `${?}` or `${$}`).
    Glob(Vec<Token>),
    WithVariables(Vec<Part>),
}

/// A compiled pattern; it keeps its source text for display.
#[derive(Clone, PartialEq, Eq)]
pub struct Pattern {
    text: Box<str>,
    case_insensitive: bool,
    compiled: Compiled,
}

impl fmt::Debug for Pattern {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Pattern({:?})", self.text)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

impl serde::Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl Pattern {
    /// Compiles `text` read with `syntax`.
    pub fn new(text: &str, syntax: PatternSyntax) -> Pattern {
        // Most patterns have no `${`: they need no token list of their own.
        if !(syntax.variables && text.contains("${")) {
            let compiled = if !syntax.wildcards || !text.contains(['*', '?']) {
                Compiled::Literal
            } else if text == "*" {
                Compiled::Any
            } else {
                Compiled::Wildcards
            };
            return Pattern {
                text: text.into(),
                case_insensitive: syntax.case_insensitive,
                compiled,
            };
        }

        let mut parts = split_parts(text, syntax);
        let compiled = match parts.as_mut_slice() {
            [] => Compiled::Glob(Vec::new()),
            [Part::Tokens(tokens)] if tokens.as_slice() == [Token::Run] => Compiled::Any,
            [Part::Tokens(tokens)] => Compiled::Glob(std::mem::take(tokens)),
            _ => Compiled::WithVariables(parts),
        };
        Pattern {
            text: text.into(),
            case_insensitive: syntax.case_insensitive,
            compiled,
        }
    }

    /// Compiles a glob with wildcards and no variables, case-sensitive.
    pub fn glob(text: &str) -> Pattern {
        Pattern::new(
            text,
            PatternSyntax {
                wildcards: true,
                case_insensitive: false,
                variables: false,
            },
        )
    }

    /// Returns the pattern as written in the policy.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Checks whether the pattern is exactly `*`.
    pub fn is_any(&self) -> bool {
        matches!(self.compiled, Compiled::Any)
    }

    /// Checks whether the pattern contains policy variables.
    pub fn has_variables(&self) -> bool {
        matches!(self.compiled, Compiled::WithVariables(_))
    }

    /// Checks whether the pattern has no wildcard and no variable.
    pub fn is_literal(&self) -> bool {
        match &self.compiled {
            Compiled::Literal => true,
            Compiled::Any | Compiled::Wildcards | Compiled::WithVariables(_) => false,
            Compiled::Glob(tokens) => tokens.iter().all(|token| matches!(token, Token::Byte(_))),
        }
    }

    /// Matches a pattern without variables. Variables, if any, never match here: use
    /// [`Pattern::matches_in`] for those.
    pub fn matches(&self, text: &str) -> bool {
        match &self.compiled {
            Compiled::Any => true,
            Compiled::Literal if self.case_insensitive => text.eq_ignore_ascii_case(&self.text),
            Compiled::Literal => text == &*self.text,
            Compiled::Wildcards => glob_matches(
                &WildcardText {
                    bytes: self.text.as_bytes(),
                    case_insensitive: self.case_insensitive,
                },
                text.as_bytes(),
                self.case_insensitive,
            ),
            Compiled::Glob(tokens) => {
                glob_matches(tokens.as_slice(), text.as_bytes(), self.case_insensitive)
            }
            Compiled::WithVariables(_) => false,
        }
    }

    /// Matches `text`, resolving policy variables from `context`. The result is unknown
    /// when a variable's key is not known in the context.
    pub fn matches_in(&self, text: &str, context: &RequestContext) -> Truth {
        let Compiled::WithVariables(parts) = &self.compiled else {
            return Truth::from(self.matches(text));
        };

        let mut tokens = Vec::with_capacity(self.text.len());
        for part in parts {
            match part {
                Part::Tokens(part_tokens) => tokens.extend_from_slice(part_tokens),
                Part::Variable { key, default } => {
                    let value = match context.lookup(key) {
                        Lookup::Present(values) => match values.first() {
                            Some(value) => value.as_str(),
                            None => return Truth::False,
                        },
                        Lookup::Absent => match default {
                            Some(default) => default.as_str(),
                            // An unresolvable variable makes the element match nothing.
                            None => return Truth::False,
                        },
                        Lookup::Unknown => return Truth::Unknown,
                    };
                    push_literal(&mut tokens, value, self.case_insensitive);
                }
            }
        }
        Truth::from(glob_matches(
            tokens.as_slice(),
            text.as_bytes(),
            self.case_insensitive,
        ))
    }

    /// Lists the keys of the policy variables in this pattern, lower-cased.
    pub fn variable_keys(&self) -> impl Iterator<Item = &str> {
        let parts: &[Part] = match &self.compiled {
            Compiled::WithVariables(parts) => parts,
            _ => &[],
        };
        parts.iter().filter_map(|part| match part {
            Part::Variable { key, .. } => Some(key.as_str()),
            Part::Tokens(_) => None,
        })
    }

    /// Returns the literal text every match starts with: the pattern up to its first wildcard or
    /// variable, lower-cased for case-insensitive patterns.
    pub fn literal_prefix(&self) -> String {
        let tokens: &[Token] = match &self.compiled {
            Compiled::Literal | Compiled::Wildcards => {
                let end = self.text.find(['*', '?']).unwrap_or(self.text.len());
                let prefix = &self.text[..end];
                return if self.case_insensitive {
                    prefix.to_ascii_lowercase()
                } else {
                    prefix.to_string()
                };
            }
            Compiled::Any => &[],
            Compiled::Glob(tokens) => tokens,
            Compiled::WithVariables(parts) => match parts.first() {
                Some(Part::Tokens(tokens)) => tokens,
                _ => &[],
            },
        };
        let bytes: Vec<u8> = tokens
            .iter()
            .map_while(|token| match token {
                Token::Byte(byte) => Some(*byte),
                _ => None,
            })
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Checks whether every string this pattern matches is also matched by `other`, judged on the
    /// pattern texts: true when `other` matches this pattern's text read literally, which
    /// holds for `*` and for prefix wildcards such as `arn:aws:s3:::bucket/*`.
    pub fn is_covered_by(&self, other: &Pattern) -> bool {
        other.is_any() || (!self.has_variables() && other.matches(&self.text))
    }
}

fn split_parts(text: &str, syntax: PatternSyntax) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut tokens = Vec::with_capacity(text.len());
    let mut rest = text;

    while !rest.is_empty() {
        if syntax.variables {
            if let Some(after) = rest.strip_prefix("${") {
                if let Some(end) = after.find('}') {
                    let inner = &after[..end];
                    match inner {
                        "*" | "?" | "$" => {
                            push_literal(&mut tokens, inner, syntax.case_insensitive)
                        }
                        _ => {
                            if !tokens.is_empty() {
                                parts.push(Part::Tokens(std::mem::take(&mut tokens)));
                            }
                            parts.push(parse_variable(inner));
                        }
                    }
                    rest = &after[end + 1..];
                    continue;
                }
            }
        }

        let Some(character) = rest.chars().next() else {
            break;
        };
        match character {
            '*' if syntax.wildcards => tokens.push(Token::Run),
            '?' if syntax.wildcards => tokens.push(Token::One),
            _ => {
                let mut buffer = [0u8; 4];
                push_literal(
                    &mut tokens,
                    character.encode_utf8(&mut buffer),
                    syntax.case_insensitive,
                );
            }
        }
        rest = &rest[character.len_utf8()..];
    }

    if !tokens.is_empty() || parts.is_empty() {
        parts.push(Part::Tokens(tokens));
    }
    parts
}

/// Reads `aws:username` or `aws:username, 'default'` from inside `${...}`.
fn parse_variable(inner: &str) -> Part {
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => {
            let default = default.trim();
            let default = default
                .strip_prefix('\'')
                .and_then(|value| value.strip_suffix('\''))
                .unwrap_or(default);
            (key.trim(), Some(default.to_string()))
        }
        None => (inner.trim(), None),
    };
    Part::Variable {
        key: key.to_ascii_lowercase(),
        default,
    }
}

fn push_literal(tokens: &mut Vec<Token>, text: &str, case_insensitive: bool) {
    for byte in text.bytes() {
        let byte = if case_insensitive {
            byte.to_ascii_lowercase()
        } else {
            byte
        };
        tokens.push(Token::Byte(byte));
    }
}

/// Length in bytes of the UTF-8 character that starts with `lead`.
fn char_width(lead: u8) -> usize {
    match lead {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// A sequence of glob tokens.
trait Tokens {
    fn len(&self) -> usize;
    fn get(&self, index: usize) -> Option<Token>;
}

impl Tokens for [Token] {
    fn len(&self) -> usize {
        <[Token]>::len(self)
    }

    fn get(&self, index: usize) -> Option<Token> {
        <[Token]>::get(self, index).copied()
    }
}

/// The tokens of a [`Compiled::Wildcards`] pattern, read from its text.
struct WildcardText<'a> {
    bytes: &'a [u8],
    case_insensitive: bool,
}

impl Tokens for WildcardText<'_> {
    fn len(&self) -> usize {
        self.bytes.len()
    }

    fn get(&self, index: usize) -> Option<Token> {
        self.bytes.get(index).map(|byte| match byte {
            b'*' => Token::Run,
            b'?' => Token::One,
            byte if self.case_insensitive => Token::Byte(byte.to_ascii_lowercase()),
            byte => Token::Byte(*byte),
        })
    }
}

/// Greedy glob matching with one backtracking point per `*`, linear for typical ARNs.
fn glob_matches<T: Tokens + ?Sized>(tokens: &T, text: &[u8], case_insensitive: bool) -> bool {
    let mut token_index = 0;
    let mut text_index = 0;
    // Where the latest `*` is in the tokens, and where its match in the text ends so far.
    let mut backtrack: Option<(usize, usize)> = None;

    while text_index < text.len() {
        let byte = text[text_index];
        match tokens.get(token_index) {
            Some(Token::Run) => {
                backtrack = Some((token_index, text_index));
                token_index += 1;
                continue;
            }
            Some(Token::One) => {
                token_index += 1;
                text_index += char_width(byte);
                continue;
            }
            Some(Token::Byte(expected)) => {
                let actual = if case_insensitive {
                    byte.to_ascii_lowercase()
                } else {
                    byte
                };
                if expected == actual {
                    token_index += 1;
                    text_index += 1;
                    continue;
                }
            }
            None => {}
        }

        match backtrack {
            Some((star_token, star_text)) => {
                let next = star_text + char_width(text[star_text]);
                backtrack = Some((star_token, next));
                token_index = star_token + 1;
                text_index = next;
            }
            None => return false,
        }
    }

    // `?` may have stepped past the end on a truncated character.
    if text_index > text.len() {
        return false;
    }
    (token_index..tokens.len()).all(|index| tokens.get(index) == Some(Token::Run))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLOB: PatternSyntax = PatternSyntax {
        wildcards: true,
        case_insensitive: false,
        variables: true,
    };
    const ACTION: PatternSyntax = PatternSyntax {
        wildcards: true,
        case_insensitive: true,
        variables: false,
    };

    #[test]
    fn star_crosses_slash_and_colon() {
        let pattern = Pattern::new("arn:aws:s3:::uploads/*/incoming", GLOB);
        assert!(pattern.matches("arn:aws:s3:::uploads/a/b:c/incoming"));
        assert!(pattern.matches("arn:aws:s3:::uploads//incoming"));
        assert!(!pattern.matches("arn:aws:s3:::uploads/a/outgoing"));
        assert!(Pattern::new("arn:*", GLOB).matches("arn:aws:iam::1:role/x"));
    }

    #[test]
    fn question_mark_is_one_character() {
        let pattern = Pattern::new("team-?", GLOB);
        assert!(pattern.matches("team-a"));
        assert!(pattern.matches("team-é"));
        assert!(!pattern.matches("team-"));
        assert!(!pattern.matches("team-ab"));
    }

    #[test]
    fn case_rules() {
        assert!(Pattern::new("S3:Get?bject", ACTION).matches("s3:GetObject"));
        assert!(!Pattern::new("arn:aws:s3:::Bucket/*", GLOB).matches("arn:aws:s3:::bucket/x"));
    }

    #[test]
    fn backtracking_finds_later_match() {
        let pattern = Pattern::new("*ab*abc", GLOB);
        assert!(pattern.matches("xxabyyababc"));
        assert!(!pattern.matches("xxabyyabab"));
        assert!(Pattern::new("a*b?c", GLOB).matches("aXbbYc"));
    }

    #[test]
    fn equals_syntax_has_no_wildcards() {
        let syntax = PatternSyntax {
            wildcards: false,
            ..GLOB
        };
        let pattern = Pattern::new("a*", syntax);
        assert!(pattern.matches("a*"));
        assert!(!pattern.matches("ab"));
    }

    #[test]
    fn variables_resolve_from_context() {
        let pattern = Pattern::new("arn:aws:s3:::home/${aws:username}/*", GLOB);
        let mut context = RequestContext::new();
        context.insert("aws:username", "alice");
        assert_eq!(
            pattern.matches_in("arn:aws:s3:::home/alice/x", &context),
            Truth::True
        );
        assert_eq!(
            pattern.matches_in("arn:aws:s3:::home/bob/x", &context),
            Truth::False
        );
        assert_eq!(
            pattern.matches_in("arn:aws:s3:::home/alice/x", &RequestContext::new()),
            Truth::Unknown
        );
        assert_eq!(
            pattern.matches_in("arn:aws:s3:::home/alice/x", &RequestContext::complete()),
            Truth::False
        );
    }

    #[test]
    fn special_variables_are_literal_characters() {
        let pattern = Pattern::new("a${*}b${?}c${$}", GLOB);
        assert!(pattern.matches("a*b?c$"));
        assert!(!pattern.matches("aXb?c$"));
        assert!(!pattern.has_variables());
    }

    #[test]
    fn variable_default_applies_when_absent() {
        let pattern = Pattern::new("team/${aws:PrincipalTag/team, 'none'}", GLOB);
        assert_eq!(
            pattern.matches_in("team/none", &RequestContext::complete()),
            Truth::True
        );
        let mut context = RequestContext::complete();
        context.insert("aws:principaltag/team", "blue");
        assert_eq!(pattern.matches_in("team/blue", &context), Truth::True);
        assert_eq!(
            pattern.variable_keys().collect::<Vec<_>>(),
            ["aws:principaltag/team"]
        );
    }

    #[test]
    fn variables_are_literal_without_variable_syntax() {
        let syntax = PatternSyntax {
            variables: false,
            ..GLOB
        };
        assert!(Pattern::new("x/${aws:username}", syntax).matches("x/${aws:username}"));
    }

    #[test]
    fn literal_prefix_stops_at_wildcard_or_variable() {
        assert_eq!(
            Pattern::new("arn:aws:iam::1:user/team-?/*", GLOB).literal_prefix(),
            "arn:aws:iam::1:user/team-"
        );
        assert_eq!(
            Pattern::new("home/${aws:username}/x", GLOB).literal_prefix(),
            "home/"
        );
        assert_eq!(Pattern::new("*", GLOB).literal_prefix(), "");
        assert_eq!(Pattern::new("exact", GLOB).literal_prefix(), "exact");
    }

    #[test]
    fn coverage_by_text() {
        let narrow = Pattern::glob("arn:aws:s3:::b/logs/*");
        assert!(narrow.is_covered_by(&Pattern::glob("arn:aws:s3:::b/*")));
        assert!(narrow.is_covered_by(&Pattern::glob("*")));
        assert!(!narrow.is_covered_by(&Pattern::glob("arn:aws:s3:::c/*")));
    }
}
