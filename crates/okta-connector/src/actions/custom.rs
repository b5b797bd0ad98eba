//! Any Core API call with the connection's auth, retries, rate limiting and pagination.

use std::collections::BTreeMap;

use okta_client::{Client, Query};
use reqwest::Method;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{Action, ActionError, ActionFuture, ActionOutput, OutputDef};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomApiCallInput {
    /// GET, POST, PUT, PATCH or DELETE.
    pub method: String,
    /// A path under /api/v1, e.g. `/api/v1/groups/00g1/roles` (no host: the connection's org is used).
    pub path: String,
    /// Query parameters.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// The JSON body.
    pub body: Option<Value>,
    /// For a GET that returns a list: follow the `next` links and stream every item (default true).
    pub paginate: Option<bool>,
}

pub struct CustomApiCall;

impl Action for CustomApiCall {
    type Input = CustomApiCallInput;
    const NAME: &'static str = "custom_api_call";
    const SUMMARY: &'static str = "Any Core Okta API call under /api/v1, with the connection's auth, retries, \
         rate limits and pagination.";
    const OUTPUT: OutputDef = OutputDef {
        list: false,
        item: "whatever the endpoint returns (a list is streamed item by item)",
        columns: &["id"],
    };

    fn check(input: &CustomApiCallInput) -> Result<(), String> {
        method(&input.method)?;
        okta_client::api::custom::check_path(&input.path).map_err(|e| e.to_string())
    }

    fn run(client: Client, input: CustomApiCallInput) -> ActionFuture {
        Box::pin(async move {
            let method = method(&input.method).map_err(ActionError::Input)?;
            let query = Query(input.query.into_iter().collect());
            let call = client.custom(method, &input.path).query(query);
            let call = match input.body {
                Some(body) => call.body(body),
                None => call,
            };
            if input.paginate.unwrap_or(true) {
                match call.send_paginated().await? {
                    okta_client::api::custom::Answer::List(items) => Ok(ActionOutput::Stream(Box::pin(items))),
                    okta_client::api::custom::Answer::One(value) => Ok(ActionOutput::One(value)),
                }
            } else {
                Ok(ActionOutput::One(call.send().await?))
            }
        })
    }
}

fn method(text: &str) -> Result<Method, String> {
    match text.to_ascii_uppercase().as_str() {
        "GET" => Ok(Method::GET),
        "POST" => Ok(Method::POST),
        "PUT" => Ok(Method::PUT),
        "PATCH" => Ok(Method::PATCH),
        "DELETE" => Ok(Method::DELETE),
        other => Err(format!("method {other} is not one of GET, POST, PUT, PATCH, DELETE")),
    }
}
