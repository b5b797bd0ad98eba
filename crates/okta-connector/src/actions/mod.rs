//! The action registry: every action declared once — its name, what it does, the JSON Schema of its
//! input (derived from the input type, so the schema and the parser cannot disagree), what it returns,
//! and how it runs. The CLI (`actions list|describe|run` and the friendly subcommands), the docs and the
//! daemon's HTTP API are all generated from [`registry`].

mod apps;
mod assignment;
mod custom;
mod groups;
mod lifecycle;
mod logs;
mod membership;
mod schema;
mod users;

use std::future::Future;
use std::pin::Pin;

use futures_core::Stream;
use okta_client::Client;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What an action gives back.
pub enum ActionOutput {
    /// One JSON object.
    One(Value),
    /// A list, streamed as pages arrive (never collected).
    Stream(Pin<Box<dyn Stream<Item = Result<Value, okta_client::Error>> + Send>>),
}

/// What an action returns, for `actions describe` and the docs.
#[derive(Clone, Copy, Debug)]
pub struct OutputDef {
    /// Whether the output is a streamed list of `item` or one `item`.
    pub list: bool,
    /// The Okta object, e.g. "User".
    pub item: &'static str,
    /// The columns a table or CSV shows (dotted paths into the object); JSON output keeps everything.
    pub columns: &'static [&'static str],
}

/// Why an action did not run or did not finish.
#[derive(Debug)]
pub enum ActionError {
    /// The input does not fit the action's schema or rules: nothing was sent to Okta.
    Input(String),
    /// Okta (or the way to it) refused or failed. Boxed: the error is large and the input case common.
    Okta(Box<okta_client::Error>),
    /// The object's state makes Okta refuse the change (e.g. activating an ACTIVE user): found by
    /// reading the object first, so the change itself was not sent. The text explains why.
    State(String),
}

impl std::fmt::Display for ActionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ActionError::Input(message) => write!(f, "invalid input: {message}"),
            ActionError::Okta(e) => e.fmt(f),
            ActionError::State(message) => write!(f, "{message} (nothing was changed)"),
        }
    }
}

impl std::error::Error for ActionError {}

impl From<okta_client::Error> for ActionError {
    fn from(e: okta_client::Error) -> Self {
        ActionError::Okta(Box::new(e))
    }
}

pub type ActionFuture = Pin<Box<dyn Future<Output = Result<ActionOutput, ActionError>> + Send>>;

/// One action, as each module declares it.
pub trait Action: Sync {
    /// The action's input: its serde form is the JSON input, its schemars form the JSON Schema.
    type Input: DeserializeOwned + JsonSchema + Send + 'static;
    const NAME: &'static str;
    const SUMMARY: &'static str;
    const OUTPUT: OutputDef;
    /// The input property a friendly subcommand takes as its positional argument (`users get ID`).
    const POSITIONAL: Option<&'static str> = None;
    /// Whether the input has a free-form `profile` object whose fields come from the org's user
    /// profile schema (so `actions describe --connection C` can show the org's real fields).
    const PROFILE: bool = false;
    /// Rules the schema cannot say (e.g. "at most one of q, filter, search"), checked before any call.
    fn check(_input: &Self::Input) -> Result<(), String> {
        Ok(())
    }
    fn run(client: Client, input: Self::Input) -> ActionFuture;
}

/// An action with its input type erased, as the registry holds it.
pub struct ActionDef {
    pub name: &'static str,
    pub summary: &'static str,
    pub output: OutputDef,
    pub positional: Option<&'static str>,
    /// See [`Action::PROFILE`].
    pub profile: bool,
    input_schema: fn() -> Value,
    parse_and_run: fn(Client, Value) -> ActionFuture,
    parse: fn(Value) -> Result<(), ActionError>,
}

impl ActionDef {
    const fn of<A: Action>() -> ActionDef {
        ActionDef {
            name: A::NAME,
            summary: A::SUMMARY,
            output: A::OUTPUT,
            positional: A::POSITIONAL,
            profile: A::PROFILE,
            input_schema: json_schema_of::<A::Input>,
            parse_and_run: parse_and_run::<A>,
            parse: |input| parse_input::<A>(input).map(drop),
        }
    }

    /// The JSON Schema of the input.
    pub fn input_schema(&self) -> Value {
        (self.input_schema)()
    }

    /// Checks an input against the schema and the action's rules without calling Okta.
    pub fn validate(&self, input: Value) -> Result<(), ActionError> {
        (self.parse)(input)
    }

    /// Validates the input, then runs the action. Invalid input never reaches Okta.
    pub fn run(&self, client: Client, input: Value) -> ActionFuture {
        (self.parse_and_run)(client, input)
    }
}

/// The JSON Schema (draft 2020-12) of a type, without the Rust type name as its title.
pub(crate) fn json_schema_of<I: JsonSchema>() -> Value {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<I>()
        .to_value();
    // The title is the Rust type's name: noise for a user of the CLI or the HTTP API.
    if let Some(map) = schema.as_object_mut() {
        map.remove("title");
    }
    schema
}

fn parse_input<A: Action>(input: Value) -> Result<A::Input, ActionError> {
    // `null` is "no input", for actions whose every field is optional.
    let input = if input.is_null() {
        Value::Object(Default::default())
    } else {
        input
    };
    let parsed: A::Input =
        serde_json::from_value(input).map_err(|e| ActionError::Input(e.to_string()))?;
    A::check(&parsed).map_err(ActionError::Input)?;
    Ok(parsed)
}

fn parse_and_run<A: Action>(client: Client, input: Value) -> ActionFuture {
    match parse_input::<A>(input) {
        Ok(input) => A::run(client, input),
        Err(e) => Box::pin(std::future::ready(Err(e))),
    }
}

/// Every action, in the order `actions list` shows them.
pub fn registry() -> &'static [ActionDef] {
    static REGISTRY: &[ActionDef] = &[
        ActionDef::of::<users::GetUser>(),
        ActionDef::of::<users::SearchUsers>(),
        ActionDef::of::<users::ListUserGroups>(),
        ActionDef::of::<groups::ListGroups>(),
        ActionDef::of::<groups::GetGroup>(),
        ActionDef::of::<groups::ListGroupMembers>(),
        ActionDef::of::<apps::ListApps>(),
        ActionDef::of::<apps::GetApp>(),
        ActionDef::of::<apps::ListAppUsers>(),
        ActionDef::of::<schema::GetUserSchema>(),
        ActionDef::of::<schema::ListUserTypes>(),
        ActionDef::of::<logs::SearchSystemLog>(),
        ActionDef::of::<custom::CustomApiCall>(),
        ActionDef::of::<lifecycle::CreateUser>(),
        ActionDef::of::<lifecycle::ActivateUser>(),
        ActionDef::of::<lifecycle::UpdateUser>(),
        ActionDef::of::<membership::AddUserToGroup>(),
        ActionDef::of::<membership::RemoveUserFromGroup>(),
        ActionDef::of::<lifecycle::DeactivateUser>(),
        ActionDef::of::<lifecycle::DeleteUser>(),
        ActionDef::of::<lifecycle::SuspendUser>(),
        ActionDef::of::<lifecycle::UnsuspendUser>(),
        ActionDef::of::<lifecycle::ExpirePassword>(),
        ActionDef::of::<lifecycle::ResetForgottenPassword>(),
        ActionDef::of::<lifecycle::ResetPassword>(),
        ActionDef::of::<lifecycle::UnlockUser>(),
        ActionDef::of::<lifecycle::ReactivateUser>(),
        ActionDef::of::<lifecycle::ResetFactors>(),
        ActionDef::of::<lifecycle::ClearUserSessions>(),
        ActionDef::of::<assignment::AssignUserToApp>(),
        ActionDef::of::<assignment::UnassignUserFromApp>(),
    ];
    REGISTRY
}

/// The action with this name.
pub fn find(name: &str) -> Option<&'static ActionDef> {
    registry().iter().find(|a| a.name == name)
}

// Helpers the action modules share.

/// A streamed list of typed models as JSON values.
fn stream_values<T: serde::Serialize + Send + 'static>(
    pages: okta_client::page::Pages<T>,
    max: Option<u64>,
) -> ActionOutput {
    use futures_util::StreamExt;
    let values = pages.map(|item| {
        item.and_then(|v| {
            serde_json::to_value(v).map_err(|e| {
                okta_client::Error::new(
                    okta_client::ErrorKind::Decode,
                    format!("cannot re-encode an item: {e}"),
                )
            })
        })
    });
    match max {
        Some(max) => ActionOutput::Stream(Box::pin(values.take(max as usize))),
        None => ActionOutput::Stream(Box::pin(values)),
    }
}

/// One typed model as a JSON value.
fn one_value<T: serde::Serialize>(item: T) -> Result<ActionOutput, ActionError> {
    serde_json::to_value(item)
        .map(ActionOutput::One)
        .map_err(|e| ActionError::Input(format!("cannot encode the answer: {e}")))
}

/// "At most one of these" for Okta's alternative search parameters.
fn at_most_one(fields: &[(&str, bool)]) -> Result<(), String> {
    let given: Vec<&str> = fields
        .iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| *name)
        .collect();
    if given.len() > 1 {
        return Err(format!(
            "give at most one of {} (got {})",
            fields
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
            given.join(" and ")
        ));
    }
    Ok(())
}

/// Page sizes Okta accepts, per endpoint.
fn check_limit(limit: Option<u32>, max: u32) -> Result<(), String> {
    match limit {
        Some(0) => Err("limit must be at least 1".into()),
        Some(l) if l > max => Err(format!(
            "limit must be at most {max} for this endpoint (got {l})"
        )),
        _ => Ok(()),
    }
}
