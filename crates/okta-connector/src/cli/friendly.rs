//! The friendly subcommands (`users search`, `groups members ID`, `logs search --since 1h`, …),
//! generated from the action registry: each is an action whose input properties become flags, so a
//! new input field is a new flag without a line here.

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::{Map, Value};

use okta_connector::actions::{self, ActionDef};

/// (group, verb, action): `okta-connector GROUP VERB` runs ACTION.
pub const FRIENDLY: &[(&str, &str, &str)] = &[
    ("users", "search", "search_users"),
    ("users", "get", "get_user"),
    ("users", "groups", "list_user_groups"),
    ("groups", "list", "list_groups"),
    ("groups", "get", "get_group"),
    ("groups", "members", "list_group_members"),
    ("apps", "list", "list_apps"),
    ("apps", "get", "get_app"),
    ("apps", "users", "list_app_users"),
    ("logs", "search", "search_system_log"),
    ("schema", "show", "get_user_schema"),
    ("schema", "types", "list_user_types"),
    ("users", "create", "create_user"),
    ("users", "update", "update_user"),
    ("users", "activate", "activate_user"),
    ("users", "deactivate", "deactivate_user"),
    ("users", "suspend", "suspend_user"),
    ("users", "unsuspend", "unsuspend_user"),
    ("users", "delete", "delete_user"),
    ("users", "unlock", "unlock_user"),
    ("users", "expire-password", "expire_password"),
    ("users", "reset-password", "reset_password"),
    ("groups", "add-member", "add_user_to_group"),
    ("groups", "remove-member", "remove_user_from_group"),
];

const GROUP_ABOUT: &[(&str, &str)] = &[
    (
        "users",
        "Find users and change them (shortcuts for the user actions).",
    ),
    (
        "groups",
        "Find groups and their members; add and remove members.",
    ),
    ("apps", "Find apps and their assigned users."),
    ("logs", "Search the System Log."),
    ("schema", "Show the user profile schema and user types."),
];

/// The friendly subcommands, to add to the CLI.
pub fn commands() -> Vec<Command> {
    GROUP_ABOUT
        .iter()
        .map(|(group, about)| {
            let verbs = FRIENDLY
                .iter()
                .filter(|(g, _, _)| g == group)
                .map(|(_, verb, name)| {
                    let action = actions::find(name)
                        .expect("every friendly subcommand names a registered action");
                    verb_command(verb, action)
                });
            Command::new(*group)
                .about(*about)
                .subcommand_required(true)
                .subcommands(verbs)
        })
        .collect()
}

/// The action a parsed friendly subcommand runs, with its input built from the flags.
pub fn action_input(
    group: &str,
    matches: &ArgMatches,
) -> Option<Result<(&'static ActionDef, Value), String>> {
    let (verb, verb_matches) = matches.subcommand()?;
    let (_, _, name) = FRIENDLY
        .iter()
        .find(|(g, v, _)| *g == group && *v == verb)?;
    let action = actions::find(name)?;
    Some(input_from_flags(action, verb_matches).map(|input| (action, input)))
}

pub fn is_friendly(group: &str) -> bool {
    GROUP_ABOUT.iter().any(|(g, _)| *g == group)
}

/// An input property as the CLI sees it.
struct Property {
    name: String,
    kind: Kind,
    help: String,
    required: bool,
    /// The allowed values, when the schema lists them.
    choices: Vec<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Integer,
    Bool,
    /// An object (`--profile '{"title": "x"}'`), given as JSON.
    Object,
    /// A list: a JSON array or comma-separated text (`--group-ids 00g1,00g2`).
    List,
}

fn properties(action: &ActionDef) -> Vec<Property> {
    let schema = action.input_schema();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let Some(props) = schema["properties"].as_object() else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, spec)| Property {
            name: name.clone(),
            kind: kind(spec),
            help: spec["description"].as_str().unwrap_or_default().to_string(),
            required: required.contains(&name.as_str()),
            choices: choices(&schema, spec),
        })
        .collect()
}

/// The `enum` of a property, directly or through a `$ref` (an optional enum is `anyOf: [$ref, null]`).
fn choices(schema: &Value, spec: &Value) -> Vec<String> {
    let resolve = |s: &Value| -> Value {
        match s["$ref"].as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
            Some(name) => schema["$defs"][name].clone(),
            None => s.clone(),
        }
    };
    let candidates: Vec<Value> = match spec["anyOf"].as_array() {
        Some(options) => options.iter().map(resolve).collect(),
        None => vec![resolve(spec)],
    };
    candidates
        .iter()
        .flat_map(|c| c["enum"].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn kind(spec: &Value) -> Kind {
    let types: Vec<&str> = match &spec["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"object") {
        Kind::Object
    } else if types.contains(&"array") {
        Kind::List
    } else if types.contains(&"integer") {
        Kind::Integer
    } else if types.contains(&"boolean") {
        Kind::Bool
    } else {
        Kind::Text
    }
}

/// `sortBy` → `sort-by`.
fn flag_name(property: &str) -> String {
    let mut flag = String::new();
    for c in property.chars() {
        if c.is_ascii_uppercase() {
            flag.push('-');
            flag.push(c.to_ascii_lowercase());
        } else {
            flag.push(c);
        }
    }
    flag
}

fn verb_command(verb: &str, action: &ActionDef) -> Command {
    let mut command = Command::new(verb.to_string())
        .about(format!("{} (action {})", action.summary, action.name));
    for property in properties(action) {
        let positional = action.positional == Some(property.name.as_str());
        let mut arg = Arg::new(property.name.clone()).help(property.help.clone());
        arg = if positional {
            arg.required(property.required)
                .value_name(property.name.to_uppercase())
        } else {
            let arg = arg
                .long(flag_name(&property.name))
                .required(property.required);
            match property.kind {
                Kind::Bool => arg.action(ArgAction::SetTrue),
                Kind::Integer => arg.value_name("N").value_parser(clap::value_parser!(u64)),
                Kind::Text if !property.choices.is_empty() => arg
                    .value_name("VALUE")
                    .value_parser(clap::builder::PossibleValuesParser::new(
                        property.choices.clone(),
                    ))
                    .ignore_case(true),
                Kind::Text => arg.value_name("TEXT"),
                Kind::Object => arg.value_name("JSON"),
                Kind::List => arg.value_name("A,B|JSON"),
            }
        };
        command = command.arg(arg);
    }
    command
}

fn input_from_flags(action: &ActionDef, matches: &ArgMatches) -> Result<Value, String> {
    let mut input = Map::new();
    for property in properties(action) {
        let positional = action.positional == Some(property.name.as_str());
        let value = match (property.kind, positional) {
            (Kind::Bool, false) => matches
                .get_flag(&property.name)
                .then_some(Value::Bool(true)),
            (Kind::Integer, false) => matches
                .get_one::<u64>(&property.name)
                .map(|n| Value::from(*n)),
            (Kind::Object, false) => match matches.get_one::<String>(&property.name) {
                Some(text) => Some(json_object(&property.name, text)?),
                None => None,
            },
            (Kind::List, false) => matches
                .get_one::<String>(&property.name)
                .map(|text| list(text)),
            _ => matches
                .get_one::<String>(&property.name)
                .map(|s| Value::String(s.clone())),
        };
        if let Some(value) = value {
            input.insert(property.name, value);
        }
    }
    Ok(Value::Object(input))
}

/// A JSON object flag, refused with the flag's name when it is not one.
fn json_object(property: &str, text: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(format!(
            "--{} takes a JSON object, like '{{\"title\": \"Engineer\"}}'",
            flag_name(property)
        )),
        Err(e) => Err(format!("--{} is not valid JSON: {e}", flag_name(property))),
    }
}

/// A JSON array as given, or comma-separated text as an array of strings.
fn list(text: &str) -> Value {
    if let Ok(v @ Value::Array(_)) = serde_json::from_str::<Value>(text) {
        return v;
    }
    Value::Array(
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Value::String(s.to_string()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_friendly_subcommand_parses() {
        let cli = Command::new("t").subcommands(commands());
        cli.clone().debug_assert();
        let m = cli
            .clone()
            .try_get_matches_from([
                "t",
                "users",
                "search",
                "--search",
                "status eq \"ACTIVE\"",
                "--sort-by",
                "id",
                "--limit",
                "5",
            ])
            .unwrap();
        let (group, sub) = m.subcommand().unwrap();
        let (action, input) = action_input(group, sub).unwrap().unwrap();
        assert_eq!(action.name, "search_users");
        assert_eq!(
            input,
            serde_json::json!({"search": "status eq \"ACTIVE\"", "sortBy": "id", "limit": 5})
        );
        let m = cli
            .try_get_matches_from(["t", "groups", "members", "00g1"])
            .unwrap();
        let (group, sub) = m.subcommand().unwrap();
        let (action, input) = action_input(group, sub).unwrap().unwrap();
        assert_eq!(action.name, "list_group_members");
        assert_eq!(input, serde_json::json!({"group": "00g1"}));
    }

    #[test]
    fn object_and_list_flags_parse_as_json() {
        let cli = Command::new("t").subcommands(commands());
        let m = cli
            .clone()
            .try_get_matches_from([
                "t",
                "users",
                "create",
                "--profile",
                r#"{"login": "a@example.com", "costCenter": 7}"#,
                "--group-ids",
                "00g1, 00g2",
                "--stage",
            ])
            .unwrap();
        let (group, sub) = m.subcommand().unwrap();
        let (action, input) = action_input(group, sub).unwrap().unwrap();
        assert_eq!(action.name, "create_user");
        assert_eq!(
            input,
            serde_json::json!({"profile": {"login": "a@example.com", "costCenter": 7},
                               "groupIds": ["00g1", "00g2"], "stage": true})
        );
        let m = cli
            .clone()
            .try_get_matches_from(["t", "users", "update", "ann", "--profile", "[1]"])
            .unwrap();
        let (group, sub) = m.subcommand().unwrap();
        let Err(err) = action_input(group, sub).unwrap() else {
            panic!("an array is not a profile")
        };
        assert!(err.contains("--profile takes a JSON object"), "{err}");
        let m = cli
            .try_get_matches_from(["t", "groups", "add-member", "ann", "--group", "00g1"])
            .unwrap();
        let (group, sub) = m.subcommand().unwrap();
        let (action, input) = action_input(group, sub).unwrap().unwrap();
        assert_eq!(action.name, "add_user_to_group");
        assert_eq!(input, serde_json::json!({"user": "ann", "group": "00g1"}));
    }

    #[test]
    fn flags_are_kebab_case() {
        assert_eq!(flag_name("sortOrder"), "sort-order");
        assert_eq!(flag_name("q"), "q");
    }
}
