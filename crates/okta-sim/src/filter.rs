//! Okta filter / search expressions for the simulated org.
//!
//! Why this exists: the simulator has to answer `GET /api/v1/users?filter=|search=`,
//! `GET /api/v1/groups?filter=|search=` and `GET /api/v1/logs?filter=` the way Okta does, both
//! which rows match and which expressions are refused. This module parses an expression once,
//! checks it against the rules of one endpoint ([`Dialect`]) and then evaluates it cheaply
//! against many objects through the [`Lookup`] trait. It depends on `serde_json` only.
//!
//! ```text
//! pub enum Dialect { UserFilter, UserSearch, GroupFilter, GroupSearch, LogFilter }
//! pub struct FilterError { pub message: String, pub kind: FilterErrorKind }
//! pub enum FilterErrorKind { Invalid, UnsupportedCombination }
//! pub struct Expr { .. }                                      // Clone, Debug
//! pub fn parse(input: &str, dialect: Dialect) -> Result<Expr, FilterError>;
//! pub fn normalize_timestamp(s: &str) -> Option<String>;    // -> "YYYY-MM-DDTHH:MM:SS.mmmZ"
//! pub trait Lookup { fn lookup(&self, path: &str) -> Option<serde_json::Value>; }
//! impl Lookup for serde_json::Value                          // dotted path, fans out over arrays
//! impl<F: Fn(&str) -> Option<Value>> Lookup for F            // closures
//! impl Expr {
//!     pub fn matches(&self, obj: &dyn Lookup) -> bool;
//!     pub fn attributes(&self) -> Vec<&str>;                 // referenced paths, deduplicated
//!     pub fn dialect(&self) -> Dialect;
//! }
//! ```
//!
//! Grammar (operators, keywords and `and`/`or`/`not` are case-insensitive; attribute names are
//! case-sensitive dotted paths):
//!
//! ```text
//! or         := and ( "or" and )*
//! and        := unary ( "and" unary )*
//! unary      := "not" "(" or ")" | "(" or ")" | comparison
//! comparison := ATTR "pr" | ATTR OP VALUE        OP = eq ne gt ge lt le sw ew co
//! VALUE      := JSON string | JSON number | true | false | null
//! ```
//!
//! Evaluation rules:
//! * An attribute whose value is an array matches when any element matches (at any level of
//!   the path: `target.id eq "x"` over `target: [{id}, ..]`). `ne` is the negation of `eq`.
//! * `eq null` matches an absent attribute, a JSON `null` or an empty array.
//! * `pr` matches a non-null, non-empty string, a non-empty object, or an array with a present
//!   element.
//! * Strings that both parse as ISO-8601 timestamps (`Z`, or a `±HH:MM` offset, with or without
//!   fractional seconds) compare chronologically at millisecond precision; otherwise strings
//!   compare lexicographically, folded to lower case where the dialect is case-insensitive.
//!   Numbers compare numerically, booleans only with `eq`/`ne`; a type mismatch never matches.
//!
//! Dialect rules (spec = the management OpenAPI `listUsers`/`listGroups`/`listLogEvents` parameter
//! descriptions; docs = developer.okta.com `reference/user-query`, `reference/system-log-query`):
//! * `UserFilter`: status, lastUpdated, id, profile.{login,email,firstName,lastName}; `eq`, plus
//!   gt/ge/lt/le on lastUpdated only; `and`/`or`, no `not`; values case-sensitive (spec).
//! * `UserSearch`: id, status, created, activated, statusChanged, lastUpdated, type.id, profile.*,
//!   and classification.type (EA: `eq` only, alone); eq sw gt ge lt le pr, `co` only on
//!   profile.{firstName,lastName,email,login}; no `ne` (spec); no `ew` (System Log only);
//!   string values case-insensitive (spec).
//! * `GroupFilter`: id, type, lastUpdated, lastMembershipUpdated; `eq`, plus gt/ge/lt/le on the
//!   two dates; no `not`; case-sensitive.
//! * `GroupSearch`: id, created, lastUpdated, lastMembershipUpdated, type, source.id, profile.*;
//!   eq sw gt ge lt le pr, `co` only on profile.name/profile.description; no `ne`/`ew`;
//!   case-insensitive.
//! * `LogFilter`: any path but `published`; all ten operators, except `co` on
//!   debugContext.debugData.url/requestUri; eq/ne/ordering exact, sw/ew/co case-insensitive.
//!
//! `parse` takes the parameter value after URL decoding.
//!
//! Error positions are 0-based character offsets into the input, as in Okta's own messages
//! ("Unrecognized attribute operator 'eqq' at position 16"). [`FilterErrorKind`] separates the
//! operator-and-attribute combinations that the System Log reports as E0000031 from every other
//! invalid filter (E0000053 on `/logs`; users and groups answer E0000031 for both).

use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

// ------------------------------------------------------------------------------------------
// Public API
// ------------------------------------------------------------------------------------------

/// Which endpoint parameter the expression belongs to; each has its own attribute and operator
/// rules (see [`Dialect::operators`] and the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// `GET /api/v1/users?filter=`
    UserFilter,
    /// `GET /api/v1/users?search=`
    UserSearch,
    /// `GET /api/v1/groups?filter=`
    GroupFilter,
    /// `GET /api/v1/groups?search=`
    GroupSearch,
    /// `GET /api/v1/logs?filter=`
    LogFilter,
}

/// What kind of refusal an error is, so callers can pick Okta's error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterErrorKind {
    /// Malformed expression, unknown or unsupported operator, attribute or value.
    Invalid,
    /// Well-formed, but this operator can't be used with this attribute in this dialect
    /// (the System Log answers E0000031 for these rather than E0000053).
    UnsupportedCombination,
}

/// A refused expression; `message` names the offending token and its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    pub message: String,
    pub kind: FilterErrorKind,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FilterError {}

/// Attribute source: the evaluator asks for a dotted path and gets JSON back, so callers need not
/// render whole objects. Return `None` when absent. An array result means "any element".
pub trait Lookup {
    fn lookup(&self, path: &str) -> Option<Value>;
}

/// Walks the dotted path. Where the path crosses an array, every element is searched and all the
/// values found are returned as one JSON array (`target.id` on
/// `{"target":[{"id":"a"},{"id":"b"}]}` gives `["a","b"]`).
impl Lookup for Value {
    fn lookup(&self, path: &str) -> Option<Value> {
        let mut found = Vec::new();
        let mut fanned_out = false;
        walk(self, path, &mut found, &mut fanned_out);
        if found.is_empty() {
            None
        } else if fanned_out {
            Some(Value::Array(found))
        } else {
            found.pop()
        }
    }
}

/// Lets callers pass a closure, e.g. one that reads fields of a struct without building JSON.
impl<F: Fn(&str) -> Option<Value>> Lookup for F {
    fn lookup(&self, path: &str) -> Option<Value> {
        self(path)
    }
}

/// A parsed expression that passed its dialect's checks.
#[derive(Clone, Debug)]
pub struct Expr {
    root: Node,
    dialect: Dialect,
}

impl Expr {
    /// Whether `obj` satisfies the expression.
    pub fn matches(&self, obj: &dyn Lookup) -> bool {
        self.root.eval(obj)
    }

    /// Attributes referenced, in order of first appearance, without duplicates (lets callers
    /// check e.g. whether a search mentions `status`).
    pub fn attributes(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.root.collect_attributes(&mut out);
        out
    }

    /// The dialect the expression was validated for.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}

/// Parses `input` and validates it for `dialect`.
pub fn parse(input: &str, dialect: Dialect) -> Result<Expr, FilterError> {
    let tokens = lex(input)?;
    let end = input.chars().count();
    if tokens.is_empty() {
        return Err(invalid(format!(
            "Empty {} expression: expected at least one comparison such as {}",
            dialect.name(),
            dialect.example()
        )));
    }
    let mut parser = Parser {
        tokens,
        next: 0,
        end,
        dialect,
        depth: 0,
    };
    let mut root = parser.parse_or()?;
    if let Some(tok) = parser.peek() {
        let message = match tok.kind {
            TokKind::RParen => format!("Unmatched ')' at position {}", tok.pos),
            _ => format!(
                "Unexpected '{}' at position {}; expected 'and', 'or' or the end of the expression",
                tok.text, tok.pos
            ),
        };
        return Err(invalid(message));
    }
    dialect.validate(&mut root)?;
    Ok(Expr { root, dialect })
}

/// Normalises an ISO-8601 timestamp to Okta's `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds).
/// Accepts `Z` or a `±HH:MM` / `±HHMM` offset and 0 to 9 fractional digits (beyond milliseconds
/// they are truncated). Returns `None` for anything else, such as a date without a time.
pub fn normalize_timestamp(s: &str) -> Option<String> {
    format_timestamp(parse_timestamp(s)?)
}

impl Dialect {
    /// Human-readable name used in error messages, e.g. "users search".
    pub fn name(self) -> &'static str {
        match self {
            Dialect::UserFilter => "users filter",
            Dialect::UserSearch => "users search",
            Dialect::GroupFilter => "groups filter",
            Dialect::GroupSearch => "groups search",
            Dialect::LogFilter => "System Log filter",
        }
    }

    /// The operators this dialect accepts at all (some only on certain attributes).
    pub fn operators(self) -> &'static [&'static str] {
        match self {
            Dialect::UserFilter | Dialect::GroupFilter => &["eq", "gt", "ge", "lt", "le"],
            Dialect::UserSearch | Dialect::GroupSearch => {
                &["eq", "co", "sw", "pr", "gt", "ge", "lt", "le"]
            }
            Dialect::LogFilter => &["eq", "ne", "co", "sw", "ew", "pr", "gt", "ge", "lt", "le"],
        }
    }

    /// Whether the logical `not` is accepted.
    pub fn allows_not(self) -> bool {
        !matches!(self, Dialect::UserFilter | Dialect::GroupFilter)
    }

    fn example(self) -> &'static str {
        match self {
            Dialect::UserFilter | Dialect::UserSearch => "status eq \"ACTIVE\"",
            Dialect::GroupFilter | Dialect::GroupSearch => "type eq \"OKTA_GROUP\"",
            Dialect::LogFilter => "eventType eq \"user.session.start\"",
        }
    }

    /// Checks the whole tree and prepares each comparison for evaluation (case folding, dates).
    fn validate(self, root: &mut Node) -> Result<(), FilterError> {
        let single_term = matches!(root, Node::Cmp(_));
        self.validate_node(root, single_term)
    }

    fn validate_node(self, node: &mut Node, single_term: bool) -> Result<(), FilterError> {
        match node {
            Node::And(items) | Node::Or(items) => items
                .iter_mut()
                .try_for_each(|n| self.validate_node(n, single_term)),
            Node::Not(inner, pos) => {
                if !self.allows_not() {
                    return Err(invalid(format!(
                        "The 'not' operator at position {pos} isn't supported in a {}; only 'and' and 'or' are",
                        self.name()
                    )));
                }
                self.validate_node(inner, single_term)
            }
            Node::Cmp(cmp) => self.validate_comparison(cmp, single_term),
        }
    }

    fn validate_comparison(self, c: &mut Comparison, single_term: bool) -> Result<(), FilterError> {
        // 1. The attribute.
        if let Err(why) = self.check_attribute(&c.attr) {
            return Err(invalid(format!(
                "Invalid attribute '{}' at position {} in a {}: {why}",
                c.attr,
                c.attr_pos,
                self.name()
            )));
        }
        // 2. The operator, on its own and with this attribute.
        if !self.operators().contains(&c.op.as_str()) {
            return Err(invalid(format!(
                "The '{}' operator at position {} isn't supported in a {}. Supported: {}",
                c.op.as_str(),
                c.op_pos,
                self.name(),
                self.operators().join(",")
            )));
        }
        if let Err(why) = self.check_combination(&c.attr, c.op) {
            return Err(FilterError {
                message: format!(
                    "The supplied combination of operator and field is not currently supported. \
                     Operator: {}, Field: {} (position {}): {why}",
                    c.op.as_str(),
                    c.attr,
                    c.op_pos
                ),
                kind: FilterErrorKind::UnsupportedCombination,
            });
        }
        if c.attr == "classification.type" && !single_term {
            return Err(invalid(format!(
                "'classification.type' at position {} can't be combined with other search terms",
                c.attr_pos
            )));
        }
        // 3. The value's type against the operator.
        let value_pos = c.value_pos;
        let op = c.op;
        match (&c.value, op) {
            (None, _) => {}
            (Some(Literal::Str(_)), _) => {}
            (Some(lit), Op::Sw | Op::Ew | Op::Co) => {
                return Err(invalid(format!(
                    "The '{}' operator needs a quoted string value; found {} at position {value_pos}",
                    op.as_str(),
                    lit.describe()
                )));
            }
            (Some(lit @ (Literal::Null | Literal::Bool(_))), Op::Gt | Op::Ge | Op::Lt | Op::Le) => {
                return Err(invalid(format!(
                    "The '{}' operator can't compare with {} (position {value_pos}); use a string, date or number",
                    op.as_str(),
                    lit.describe()
                )));
            }
            _ => {}
        }
        // 4. Dates: a known date attribute compared with eq/ne/gt/ge/lt/le needs a valid
        //    timestamp; any other string literal that is a timestamp compares as a date too.
        if let Some(Literal::Str(s)) = &c.value {
            c.date = parse_timestamp(s);
            let date_comparison = matches!(op, Op::Eq | Op::Ne) || op.is_ordering();
            if c.date.is_none() && date_comparison && is_date_attribute(&c.attr) {
                return Err(invalid(format!(
                    "Invalid date \"{s}\" for attribute '{}' at position {value_pos}: use ISO-8601 \
                     such as 2013-06-01T00:00:00.000Z",
                    c.attr
                )));
            }
        } else if is_date_attribute(&c.attr) && op.is_ordering() {
            return Err(invalid(format!(
                "Attribute '{}' is a date: compare it with a quoted ISO-8601 timestamp (position {value_pos})",
                c.attr
            )));
        }
        // 5. Case folding, done once here rather than per row.
        c.fold = self.case_insensitive(op);
        match &mut c.value {
            Some(Literal::Str(s)) if c.fold => *s = s.to_lowercase(),
            _ => {}
        }
        Ok(())
    }

    /// Whether `attr` may be used at all.
    fn check_attribute(self, attr: &str) -> Result<(), String> {
        let allowed: &[&str] = match self {
            Dialect::UserFilter => &[
                "status",
                "lastUpdated",
                "id",
                "profile.login",
                "profile.email",
                "profile.firstName",
                "profile.lastName",
            ],
            Dialect::UserSearch => {
                if is_profile_path(attr) {
                    return Ok(());
                }
                &[
                    "id",
                    "status",
                    "created",
                    "activated",
                    "statusChanged",
                    "lastUpdated",
                    "type.id",
                    "classification.type",
                ]
            }
            Dialect::GroupFilter => &["id", "type", "lastUpdated", "lastMembershipUpdated"],
            Dialect::GroupSearch => {
                if is_profile_path(attr) {
                    return Ok(());
                }
                &[
                    "id",
                    "created",
                    "lastUpdated",
                    "lastMembershipUpdated",
                    "type",
                    "source.id",
                ]
            }
            Dialect::LogFilter => {
                if attr == "published" {
                    return Err(
                        "'published' can't be used in a filter because it would conflict \
                                with since, until and after; use those parameters instead"
                            .to_string(),
                    );
                }
                return Ok(());
            }
        };
        if allowed.contains(&attr) {
            return Ok(());
        }
        let profile = matches!(self, Dialect::UserSearch | Dialect::GroupSearch);
        Err(format!(
            "supported attributes are {}{}",
            allowed.join(", "),
            if profile { " and profile.*" } else { "" }
        ))
    }

    /// Whether `op` may be used with `attr` (both already known to be allowed on their own).
    fn check_combination(self, attr: &str, op: Op) -> Result<(), String> {
        match self {
            Dialect::UserFilter if op.is_ordering() && attr != "lastUpdated" => {
                Err("only lastUpdated accepts gt, ge, lt and le; other attributes accept eq".into())
            }
            Dialect::GroupFilter
                if op.is_ordering() && attr != "lastUpdated" && attr != "lastMembershipUpdated" =>
            {
                Err(
                    "only lastUpdated and lastMembershipUpdated accept gt, ge, lt and le; other \
                     attributes accept eq"
                        .into(),
                )
            }
            Dialect::UserSearch if op == Op::Co => {
                const CO: [&str; 4] = [
                    "profile.firstName",
                    "profile.lastName",
                    "profile.email",
                    "profile.login",
                ];
                if CO.contains(&attr) {
                    Ok(())
                } else {
                    Err(format!("co can only be used with {}", CO.join(", ")))
                }
            }
            Dialect::UserSearch if attr == "classification.type" && op != Op::Eq => {
                Err("classification.type only accepts eq".into())
            }
            Dialect::GroupSearch if op == Op::Co => {
                if attr == "profile.name" || attr == "profile.description" {
                    Ok(())
                } else {
                    Err("co can only be used with profile.name and profile.description".into())
                }
            }
            Dialect::LogFilter
                if op == Op::Co
                    && (attr == "debugContext.debugData.url"
                        || attr == "debugContext.debugData.requestUri") =>
            {
                Err("co can't be used with debugContext.debugData.url or requestUri".into())
            }
            _ => Ok(()),
        }
    }

    /// Whether string comparisons with `op` ignore case.
    fn case_insensitive(self, op: Op) -> bool {
        match self {
            // "Filtering is case-sensitive for property names and query values" (spec, listUsers).
            Dialect::UserFilter | Dialect::GroupFilter => false,
            // "operators (`eq`, `sw`, and so on) and string values are case insensitive" (spec).
            Dialect::UserSearch | Dialect::GroupSearch => true,
            Dialect::LogFilter => matches!(op, Op::Sw | Op::Ew | Op::Co),
        }
    }
}

// ------------------------------------------------------------------------------------------
// Syntax tree and evaluation
// ------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Sw,
    Ew,
    Co,
    Pr,
}

impl Op {
    fn from_word(w: &str) -> Option<Op> {
        const ALL: [Op; 10] = [
            Op::Eq,
            Op::Ne,
            Op::Gt,
            Op::Ge,
            Op::Lt,
            Op::Le,
            Op::Sw,
            Op::Ew,
            Op::Co,
            Op::Pr,
        ];
        ALL.into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(w))
    }

    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
            Op::Sw => "sw",
            Op::Ew => "ew",
            Op::Co => "co",
            Op::Pr => "pr",
        }
    }

    fn is_ordering(self) -> bool {
        matches!(self, Op::Gt | Op::Ge | Op::Lt | Op::Le)
    }

    /// For eq and the ordering operators: whether `ord` (actual vs literal) satisfies `self`.
    fn accepts(self, ord: Ordering) -> bool {
        match self {
            Op::Eq => ord == Ordering::Equal,
            Op::Gt => ord == Ordering::Greater,
            Op::Ge => ord != Ordering::Less,
            Op::Lt => ord == Ordering::Less,
            Op::Le => ord != Ordering::Greater,
            _ => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Literal {
    Null,
    Bool(bool),
    Num(f64),
    /// Lower-cased during validation when the comparison is case-insensitive.
    Str(String),
}

impl Literal {
    fn describe(&self) -> String {
        match self {
            Literal::Null => "null".into(),
            Literal::Bool(b) => b.to_string(),
            Literal::Num(n) => format!("the number {n}"),
            Literal::Str(s) => format!("\"{s}\""),
        }
    }
}

#[derive(Clone, Debug)]
struct Comparison {
    attr: String,
    attr_pos: usize,
    op: Op,
    op_pos: usize,
    /// `None` only for `pr`.
    value: Option<Literal>,
    value_pos: usize,
    /// Compare strings case-insensitively (the literal is already lower-cased).
    fold: bool,
    /// The literal as epoch milliseconds, when it is a timestamp.
    date: Option<i64>,
}

#[derive(Clone, Debug)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    /// The inner expression and the position of the `not` keyword.
    Not(Box<Node>, usize),
    Cmp(Comparison),
}

impl Node {
    fn eval(&self, obj: &dyn Lookup) -> bool {
        match self {
            Node::And(items) => items.iter().all(|n| n.eval(obj)),
            Node::Or(items) => items.iter().any(|n| n.eval(obj)),
            Node::Not(inner, _) => !inner.eval(obj),
            Node::Cmp(c) => c.eval(obj),
        }
    }

    fn collect_attributes<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Node::And(items) | Node::Or(items) => {
                items.iter().for_each(|n| n.collect_attributes(out))
            }
            Node::Not(inner, _) => inner.collect_attributes(out),
            Node::Cmp(c) => {
                if !out.contains(&c.attr.as_str()) {
                    out.push(&c.attr);
                }
            }
        }
    }
}

impl Comparison {
    fn eval(&self, obj: &dyn Lookup) -> bool {
        let actual = obj.lookup(&self.attr);
        match self.op {
            Op::Pr => actual.as_ref().is_some_and(is_present),
            Op::Eq => self.equals(actual.as_ref()),
            Op::Ne => !self.equals(actual.as_ref()),
            _ => actual.as_ref().is_some_and(|v| self.test_any(v)),
        }
    }

    fn equals(&self, actual: Option<&Value>) -> bool {
        match (&self.value, actual) {
            (Some(Literal::Null), None) => true,
            (Some(Literal::Null), Some(v)) => match v {
                Value::Null => true,
                Value::Array(items) => items.is_empty(),
                _ => false,
            },
            (_, None) => false,
            (_, Some(v)) => self.test_any(v),
        }
    }

    /// Arrays match when any element does, however deeply nested.
    fn test_any(&self, v: &Value) -> bool {
        match v {
            Value::Array(items) => items.iter().any(|x| self.test_any(x)),
            _ => self.test_scalar(v),
        }
    }

    fn test_scalar(&self, v: &Value) -> bool {
        // `ne` is evaluated as "not eq", so the operators seen here are eq, ordering, sw/ew/co.
        let op = if self.op == Op::Ne { Op::Eq } else { self.op };
        match (&self.value, v) {
            (Some(Literal::Bool(b)), Value::Bool(a)) => op == Op::Eq && a == b,
            (Some(Literal::Num(n)), Value::Number(a)) => a
                .as_f64()
                .and_then(|a| a.partial_cmp(n))
                .is_some_and(|ord| op.accepts(ord)),
            (Some(Literal::Str(lit)), Value::String(a)) => self.test_str(op, a, lit),
            _ => false,
        }
    }

    fn test_str(&self, op: Op, actual: &str, lit: &str) -> bool {
        let dates = match self.date {
            Some(lit_ms) if op == Op::Eq || op.is_ordering() => {
                parse_timestamp(actual).map(|actual_ms| actual_ms.cmp(&lit_ms))
            }
            _ => None,
        };
        if let Some(ord) = dates {
            return op.accepts(ord);
        }
        let actual = if self.fold {
            fold_case(actual)
        } else {
            Cow::Borrowed(actual)
        };
        match op {
            Op::Sw => actual.starts_with(lit),
            Op::Ew => actual.ends_with(lit),
            Op::Co => actual.contains(lit),
            _ => op.accepts(actual.as_ref().cmp(lit)),
        }
    }
}

fn fold_case(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_uppercase) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(map) => !map.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Top-level timestamp attributes of users, groups and log events.
fn is_date_attribute(attr: &str) -> bool {
    matches!(
        attr,
        "created"
            | "activated"
            | "statusChanged"
            | "lastUpdated"
            | "lastLogin"
            | "passwordChanged"
            | "lastMembershipUpdated"
            | "published"
    )
}

fn is_profile_path(attr: &str) -> bool {
    attr.strip_prefix("profile.")
        .is_some_and(|rest| !rest.is_empty())
}

fn walk(v: &Value, path: &str, found: &mut Vec<Value>, fanned_out: &mut bool) {
    match v {
        Value::Array(items) => {
            *fanned_out = true;
            for item in items {
                walk(item, path, found, fanned_out);
            }
        }
        Value::Object(map) => {
            let (head, rest) = match path.split_once('.') {
                Some((head, rest)) => (head, Some(rest)),
                None => (path, None),
            };
            match (map.get(head), rest) {
                (Some(child), None) => found.push(child.clone()),
                (Some(child), Some(rest)) => walk(child, rest, found, fanned_out),
                (None, _) => {}
            }
        }
        _ => {}
    }
}

// ------------------------------------------------------------------------------------------
// Lexer
// ------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum TokKind {
    LParen,
    RParen,
    /// A decoded JSON string literal.
    Str(String),
    /// Anything else up to whitespace, a parenthesis or a quote: attribute, operator, keyword,
    /// number, true/false/null.
    Word,
}

#[derive(Clone, Debug)]
struct Token<'a> {
    kind: TokKind,
    /// The token as written.
    text: &'a str,
    /// 0-based character position.
    pos: usize,
}

fn lex(input: &str) -> Result<Vec<Token<'_>>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    let mut pos = 0; // character position of the next char
    while let Some(&(start, c)) = chars.peek() {
        let start_pos = pos;
        chars.next();
        pos += 1;
        let (kind, end) = match c {
            _ if c.is_whitespace() => continue,
            '(' => (TokKind::LParen, start + 1),
            ')' => (TokKind::RParen, start + 1),
            '"' => {
                let mut escaped = false;
                let mut close = None;
                for (i, ch) in chars.by_ref() {
                    pos += 1;
                    if escaped {
                        escaped = false;
                    } else if ch == '\\' {
                        escaped = true;
                    } else if ch == '"' {
                        close = Some(i);
                        break;
                    }
                }
                let Some(close) = close else {
                    return Err(invalid(format!(
                        "Unterminated string literal starting at position {start_pos}: add the closing '\"'"
                    )));
                };
                let raw = &input[start..=close];
                let value: String = serde_json::from_str(raw).map_err(|_| {
                    invalid(format!(
                        "Invalid string literal {raw} at position {start_pos}: it must be a valid JSON \
                         string (escape '\"' and '\\' with a backslash)"
                    ))
                })?;
                (TokKind::Str(value), close + 1)
            }
            _ => {
                let mut end = input.len();
                while let Some(&(i, ch)) = chars.peek() {
                    if ch.is_whitespace() || matches!(ch, '(' | ')' | '"') {
                        end = i;
                        break;
                    }
                    chars.next();
                    pos += 1;
                }
                (TokKind::Word, end)
            }
        };
        tokens.push(Token {
            kind,
            text: &input[start..end],
            pos: start_pos,
        });
    }
    Ok(tokens)
}

// ------------------------------------------------------------------------------------------
// Parser
// ------------------------------------------------------------------------------------------

/// Deepest nesting of parentheses / `not` accepted, so hostile input can't exhaust the stack.
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    next: usize,
    /// Character length of the input, reported as the position of "end of expression".
    end: usize,
    dialect: Dialect,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.next)
    }

    fn bump(&mut self) -> Option<Token<'a>> {
        let tok = self.tokens.get(self.next).cloned();
        self.next += 1;
        tok
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        self.peek()
            .is_some_and(|t| t.kind == TokKind::Word && t.text.eq_ignore_ascii_case(kw))
    }

    fn parse_or(&mut self) -> Result<Node, FilterError> {
        let mut items = vec![self.parse_and()?];
        while self.peek_keyword("or") {
            self.bump();
            items.push(self.parse_and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Node::Or(items)
        })
    }

    fn parse_and(&mut self) -> Result<Node, FilterError> {
        let mut items = vec![self.parse_unary()?];
        while self.peek_keyword("and") {
            self.bump();
            items.push(self.parse_unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Node::And(items)
        })
    }

    fn parse_unary(&mut self) -> Result<Node, FilterError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(invalid(format!(
                "Unexpected end of expression at position {}: expected an attribute name, 'not' or '('",
                self.end
            )));
        };
        match &tok.kind {
            TokKind::LParen => self.parse_group(),
            TokKind::Word if tok.text.eq_ignore_ascii_case("not") => {
                self.bump();
                if !matches!(self.peek().map(|t| &t.kind), Some(TokKind::LParen)) {
                    return Err(invalid(format!(
                        "'not' at position {} must be followed by a parenthesised expression, \
                         e.g. not ({})",
                        tok.pos,
                        self.dialect.example()
                    )));
                }
                Ok(Node::Not(Box::new(self.parse_group()?), tok.pos))
            }
            TokKind::Word
                if tok.text.eq_ignore_ascii_case("and") || tok.text.eq_ignore_ascii_case("or") =>
            {
                Err(invalid(format!(
                    "Unexpected '{}' at position {}: expected an attribute name, 'not' or '(' before it",
                    tok.text, tok.pos
                )))
            }
            TokKind::Word => self.parse_comparison(),
            TokKind::RParen | TokKind::Str(_) => Err(invalid(format!(
                "Unexpected '{}' at position {}: expected an attribute name, 'not' or '('",
                tok.text, tok.pos
            ))),
        }
    }

    /// `"(" or ")"`, with the opening parenthesis next.
    fn parse_group(&mut self) -> Result<Node, FilterError> {
        let open = self.bump().map_or(self.end, |t| t.pos);
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(invalid(format!(
                "Expression nested too deeply at position {open} (more than {MAX_DEPTH} levels)"
            )));
        }
        let inner = self.parse_or()?;
        self.depth -= 1;
        match self.bump() {
            Some(Token {
                kind: TokKind::RParen,
                ..
            }) => Ok(inner),
            Some(tok) => Err(invalid(format!(
                "Unexpected '{}' at position {}: expected 'and', 'or' or ')' to close the '(' at position {open}",
                tok.text, tok.pos
            ))),
            None => Err(invalid(format!(
                "Missing ')' to close the '(' at position {open}"
            ))),
        }
    }

    fn parse_comparison(&mut self) -> Result<Node, FilterError> {
        let attr_tok = self.bump().expect("parse_unary checked there is a token");
        let attr = attr_tok.text;
        if !is_valid_attribute_name(attr) {
            return Err(invalid(format!(
                "Invalid attribute name '{attr}' at position {}: expected a dotted path such as profile.login",
                attr_tok.pos
            )));
        }

        let op_tok = match self.bump() {
            Some(t) if t.kind == TokKind::Word => t,
            Some(t) => {
                return Err(invalid(format!(
                    "Expected an operator after attribute '{attr}' but found '{}' at position {}",
                    t.text, t.pos
                )));
            }
            None => {
                return Err(invalid(format!(
                    "Missing operator after attribute '{attr}' at position {}",
                    self.end
                )));
            }
        };
        let Some(op) = Op::from_word(op_tok.text) else {
            return Err(invalid(format!(
                "Unrecognized attribute operator '{}' at position {}. Expected: {}",
                op_tok.text,
                op_tok.pos,
                self.dialect.operators().join(",")
            )));
        };

        let mut cmp = Comparison {
            attr: attr.to_string(),
            attr_pos: attr_tok.pos,
            op,
            op_pos: op_tok.pos,
            value: None,
            value_pos: op_tok.pos,
            fold: false,
            date: None,
        };

        if op == Op::Pr {
            if let Some(t) = self.peek() {
                let is_value = match &t.kind {
                    TokKind::Str(_) => true,
                    TokKind::Word => word_literal(t.text).is_some(),
                    _ => false,
                };
                if is_value {
                    return Err(invalid(format!(
                        "The 'pr' operator at position {} takes no value, but '{}' follows at position {}",
                        op_tok.pos, t.text, t.pos
                    )));
                }
            }
            return Ok(Node::Cmp(cmp));
        }

        let value_tok = match self.bump() {
            Some(t) if matches!(t.kind, TokKind::Str(_) | TokKind::Word) => t,
            Some(t) => {
                return Err(invalid(format!(
                    "Missing value after operator '{}' at position {}: found '{}' at position {}",
                    op_tok.text, op_tok.pos, t.text, t.pos
                )));
            }
            None => {
                return Err(invalid(format!(
                    "Missing value after operator '{}' at position {}",
                    op_tok.text, op_tok.pos
                )));
            }
        };
        cmp.value_pos = value_tok.pos;
        cmp.value = Some(match value_tok.kind {
            TokKind::Str(s) => Literal::Str(s),
            _ => word_literal(value_tok.text).ok_or_else(|| {
                invalid(format!(
                    "Invalid value '{}' at position {}: strings must be double-quoted; other values \
                     are numbers, true, false or null",
                    value_tok.text, value_tok.pos
                ))
            })?,
        });
        Ok(Node::Cmp(cmp))
    }
}

/// `true`, `false`, `null` or a JSON number.
fn word_literal(w: &str) -> Option<Literal> {
    match w {
        "true" => Some(Literal::Bool(true)),
        "false" => Some(Literal::Bool(false)),
        "null" => Some(Literal::Null),
        _ if w.starts_with(|c: char| c == '-' || c.is_ascii_digit()) => {
            serde_json::from_str::<serde_json::Number>(w)
                .ok()
                .and_then(|n| n.as_f64())
                .map(Literal::Num)
        }
        _ => None,
    }
}

/// Dot-separated segments of ASCII letters, digits and `_`, not starting with a digit.
fn is_valid_attribute_name(s: &str) -> bool {
    !s.starts_with(|c: char| c.is_ascii_digit())
        && s.split('.').all(|seg| {
            !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn invalid(message: String) -> FilterError {
    FilterError {
        message,
        kind: FilterErrorKind::Invalid,
    }
}

// ------------------------------------------------------------------------------------------
// Timestamps (no time crate: civil-date arithmetic on epoch milliseconds)
// ------------------------------------------------------------------------------------------

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)` to milliseconds since the Unix epoch.
fn parse_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || !s.is_ascii() {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let digits = &b[from..to];
        if digits.iter().all(u8::is_ascii_digit) {
            Some(
                digits
                    .iter()
                    .fold(0, |acc, d| acc * 10 + i64::from(d - b'0')),
            )
        } else {
            None
        }
    };
    let seps_ok = b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b't')
        && b[13] == b':'
        && b[16] == b':';
    if !seps_ok {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }

    let mut i = 19;
    let mut millis = 0;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let n = i - start;
        if n == 0 || n > 9 {
            return None;
        }
        let ms_digits = n.min(3);
        millis = num(start, start + ms_digits)? * 10_i64.pow(3 - ms_digits as u32);
    }

    let offset_minutes = match &s[i..] {
        "Z" | "z" => 0,
        zone => {
            let zb = zone.as_bytes();
            let sign = match zb.first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let (h, m) = match zb.len() {
                6 if zb[3] == b':' => (num(i + 1, i + 3)?, num(i + 4, i + 6)?),
                5 => (num(i + 1, i + 3)?, num(i + 3, i + 5)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 60 + m)
        }
    };

    let days = days_from_civil(year, month, day);
    let seconds = ((days * 24 + hour) * 60 + minute - offset_minutes) * 60 + second;
    Some(seconds * 1000 + millis)
}

fn format_timestamp(ms: i64) -> Option<String> {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    ))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

// ------------------------------------------------------------------------------------------
// Tests
// ------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(input: &str, d: Dialect) -> Expr {
        parse(input, d).unwrap_or_else(|e| panic!("{input:?} should parse for {d:?}: {e}"))
    }

    fn err(input: &str, d: Dialect) -> FilterError {
        match parse(input, d) {
            Ok(e) => panic!("{input:?} should be refused for {d:?}, got {e:?}"),
            Err(e) => e,
        }
    }

    fn log_matches(input: &str, obj: &Value) -> bool {
        p(input, Dialect::LogFilter).matches(obj)
    }

    fn user() -> Value {
        json!({
            "id": "00u1ero7vZFVEIYLWPBN",
            "status": "ACTIVE",
            "created": "2013-07-02T21:36:25.344Z",
            "activated": null,
            "statusChanged": "2013-07-02T21:36:25Z",
            "lastUpdated": "2013-07-02T21:36:25.344Z",
            "type": {"id": "otyfnjfba4ye7pgjB0g4"},
            "profile": {
                "firstName": "Isaac",
                "lastName": "Brock",
                "email": "Isaac.Brock@example.com",
                "login": "isaac.brock@example.com",
                "department": "Engineering",
                "nickName": "",
                "tags": ["a", "B", "c"],
                "scores": [1, 2, 3],
                "manager": null,
                "employeeNumber": 42,
                "vip": true
            }
        })
    }

    fn event() -> Value {
        json!({
            "uuid": "f24790d0-d324-47f8-aac5-c27a31ab928d",
            "published": "2017-09-17T15:41:12.994Z",
            "eventType": "user.session.start",
            "severity": "INFO",
            "displayMessage": "User login to Okta",
            "actor": {"id": "00uxc78lMKUMVIHLTAXY", "type": "User", "alternateId": "jane@example.com"},
            "outcome": {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"},
            "client": {"ipAddress": "184.73.186.14", "geographicalContext": {"geolocation": {"lat": 37.5, "lon": -122.3}}},
            "target": [
                {"id": "00uxc78lMKUMVIHLTAXY", "type": "User", "detailEntry": {"tags": ["x", "y"]}},
                {"id": "0oabe82gnXOFVCDUMVAK", "type": "AppInstance", "detailEntry": {"tags": ["z"]}}
            ],
            "debugContext": {"debugData": {"requestId": "reqVy8wsvmBQN27h4soUE3ZEnA", "url": "/api/v1/users?limit=2"}},
            "transaction": {"type": "WEB", "id": "WcKPxq1f8QLfFvv3UPHhhgAACGM", "detail": {}}
        })
    }

    // ---- operators ----------------------------------------------------------------------

    #[test]
    fn eq_and_ne() {
        let e = event();
        assert!(log_matches(r#"eventType eq "user.session.start""#, &e));
        assert!(!log_matches(r#"eventType eq "user.session.end""#, &e));
        assert!(log_matches(r#"eventType ne "user.session.end""#, &e));
        assert!(!log_matches(r#"eventType ne "user.session.start""#, &e));
        // ne on an absent attribute matches (it is "not eq").
        assert!(log_matches(r#"missing.attr ne "x""#, &e));
        assert!(!log_matches(r#"missing.attr eq "x""#, &e));
    }

    #[test]
    fn ordering_operators_on_strings() {
        let e = event();
        assert!(log_matches(r#"severity gt "ERROR""#, &e)); // "INFO" > "ERROR"
        assert!(!log_matches(r#"severity gt "INFO""#, &e));
        assert!(log_matches(r#"severity ge "INFO""#, &e));
        assert!(!log_matches(r#"severity ge "WARN""#, &e));
        assert!(log_matches(r#"severity lt "WARN""#, &e));
        assert!(!log_matches(r#"severity lt "INFO""#, &e));
        assert!(log_matches(r#"severity le "INFO""#, &e));
        assert!(!log_matches(r#"severity le "DEBUG""#, &e));
    }

    #[test]
    fn ordering_operators_on_numbers() {
        let e = event();
        assert!(log_matches(
            "client.geographicalContext.geolocation.lat gt 37",
            &e
        ));
        assert!(!log_matches(
            "client.geographicalContext.geolocation.lat gt 37.5",
            &e
        ));
        assert!(log_matches(
            "client.geographicalContext.geolocation.lat ge 37.5",
            &e
        ));
        assert!(log_matches(
            "client.geographicalContext.geolocation.lon lt -122",
            &e
        ));
        assert!(!log_matches(
            "client.geographicalContext.geolocation.lon le -123",
            &e
        ));
        assert!(log_matches(
            "client.geographicalContext.geolocation.lat eq 37.5",
            &e
        ));
        assert!(log_matches(
            "client.geographicalContext.geolocation.lat eq 3.75e1",
            &e
        ));
    }

    #[test]
    fn sw_ew_co() {
        let e = event();
        assert!(log_matches(r#"eventType sw "user.session""#, &e));
        assert!(!log_matches(r#"eventType sw "session""#, &e));
        assert!(log_matches(r#"eventType ew "start""#, &e));
        assert!(!log_matches(r#"eventType ew "user""#, &e));
        assert!(log_matches(r#"eventType co "session""#, &e));
        assert!(!log_matches(r#"eventType co "token""#, &e));
        // "This criterion is satisfied if the two strings are identical."
        assert!(log_matches(r#"eventType sw "user.session.start""#, &e));
    }

    #[test]
    fn pr_present() {
        let u = user();
        let d = Dialect::UserSearch;
        assert!(p("profile.department pr", d).matches(&u));
        assert!(!p("profile.nickName pr", d).matches(&u)); // empty string
        assert!(!p("profile.manager pr", d).matches(&u)); // null
        assert!(!p("profile.missing pr", d).matches(&u)); // absent
        assert!(p("profile.tags pr", d).matches(&u));
        assert!(p("profile.vip pr", d).matches(&u));
        assert!(!p("profile.empty pr", d).matches(&json!({"profile": {"empty": []}})));
        assert!(!p("profile.obj pr", d).matches(&json!({"profile": {"obj": {}}})));
        assert!(p("profile.obj pr", d).matches(&json!({"profile": {"obj": {"k": 1}}})));
        assert!(log_matches("debugContext.debugData pr", &event()));
        assert!(!log_matches("transaction.detail pr", &event()));
    }

    #[test]
    fn operators_and_keywords_are_case_insensitive() {
        let e = event();
        assert!(log_matches(r#"eventType EQ "user.session.start""#, &e));
        assert!(log_matches(r#"eventType Sw "user""#, &e));
        assert!(log_matches(
            r#"eventType eq "x" OR severity eq "INFO" AND actor.type eq "User""#,
            &e
        ));
        assert!(!log_matches(
            r#"NOT (eventType eq "user.session.start")"#,
            &e
        ));
        assert!(log_matches("debugContext PR", &e));
    }

    #[test]
    fn attribute_names_are_case_sensitive() {
        let e = event();
        assert!(!log_matches(r#"eventtype eq "user.session.start""#, &e));
        let err = err(r#"Status eq "ACTIVE""#, Dialect::UserFilter);
        assert!(err.message.contains("'Status'"), "{}", err.message);
    }

    #[test]
    fn bool_null_and_number_values() {
        let u = user();
        let d = Dialect::UserSearch;
        assert!(p("profile.vip eq true", d).matches(&u));
        assert!(!p("profile.vip eq false", d).matches(&u));
        assert!(p("profile.employeeNumber eq 42", d).matches(&u));
        assert!(!p("profile.employeeNumber eq 43", d).matches(&u));
        // Type mismatch never matches.
        assert!(!p(r#"profile.employeeNumber eq "42""#, d).matches(&u));
        assert!(!p(r#"profile.vip eq "true""#, d).matches(&u));
        assert!(!p("profile.department eq 1", d).matches(&u));
        // null: absent, JSON null or empty array.
        assert!(p("profile.manager eq null", d).matches(&u));
        assert!(p("profile.missing eq null", d).matches(&u));
        assert!(!p("profile.department eq null", d).matches(&u));
        assert!(p("activated eq null", d).matches(&u));
        assert!(!p("created eq null", d).matches(&u));
    }

    // ---- logic --------------------------------------------------------------------------

    fn abc(a: i64, b: i64, c: i64) -> Value {
        json!({"a": a, "b": b, "c": c})
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let e = p("a eq 1 or b eq 1 and c eq 1", Dialect::LogFilter);
        assert!(e.matches(&abc(1, 0, 0))); // a or (b and c)
        assert!(!e.matches(&abc(0, 1, 0)));
        assert!(e.matches(&abc(0, 1, 1)));
        let e = p("a eq 1 and b eq 1 or c eq 1", Dialect::LogFilter);
        assert!(e.matches(&abc(0, 0, 1))); // (a and b) or c
        assert!(!e.matches(&abc(1, 0, 0)));
    }

    #[test]
    fn parentheses_override_precedence() {
        let e = p("(a eq 1 or b eq 1) and c eq 1", Dialect::LogFilter);
        assert!(!e.matches(&abc(1, 0, 0)));
        assert!(e.matches(&abc(1, 0, 1)));
        assert!(e.matches(&abc(0, 1, 1)));
        let e = p("((a eq 1))", Dialect::LogFilter);
        assert!(e.matches(&abc(1, 0, 0)));
        assert!(!e.matches(&abc(2, 0, 0)));
    }

    #[test]
    fn not_negates_a_group_and_binds_tightest() {
        let e = p("not (a eq 1) and b eq 1", Dialect::LogFilter);
        assert!(e.matches(&abc(0, 1, 0)));
        assert!(!e.matches(&abc(1, 1, 0)));
        let e = p("not (a eq 1 or b eq 1)", Dialect::LogFilter);
        assert!(e.matches(&abc(0, 0, 0)));
        assert!(!e.matches(&abc(0, 1, 0)));
        let e = p("not (not (a eq 1))", Dialect::LogFilter);
        assert!(e.matches(&abc(1, 0, 0)));
        assert!(!e.matches(&abc(0, 0, 0)));
    }

    #[test]
    fn no_space_needed_around_parentheses_and_quotes() {
        let e = p(r#"(a eq 1)and(b eq"x")"#, Dialect::LogFilter);
        assert!(e.matches(&json!({"a": 1, "b": "x"})));
        assert!(!e.matches(&json!({"a": 1, "b": "y"})));
    }

    #[test]
    fn spec_examples_parse_and_match() {
        let u = user();
        let e = p(
            r#"profile.department eq "Engineering" and (created lt "2014-01-01T00:00:00.000Z" or status eq "ACTIVE")"#,
            Dialect::UserSearch,
        );
        assert!(e.matches(&u));
        let e = p(
            r#"lastUpdated gt "2013-06-01T00:00:00.000Z" and (status eq "LOCKED_OUT" or status eq "RECOVERY")"#,
            Dialect::UserFilter,
        );
        assert!(!e.matches(&u));
        let e = p(
            r#"type eq "OKTA_GROUP" and (lastUpdated lt "2015-11-11T00:00:00.000Z" or lastMembershipUpdated lt "2015-11-11T00:00:00.000Z")"#,
            Dialect::GroupFilter,
        );
        let g = json!({"type": "OKTA_GROUP", "lastUpdated": "2015-10-05T19:16:43.000Z",
                       "lastMembershipUpdated": "2015-11-28T19:15:32.000Z"});
        assert!(e.matches(&g));
        let e = p(
            r#"type eq "APP_GROUP" and (created lt "2014-01-01T00:00:00.000Z" and source.id eq "0oa2v0el0gP90aqjJ0g7")"#,
            Dialect::GroupSearch,
        );
        let g = json!({"type": "APP_GROUP", "created": "2013-01-01T00:00:00.000Z",
                       "source": {"id": "0oa2v0el0gP90aqjJ0g7"}});
        assert!(e.matches(&g));
        // The "ne" workaround from the users docs.
        let e = p(
            r#"(status lt "STAGED" or status gt "STAGED")"#,
            Dialect::UserSearch,
        );
        assert!(e.matches(&u));
        assert!(!e.matches(&json!({"status": "STAGED"})));
    }

    // ---- strings ------------------------------------------------------------------------

    #[test]
    fn escaped_quotes_and_json_escapes() {
        let obj =
            json!({"profile": {"lastName": "bob\"smith", "path": "a\\b", "city": "Montréal"}});
        let d = Dialect::UserSearch;
        assert!(p(r#"profile.lastName eq "bob\"smith""#, d).matches(&obj));
        assert!(!p(r#"profile.lastName eq "bob\\smith""#, d).matches(&obj));
        assert!(p(r#"profile.path eq "a\\b""#, d).matches(&obj));
        assert!(p(r#"profile.city eq "Montr\u00e9al""#, d).matches(&obj));
        // A quoted string may contain spaces, parentheses and keywords.
        let obj = json!({"displayMessage": "User (x) and or not"});
        assert!(log_matches(
            r#"displayMessage eq "User (x) and or not""#,
            &obj
        ));
    }

    #[test]
    fn invalid_escape_is_refused() {
        let e = err(r#"profile.lastName eq "bob\qsmith""#, Dialect::UserSearch);
        assert!(
            e.message.contains("Invalid string literal"),
            "{}",
            e.message
        );
        assert!(e.message.contains("position 20"), "{}", e.message);
    }

    #[test]
    fn search_is_case_insensitive_for_string_values() {
        let u = user();
        let d = Dialect::UserSearch;
        assert!(p(r#"profile.login eq "ISAAC.BROCK@example.com""#, d).matches(&u));
        assert!(p(r#"profile.lastName sw "bRo""#, d).matches(&u));
        assert!(p(r#"profile.email co "BROCK@""#, d).matches(&u));
        assert!(p(r#"status eq "active""#, d).matches(&u));
        assert!(p(r#"profile.tags eq "b""#, d).matches(&u));
        // Diacritics stay significant.
        assert!(!p(r#"profile.firstName eq "isáàc""#, d).matches(&u));
        // Ordering is case-insensitive too, so the ne workaround excludes "staged".
        let e = p(r#"status lt "STAGED" or status gt "STAGED""#, d);
        assert!(!e.matches(&json!({"status": "staged"})));

        let g = json!({"profile": {"name": "West Coast Users"}});
        assert!(p(r#"profile.name co "coast""#, Dialect::GroupSearch).matches(&g));
        let e = p(
            r#"profile.name eq "west coast users""#,
            Dialect::GroupSearch,
        );
        assert!(e.matches(&g));
    }

    #[test]
    fn filters_are_case_sensitive_for_values() {
        let u = user();
        assert!(p(r#"status eq "ACTIVE""#, Dialect::UserFilter).matches(&u));
        assert!(!p(r#"status eq "active""#, Dialect::UserFilter).matches(&u));
        assert!(!p(r#"profile.lastName eq "brock""#, Dialect::UserFilter).matches(&u));
        assert!(p(r#"profile.lastName eq "Brock""#, Dialect::UserFilter).matches(&u));
        let g = json!({"type": "OKTA_GROUP"});
        assert!(!p(r#"type eq "okta_group""#, Dialect::GroupFilter).matches(&g));
    }

    #[test]
    fn log_filter_eq_exact_but_sw_co_ew_ignore_case() {
        let e = event();
        assert!(!log_matches(r#"eventType eq "USER.SESSION.START""#, &e));
        assert!(log_matches(r#"eventType sw "USER""#, &e));
        assert!(log_matches(r#"eventType co "Session""#, &e));
        assert!(log_matches(r#"eventType ew "START""#, &e));
    }

    // ---- dates --------------------------------------------------------------------------

    #[test]
    fn dates_with_and_without_millis_and_offsets() {
        let u = user(); // lastUpdated 2013-07-02T21:36:25.344Z, statusChanged ...25Z
        let d = Dialect::UserFilter;
        assert!(p(r#"lastUpdated gt "2013-06-01T00:00:00.000Z""#, d).matches(&u));
        assert!(p(r#"lastUpdated gt "2013-06-01T00:00:00Z""#, d).matches(&u));
        assert!(p(r#"lastUpdated gt "2013-06-01T00:00:00+00:00""#, d).matches(&u));
        assert!(!p(r#"lastUpdated lt "2013-06-01T00:00:00.000Z""#, d).matches(&u));
        // Millisecond precision: .344 is after :25 exactly.
        assert!(p(r#"lastUpdated gt "2013-07-02T21:36:25Z""#, d).matches(&u));
        assert!(!p(r#"lastUpdated gt "2013-07-02T21:36:25.344Z""#, d).matches(&u));
        assert!(p(r#"lastUpdated ge "2013-07-02T21:36:25.344+00:00""#, d).matches(&u));
        assert!(p(r#"lastUpdated le "2013-07-02T21:36:25.344Z""#, d).matches(&u));
        assert!(p(r#"lastUpdated eq "2013-07-02T21:36:25.344000Z""#, d).matches(&u));
        // A non-UTC offset is converted: 23:36:25.344+02:00 is 21:36:25.344Z.
        assert!(p(r#"lastUpdated eq "2013-07-02T23:36:25.344+02:00""#, d).matches(&u));
        // Stored value without millis vs literal with millis.
        let s = Dialect::UserSearch;
        assert!(p(r#"statusChanged eq "2013-07-02T21:36:25.000Z""#, s).matches(&u));
        assert!(p(r#"statusChanged lt "2013-07-02T21:36:25.001Z""#, s).matches(&u));
        // Null dates never satisfy an ordering.
        assert!(!p(r#"activated gt "2000-01-01T00:00:00Z""#, s).matches(&u));
        assert!(!p(r#"activated lt "2100-01-01T00:00:00Z""#, s).matches(&u));
    }

    #[test]
    fn dates_compare_chronologically_not_lexically() {
        // Lexically "...T10:00:00+05:00" > "...T06:00:00Z" but it is 05:00Z, i.e. earlier.
        let g = json!({"lastUpdated": "2020-01-01T10:00:00+05:00"});
        let e = p(
            r#"lastUpdated lt "2020-01-01T06:00:00Z""#,
            Dialect::GroupFilter,
        );
        assert!(e.matches(&g));
        // Also for attributes that aren't known dates, when both sides are timestamps.
        let e = json!({"debugContext": {"debugData": {"at": "2020-01-01T10:00:00+05:00"}}});
        assert!(log_matches(
            r#"debugContext.debugData.at lt "2020-01-01T06:00:00.000Z""#,
            &e
        ));
    }

    #[test]
    fn unparseable_dates_are_errors() {
        for bad in [
            r#"lastUpdated gt "2013-06-01""#,
            r#"lastUpdated gt "yesterday""#,
            r#"lastUpdated gt "2013-13-01T00:00:00Z""#,
            r#"lastUpdated gt "2013-02-29T00:00:00Z""#,
            r#"lastUpdated gt "2013-06-01T24:00:00Z""#,
            r#"lastUpdated gt "2013-06-01T00:00:00""#,
            r#"lastUpdated eq "2013-06-01T00:00:00.Z""#,
        ] {
            let e = err(bad, Dialect::UserFilter);
            assert!(e.message.contains("Invalid date"), "{bad}: {}", e.message);
            assert!(e.message.contains("position 15"), "{bad}: {}", e.message);
        }
        let e = err("lastUpdated gt 5", Dialect::UserFilter);
        assert!(e.message.contains("is a date"), "{}", e.message);
        let e = err(r#"created lt "soon""#, Dialect::GroupSearch);
        assert!(e.message.contains("'created'"), "{}", e.message);
    }

    #[test]
    fn normalize_timestamp_forms() {
        let n = |s: &str| normalize_timestamp(s);
        assert_eq!(
            n("2013-06-01T00:00:00Z").as_deref(),
            Some("2013-06-01T00:00:00.000Z")
        );
        assert_eq!(
            n("2013-06-01T00:00:00.5Z").as_deref(),
            Some("2013-06-01T00:00:00.500Z")
        );
        assert_eq!(
            n("2013-06-01T00:00:00.123456789Z").as_deref(),
            Some("2013-06-01T00:00:00.123Z")
        );
        assert_eq!(
            n("2013-06-01T00:00:00+00:00").as_deref(),
            Some("2013-06-01T00:00:00.000Z")
        );
        assert_eq!(
            n("2013-06-01T00:00:00-00:00").as_deref(),
            Some("2013-06-01T00:00:00.000Z")
        );
        assert_eq!(
            n("2013-06-01T01:30:00+0130").as_deref(),
            Some("2013-06-01T00:00:00.000Z")
        );
        assert_eq!(
            n("2012-12-31T23:00:00-02:00").as_deref(),
            Some("2013-01-01T01:00:00.000Z")
        );
        assert_eq!(
            n("2024-02-29T12:00:00Z").as_deref(),
            Some("2024-02-29T12:00:00.000Z")
        );
        assert_eq!(
            n("1970-01-01T00:00:00.000Z").as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
        assert_eq!(
            n("1969-12-31T23:59:59.999Z").as_deref(),
            Some("1969-12-31T23:59:59.999Z")
        );
        assert_eq!(n("2023-02-29T12:00:00Z"), None);
        assert_eq!(n("2013-06-01T00:00:00+24:00"), None);
        assert_eq!(n("2013-06-01T00:00:00.1234567890Z"), None);
        assert_eq!(n("2013-06-01 00:00:00Z"), None);
        assert_eq!(n("2013-06-01T00:00:00ZZ"), None);
        assert_eq!(n("0000-01-01T00:00:00+00:01"), None); // would fall before year 0
        assert_eq!(parse_timestamp("1970-01-01T00:00:01.5Z"), Some(1500));
    }

    // ---- arrays -------------------------------------------------------------------------

    #[test]
    fn lookup_fans_out_over_arrays() {
        let e = event();
        assert_eq!(
            e.lookup("target.id"),
            Some(json!(["00uxc78lMKUMVIHLTAXY", "0oabe82gnXOFVCDUMVAK"]))
        );
        assert_eq!(e.lookup("actor.id"), Some(json!("00uxc78lMKUMVIHLTAXY")));
        assert_eq!(
            e.lookup("target.detailEntry.tags"),
            Some(json!([["x", "y"], ["z"]]))
        );
        assert_eq!(e.lookup("target.nothing"), None);
        assert_eq!(e.lookup("actor.id.deeper"), None);
        assert_eq!(e.lookup("nope"), None);
        let one = json!({"target": [{"id": "a"}, {"type": "b"}]});
        assert_eq!(one.lookup("target.id"), Some(json!(["a"])));
        assert_eq!(json!({"target": []}).lookup("target.id"), None);
        // A leaf array is returned as it is.
        assert_eq!(user().lookup("profile.tags"), Some(json!(["a", "B", "c"])));
    }

    #[test]
    fn arrays_match_any_element() {
        let e = event();
        assert!(log_matches(r#"target.id eq "0oabe82gnXOFVCDUMVAK""#, &e));
        assert!(log_matches(
            r#"target.id eq "00uxc78lMKUMVIHLTAXY" and target.id eq "0oabe82gnXOFVCDUMVAK""#,
            &e
        ));
        assert!(!log_matches(r#"target.id eq "0oaNOPE""#, &e));
        assert!(log_matches(r#"target.type eq "AppInstance""#, &e));
        assert!(log_matches(r#"target.detailEntry.tags eq "z""#, &e)); // nested arrays
        assert!(!log_matches(r#"target.detailEntry.tags eq "w""#, &e));
        // ne is "no element equals".
        assert!(!log_matches(r#"target.id ne "0oabe82gnXOFVCDUMVAK""#, &e));
        assert!(log_matches(r#"target.id ne "0oaNOPE""#, &e));

        let u = user();
        let d = Dialect::UserSearch;
        assert!(p(r#"profile.tags eq "a""#, d).matches(&u));
        assert!(!p(r#"profile.tags eq "d""#, d).matches(&u));
        assert!(p("profile.scores gt 2", d).matches(&u));
        assert!(!p("profile.scores gt 3", d).matches(&u));
        assert!(p("profile.scores eq 2", d).matches(&u));
        assert!(p(r#"profile.tags sw "c""#, d).matches(&u));
    }

    #[test]
    fn closures_work_as_lookup() {
        let e = p(
            r#"status eq "ACTIVE" and profile.login sw "x""#,
            Dialect::UserSearch,
        );
        let calls = std::cell::Cell::new(0);
        let lookup = |path: &str| {
            calls.set(calls.get() + 1);
            match path {
                "status" => Some(json!("ACTIVE")),
                "profile.login" => Some(json!("xavier@example.com")),
                _ => None,
            }
        };
        assert!(e.matches(&lookup));
        assert_eq!(calls.get(), 2);
        let other = |path: &str| (path == "status").then(|| json!("SUSPENDED"));
        assert!(!e.matches(&other));
    }

    #[test]
    fn attributes_lists_each_path_once_in_order() {
        let e = p(
            r#"status eq "ACTIVE" or (profile.login sw "a" and not (status eq "STAGED")) or type.id pr"#,
            Dialect::UserSearch,
        );
        assert_eq!(e.attributes(), vec!["status", "profile.login", "type.id"]);
        assert_eq!(e.dialect(), Dialect::UserSearch);
    }

    // ---- dialect rules ------------------------------------------------------------------

    #[test]
    fn user_filter_rules() {
        let d = Dialect::UserFilter;
        for ok in [
            r#"status eq "LOCKED_OUT""#,
            r#"profile.login eq "login@example.com""#,
            r#"id eq "00u1" or profile.email eq "a@b" or profile.firstName eq "A" or profile.lastName eq "B""#,
            r#"lastUpdated gt "2013-06-01T00:00:00.000Z" and lastUpdated lt "2014-01-01T00:00:00.000Z""#,
            r#"lastUpdated ge "2013-06-01T00:00:00Z" or lastUpdated le "2013-06-01T00:00:00Z""#,
        ] {
            p(ok, d);
        }
        let e = err(r#"profile.department eq "Engineering""#, d);
        assert!(
            e.message
                .contains("Invalid attribute 'profile.department' at position 0"),
            "{}",
            e.message
        );
        assert!(e.message.contains("profile.lastName"), "{}", e.message);
        let e = err(r#"created gt "2013-06-01T00:00:00Z""#, d);
        assert!(e.message.contains("'created'"), "{}", e.message);
        let e = err(r#"profile.login sw "a""#, d);
        assert!(
            e.message.contains("'sw' operator at position 14"),
            "{}",
            e.message
        );
        assert_eq!(e.kind, FilterErrorKind::Invalid);
        for op in ["co", "ne"] {
            let e = err(&format!(r#"status {op} "A""#), d);
            assert!(e.message.contains(&format!("'{op}'")), "{}", e.message);
        }
        let e = err("status pr", d);
        assert!(e.message.contains("'pr'"), "{}", e.message);
        let e = err(r#"status gt "ACTIVE""#, d);
        assert_eq!(e.kind, FilterErrorKind::UnsupportedCombination);
        assert!(
            e.message.contains("Operator: gt, Field: status"),
            "{}",
            e.message
        );
        let e = err(r#"not (status eq "ACTIVE")"#, d);
        assert!(
            e.message.contains("'not' operator at position 0"),
            "{}",
            e.message
        );
    }

    #[test]
    fn user_search_rules() {
        let d = Dialect::UserSearch;
        for ok in [
            r#"status eq "STAGED""#,
            r#"lastUpdated gt "2014-01-01T00:00:00.000Z""#,
            r#"id eq "00u1ero7vZFVEIYLWPBN""#,
            r#"type.id eq "otyfnjfba4ye7pgjB0g4""#,
            r#"profile.department eq "Engineering" and (created lt "2014-01-01T00:00:00.000Z" or status eq "ACTIVE")"#,
            r#"activated ge "2014-01-01T00:00:00Z" and statusChanged le "2015-01-01T00:00:00Z""#,
            r#"profile.arrayAttr eq "arrayAttrVal1""#,
            r#"profile.lastName sw "Smi""#,
            r#"profile.firstName co "sa" or profile.lastName co "ro" or profile.email co "@" or profile.login co "x""#,
            "profile.linkedInProfile pr",
            r#"not (status eq "STAGED")"#,
            r#"classification.type eq "LITE""#,
        ] {
            p(ok, d);
        }
        let e = err(r#"status ne "STAGED""#, d);
        assert!(
            e.message.contains("'ne' operator at position 7"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("Supported: eq,co,sw,pr"),
            "{}",
            e.message
        );
        let e = err(r#"profile.login ew "com""#, d);
        assert!(e.message.contains("'ew'"), "{}", e.message);
        let e = err(r#"profile.department co "Eng""#, d);
        assert_eq!(e.kind, FilterErrorKind::UnsupportedCombination);
        assert!(
            e.message
                .contains("Operator: co, Field: profile.department"),
            "{}",
            e.message
        );
        let e = err(r#"lastLogin gt "2014-01-01T00:00:00Z""#, d);
        assert!(e.message.contains("'lastLogin'"), "{}", e.message);
        assert!(e.message.contains("profile.*"), "{}", e.message);
        let e = err(r#"profile eq "x""#, d);
        assert!(e.message.contains("'profile'"), "{}", e.message);
        let e = err(r#"classification.type eq "LITE" and status eq "ACTIVE""#, d);
        assert!(e.message.contains("can't be combined"), "{}", e.message);
        let e = err(r#"classification.type sw "L""#, d);
        assert_eq!(e.kind, FilterErrorKind::UnsupportedCombination);
    }

    #[test]
    fn group_filter_rules() {
        let d = Dialect::GroupFilter;
        for ok in [
            r#"id eq "00g1emaKYZTWRYYRRTSK""#,
            r#"type eq "OKTA_GROUP" and lastUpdated gt "2016-11-11T00:00:00.000Z""#,
            r#"lastMembershipUpdated lt "2015-11-11T00:00:00.000Z""#,
            r#"lastMembershipUpdated eq "2015-11-11T00:00:00.000Z""#,
            r#"lastUpdated ge "2015-11-11T00:00:00Z" or lastMembershipUpdated le "2015-11-11T00:00:00Z""#,
        ] {
            p(ok, d);
        }
        let e = err(r#"profile.name eq "Everyone""#, d);
        assert!(e.message.contains("'profile.name'"), "{}", e.message);
        assert!(
            e.message
                .contains("id, type, lastUpdated, lastMembershipUpdated"),
            "{}",
            e.message
        );
        let e = err(r#"created gt "2015-11-11T00:00:00Z""#, d);
        assert!(e.message.contains("'created'"), "{}", e.message);
        let e = err(r#"type sw "OKTA""#, d);
        assert!(e.message.contains("'sw'"), "{}", e.message);
        let e = err(r#"id gt "00g""#, d);
        assert_eq!(e.kind, FilterErrorKind::UnsupportedCombination);
        let e = err(r#"not (type eq "OKTA_GROUP")"#, d);
        assert!(e.message.contains("'not'"), "{}", e.message);
    }

    #[test]
    fn group_search_rules() {
        let d = Dialect::GroupSearch;
        for ok in [
            r#"type eq "APP_GROUP""#,
            r#"lastMembershipUpdated gt "2024-01-01T00:00:00.000Z""#,
            r#"profile.name eq "West Coast users""#,
            r#"profile.samAccountName sw "West Coast""#,
            r#"source.id eq "0oa2v0el0gP90aqjJ0g7""#,
            r#"profile.name co "West" or profile.description co "Rockies""#,
            r#"created lt "2014-01-01T00:00:00.000Z" and id sw "00g""#,
            "profile.description pr",
        ] {
            p(ok, d);
        }
        let e = err(r#"profile.samAccountName co "West""#, d);
        assert_eq!(e.kind, FilterErrorKind::UnsupportedCombination);
        assert!(
            e.message.contains("profile.name and profile.description"),
            "{}",
            e.message
        );
        let e = err(r#"objectClass eq "okta:user_group""#, d);
        assert!(e.message.contains("'objectClass'"), "{}", e.message);
        let e = err(r#"_links.self eq "x""#, d);
        assert!(e.message.contains("'_links.self'"), "{}", e.message);
        let e = err(r#"type ne "APP_GROUP""#, d);
        assert!(e.message.contains("'ne'"), "{}", e.message);
        let e = err(r#"type ew "GROUP""#, d);
        assert!(e.message.contains("'ew'"), "{}", e.message);
    }

    #[test]
    fn log_filter_rules() {
        let d = Dialect::LogFilter;
        for ok in [
            r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#,
            r#"actor.id ne "00uxc78lMKUMVIHLTAXY""#,
            r#"eventType ew "token""#,
            r#"transaction.detail.requestApiTokenId eq "00T94e3cn9kSEO3c51s5""#,
            r#"debugContext.debugData.requestId eq "req1""#,
            r#"debugContext.debugData.url sw "/api/v1""#,
            r#"not (client.ipAddress eq "184.73.186.14")"#,
        ] {
            p(ok, d);
        }
        let e = err(r#"published gt "2017-01-01T00:00:00Z""#, d);
        assert!(e.message.contains("'published'"), "{}", e.message);
        assert!(e.message.contains("since"), "{}", e.message);
        assert_eq!(e.kind, FilterErrorKind::Invalid);
        for field in [
            "debugContext.debugData.url",
            "debugContext.debugData.requestUri",
        ] {
            let e = err(&format!(r#"{field} co "/oauth/""#), d);
            assert_eq!(e.kind, FilterErrorKind::UnsupportedCombination);
            assert!(
                e.message.contains(&format!("Operator: co, Field: {field}")),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn value_type_must_suit_operator() {
        let e = err("eventType sw 5", Dialect::LogFilter);
        assert!(e.message.contains("needs a quoted string"), "{}", e.message);
        let e = err("severity gt true", Dialect::LogFilter);
        assert!(
            e.message.contains("can't compare with true"),
            "{}",
            e.message
        );
        let e = err("severity lt null", Dialect::LogFilter);
        assert!(e.message.contains("null"), "{}", e.message);
    }

    // ---- malformed input ----------------------------------------------------------------

    #[test]
    fn unknown_operator_reports_okta_style_position() {
        let e = err(
            r#"display_message eqq "Create okta user""#,
            Dialect::LogFilter,
        );
        assert_eq!(
            e.message,
            "Unrecognized attribute operator 'eqq' at position 16. Expected: eq,ne,co,sw,ew,pr,gt,ge,lt,le"
        );
        let e = err(r#"status is "ACTIVE""#, Dialect::UserFilter);
        assert!(
            e.message.ends_with("Expected: eq,gt,ge,lt,le"),
            "{}",
            e.message
        );
    }

    #[test]
    fn unterminated_string() {
        let e = err(r#"status eq "ACTIVE"#, Dialect::UserSearch);
        assert!(
            e.message
                .contains("Unterminated string literal starting at position 10"),
            "{}",
            e.message
        );
        // An escaped quote doesn't close the string.
        let e = err(r#"status eq "ACTIVE\""#, Dialect::UserSearch);
        assert!(e.message.contains("Unterminated"), "{}", e.message);
    }

    #[test]
    fn missing_value_or_operator() {
        let e = err("status eq", Dialect::UserSearch);
        assert!(
            e.message
                .contains("Missing value after operator 'eq' at position 7"),
            "{}",
            e.message
        );
        let e = err(r#"(status eq) and id eq "x""#, Dialect::UserSearch);
        assert!(e.message.contains("Missing value"), "{}", e.message);
        assert!(e.message.contains("')' at position 10"), "{}", e.message);
        let e = err("status", Dialect::UserSearch);
        assert!(
            e.message
                .contains("Missing operator after attribute 'status' at position 6"),
            "{}",
            e.message
        );
        let e = err(r#"status "ACTIVE""#, Dialect::UserSearch);
        assert!(e.message.contains("Expected an operator"), "{}", e.message);
    }

    #[test]
    fn unquoted_string_value() {
        let e = err("status eq ACTIVE", Dialect::UserSearch);
        assert!(
            e.message.contains("Invalid value 'ACTIVE' at position 10"),
            "{}",
            e.message
        );
        assert!(e.message.contains("double-quoted"), "{}", e.message);
        // JSON literals are lower case only; numbers follow JSON rules.
        let m = err("profile.vip eq True", Dialect::UserSearch).message;
        assert!(m.contains("'True'"), "{m}");
        let m = err("profile.n eq 007", Dialect::UserSearch).message;
        assert!(m.contains("'007'"), "{m}");
    }

    #[test]
    fn trailing_garbage() {
        let e = err(r#"status eq "ACTIVE" xyz"#, Dialect::UserSearch);
        assert!(
            e.message.contains("Unexpected 'xyz' at position 19"),
            "{}",
            e.message
        );
        let e = err(r#"status eq "ACTIVE")"#, Dialect::UserSearch);
        assert!(
            e.message.contains("Unmatched ')' at position 18"),
            "{}",
            e.message
        );
        let e = err(r#"status eq "A" status eq "B""#, Dialect::UserSearch);
        assert!(
            e.message.contains("'status' at position 14"),
            "{}",
            e.message
        );
    }

    #[test]
    fn dangling_logical_operators() {
        let e = err(r#"status eq "A" and"#, Dialect::UserSearch);
        assert!(
            e.message
                .contains("Unexpected end of expression at position 17"),
            "{}",
            e.message
        );
        let e = err(r#"and status eq "A""#, Dialect::UserSearch);
        assert!(
            e.message.contains("Unexpected 'and' at position 0"),
            "{}",
            e.message
        );
        let e = err(r#"status eq "A" or or id eq "b""#, Dialect::UserSearch);
        assert!(
            e.message.contains("Unexpected 'or' at position 17"),
            "{}",
            e.message
        );
    }

    #[test]
    fn parenthesis_errors() {
        let e = err(r#"(status eq "A""#, Dialect::UserSearch);
        assert!(
            e.message
                .contains("Missing ')' to close the '(' at position 0"),
            "{}",
            e.message
        );
        let e = err("()", Dialect::UserSearch);
        assert!(
            e.message.contains("Unexpected ')' at position 1"),
            "{}",
            e.message
        );
        let e = err(r#"(status eq "A" id eq "B")"#, Dialect::UserSearch);
        assert!(
            e.message.contains("Unexpected 'id' at position 15"),
            "{}",
            e.message
        );
    }

    #[test]
    fn not_requires_parentheses() {
        let e = err(r#"not status eq "ACTIVE""#, Dialect::UserSearch);
        assert!(
            e.message
                .contains("'not' at position 0 must be followed by a parenthesised expression"),
            "{}",
            e.message
        );
        let e = err("not", Dialect::LogFilter);
        assert!(e.message.contains("'not'"), "{}", e.message);
    }

    #[test]
    fn pr_takes_no_value() {
        let e = err(r#"profile.nickName pr "x""#, Dialect::UserSearch);
        assert!(
            e.message
                .contains("'pr' operator at position 17 takes no value"),
            "{}",
            e.message
        );
        let m = err("profile.nickName pr true", Dialect::UserSearch).message;
        assert!(m.contains("takes no value"), "{m}");
        // but pr can be followed by a logical operator
        p(
            r#"profile.nickName pr and status eq "A""#,
            Dialect::UserSearch,
        );
    }

    #[test]
    fn empty_and_invalid_attribute_names() {
        for blank in ["", "   ", "\t\n"] {
            let e = err(blank, Dialect::UserSearch);
            assert!(e.message.contains("Empty users search"), "{}", e.message);
        }
        let e = err(r#"profile..login eq "x""#, Dialect::UserSearch);
        assert!(
            e.message
                .contains("Invalid attribute name 'profile..login'"),
            "{}",
            e.message
        );
        let e = err(r#"5 eq 5"#, Dialect::LogFilter);
        assert!(
            e.message.contains("Invalid attribute name '5'"),
            "{}",
            e.message
        );
        let e = err(r#""status" eq "A""#, Dialect::UserSearch);
        assert!(
            e.message.contains("Unexpected '\"status\"' at position 0"),
            "{}",
            e.message
        );
        let e = err(r#"profile.first-name eq "A""#, Dialect::UserSearch);
        assert!(
            e.message.contains("Invalid attribute name"),
            "{}",
            e.message
        );
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let e = err(r#"displayMessage eq "Montréal" xx"#, Dialect::LogFilter);
        assert!(e.message.contains("'xx' at position 29"), "{}", e.message);
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let ok = format!("{}a eq 1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(p(&ok, Dialect::LogFilter).matches(&json!({"a": 1})));
        let deep = format!("{}a eq 1{}", "(".repeat(10_000), ")".repeat(10_000));
        let e = err(&deep, Dialect::LogFilter);
        assert!(e.message.contains("nested too deeply"), "{}", e.message);
        let deep_not = "not (".repeat(10_000);
        let m = err(&deep_not, Dialect::LogFilter).message;
        assert!(m.contains("nested too deeply"), "{m}");
    }

    #[test]
    fn error_traits() {
        let e = err("status eq", Dialect::UserSearch);
        assert_eq!(e.to_string(), e.message);
        let boxed: Box<dyn std::error::Error> = Box::new(e.clone());
        assert_eq!(boxed.to_string(), e.message);
    }

    #[test]
    fn evaluates_many_rows_quickly() {
        let e = p(
            r#"status eq "ACTIVE" and (profile.lastName sw "bro" or profile.tags eq "z") and lastUpdated gt "2013-01-01T00:00:00Z""#,
            Dialect::UserSearch,
        );
        let u = user();
        let start = std::time::Instant::now();
        let hits = (0..100_000).filter(|_| e.matches(&u)).count();
        assert_eq!(hits, 100_000);
        // Generous bound so debug builds on slow CI pass; catches accidental quadratic work.
        assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    }
}
