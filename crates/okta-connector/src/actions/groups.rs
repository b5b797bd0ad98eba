//! Group discovery: list or search groups, get one, its members.

use okta_client::Client;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Action, ActionFuture, OutputDef, at_most_one, check_limit, one_value, stream_values};

pub const GROUP_COLUMNS: &[&str] = &["id", "type", "profile.name", "profile.description"];

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListGroupsInput {
    /// Finds groups whose name starts with this text.
    pub q: Option<String>,
    /// A filter expression on type, id, lastUpdated or lastMembershipUpdated, e.g. `type eq "OKTA_GROUP"`.
    pub filter: Option<String>,
    /// A search expression over any property, e.g. `profile.name sw "Eng"`.
    pub search: Option<String>,
    /// Page size (1–10000; Okta recommends at most 200).
    pub limit: Option<u32>,
    /// Stop after this many groups.
    pub max: Option<u64>,
}

pub struct ListGroups;

impl Action for ListGroups {
    type Input = ListGroupsInput;
    const NAME: &'static str = "list_groups";
    const SUMMARY: &'static str =
        "List or search groups (q, filter or search), every page streamed.";
    const OUTPUT: OutputDef = OutputDef {
        list: true,
        item: "Group",
        columns: GROUP_COLUMNS,
    };

    fn check(input: &ListGroupsInput) -> Result<(), String> {
        at_most_one(&[
            ("q", input.q.is_some()),
            ("filter", input.filter.is_some()),
            ("search", input.search.is_some()),
        ])?;
        check_limit(input.limit, 10_000)
    }

    fn run(client: Client, input: ListGroupsInput) -> ActionFuture {
        Box::pin(async move {
            let mut list = client.groups().list();
            if let Some(q) = input.q {
                list = list.q(q);
            }
            if let Some(filter) = input.filter {
                list = list.filter(filter);
            }
            if let Some(search) = input.search {
                list = list.search(search);
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
pub struct GroupInput {
    /// The group's id (00g…).
    pub group: String,
}

pub struct GetGroup;

impl Action for GetGroup {
    type Input = GroupInput;
    const NAME: &'static str = "get_group";
    const SUMMARY: &'static str = "Get one group by id.";
    const OUTPUT: OutputDef = OutputDef {
        list: false,
        item: "Group",
        columns: GROUP_COLUMNS,
    };
    const POSITIONAL: Option<&'static str> = Some("group");

    fn run(client: Client, input: GroupInput) -> ActionFuture {
        Box::pin(async move { one_value(client.groups().get(&input.group).await?) })
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListGroupMembersInput {
    /// The group's id (00g…).
    pub group: String,
    /// Page size (1–1000).
    pub limit: Option<u32>,
    /// Stop after this many members.
    pub max: Option<u64>,
}

pub struct ListGroupMembers;

impl Action for ListGroupMembers {
    type Input = ListGroupMembersInput;
    const NAME: &'static str = "list_group_members";
    const SUMMARY: &'static str = "The users in a group, every page streamed.";
    const OUTPUT: OutputDef = OutputDef {
        list: true,
        item: "User",
        columns: super::users::USER_COLUMNS,
    };
    const POSITIONAL: Option<&'static str> = Some("group");

    fn check(input: &ListGroupMembersInput) -> Result<(), String> {
        check_limit(input.limit, 1000)
    }

    fn run(client: Client, input: ListGroupMembersInput) -> ActionFuture {
        Box::pin(async move {
            let mut members = client.groups().members(&input.group);
            if let Some(limit) = input.limit {
                members = members.limit(limit);
            }
            Ok(stream_values(members.stream(), input.max))
        })
    }
}
