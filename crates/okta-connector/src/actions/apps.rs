//! App discovery: list apps, get one, the users assigned to it.

use okta_client::Client;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Action, ActionFuture, OutputDef, check_limit, one_value, stream_values};

const APP_COLUMNS: &[&str] = &["id", "name", "label", "status", "signOnMode"];

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAppsInput {
    /// Finds apps whose name or label starts with this text.
    pub q: Option<String>,
    /// A filter expression, e.g. `status eq "ACTIVE"`.
    pub filter: Option<String>,
    /// Page size (1–200).
    pub limit: Option<u32>,
    /// Stop after this many apps.
    pub max: Option<u64>,
}

pub struct ListApps;

impl Action for ListApps {
    type Input = ListAppsInput;
    const NAME: &'static str = "list_apps";
    const SUMMARY: &'static str = "List apps (q or filter), every page streamed.";
    const OUTPUT: OutputDef = OutputDef {
        list: true,
        item: "Application",
        columns: APP_COLUMNS,
    };

    fn check(input: &ListAppsInput) -> Result<(), String> {
        check_limit(input.limit, 200)
    }

    fn run(client: Client, input: ListAppsInput) -> ActionFuture {
        Box::pin(async move {
            let mut list = client.apps().list();
            if let Some(q) = input.q {
                list = list.q(q);
            }
            if let Some(filter) = input.filter {
                list = list.filter(filter);
            }
            if let Some(limit) = input.limit {
                list = list.limit(limit);
            }
            Ok(stream_values(list.stream(), input.max))
        })
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppInput {
    /// The app's id (0oa…).
    pub app: String,
}

pub struct GetApp;

impl Action for GetApp {
    type Input = AppInput;
    const NAME: &'static str = "get_app";
    const SUMMARY: &'static str = "Get one app by id.";
    const OUTPUT: OutputDef = OutputDef {
        list: false,
        item: "Application",
        columns: APP_COLUMNS,
    };
    const POSITIONAL: Option<&'static str> = Some("app");

    fn run(client: Client, input: AppInput) -> ActionFuture {
        Box::pin(async move { one_value(client.apps().get(&input.app).await?) })
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAppUsersInput {
    /// The app's id (0oa…).
    pub app: String,
    /// Page size (1–500).
    pub limit: Option<u32>,
    /// Stop after this many assignments.
    pub max: Option<u64>,
}

pub struct ListAppUsers;

impl Action for ListAppUsers {
    type Input = ListAppUsersInput;
    const NAME: &'static str = "list_app_users";
    const SUMMARY: &'static str =
        "The users assigned to an app (with their app profile), every page streamed.";
    const OUTPUT: OutputDef = OutputDef {
        list: true,
        item: "AppUser",
        columns: &[
            "id",
            "scope",
            "status",
            "credentials.userName",
            "statusChanged",
        ],
    };
    const POSITIONAL: Option<&'static str> = Some("app");

    fn check(input: &ListAppUsersInput) -> Result<(), String> {
        check_limit(input.limit, 500)
    }

    fn run(client: Client, input: ListAppUsersInput) -> ActionFuture {
        Box::pin(async move {
            let mut users = client.apps().users(&input.app);
            if let Some(limit) = input.limit {
                users = users.limit(limit);
            }
            Ok(stream_values(users.stream(), input.max))
        })
    }
}
