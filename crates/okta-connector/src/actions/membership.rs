//! Group membership: add a user to a group, remove one. Okta answers 204 whether or not the
//! membership changed, so the actions look first and say which it was.

use futures_util::TryStreamExt;
use okta_client::Client;
use okta_client::models::{Group, GroupType, User};
use schemars::JsonSchema;
use serde::Deserialize;

use super::lifecycle::{CHANGE_COLUMNS, done, fetch, result, status_of};
use super::{Action, ActionError, ActionFuture, OutputDef};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipInput {
    /// The user's id (00u…) or login.
    pub user: String,
    /// The group's id (00g…).
    pub group: String,
}

const OUTPUT: OutputDef = OutputDef {
    list: false,
    item: "{changed, id, login, status, message, group, groupName}",
    columns: CHANGE_COLUMNS,
};

/// The group, refused unless its members are Okta's to edit.
async fn editable_group(client: &Client, group_id: &str) -> Result<Group, ActionError> {
    if group_id.trim().is_empty() {
        return Err(ActionError::Input("group must not be empty".into()));
    }
    let group = client.groups().get(group_id).await?;
    let name = group.profile.name.get().cloned().unwrap_or_default();
    match group.group_type.get() {
        Some(GroupType::BuiltIn) => Err(ActionError::State(format!(
            "{name} ({}) is Okta's built-in group of every user: its membership cannot be edited",
            group.id
        ))),
        Some(GroupType::AppGroup) => Err(ActionError::State(format!(
            "{name} ({}) is an APP_GROUP: its members come from the app it was imported from, \
             and only OKTA_GROUP memberships can be edited",
            group.id
        ))),
        _ => Ok(group),
    }
}

async fn is_member(client: &Client, user: &User, group: &Group) -> Result<bool, ActionError> {
    let mut groups = client.users().groups(&user.id);
    while let Some(g) = groups.try_next().await? {
        if g.id == group.id {
            return Ok(true);
        }
    }
    Ok(false)
}

async fn change(
    client: Client,
    input: MembershipInput,
    add: bool,
) -> Result<super::ActionOutput, ActionError> {
    let group = editable_group(&client, &input.group).await?;
    let user = fetch(&client, &input.user).await?;
    let name = group.profile.name.get().cloned().unwrap_or_default();
    let status = status_of(&user).to_string();
    let member = is_member(&client, &user, &group).await?;
    let (changed, message) = match (add, member) {
        (true, true) => (false, format!("already a member of {name}")),
        (false, false) => (false, format!("already not a member of {name}")),
        (true, false) => {
            client.groups().add_member(&group.id, &user.id).await?;
            (true, format!("added to {name}"))
        }
        (false, true) => {
            client.groups().remove_member(&group.id, &user.id).await?;
            (true, format!("removed from {name}"))
        }
    };
    let mut out = result(&user, changed, &status, message);
    out.insert("group".into(), group.id.clone().into());
    out.insert("groupName".into(), name.into());
    done(out)
}

pub struct AddUserToGroup;

impl Action for AddUserToGroup {
    type Input = MembershipInput;
    const NAME: &'static str = "add_user_to_group";
    const SUMMARY: &'static str =
        "Add a user to an OKTA_GROUP group; already a member is not an error.";
    const OUTPUT: OutputDef = OUTPUT;
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: MembershipInput) -> ActionFuture {
        Box::pin(change(client, input, true))
    }
}

pub struct RemoveUserFromGroup;

impl Action for RemoveUserFromGroup {
    type Input = MembershipInput;
    const NAME: &'static str = "remove_user_from_group";
    const SUMMARY: &'static str =
        "Remove a user from an OKTA_GROUP group; not a member is not an error.";
    const OUTPUT: OutputDef = OUTPUT;
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: MembershipInput) -> ActionFuture {
        Box::pin(change(client, input, false))
    }
}
