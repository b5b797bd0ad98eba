//! The OpenAPI 3.1 document of the daemon's own API, generated from the action registry: one path
//! per action, its input schema as the request body.
//!
//! OpenAPI 3.1 schemas are JSON Schema 2020-12, the dialect the registry derives, so an input
//! schema goes in as it is, except for its `$defs`: a `$ref` such as `#/$defs/SortOrder` would be
//! resolved against the whole document, so each definition moves to `components/schemas` (named
//! `{action}.{Definition}`) and its references follow.

use serde_json::{Map, Value, json};

use super::{BODY_LIMIT, NDJSON, returns};
use crate::actions::{self, ActionDef};

/// The document, built fresh (it is small and asked for rarely).
pub fn document() -> Value {
    let mut schemas = Map::new();
    schemas.insert("Error".into(), error_schema());
    let mut paths = Map::new();
    paths.insert("/v1/actions".into(), registry_path());
    paths.insert("/v1/actions/{action}".into(), describe_path());
    paths.insert("/v1/connections".into(), connections_path());
    paths.insert("/v1/openapi.json".into(), openapi_path());
    for action in actions::registry() {
        let name = format!("{}.input", action.name);
        let mut schema = action.input_schema();
        hoist_defs(&mut schema, action.name, &mut schemas);
        schemas.insert(name.clone(), schema);
        paths.insert(
            format!("/v1/connections/{{name}}/actions/{}", action.name),
            action_path(action, &name),
        );
    }
    for (path, item) in ops_paths() {
        paths.insert(path.into(), item);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "okta-connector daemon",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Okta actions over HTTP, from the same registry as the okta-connector CLI. Every /v1 route needs the daemon's API token as a bearer token.",
        },
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "The daemon's API token (the serve configuration)."}
            },
            "schemas": schemas,
            "responses": responses(),
        },
    })
}

/// Moves `$defs` into `components/schemas` under `{action}.{name}` and points the references there;
/// drops `$schema` (the document's dialect is the same).
fn hoist_defs(schema: &mut Value, action: &str, schemas: &mut Map<String, Value>) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    map.remove("$schema");
    let defs = match map.remove("$defs") {
        Some(Value::Object(defs)) => defs,
        _ => Map::new(),
    };
    let rewrite = |v: &mut Value| retarget_refs(v, action);
    rewrite(schema);
    for (name, mut def) in defs {
        rewrite(&mut def);
        schemas.insert(format!("{action}.{name}"), def);
    }
}

fn retarget_refs(v: &mut Value, action: &str) {
    match v {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if key == "$ref"
                    && let Some(def) = value.as_str().and_then(|r| r.strip_prefix("#/$defs/"))
                {
                    *value = Value::String(format!("#/components/schemas/{action}.{def}"));
                } else {
                    retarget_refs(value, action);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| retarget_refs(i, action)),
        _ => {}
    }
}

fn action_path(action: &ActionDef, schema: &str) -> Value {
    let required = action.input_schema()["required"]
        .as_array()
        .is_some_and(|r| !r.is_empty());
    let ok = if action.output.list {
        json!({
            "description": format!("{}: NDJSON (one object per line, streamed) by default, or a JSON array with `Accept: application/json`. A failure mid-list ends NDJSON with an `{{\"error\": ...}}` line and cuts a JSON array off.", returns(action)),
            "content": {
                NDJSON: {"schema": {"type": "object"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            },
        })
    } else {
        json!({
            "description": returns(action),
            "content": {"application/json": {"schema": {}}},
        })
    };
    json!({
        "post": {
            "operationId": action.name,
            "summary": action.summary,
            "tags": ["actions"],
            "parameters": [{
                "name": "name",
                "in": "path",
                "required": true,
                "description": "The connection (GET /v1/connections).",
                "schema": {"type": "string"},
            }],
            "requestBody": {
                "required": required,
                "description": format!("The action's input (at most {BODY_LIMIT} bytes); an empty body is `{{}}`."),
                "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}},
            },
            "responses": {
                "200": ok,
                "400": {"$ref": "#/components/responses/InvalidInput"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": {"$ref": "#/components/responses/Okta"},
                "404": {"$ref": "#/components/responses/NotFound"},
                "409": {"$ref": "#/components/responses/Conflict"},
                "413": {"$ref": "#/components/responses/TooLarge"},
                "429": {"$ref": "#/components/responses/Okta"},
                "502": {"$ref": "#/components/responses/Okta"},
                "504": {"$ref": "#/components/responses/Okta"},
            },
        }
    })
}

fn get_op(id: &str, summary: &str, ok: Value) -> Value {
    json!({
        "get": {
            "operationId": id,
            "summary": summary,
            "tags": ["registry"],
            "responses": {
                "200": ok,
                "401": {"$ref": "#/components/responses/Unauthorized"},
            },
        }
    })
}

fn json_ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn summary_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "summary": {"type": "string"},
            "returns": {"type": "string", "description": "The Okta object returned, or `stream of X` for a list."},
        },
        "required": ["name", "summary", "returns"],
    })
}

fn registry_path() -> Value {
    get_op(
        "listActions",
        "Every action.",
        json_ok(
            "The registry",
            json!({"type": "array", "items": summary_schema()}),
        ),
    )
}

fn describe_path() -> Value {
    let mut schema = summary_schema();
    schema["properties"]["inputSchema"] =
        json!({"type": "object", "description": "The input's JSON Schema (2020-12)."});
    let mut op = get_op(
        "describeAction",
        "One action with its input's JSON Schema.",
        json_ok("The action", schema),
    );
    op["get"]["parameters"] = json!([{
        "name": "action", "in": "path", "required": true, "schema": {"type": "string"},
    }]);
    op["get"]["responses"]["404"] = json!({"$ref": "#/components/responses/NotFound"});
    op
}

fn connections_path() -> Value {
    get_op(
        "listConnections",
        "The connections actions can run on.",
        json_ok(
            "Connection names",
            json!({"type": "array", "items": {"type": "string"}}),
        ),
    )
}

fn openapi_path() -> Value {
    get_op(
        "openapi",
        "This document.",
        json_ok("OpenAPI 3.1", json!({"type": "object"})),
    )
}

/// The operations routes: no token (see `daemon::ops`).
fn ops_paths() -> Vec<(&'static str, Value)> {
    let text = |description: &str, kind: &str| json!({"description": description, "content": {kind: {"schema": {"type": "string"}}}});
    let op = |id: &str, summary: &str, responses: Value| json!({"get": {"operationId": id, "summary": summary, "tags": ["operations"], "security": [], "responses": responses}});
    vec![
        (
            "/healthz",
            op(
                "healthz",
                "Liveness: 200 while the process serves.",
                json!({"200": text("ok", "text/plain")}),
            ),
        ),
        (
            "/readyz",
            op(
                "readyz",
                "Readiness: 200 once every trigger instance has started.",
                json!({"200": text("ready", "text/plain"), "503": text("not ready, with the reason", "text/plain")}),
            ),
        ),
        (
            "/metrics",
            op(
                "metrics",
                "Prometheus metrics (text format 0.0.4).",
                json!({"200": text("metrics", "text/plain; version=0.0.4")}),
            ),
        ),
    ]
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "error": {"type": "string", "enum": ["invalid_input", "unauthorized", "not_found", "conflict", "body_too_large", "okta"]},
            "message": {"type": "string"},
            "okta": {
                "type": "object",
                "description": "Okta's error body (errorCode, errorSummary, errorCauses, ...) with its HTTP status and request id.",
                "properties": {
                    "status": {"type": "integer"},
                    "requestId": {"type": "string"},
                    "errorCode": {"type": "string"},
                    "errorSummary": {"type": "string"},
                },
            },
        },
        "required": ["error", "message"],
    })
}

fn responses() -> Value {
    let error = |description: &str| {
        json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        })
    };
    let mut unauthorized = error("No bearer token, or not the daemon's.");
    unauthorized["headers"] = json!({"WWW-Authenticate": {"schema": {"type": "string"}}});
    json!({
        "InvalidInput": error("The input does not fit the action's schema or rules (nothing was sent to Okta), or Okta refused it as invalid."),
        "Unauthorized": unauthorized,
        "NotFound": error("No such connection or action, or Okta found no such object."),
        "Conflict": error("The object's state makes Okta refuse the change; nothing was sent."),
        "TooLarge": error("The body is larger than the limit."),
        "Okta": error("Okta refused (its 4xx as is; its 401 as 502), failed (502), rate limits outlasted the retries (429) or timed out (504)."),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_path_and_no_ref_points_outside_the_document() {
        let doc = document();
        for action in actions::registry() {
            let path = format!("/v1/connections/{{name}}/actions/{}", action.name);
            assert_eq!(doc["paths"][&path]["post"]["operationId"], action.name);
        }
        let text = doc.to_string();
        assert!(!text.contains("#/$defs/"), "a reference left behind");
        // Every reference resolves inside the document.
        fn refs(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for (k, v) in m {
                        match (k.as_str(), v) {
                            ("$ref", Value::String(r)) => out.push(r.clone()),
                            _ => refs(v, out),
                        }
                    }
                }
                Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(all.iter().any(|r| r.contains("search_users.SortOrder")));
        for r in all {
            let pointer = r.strip_prefix('#').unwrap();
            assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
        }
    }
}
