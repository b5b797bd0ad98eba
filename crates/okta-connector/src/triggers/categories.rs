//! Event categories and Okta's catalog of event types.
//!
//! A category is a set of event-type prefixes (Okta names event types hierarchically:
//! `user.lifecycle.create`, `group.user_membership.add`), sent to Okta as `eventType sw "prefix"` so
//! new event types of a family are included as Okta adds them. [`CATEGORIES`] is the documented
//! mapping (`triggers describe new_events` prints it); the catalog (`event_types.txt`, Okta's
//! event-types.json of the release it names) lets a configuration's typo be caught with a suggestion.

use schemars::JsonSchema;
use serde::Deserialize;

/// A family of System Log events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Users created, activated, deactivated, suspended, deleted...
    UserLifecycle,
    /// Passwords, locks, profile updates, privileges of user accounts.
    UserAccount,
    /// Users added to or removed from groups.
    GroupMembership,
    /// Groups created, deleted or changed.
    GroupLifecycle,
    /// Sign-ins, sessions, MFA.
    Authentication,
    /// Applications and their assignments.
    Application,
    /// Policies evaluated or changed.
    Policy,
    /// Threats, risk, rate-limit violations, attack protection.
    Security,
    /// Administration: org settings, agents, admin roles, API tokens.
    Administration,
}

/// Each category's event-type prefixes, in the order `triggers describe` shows them.
pub const CATEGORIES: &[(Category, &[&str])] = &[
    (Category::UserLifecycle, &["user.lifecycle."]),
    (
        Category::UserAccount,
        &["user.account.", "user.credential."],
    ),
    (Category::GroupMembership, &["group.user_membership."]),
    (
        Category::GroupLifecycle,
        &[
            "group.lifecycle.",
            "group.profile.",
            "group.application_assignment.",
        ],
    ),
    (
        Category::Authentication,
        &[
            "user.session.",
            "user.authentication.",
            "user.mfa.",
            "policy.evaluate_sign_on",
        ],
    ),
    (Category::Application, &["application.", "app."]),
    (Category::Policy, &["policy."]),
    (
        Category::Security,
        &[
            "security.",
            "user.risk.",
            "system.org.rate_limit.",
            "system.client.rate_limit.",
            "system.client.concurrency_rate_limit.",
            "system.operation.rate_limit.",
            "system.operation.concurrency_limit.",
            "core.concurrency.",
        ],
    ),
    (
        Category::Administration,
        &["system.", "iam.", "user.account.privilege.", "zone."],
    ),
];

impl Category {
    pub fn prefixes(self) -> &'static [&'static str] {
        CATEGORIES
            .iter()
            .find(|(c, _)| *c == self)
            .map(|(_, p)| *p)
            .unwrap_or(&[])
    }

    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

const CATALOG: &str = include_str!("event_types.txt");

/// Okta's event types: (id, eligible for Event Hooks).
pub fn catalog() -> impl Iterator<Item = (&'static str, bool)> {
    CATALOG
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| match l.split_once('\t') {
            Some((id, flag)) => (id, flag == "hook"),
            None => (l, false),
        })
}

/// Whether Okta's catalog has this event type.
pub fn is_known(event_type: &str) -> bool {
    catalog().any(|(id, _)| id == event_type)
}

/// Checks an event type a user wrote: the characters an event type can have, and — when it is not
/// in the catalog but something close is — a probable typo, with the suggestion. An unknown type
/// with nothing close is accepted: Okta adds event types after the catalog's release.
pub fn check_event_type(event_type: &str) -> Result<(), String> {
    let valid = !event_type.is_empty()
        && event_type
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid {
        return Err(format!(
            "'{event_type}' is not an event type: they look like user.session.start"
        ));
    }
    if is_known(event_type) {
        return Ok(());
    }
    let close = catalog()
        .map(|(id, _)| (edit_distance(id, event_type), id))
        .filter(|(d, _)| *d <= 2)
        .min();
    match close {
        Some((_, id)) => Err(format!(
            "unknown event type '{event_type}': did you mean {id}?"
        )),
        None => Ok(()),
    }
}

/// Levenshtein distance (event types are short; this runs only on a configuration's few types).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// A SCIM string literal (event types are checked to need no escaping, but filters built from other
/// input go through here).
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_matches_okta_event_types() {
        for (category, prefixes) in CATEGORIES {
            for prefix in *prefixes {
                assert!(
                    catalog().any(|(id, _)| id.starts_with(prefix)),
                    "{category:?}: no event type starts with {prefix}"
                );
            }
        }
        assert!(
            CATEGORIES.len() == 9,
            "every Category variant has its prefixes"
        );
    }

    #[test]
    fn the_catalog_matches_oktas_files() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/okta/data/");
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{root}event-types.json")).unwrap(),
        )
        .unwrap();
        let mut expected: Vec<(String, bool)> = json["versions"][0]["eventTypes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let hook = e["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| t == "event-hook-eligible");
                (e["id"].as_str().unwrap().to_string(), hook)
            })
            .collect();
        expected.sort();
        let ours: Vec<(String, bool)> = catalog().map(|(id, h)| (id.to_string(), h)).collect();
        assert_eq!(ours, expected);
        let eligible =
            std::fs::read_to_string(format!("{root}okta-event-hook-eligible-event-types.txt"))
                .unwrap();
        let eligible: std::collections::BTreeSet<&str> = eligible
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let ours: std::collections::BTreeSet<&str> =
            catalog().filter(|(_, h)| *h).map(|(id, _)| id).collect();
        assert_eq!(ours, eligible);
    }

    #[test]
    fn event_types_are_checked() {
        assert!(check_event_type("user.session.start").is_ok());
        assert_eq!(
            check_event_type("user.sesion.start").unwrap_err(),
            "unknown event type 'user.sesion.start': did you mean user.session.start?"
        );
        // Newer than the catalog: accepted.
        assert!(check_event_type("widget.frobnicate.completed").is_ok());
        assert!(check_event_type("user.session.start\" or true").is_err());
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
