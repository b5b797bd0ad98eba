//! Checking a profile against the schema before any request: every bad field, and why.

use std::fmt;

use serde_json::{Map, Number, Value};

use super::{Attribute, Kind, ProfileSchema};

/// How the profile will be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A new user: required attributes must be there.
    Create,
    /// A partial update (`POST /users/{id}`): only the given attributes are checked; `null` (or an
    /// empty value) clears one, which a required attribute refuses.
    Update,
    /// A strict update (`PUT /users/{id}`): the profile replaces the old one, so it is checked as a
    /// whole, like a new one.
    Replace,
}

/// What is wrong with one field.
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    /// Missing or empty, and the schema requires it.
    Required,
    /// A partial update clearing a required attribute.
    CannotClear,
    /// Not in the schema. `did_you_mean`: an attribute differing only in case.
    Unknown {
        did_you_mean: Option<String>,
        known: Vec<String>,
    },
    /// `mutability: READ_ONLY`.
    ReadOnly,
    WrongType {
        expected: String,
        found: String,
    },
    NotAllowed {
        value: Value,
        allowed: Vec<Value>,
    },
    TooShort {
        length: u64,
        min: u64,
    },
    TooLong {
        length: u64,
        max: u64,
    },
    BelowMinimum {
        value: Number,
        min: Number,
    },
    AboveMaximum {
        value: Number,
        max: Number,
    },
    NoMatch {
        value: String,
        pattern: String,
    },
    NotEmail {
        value: String,
    },
}

/// One bad field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub problem: Problem,
}

/// Every bad field of a profile: schema attributes in schema order (base, then custom), then
/// unknown ones in input order.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileErrors(pub Vec<FieldError>);

impl ProfileErrors {
    /// The bad fields' names, in order.
    pub fn fields(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.field.as_str()).collect()
    }

    /// Whether every problem is an unknown attribute (the schema in hand may be out of date).
    pub fn only_unknown(&self) -> bool {
        self.0
            .iter()
            .all(|e| matches!(e.problem, Problem::Unknown { .. }))
    }
}

impl ProfileSchema {
    /// Checks `profile` (the `profile` object of a user) for `mode`.
    pub fn validate(&self, profile: &Map<String, Value>, mode: Mode) -> Result<(), ProfileErrors> {
        let mut errors = Vec::new();
        for attr in &self.attributes {
            if let Some(problem) = attribute_problem(attr, profile.get(&attr.name), mode) {
                errors.push(FieldError {
                    field: attr.name.clone(),
                    problem,
                });
            }
        }
        for name in profile.keys().filter(|n| self.attribute(n).is_none()) {
            errors.push(FieldError {
                field: name.clone(),
                problem: self.unknown(name),
            });
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ProfileErrors(errors))
        }
    }

    fn unknown(&self, name: &str) -> Problem {
        let known: Vec<String> = self.attributes.iter().map(|a| a.name.clone()).collect();
        let did_you_mean = known.iter().find(|k| k.eq_ignore_ascii_case(name)).cloned();
        Problem::Unknown {
            did_you_mean,
            known,
        }
    }
}

/// Okta treats `null`, a blank string and an empty array alike: no value.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn attribute_problem(attr: &Attribute, given: Option<&Value>, mode: Mode) -> Option<Problem> {
    match given {
        Some(_) if attr.read_only => Some(Problem::ReadOnly),
        None if attr.required && mode != Mode::Update => Some(Problem::Required),
        None => None,
        Some(v) if is_empty(v) => match (attr.required, mode) {
            (false, _) => None,
            (true, Mode::Update) => Some(Problem::CannotClear),
            (true, _) => Some(Problem::Required),
        },
        Some(v) => value_problem(attr, v),
    }
}

/// The first thing wrong with a non-empty value, in Okta's order: type, enum, length, pattern,
/// format, range.
fn value_problem(attr: &Attribute, v: &Value) -> Option<Problem> {
    let items: Vec<&Value> = match (&attr.kind, v) {
        (Kind::Array(item), Value::Array(items)) => {
            if let Some(bad) = items.iter().find(|i| !has_kind(item, i)) {
                return Some(Problem::WrongType {
                    expected: expected(&attr.kind),
                    found: format!("an array holding {}", a_kind(bad)),
                });
            }
            items.iter().collect()
        }
        (kind, v) if !has_kind(kind, v) => {
            return Some(Problem::WrongType {
                expected: expected(kind),
                found: a_kind(v).to_string(),
            });
        }
        _ => vec![v],
    };
    if !attr.choices.is_empty()
        && let Some(bad) = items
            .iter()
            .find(|i| !attr.choices.iter().any(|c| c.value == ***i))
    {
        return Some(Problem::NotAllowed {
            value: (*bad).clone(),
            allowed: attr.choices.iter().map(|c| c.value.clone()).collect(),
        });
    }
    if let Value::String(s) = v {
        let length = s.chars().count() as u64;
        if let Some(min) = attr.min_length.filter(|m| length < *m) {
            return Some(Problem::TooShort { length, min });
        }
        if let Some(max) = attr.max_length.filter(|m| length > *m) {
            return Some(Problem::TooLong { length, max });
        }
        if let Some(p) = &attr.pattern
            && p.matches(s) == Some(false)
        {
            return Some(Problem::NoMatch {
                value: s.clone(),
                pattern: p.source.clone(),
            });
        }
        if attr.format.as_deref() == Some("email") && !looks_like_email(s) {
            return Some(Problem::NotEmail { value: s.clone() });
        }
    }
    if let Value::Number(n) = v {
        let (x, bound) = (n.as_f64(), |b: &Number| b.as_f64());
        if let Some(min) = attr.minimum.as_ref().filter(|m| x < bound(m)) {
            return Some(Problem::BelowMinimum {
                value: n.clone(),
                min: min.clone(),
            });
        }
        if let Some(max) = attr.maximum.as_ref().filter(|m| x > bound(m)) {
            return Some(Problem::AboveMaximum {
                value: n.clone(),
                max: max.clone(),
            });
        }
    }
    None
}

fn has_kind(kind: &Kind, v: &Value) -> bool {
    match kind {
        Kind::String => v.is_string(),
        Kind::Boolean => v.is_boolean(),
        Kind::Integer => v.is_i64() || v.is_u64(),
        Kind::Number => v.is_number(),
        Kind::Array(_) => v.is_array(),
        Kind::Object => v.is_object(),
        Kind::Other(_) => true,
    }
}

fn expected(kind: &Kind) -> String {
    match kind {
        Kind::Array(item) => format!("an array of {}", plural(item)),
        Kind::Integer => "an integer".to_string(),
        Kind::Object => "an object".to_string(),
        other => format!("a {}", other.json_type()),
    }
}

fn a_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn plural(kind: &Kind) -> String {
    match kind {
        Kind::Integer => "integers".to_string(),
        Kind::Number => "numbers".to_string(),
        Kind::String => "strings".to_string(),
        other => format!("{} values", other.json_type()),
    }
}

/// Okta's email check, loosely: something, `@`, a domain with a dot inside, no spaces.
fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// Values echoed in messages are cut short: an error line must stay readable.
fn short(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

fn short_value(v: &Value) -> String {
    short(&v.to_string())
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Required => write!(f, "required"),
            Problem::CannotClear => write!(f, "required, so it cannot be cleared"),
            Problem::Unknown {
                did_you_mean,
                known,
            } => {
                write!(f, "not an attribute of this org's user profile (")?;
                if let Some(m) = did_you_mean {
                    write!(f, "did you mean {m}? ")?;
                }
                write!(f, "known: {})", known.join(", "))
            }
            Problem::ReadOnly => write!(f, "read-only in this org's user profile"),
            Problem::WrongType { expected, found } => {
                write!(f, "expected {expected}, got {found}")
            }
            Problem::NotAllowed { value, allowed } => {
                let allowed: Vec<String> = allowed.iter().map(Value::to_string).collect();
                write!(
                    f,
                    "{} is not one of {}",
                    short_value(value),
                    allowed.join(", ")
                )
            }
            Problem::TooShort { length, min } => {
                write!(f, "{length} characters, below the minimum length {min}")
            }
            Problem::TooLong { length, max } => {
                write!(f, "{length} characters, above the maximum length {max}")
            }
            Problem::BelowMinimum { value, min } => {
                write!(f, "{value} is below the minimum {min}")
            }
            Problem::AboveMaximum { value, max } => {
                write!(f, "{value} is above the maximum {max}")
            }
            Problem::NoMatch { value, pattern } => {
                write!(f, "{:?} does not match the pattern {pattern}", short(value))
            }
            Problem::NotEmail { value } => {
                write!(f, "{:?} is not an email address", short(value))
            }
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "profile.{}: {}", self.field, self.problem)
    }
}

impl fmt::Display for ProfileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProfileErrors {}
