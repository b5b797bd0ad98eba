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
        okta_client::api::validate_api_path(&input.path).map_err(|e| e.message)
    }

    fn run(client: Client, input: CustomApiCallInput) -> ActionFuture {
        Box::pin(async move {
            let method = method(&input.method).map_err(ActionError::Input)?;
            let query = Query(input.query.into_iter().collect());
            if method == Method::GET && input.paginate.unwrap_or(true) && input.body.is_none() {
                return first_page_then_the_rest(client, &input.path, query).await;
            }
            let call = client.custom(method, &input.path).query(query);
            let call = match input.body {
                Some(body) => call.body(body),
                None => call,
            };
            Ok(ActionOutput::One(call.send().await?))
        })
    }
}

/// A GET answers an object or a list, and only the answer tells which: the first page decides; a list
/// goes on through its `next` links one page at a time.
async fn first_page_then_the_rest(
    client: Client,
    path: &str,
    query: Query,
) -> Result<ActionOutput, ActionError> {
    use futures_util::StreamExt;
    okta_client::api::validate_api_path(path)?;
    let response = client.send(Method::GET, path, &query, None).await?;
    let body: Value = if response.body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&response.body).map_err(|e| {
            okta_client::Error::new(
                okta_client::ErrorKind::Decode,
                format!("the answer is not JSON: {e}"),
            )
        })?
    };
    let Value::Array(first) = body else {
        return Ok(ActionOutput::One(body));
    };
    let first = futures_util::stream::iter(first.into_iter().map(Ok));
    match okta_client::page::next_link(&response.headers, client.org_url()) {
        Some(next) => {
            let rest = client.paginate::<Value>(next.as_str(), Query::new());
            Ok(ActionOutput::Stream(Box::pin(first.chain(rest))))
        }
        None => Ok(ActionOutput::Stream(Box::pin(first))),
    }
}

fn method(text: &str) -> Result<Method, String> {
    match text.to_ascii_uppercase().as_str() {
        "GET" => Ok(Method::GET),
        "POST" => Ok(Method::POST),
        "PUT" => Ok(Method::PUT),
        "PATCH" => Ok(Method::PATCH),
        "DELETE" => Ok(Method::DELETE),
        other => Err(format!(
            "method {other} is not one of GET, POST, PUT, PATCH, DELETE"
        )),
    }
}
