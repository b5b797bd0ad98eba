//! App assignments: assign a user to an app directly, or remove a direct assignment.

use okta_client::Client;
use okta_client::models::{AppUser, UserStatus};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::lifecycle::{CHANGE_COLUMNS, done, fetch, result, status_of};
use super::{Action, ActionError, ActionFuture, OutputDef};

/// The user's assignment to the app, `None` when there is none.
async fn assignment(
    client: &Client,
    app_id: &str,
    user_id: &str,
) -> Result<Option<AppUser>, ActionError> {
    match client.apps().user(app_id, user_id).await {
        Ok(au) => Ok(Some(au)),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn scope(au: &AppUser) -> &str {
    au.scope.get().map_or("USER", String::as_str)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AssignInput {
    /// The user's id (00u…) or login.
    pub user: String,
    /// The app's id (0oa…).
    pub app: String,
    /// The user's name in the app (`credentials.userName`); the app's default otherwise.
    pub user_name: Option<String>,
    /// The app-specific profile (its attributes come from the app's schema).
    pub profile: Option<Map<String, Value>>,
}

pub struct AssignUserToApp;

impl Action for AssignUserToApp {
    type Input = AssignInput;
    const NAME: &'static str = "assign_user_to_app";
    const SUMMARY: &'static str = "Assign a user to an app directly (with an app user name or profile); already assigned is not an error.";
    const OUTPUT: OutputDef = OutputDef {
        list: false,
        item: "{changed, id, login, status, message, app, appUser: AppUser}",
        columns: CHANGE_COLUMNS,
    };
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: AssignInput) -> ActionFuture {
        Box::pin(async move {
            let app = client.apps().get(&input.app).await?;
            let user = fetch(&client, &input.user).await?;
            let status = status_of(&user).to_string();
            if user.status.get() == Some(&UserStatus::Deprovisioned) {
                return Err(ActionError::State(format!(
                    "assign_user_to_app needs a user that is not DEPROVISIONED; {} is \
                     DEPROVISIONED (Okta assigns no apps to a deactivated user)",
                    user.login().unwrap_or(&user.id)
                )));
            }
            let existing = assignment(&client, &app.id, &user.id).await?;
            let nothing_to_set = input.user_name.is_none() && input.profile.is_none();
            if let Some(au) = &existing
                && scope(au) == "USER"
                && nothing_to_set
            {
                let mut out = result(&user, false, &status, "already assigned".into());
                out.insert("app".into(), app.id.clone().into());
                out.insert(
                    "appUser".into(),
                    serde_json::to_value(au).unwrap_or_default(),
                );
                return done(out);
            }
            let mut body = json!({"id": user.id, "scope": "USER"});
            if let Some(name) = &input.user_name {
                body["credentials"] = json!({ "userName": name });
            }
            if let Some(profile) = input.profile {
                body["profile"] = Value::Object(profile);
            }
            let au = client.apps().assign_user(&app.id, &body).await?;
            let message = match &existing {
                None => "assigned",
                Some(au) if scope(au) == "GROUP" => "assigned directly (was through a group)",
                Some(_) => "assignment updated",
            };
            let mut out = result(&user, true, &status, message.into());
            out.insert("app".into(), app.id.clone().into());
            out.insert(
                "appUser".into(),
                serde_json::to_value(&au).unwrap_or_default(),
            );
            done(out)
        })
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UnassignInput {
    /// The user's id (00u…) or login.
    pub user: String,
    /// The app's id (0oa…).
    pub app: String,
    /// Email the deactivation to the org's admins.
    #[serde(default)]
    pub send_email: bool,
}

pub struct UnassignUserFromApp;

impl Action for UnassignUserFromApp {
    type Input = UnassignInput;
    const NAME: &'static str = "unassign_user_from_app";
    const SUMMARY: &'static str =
        "Remove a user's direct assignment to an app; not assigned is not an error.";
    const OUTPUT: OutputDef = OutputDef {
        list: false,
        item: "{changed, id, login, status, message, app}",
        columns: CHANGE_COLUMNS,
    };
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: UnassignInput) -> ActionFuture {
        Box::pin(async move {
            let app = client.apps().get(&input.app).await?;
            let user = fetch(&client, &input.user).await?;
            let status = status_of(&user).to_string();
            let (changed, message) = match assignment(&client, &app.id, &user.id).await? {
                None => (false, "already not assigned".to_string()),
                Some(au) if scope(&au) == "GROUP" => {
                    return Err(ActionError::State(format!(
                        "{} has the app through a group membership: remove the user from that \
                         group (or the group's assignment) instead",
                        user.login().unwrap_or(&user.id)
                    )));
                }
                Some(_) => {
                    client
                        .apps()
                        .unassign_user(&app.id, &user.id, input.send_email)
                        .await?;
                    (true, "unassigned".to_string())
                }
            };
            let mut out = result(&user, changed, &status, message);
            out.insert("app".into(), app.id.clone().into());
            done(out)
        })
    }
}
