//! The user profile schema and user types.

use okta_client::Client;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Action, ActionFuture, OutputDef, one_value, stream_values};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GetUserSchemaInput {
    /// The schema of a user type: its schema id (`default`, or the id in the user type's schema link).
    /// Default: the default user type's schema.
    pub schema_id: Option<String>,
}

pub struct GetUserSchema;

impl Action for GetUserSchema {
    type Input = GetUserSchemaInput;
    const NAME: &'static str = "get_user_schema";
    const SUMMARY: &'static str =
        "The user profile schema: base and custom attributes with their types and constraints.";
    const OUTPUT: OutputDef = OutputDef {
        list: false,
        item: "UserSchema",
        columns: &["id", "name", "title"],
    };

    fn run(client: Client, input: GetUserSchemaInput) -> ActionFuture {
        let id = input.schema_id.unwrap_or_else(|| "default".into());
        Box::pin(async move { one_value(client.schemas().user(&id).await?) })
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoInput {}

pub struct ListUserTypes;

impl Action for ListUserTypes {
    type Input = NoInput;
    const NAME: &'static str = "list_user_types";
    const SUMMARY: &'static str = "The org's user types.";
    const OUTPUT: OutputDef = OutputDef {
        list: true,
        item: "UserType",
        columns: &["id", "name", "displayName", "default"],
    };

    fn run(client: Client, _input: NoInput) -> ActionFuture {
        Box::pin(async move { Ok(stream_values(client.user_types().list(), None)) })
    }
}
