//! User discovery: get one user, search users, a user's groups.

use okta_client::Client;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Action, ActionFuture, OutputDef, at_most_one, check_limit, one_value, stream_values};

pub const USER_COLUMNS: &[&str] = &[
    "id",
    "status",
    "profile.login",
    "profile.firstName",
    "profile.lastName",
    "lastLogin",
];

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetUserInput {
    /// The user's id (00u…), login, or login short name.
    pub user: String,
}

pub struct GetUser;

impl Action for GetUser {
    type Input = GetUserInput;
    const NAME: &'static str = "get_user";
    const SUMMARY: &'static str = "Get one user by id or login.";
    const OUTPUT: OutputDef = OutputDef {
        list: false,
        item: "User",
        columns: USER_COLUMNS,
    };
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: GetUserInput) -> ActionFuture {
        Box::pin(async move { one_value(client.users().get(&input.user).await?) })
    }
}

/// Okta's sort orders.
#[derive(Clone, Copy, Deserialize, JsonSchema)]
pub enum SortOrder {
    #[serde(rename = "ASCENDING", alias = "asc", alias = "ascending")]
    Ascending,
    #[serde(rename = "DESCENDING", alias = "desc", alias = "descending")]
    Descending,
}

impl From<SortOrder> for okta_client::api::SortOrder {
    fn from(order: SortOrder) -> Self {
        match order {
            SortOrder::Ascending => okta_client::api::SortOrder::Ascending,
            SortOrder::Descending => okta_client::api::SortOrder::Descending,
        }
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SearchUsersInput {
    /// Finds users whose first name, last name or email starts with this text.
    pub q: Option<String>,
    /// A filter expression on status, lastUpdated, id, profile.login, profile.email, profile.firstName or
    /// profile.lastName, e.g. `status eq "ACTIVE"`.
    pub filter: Option<String>,
    /// A search expression over any property, custom attributes included, e.g.
    /// `profile.department eq "Engineering" and status eq "ACTIVE"`.
    pub search: Option<String>,
    /// A property to sort by (with `search` only), e.g. `profile.lastName`.
    pub sort_by: Option<String>,
    /// The sort order (with `sortBy`).
    pub sort_order: Option<SortOrder>,
    /// Page size (1–200; Okta's default is 200).
    pub limit: Option<u32>,
    /// Stop after this many users.
    pub max: Option<u64>,
}

pub struct SearchUsers;

impl Action for SearchUsers {
    type Input = SearchUsersInput;
    const NAME: &'static str = "search_users";
    const SUMMARY: &'static str =
        "List or search users (q, filter or search; sortBy and sortOrder), every page streamed.";
    const OUTPUT: OutputDef = OutputDef {
        list: true,
        item: "User",
        columns: USER_COLUMNS,
    };

    fn check(input: &SearchUsersInput) -> Result<(), String> {
        at_most_one(&[
            ("q", input.q.is_some()),
            ("filter", input.filter.is_some()),
            ("search", input.search.is_some()),
        ])?;
        if (input.sort_by.is_some() || input.sort_order.is_some()) && input.search.is_none() {
            return Err(
                "sortBy and sortOrder work only with search (Okta ignores them otherwise)".into(),
            );
        }
        check_limit(input.limit, 200)
    }

    fn run(client: Client, input: SearchUsersInput) -> ActionFuture {
        Box::pin(async move {
            let mut list = client.users().list();
            if let Some(q) = input.q {
                list = list.q(q);
            }
            if let Some(filter) = input.filter {
                list = list.filter(filter);
            }
            if let Some(search) = input.search {
                list = list.search(search);
            }
            if let Some(sort_by) = input.sort_by {
                list = list.sort_by(sort_by);
            }
            if let Some(order) = input.sort_order {
                list = list.sort_order(order.into());
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
pub struct ListUserGroupsInput {
    /// The user's id or login.
    pub user: String,
}

pub struct ListUserGroups;

impl Action for ListUserGroups {
    type Input = ListUserGroupsInput;
    const NAME: &'static str = "list_user_groups";
    const SUMMARY: &'static str = "The groups a user belongs to.";
    const OUTPUT: OutputDef = OutputDef {
        list: true,
        item: "Group",
        columns: super::groups::GROUP_COLUMNS,
    };
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: ListUserGroupsInput) -> ActionFuture {
        Box::pin(async move { Ok(stream_values(client.users().groups(&input.user), None)) })
    }
}
