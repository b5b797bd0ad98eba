//! One test per rule, against a small schema shaped like Okta's.

use okta_client::models::UserSchema;
use serde_json::{Map, Value, json};

use super::*;

fn schema() -> ProfileSchema {
    let raw: UserSchema = serde_json::from_value(json!({
        "id": "https://acme.okta.com/meta/schemas/user/default",
        "definitions": {
            "base": {"id": "#base", "type": "object", "required": ["login", "email"], "properties": {
                "login": {"title": "Username", "type": "string", "required": true, "minLength": 5, "maxLength": 100},
                "email": {"title": "Primary email", "type": "string", "format": "email"},
                "nickName": {"title": "Nickname", "type": "string"},
                "employeeNumber": {"title": "Employee number", "type": "string", "mutability": "READ_ONLY"}
            }},
            "custom": {"id": "#custom", "type": "object", "required": ["employeeId"], "properties": {
                "employeeId": {"title": "Employee ID", "type": "string", "pattern": "^E[0-9]{6}$",
                               "unique": "UNIQUE_VALIDATED"},
                "clearanceLevel": {"title": "Clearance level", "type": "integer", "minimum": 0, "maximum": 5},
                "score": {"type": "number", "minimum": 0.5},
                "isContractor": {"type": "boolean"},
                "region": {"type": "string", "enum": ["AMER", "EMEA"],
                           "oneOf": [{"const": "AMER", "title": "Americas"}, {"const": "EMEA", "title": "Europe"}]},
                "skills": {"type": "array", "items": {"type": "string"}},
                "levels": {"type": "array", "items": {"type": "integer", "enum": [1, 2, 3]}},
                "meta": {"type": "object"},
                "tier": {"type": "string", "oneOf": [{"const": "gold", "title": "Gold"}]},
                "javaOnly": {"type": "string", "pattern": "^(?=x).*$"}
            }}
        }
    }))
    .unwrap();
    ProfileSchema::from_user_schema(&raw)
}

fn profile(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn good() -> Map<String, Value> {
    profile(json!({"login": "ada@acme.com", "email": "ada@acme.com", "employeeId": "E000042"}))
}

/// The problems of `p` (merged over a good profile) in `mode`, as `field: message` strings.
fn problems(extra: Value, mode: Mode) -> Vec<String> {
    let mut p = good();
    p.extend(profile(extra));
    match schema().validate(&p, mode) {
        Ok(()) => vec![],
        Err(e) => {
            e.0.iter()
                .map(|e| format!("{}: {}", e.field, e.problem))
                .collect()
        }
    }
}

#[test]
fn reads_every_attribute_with_its_rules() {
    let s = schema();
    let names: Vec<&str> = s.attributes().iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        &names[..5],
        ["login", "email", "nickName", "employeeNumber", "employeeId"]
    );
    assert_eq!(names.len(), 14);
    let login = s.attribute("login").unwrap();
    assert!(login.required && !login.custom);
    assert_eq!((login.min_length, login.max_length), (Some(5), Some(100)));
    assert!(
        s.attribute("email").unwrap().required,
        "listed in the section's required"
    );
    let id = s.attribute("employeeId").unwrap();
    assert!(id.required && id.custom && id.unique && id.pattern.as_ref().unwrap().is_checked());
    assert!(s.attribute("employeeNumber").unwrap().read_only);
    let region = s.attribute("region").unwrap();
    assert_eq!(region.choices[1].title.as_deref(), Some("Europe"));
    let tier = &s.attribute("tier").unwrap().choices;
    assert_eq!(
        (&tier[0].value, tier[0].title.as_deref()),
        (&json!("gold"), Some("Gold")),
        "oneOf alone"
    );
    assert_eq!(
        s.attribute("skills").unwrap().kind,
        Kind::Array(Box::new(Kind::String))
    );
    assert_eq!(
        s.attribute("levels").unwrap().choices.len(),
        3,
        "an array's enum is on its items"
    );
    assert!(
        !s.attribute("javaOnly")
            .unwrap()
            .pattern
            .as_ref()
            .unwrap()
            .is_checked()
    );
}

#[test]
fn a_good_profile_passes_in_every_mode() {
    for mode in [Mode::Create, Mode::Update, Mode::Replace] {
        assert_eq!(
            problems(
                json!({"clearanceLevel": 3, "region": "EMEA", "skills": ["rust"],
            "isContractor": false, "score": 2.5, "levels": [1, 3], "meta": {"a": 1}}),
                mode
            ),
            Vec::<String>::new()
        );
    }
}

#[test]
fn required_attributes_are_needed_on_create_and_replace_but_not_update() {
    let p = profile(json!({"nickName": "Ada"}));
    for mode in [Mode::Create, Mode::Replace] {
        let e = schema().validate(&p, mode).unwrap_err();
        assert_eq!(e.fields(), ["login", "email", "employeeId"]);
        assert!(e.0.iter().all(|e| e.problem == Problem::Required));
    }
    assert_eq!(schema().validate(&p, Mode::Update), Ok(()));
    // A blank value is no value.
    assert_eq!(
        problems(json!({"employeeId": "  "}), Mode::Create),
        ["employeeId: required"]
    );
}

#[test]
fn null_clears_in_an_update_unless_required() {
    let p = profile(json!({"nickName": null, "skills": [], "clearanceLevel": null}));
    assert_eq!(schema().validate(&p, Mode::Update), Ok(()));
    let p = profile(json!({"employeeId": null, "login": ""}));
    let e = schema().validate(&p, Mode::Update).unwrap_err();
    assert_eq!(e.fields(), ["login", "employeeId"]);
    assert!(e.0.iter().all(|e| e.problem == Problem::CannotClear));
}

#[test]
fn unknown_attributes_are_named_with_a_hint() {
    let e = schema()
        .validate(&profile(json!({"nickname": "x", "zz": 1})), Mode::Update)
        .unwrap_err();
    assert_eq!(e.fields(), ["nickname", "zz"]);
    assert!(e.only_unknown());
    let text = e.to_string();
    assert!(text.starts_with("profile.nickname: not an attribute of this org's user profile (did you mean nickName? known: login, email,"), "{text}");
    assert!(
        !text.contains("zz: not an attribute of this org's user profile (did"),
        "{text}"
    );
}

#[test]
fn read_only_attributes_are_refused() {
    assert_eq!(
        problems(json!({"employeeNumber": "42"}), Mode::Update),
        ["employeeNumber: read-only in this org's user profile"]
    );
}

#[test]
fn types_are_checked_including_array_items() {
    assert_eq!(
        problems(
            json!({"clearanceLevel": "3", "isContractor": "yes", "skills": ["a", 1], "score": "x",
            "meta": [1], "region": 5, "levels": [1.5]}),
            Mode::Create
        ),
        [
            "clearanceLevel: expected an integer, got a string",
            "score: expected a number, got a string",
            "isContractor: expected a boolean, got a string",
            "region: expected a string, got an integer",
            "skills: expected an array of strings, got an array holding an integer",
            "levels: expected an array of integers, got an array holding a decimal number",
            "meta: expected an object, got an array",
        ]
    );
    assert_eq!(
        problems(json!({"clearanceLevel": 2.0}), Mode::Create),
        ["clearanceLevel: expected an integer, got a decimal number"]
    );
}

#[test]
fn enums_are_checked_for_values_and_array_items() {
    assert_eq!(
        problems(json!({"region": "MARS", "levels": [1, 7]}), Mode::Create),
        [
            r#"region: "MARS" is not one of "AMER", "EMEA""#,
            "levels: 7 is not one of 1, 2, 3"
        ]
    );
}

#[test]
fn lengths_count_characters() {
    assert_eq!(
        problems(json!({"login": "a@b."}), Mode::Create),
        ["login: 4 characters, below the minimum length 5"]
    );
    let long = format!("{}@acme.com", "é".repeat(95));
    assert_eq!(
        problems(json!({"login": long}), Mode::Create),
        ["login: 104 characters, above the maximum length 100"]
    );
    let fits = format!("{}@acme.com", "é".repeat(91));
    assert_eq!(
        problems(json!({"login": fits}), Mode::Create),
        Vec::<String>::new()
    );
}

#[test]
fn ranges_are_inclusive() {
    assert_eq!(
        problems(json!({"clearanceLevel": 0}), Mode::Create),
        Vec::<String>::new()
    );
    assert_eq!(
        problems(json!({"clearanceLevel": 5}), Mode::Create),
        Vec::<String>::new()
    );
    assert_eq!(
        problems(json!({"clearanceLevel": 9}), Mode::Create),
        ["clearanceLevel: 9 is above the maximum 5"]
    );
    assert_eq!(
        problems(json!({"clearanceLevel": -1}), Mode::Create),
        ["clearanceLevel: -1 is below the minimum 0"]
    );
    assert_eq!(
        problems(json!({"score": 0.25}), Mode::Create),
        ["score: 0.25 is below the minimum 0.5"]
    );
}

#[test]
fn patterns_are_searched_and_java_only_ones_left_to_okta() {
    assert_eq!(
        problems(json!({"employeeId": "E12"}), Mode::Create),
        [r#"employeeId: "E12" does not match the pattern ^E[0-9]{6}$"#]
    );
    assert_eq!(
        problems(json!({"employeeId": "E1234567"}), Mode::Create).len(),
        1,
        "anchored"
    );
    assert_eq!(
        problems(json!({"javaOnly": "anything"}), Mode::Create),
        Vec::<String>::new()
    );
    // Unanchored patterns search, as JSON Schema says.
    assert_eq!(Pattern::new("[0-9]").matches("ab1"), Some(true));
    // Groups and alternation compile; a pathological pattern still matches in linear time.
    assert_eq!(Pattern::new("^(a|b)+$").matches("abba"), Some(true));
    let evil = Pattern::new("^(a+)+$");
    assert_eq!(
        evil.matches(&format!("{}!", "a".repeat(10_000))),
        Some(false)
    );
}

#[test]
fn email_format_is_checked_loosely() {
    assert_eq!(
        problems(json!({"email": "ada at acme"}), Mode::Create),
        [r#"email: "ada at acme" is not an email address"#]
    );
    assert_eq!(
        problems(json!({"email": "a.b+c@sub.acme.io"}), Mode::Create),
        Vec::<String>::new()
    );
}

#[test]
fn every_bad_field_is_named_in_schema_order_then_unknown_ones() {
    let p = profile(
        json!({"nickname": "x", "clearanceLevel": 9, "login": "ada@acme.com", "email": "ada@acme.com"}),
    );
    let e = schema().validate(&p, Mode::Create).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with("profile.employeeId: required; profile.clearanceLevel: 9 is above the maximum 5; profile.nickname: not an attribute"),
        "{text}"
    );
    assert!(!e.only_unknown());
}

#[test]
fn long_values_are_cut_short_in_messages() {
    let e = problems(json!({"employeeId": "x".repeat(500)}), Mode::Create);
    assert!(e[0].len() < 120, "{}", e[0]);
}

#[test]
fn the_json_schema_describes_the_real_fields() {
    let j = schema().to_json_schema();
    assert_eq!(j["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(j["required"], json!(["login", "email", "employeeId"]));
    assert_eq!(j["additionalProperties"], false);
    let p = &j["properties"];
    assert_eq!(
        p["login"],
        json!({"title": "Username", "type": "string", "minLength": 5, "maxLength": 100})
    );
    assert_eq!(p["clearanceLevel"]["minimum"], 0);
    assert_eq!(p["clearanceLevel"]["x-okta-custom"], true);
    assert_eq!(p["employeeId"]["pattern"], "^E[0-9]{6}$");
    assert_eq!(p["employeeId"]["x-okta-unique"], true);
    assert_eq!(p["employeeNumber"]["readOnly"], true);
    assert_eq!(
        p["region"]["oneOf"],
        json!([{"const": "AMER", "title": "Americas"}, {"const": "EMEA", "title": "Europe"}])
    );
    assert_eq!(
        p["levels"],
        json!({"type": "array", "items": {"type": "integer", "enum": [1, 2, 3]}, "x-okta-custom": true})
    );
}
