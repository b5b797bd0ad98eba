//! The user lifecycle: create, update, and every status change Okta offers.
//!
//! Each action reads the user first (which also turns a login into the id), checks the status
//! against Okta's status machine and explains a refusal before sending anything; where the user
//! already is where the action leads, it answers `"changed": false` instead of failing, so running
//! an action twice is safe.
//!
//! Every action here answers one object of the same shape (see [`CHANGE_COLUMNS`]):
//! `{"changed": bool, "id", "login", "status": after, "previousStatus": before, "message"}`, plus
//! what the action hands back (`user`, `activationUrl`, `tempPassword`, `steps`, …).

use okta_client::Client;
use okta_client::api::CreateUser as CreateOptions;
use okta_client::models::{User, UserStatus};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::profile_schema::{self, Mode as ProfileMode, ValidationFailure};

use super::{Action, ActionError, ActionFuture, ActionOutput, OutputDef};

/// The columns of a change result in a table or CSV.
pub const CHANGE_COLUMNS: &[&str] = &["changed", "id", "login", "status", "message"];

const fn change(item: &'static str) -> OutputDef {
    OutputDef {
        list: false,
        item,
        columns: CHANGE_COLUMNS,
    }
}

// ------------------------------------------------------------------------------------------------
// Shared helpers (also used by membership and assignment)
// ------------------------------------------------------------------------------------------------

/// Reads a user by id or login: the id for the calls that follow, and the status to check.
pub(super) async fn fetch(client: &Client, user: &str) -> Result<User, ActionError> {
    if user.trim().is_empty() {
        return Err(ActionError::Input("user must not be empty".into()));
    }
    Ok(client.users().get(user).await?)
}

pub(super) fn status_of(user: &User) -> &str {
    user.status.get().map_or("UNKNOWN", |s| s.as_str())
}

/// The start of every result: who, and the status before and after.
pub(super) fn result(
    user: &User,
    changed: bool,
    after: &str,
    message: String,
) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("changed".into(), changed.into());
    out.insert("id".into(), user.id.clone().into());
    out.insert("login".into(), user.login().unwrap_or_default().into());
    out.insert("status".into(), after.into());
    out.insert("previousStatus".into(), status_of(user).into());
    out.insert("message".into(), message.into());
    out
}

pub(super) fn done(out: Map<String, Value>) -> Result<ActionOutput, ActionError> {
    Ok(ActionOutput::One(Value::Object(out)))
}

/// "activate needs a STAGED or DEPROVISIONED user; this user is ACTIVE".
fn refuse(action: &str, allowed: &[UserStatus], user: &User, hint: &str) -> ActionError {
    let names: Vec<&str> = allowed.iter().map(UserStatus::as_str).collect();
    let list = match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => "different".into(),
    };
    let login = user.login().unwrap_or(&user.id);
    let article = if list.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    ActionError::State(format!(
        "{action} needs {article} {list} user; {login} is {}{hint}",
        status_of(user)
    ))
}

fn is(user: &User, statuses: &[UserStatus]) -> bool {
    user.status.get().is_some_and(|s| statuses.contains(s))
}

use UserStatus::{
    Active, Deprovisioned, LockedOut, PasswordExpired, Provisioned, Recovery, Staged, Suspended,
};

/// Statuses Okta treats as a usable account (it can sign in or recover).
const ACTIVE_LIKE: &[UserStatus] = &[Active, PasswordExpired, LockedOut, Recovery];

/// The input of the actions that only name a user.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// The user's id (00u…) or login.
    pub user: String,
}

// ------------------------------------------------------------------------------------------------
// create_user
// ------------------------------------------------------------------------------------------------

/// How the user will sign in first.
#[derive(Clone, Copy, Deserialize, JsonSchema, PartialEq)]
pub enum NextLogin {
    /// The password given is expired at once: the user must change it at the first sign-in.
    #[serde(rename = "changePassword")]
    ChangePassword,
}

/// Who authenticates a user created with `provider`.
#[derive(Clone, Copy, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProviderType {
    Federation,
    ActiveDirectory,
    Ldap,
    Social,
    Import,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateUserInput {
    /// The profile: `login`, `email`, `firstName`, `lastName` and any other attribute of the
    /// org's user schema, custom ones included.
    pub profile: Map<String, Value>,
    /// A password (Okta's password policy applies). Without credentials the user sets one
    /// through the activation email.
    pub password: Option<String>,
    /// A recovery question (with `recoveryAnswer`).
    pub recovery_question: Option<String>,
    /// The answer to `recoveryQuestion`.
    pub recovery_answer: Option<String>,
    /// The user signs in through an external identity provider (no password).
    pub provider: Option<ProviderType>,
    /// The provider's name, with `provider` (defaults to the type).
    pub provider_name: Option<String>,
    /// Create the user STAGED instead of activating now.
    #[serde(default)]
    pub stage: bool,
    /// `changePassword`: expire the given password so the user changes it at the first sign-in
    /// (needs `password` and activation).
    pub next_login: Option<NextLogin>,
    /// Groups to add the user to (at most 20; OKTA_GROUP groups only, never Everyone, which
    /// every user joins by itself).
    #[serde(default)]
    pub group_ids: Vec<String>,
    /// A user type id (oty…); the org's default type otherwise.
    pub user_type: Option<String>,
}

pub struct CreateUser;

impl Action for CreateUser {
    type Input = CreateUserInput;
    const NAME: &'static str = "create_user";
    const SUMMARY: &'static str = "Create a user (active or staged), with a password, a recovery question, both, an external provider or no credentials, and initial groups.";
    const OUTPUT: OutputDef = change("{changed, id, login, status, message, user: User}");
    const PROFILE: bool = true;

    fn check(input: &CreateUserInput) -> Result<(), String> {
        match (&input.recovery_question, &input.recovery_answer) {
            (Some(_), None) | (None, Some(_)) => {
                return Err("recoveryQuestion and recoveryAnswer go together".into());
            }
            _ => {}
        }
        if input.provider.is_some()
            && (input.password.is_some() || input.recovery_question.is_some())
        {
            return Err(
                "a user with an external provider has no Okta password or recovery question".into(),
            );
        }
        if input.provider_name.is_some() && input.provider.is_none() {
            return Err("providerName needs provider".into());
        }
        if input.next_login.is_some() && input.stage {
            return Err("nextLogin=changePassword needs an activated user, not stage".into());
        }
        if input.next_login.is_some() && input.password.is_none() {
            return Err("nextLogin=changePassword needs a password to expire".into());
        }
        if input.group_ids.len() > 20 {
            return Err(format!(
                "Okta adds a new user to at most 20 groups (got {})",
                input.group_ids.len()
            ));
        }
        if input.group_ids.iter().any(|g| g.trim().is_empty()) {
            return Err("groupIds must not hold empty ids".into());
        }
        Ok(())
    }

    fn run(client: Client, input: CreateUserInput) -> ActionFuture {
        Box::pin(async move {
            let profile = prune_empty(input.profile, false);
            validate_profile(&client, &profile, ProfileMode::Create).await?;
            if !input.group_ids.is_empty() {
                refuse_everyone(&client, &input.group_ids).await?;
            }
            let mut credentials = Map::new();
            if let Some(password) = &input.password {
                credentials.insert("password".into(), json!({ "value": password }));
            }
            if let (Some(q), Some(a)) = (&input.recovery_question, &input.recovery_answer) {
                credentials.insert(
                    "recovery_question".into(),
                    json!({"question": q, "answer": a}),
                );
            }
            if let Some(kind) = input.provider {
                let kind = serde_json::to_value(kind).unwrap_or(Value::Null);
                let name = input
                    .provider_name
                    .clone()
                    .map_or(kind.clone(), Value::String);
                credentials.insert("provider".into(), json!({"type": kind, "name": name}));
            }
            let mut body = Map::new();
            body.insert("profile".into(), Value::Object(profile));
            if !credentials.is_empty() {
                body.insert("credentials".into(), Value::Object(credentials));
            }
            if !input.group_ids.is_empty() {
                body.insert("groupIds".into(), json!(input.group_ids));
            }
            if let Some(t) = &input.user_type {
                body.insert("type".into(), json!({ "id": t }));
            }
            let options = CreateOptions {
                activate: Some(!input.stage),
                provider: input.provider.map(|_| true),
                next_login: input.next_login.map(|_| "changePassword".to_string()),
            };
            let user = client
                .users()
                .create(&Value::Object(body), &options)
                .await?;
            let status = status_of(&user).to_string();
            let mut out = result(&user, true, &status, format!("created, {status}"));
            out.remove("previousStatus");
            out.insert("user".into(), to_value(&user));
            done(out)
        })
    }
}

/// Refuses the Everyone group, which Okta manages (every user is in it; it cannot be edited).
async fn refuse_everyone(client: &Client, group_ids: &[String]) -> Result<(), ActionError> {
    use futures_util::TryStreamExt;
    let built_in: Vec<_> = client
        .groups()
        .list()
        .filter("type eq \"BUILT_IN\"")
        .stream()
        .try_collect()
        .await?;
    for group in built_in {
        if group_ids.contains(&group.id) {
            return Err(ActionError::Input(format!(
                "group {} is {}, Okta's built-in group of every user: a user joins it by itself \
                 and its membership cannot be set; leave it out of groupIds",
                group.id,
                group.profile.name.get().map_or("Everyone", String::as_str)
            )));
        }
    }
    Ok(())
}

fn to_value<T: serde::Serialize>(item: &T) -> Value {
    serde_json::to_value(item).unwrap_or(Value::Null)
}

// ------------------------------------------------------------------------------------------------
// Profile validation: the call site for the schema validator
// ------------------------------------------------------------------------------------------------

/// Checks a profile against the org's user schema (cached per org) before anything is sent; the
/// error names every bad field. A schema that cannot be read is Okta's failure, not the input's.
pub async fn validate_profile(
    client: &Client,
    profile: &Map<String, Value>,
    mode: ProfileMode,
) -> Result<(), ActionError> {
    match profile_schema::validate_profile(client, profile, mode).await {
        Ok(()) => Ok(()),
        Err(ValidationFailure::Invalid(errors)) => Err(ActionError::Input(errors.to_string())),
        Err(ValidationFailure::Schema(e)) => Err(e.into()),
    }
}

/// Drops `""` and `null` values unless the caller asked to pass them (to clear attributes): a
/// blank cell in a CSV should not wipe an attribute by accident.
fn prune_empty(profile: Map<String, Value>, pass_empty: bool) -> Map<String, Value> {
    if pass_empty {
        return profile;
    }
    profile
        .into_iter()
        .filter(|(_, v)| !(v.is_null() || v.as_str() == Some("")))
        .collect()
}

// ------------------------------------------------------------------------------------------------
// update_user
// ------------------------------------------------------------------------------------------------

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateUserInput {
    /// The user's id (00u…) or login.
    pub user: String,
    /// The attributes to set, custom ones included.
    pub profile: Map<String, Value>,
    /// Replace the whole profile (PUT): attributes left out are removed. By default only the
    /// given attributes change (a partial update, POST).
    #[serde(default)]
    pub replace: bool,
    /// Okta's `strict`: also apply the password policy's history rule to a password change.
    #[serde(default)]
    pub strict: bool,
    /// Send empty strings and nulls (to clear those attributes). By default they are dropped.
    #[serde(default)]
    pub pass_empty_values: bool,
}

pub struct UpdateUser;

impl Action for UpdateUser {
    type Input = UpdateUserInput;
    const NAME: &'static str = "update_user";
    const SUMMARY: &'static str = "Update a user's profile: partial (the given attributes) or a full replacement; empty values dropped unless passEmptyValues.";
    const OUTPUT: OutputDef = change("{changed, id, login, status, message, user: User}");
    const POSITIONAL: Option<&'static str> = Some("user");
    const PROFILE: bool = true;

    fn check(input: &UpdateUserInput) -> Result<(), String> {
        if input.profile.is_empty() && !input.replace {
            return Err("give at least one profile attribute to change".into());
        }
        Ok(())
    }

    fn run(client: Client, input: UpdateUserInput) -> ActionFuture {
        Box::pin(async move {
            let user = fetch(&client, &input.user).await?;
            if is(&user, &[Deprovisioned]) {
                return Err(ActionError::State(format!(
                    "{} is DEPROVISIONED: Okta does not update a deactivated user's profile; \
                     activate it first",
                    user.login().unwrap_or(&user.id)
                )));
            }
            let mode = if input.replace {
                ProfileMode::Replace
            } else {
                ProfileMode::Update
            };
            let profile = prune_empty(input.profile, input.pass_empty_values);
            if profile.is_empty() && !input.replace {
                return Err(ActionError::Input(
                    "every given attribute was empty and was dropped (set passEmptyValues to clear them)"
                        .into(),
                ));
            }
            validate_profile(&client, &profile, mode).await?;
            let status = status_of(&user).to_string();
            let current = to_value(&user.profile);
            let unchanged = match mode {
                ProfileMode::Replace => {
                    let given: Map<String, Value> = profile
                        .iter()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    current.as_object() == Some(&given)
                }
                _ => profile.iter().all(|(k, v)| match v {
                    Value::Null => current.get(k).is_none_or(Value::is_null),
                    v => current.get(k) == Some(v),
                }),
            };
            if unchanged {
                let mut out = result(
                    &user,
                    false,
                    &status,
                    "already has these values: nothing sent".into(),
                );
                out.insert("user".into(), to_value(&user));
                return done(out);
            }
            let body = json!({ "profile": profile });
            let strict = input.strict.then_some(true);
            let updated = if input.replace {
                client.users().replace(&user.id, &body, strict).await?
            } else {
                client.users().update(&user.id, &body, strict).await?
            };
            let message = if input.replace {
                "profile replaced"
            } else {
                "profile updated"
            };
            let mut out = result(&user, true, status_of(&updated), message.into());
            out.insert("user".into(), to_value(&updated));
            done(out)
        })
    }
}

// ------------------------------------------------------------------------------------------------
// activate_user, reactivate_user
// ------------------------------------------------------------------------------------------------

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ActivateInput {
    /// The user's id (00u…) or login.
    pub user: String,
    /// Email the activation link to the user. Without it (the default here) the activation URL
    /// and token are returned for you to hand on.
    #[serde(default)]
    pub send_email: bool,
}

/// The activation link in the output, when Okta returned one.
fn activation_fields(out: &mut Map<String, Value>, token: okta_client::api::ActivationToken) {
    if let Some(url) = token.activation_url {
        out.insert("activationUrl".into(), url.into());
    }
    if let Some(token) = token.activation_token {
        out.insert("activationToken".into(), token.into());
    }
}

pub struct ActivateUser;

impl Action for ActivateUser {
    type Input = ActivateInput;
    const NAME: &'static str = "activate_user";
    const SUMMARY: &'static str = "Activate a STAGED or DEPROVISIONED user; returns the activation URL and token unless sendEmail.";
    const OUTPUT: OutputDef =
        change("{changed, id, login, status, message, activationUrl?, activationToken?}");
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: ActivateInput) -> ActionFuture {
        Box::pin(async move {
            let user = fetch(&client, &input.user).await?;
            if !is(&user, &[Staged, Deprovisioned]) {
                let hint = match user.status.get() {
                    Some(Provisioned) => {
                        " (activation is pending: reactivate_user sends a new activation link)"
                    }
                    _ => "",
                };
                return Err(refuse("activate", &[Staged, Deprovisioned], &user, hint));
            }
            let token = client.users().activate(&user.id, input.send_email).await?;
            // Okta knows the landing status (ACTIVE with a password or a provider, PROVISIONED
            // until the user finishes activation): read it rather than guess.
            let after = client.users().get(&user.id).await?;
            let message = if input.send_email {
                "activated; Okta emailed the activation link"
            } else {
                "activated; hand the activation URL to the user"
            };
            let mut out = result(&user, true, status_of(&after), message.into());
            activation_fields(&mut out, token);
            done(out)
        })
    }
}

pub struct ReactivateUser;

impl Action for ReactivateUser {
    type Input = ActivateInput;
    const NAME: &'static str = "reactivate_user";
    const SUMMARY: &'static str = "Send a PROVISIONED (or RECOVERY) user a new activation link, or return it unless sendEmail.";
    const OUTPUT: OutputDef =
        change("{changed, id, login, status, message, activationUrl?, activationToken?}");
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: ActivateInput) -> ActionFuture {
        Box::pin(async move {
            let user = fetch(&client, &input.user).await?;
            if !is(&user, &[Provisioned, Recovery]) {
                let hint = match user.status.get() {
                    Some(Staged | Deprovisioned) => " (use activate_user)",
                    _ => "",
                };
                return Err(refuse("reactivate", &[Provisioned, Recovery], &user, hint));
            }
            let token = client
                .users()
                .reactivate(&user.id, input.send_email)
                .await?;
            let message = if input.send_email {
                "reactivated; Okta emailed a new activation link"
            } else {
                "reactivated; hand the activation URL to the user"
            };
            let mut out = result(&user, true, Provisioned.as_str(), message.into());
            activation_fields(&mut out, token);
            done(out)
        })
    }
}

// ------------------------------------------------------------------------------------------------
// deactivate_user, delete_user
// ------------------------------------------------------------------------------------------------

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeactivateInput {
    /// The user's id (00u…) or login.
    pub user: String,
    /// Email the deactivation to the org's admins.
    #[serde(default)]
    pub send_email: bool,
    /// Ask Okta to do it asynchronously (`Prefer: respond-async`), for users with many app
    /// assignments; the status may then show the transition for a while.
    #[serde(default, rename = "async")]
    pub asynchronous: bool,
}

pub struct DeactivateUser;

impl Action for DeactivateUser {
    type Input = DeactivateInput;
    const NAME: &'static str = "deactivate_user";
    const SUMMARY: &'static str =
        "Deactivate a user (any status to DEPROVISIONED); already deactivated is not an error.";
    const OUTPUT: OutputDef = change("{changed, id, login, status, message}");
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: DeactivateInput) -> ActionFuture {
        Box::pin(async move {
            let user = fetch(&client, &input.user).await?;
            if is(&user, &[Deprovisioned]) {
                return done(result(
                    &user,
                    false,
                    Deprovisioned.as_str(),
                    "already DEPROVISIONED".into(),
                ));
            }
            client
                .users()
                .deactivate(&user.id, input.send_email, input.asynchronous)
                .await?;
            let message = if input.asynchronous {
                "deactivation requested (asynchronous)"
            } else {
                "deactivated"
            };
            done(result(&user, true, Deprovisioned.as_str(), message.into()))
        })
    }
}

pub struct DeleteUser;

impl Action for DeleteUser {
    type Input = DeactivateInput;
    const NAME: &'static str = "delete_user";
    const SUMMARY: &'static str = "Delete a user for good; one still active is deactivated first (Okta's two steps), and both steps are reported.";
    const OUTPUT: OutputDef =
        change("{changed, id, login, status: DELETED, message, steps: [deactivated?, deleted]}");
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: DeactivateInput) -> ActionFuture {
        Box::pin(async move {
            let user = fetch(&client, &input.user).await?;
            let mut steps = Vec::new();
            // Okta's DELETE on a user that is not DEPROVISIONED only deactivates it; the second
            // DELETE removes it.
            if !is(&user, &[Deprovisioned]) {
                client
                    .users()
                    .delete(&user.id, input.send_email, input.asynchronous)
                    .await?;
                steps.push("deactivated");
            }
            client
                .users()
                .delete(&user.id, input.send_email, input.asynchronous)
                .await?;
            steps.push("deleted");
            let mut out = result(&user, true, "DELETED", steps.join(", then "));
            out.insert("steps".into(), json!(steps));
            done(out)
        })
    }
}

// ------------------------------------------------------------------------------------------------
// suspend, unsuspend, unlock, reset_factors
// ------------------------------------------------------------------------------------------------

/// A status change that is one call: the state that means "already done", the states it may start
/// from (anything else is refused with nothing sent), and the state it ends in.
struct Step {
    verb: &'static str,
    already: UserStatus,
    already_note: &'static str,
    from: &'static [UserStatus],
    to: UserStatus,
    done: &'static str,
}

impl Step {
    async fn run(&self, client: &Client, user_ref: &str) -> Result<ActionOutput, ActionError> {
        let user = fetch(client, user_ref).await?;
        if is(&user, std::slice::from_ref(&self.already)) {
            return done(result(
                &user,
                false,
                self.already.as_str(),
                self.already_note.into(),
            ));
        }
        if !is(&user, self.from) {
            return Err(refuse(self.verb, self.from, &user, ""));
        }
        let users = client.users();
        match self.verb {
            "suspend" => users.suspend(&user.id).await?,
            "unsuspend" => users.unsuspend(&user.id).await?,
            "unlock" => users.unlock(&user.id).await?,
            other => unreachable!("no call for the step {other}"),
        }
        done(result(&user, true, self.to.as_str(), self.done.into()))
    }
}

pub struct SuspendUser;

impl Action for SuspendUser {
    type Input = UserInput;
    const NAME: &'static str = "suspend_user";
    const SUMMARY: &'static str =
        "Suspend an ACTIVE user (it keeps its assignments but cannot sign in).";
    const OUTPUT: OutputDef = change("{changed, id, login, status, message}");
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: UserInput) -> ActionFuture {
        Box::pin(async move {
            let step = Step {
                verb: "suspend",
                already: Suspended,
                already_note: "already SUSPENDED",
                from: &[Active, PasswordExpired],
                to: Suspended,
                done: "suspended",
            };
            step.run(&client, &input.user).await
        })
    }
}

pub struct UnsuspendUser;

impl Action for UnsuspendUser {
    type Input = UserInput;
    const NAME: &'static str = "unsuspend_user";
    const SUMMARY: &'static str = "Unsuspend a SUSPENDED user (back to ACTIVE).";
    const OUTPUT: OutputDef = change("{changed, id, login, status, message}");
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: UserInput) -> ActionFuture {
        Box::pin(async move {
            let step = Step {
                verb: "unsuspend",
                already: Active,
                already_note: "already ACTIVE (not suspended)",
                from: &[Suspended],
                to: Active,
                done: "unsuspended",
            };
            step.run(&client, &input.user).await
        })
    }
}

pub struct UnlockUser;

impl Action for UnlockUser {
    type Input = UserInput;
    const NAME: &'static str = "unlock_user";
    const SUMMARY: &'static str = "Unlock a LOCKED_OUT user (back to ACTIVE).";
    const OUTPUT: OutputDef = change("{changed, id, login, status, message}");
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: UserInput) -> ActionFuture {
        Box::pin(async move {
            let step = Step {
                verb: "unlock",
                already: Active,
                already_note: "already ACTIVE (not locked out)",
                from: &[LockedOut],
                to: Active,
                done: "unlocked",
            };
            step.run(&client, &input.user).await
        })
    }
}

pub struct ResetFactors;

impl Action for ResetFactors {
    type Input = UserInput;
    const NAME: &'static str = "reset_factors";
    const SUMMARY: &'static str =
        "Reset every MFA factor a user enrolled (they enroll again at the next sign-in).";
    const OUTPUT: OutputDef = change("{changed, id, login, status, message}");
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: UserInput) -> ActionFuture {
        Box::pin(async move {
            let user = fetch(&client, &input.user).await?;
            if is(&user, &[Deprovisioned]) {
                return Err(ActionError::State(format!(
                    "reset_factors needs a user that is not DEPROVISIONED; {} is DEPROVISIONED",
                    user.login().unwrap_or(&user.id)
                )));
            }
            client.users().reset_factors(&user.id).await?;
            let status = status_of(&user).to_string();
            done(result(&user, true, &status, "factors reset".into()))
        })
    }
}

// ------------------------------------------------------------------------------------------------
// Passwords
// ------------------------------------------------------------------------------------------------

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpirePasswordInput {
    /// The user's id (00u…) or login.
    pub user: String,
    /// Also set a temporary password and return it (`tempPassword`).
    #[serde(default)]
    pub temp_password: bool,
    /// With `tempPassword`: end the user's sessions too.
    #[serde(default)]
    pub revoke_sessions: bool,
}

pub struct ExpirePassword;

impl Action for ExpirePassword {
    type Input = ExpirePasswordInput;
    const NAME: &'static str = "expire_password";
    const SUMMARY: &'static str = "Expire a user's password (PASSWORD_EXPIRED), optionally setting and returning a temporary one.";
    const OUTPUT: OutputDef = change("{changed, id, login, status, message, tempPassword?}");
    const POSITIONAL: Option<&'static str> = Some("user");

    fn check(input: &ExpirePasswordInput) -> Result<(), String> {
        if input.revoke_sessions && !input.temp_password {
            return Err("revokeSessions goes with tempPassword".into());
        }
        Ok(())
    }

    fn run(client: Client, input: ExpirePasswordInput) -> ActionFuture {
        Box::pin(async move {
            let user = fetch(&client, &input.user).await?;
            // A new temporary password is always a change; a plain expiry of an expired password
            // is not.
            if is(&user, &[PasswordExpired]) && !input.temp_password {
                return done(result(
                    &user,
                    false,
                    PasswordExpired.as_str(),
                    "already PASSWORD_EXPIRED".into(),
                ));
            }
            if !is(&user, ACTIVE_LIKE) {
                return Err(refuse("expire_password", ACTIVE_LIKE, &user, ""));
            }
            let after = PasswordExpired.as_str();
            if input.temp_password {
                let temp = client
                    .users()
                    .expire_password_with_temp_password(&user.id, input.revoke_sessions)
                    .await?;
                let mut out = result(
                    &user,
                    true,
                    after,
                    "password expired; temporary password set".into(),
                );
                out.insert("tempPassword".into(), temp.temp_password.into());
                return done(out);
            }
            let updated = client.users().expire_password(&user.id).await?;
            done(result(
                &user,
                true,
                status_of(&updated),
                "password expired".into(),
            ))
        })
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResetPasswordInput {
    /// The user's id (00u…) or login.
    pub user: String,
    /// Email the reset link to the user. Without it (the default here) the reset URL is returned.
    #[serde(default)]
    pub send_email: bool,
    /// End the user's sessions too.
    #[serde(default)]
    pub revoke_sessions: bool,
}

pub struct ResetPassword;

impl Action for ResetPassword {
    type Input = ResetPasswordInput;
    const NAME: &'static str = "reset_password";
    const SUMMARY: &'static str = "Reset a user's password (the user goes to RECOVERY); returns the reset URL unless sendEmail.";
    const OUTPUT: OutputDef = change("{changed, id, login, status, message, resetPasswordUrl?}");
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: ResetPasswordInput) -> ActionFuture {
        Box::pin(async move {
            let user = fetch(&client, &input.user).await?;
            const ALLOWED: &[UserStatus] =
                &[Active, PasswordExpired, LockedOut, Recovery, Provisioned];
            if !is(&user, ALLOWED) {
                return Err(refuse("reset_password", ALLOWED, &user, ""));
            }
            let token = client
                .users()
                .reset_password(&user.id, input.send_email, input.revoke_sessions)
                .await?;
            let message = if input.send_email {
                "password reset; Okta emailed the reset link"
            } else {
                "password reset; hand the reset URL to the user"
            };
            let mut out = result(&user, true, Recovery.as_str(), message.into());
            if let Some(url) = token.reset_password_url {
                out.insert("resetPasswordUrl".into(), url.into());
            }
            done(out)
        })
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ForgotPasswordInput {
    /// The user's id (00u…) or login.
    pub user: String,
    /// Email the reset link to the user. Without it (the default here) the reset URL is returned.
    #[serde(default)]
    pub send_email: bool,
}

pub struct ResetForgottenPassword;

impl Action for ResetForgottenPassword {
    type Input = ForgotPasswordInput;
    const NAME: &'static str = "reset_forgotten_password";
    const SUMMARY: &'static str = "Start the forgotten-password flow for an ACTIVE user (status unchanged): email, or the reset URL returned.";
    const OUTPUT: OutputDef = change("{changed, id, login, status, message, resetPasswordUrl?}");
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: ForgotPasswordInput) -> ActionFuture {
        Box::pin(async move {
            let user = fetch(&client, &input.user).await?;
            if !is(&user, &[Active]) {
                return Err(refuse(
                    "reset_forgotten_password",
                    &[Active],
                    &user,
                    " (reset_password works for more statuses)",
                ));
            }
            let token = client
                .users()
                .forgot_password(&user.id, input.send_email)
                .await?;
            let message = if input.send_email {
                "Okta emailed the reset link"
            } else {
                "hand the reset URL to the user"
            };
            let mut out = result(&user, true, Active.as_str(), message.into());
            if let Some(url) = token.reset_password_url {
                out.insert("resetPasswordUrl".into(), url.into());
            }
            done(out)
        })
    }
}

// ------------------------------------------------------------------------------------------------
// clear_user_sessions
// ------------------------------------------------------------------------------------------------

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClearSessionsInput {
    /// The user's id (00u…) or login.
    pub user: String,
    /// Also revoke the OAuth access and refresh tokens issued to the user.
    #[serde(default)]
    pub oauth_tokens: bool,
}

pub struct ClearUserSessions;

impl Action for ClearUserSessions {
    type Input = ClearSessionsInput;
    const NAME: &'static str = "clear_user_sessions";
    const SUMMARY: &'static str =
        "End every session of a user, optionally revoking the OAuth tokens issued to them.";
    const OUTPUT: OutputDef = change("{changed, id, login, status, message}");
    const POSITIONAL: Option<&'static str> = Some("user");

    fn run(client: Client, input: ClearSessionsInput) -> ActionFuture {
        Box::pin(async move {
            let user = fetch(&client, &input.user).await?;
            client
                .users()
                .clear_sessions(&user.id, input.oauth_tokens)
                .await?;
            let message = if input.oauth_tokens {
                "sessions cleared and OAuth tokens revoked"
            } else {
                "sessions cleared"
            };
            let status = status_of(&user).to_string();
            // Okta does not say whether there were sessions: report the request as a change.
            done(result(&user, true, &status, message.into()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_dropped_unless_asked() {
        let profile: Map<String, Value> =
            serde_json::from_value(json!({"a": "", "b": null, "c": "x", "d": 0})).unwrap();
        let kept = prune_empty(profile.clone(), false);
        assert_eq!(Value::Object(kept), json!({"c": "x", "d": 0}));
        assert_eq!(prune_empty(profile.clone(), true), profile);
    }

    #[test]
    fn create_checks_credentials_before_anything() {
        let input = |v: Value| serde_json::from_value::<CreateUserInput>(v).unwrap();
        let p = json!({"login": "a@b.c"});
        assert!(CreateUser::check(&input(json!({"profile": p, "recoveryQuestion": "q"}))).is_err());
        assert!(
            CreateUser::check(&input(
                json!({"profile": p, "password": "x", "provider": "FEDERATION"})
            ))
            .is_err()
        );
        assert!(
            CreateUser::check(&input(
                json!({"profile": p, "nextLogin": "changePassword", "stage": true, "password": "A"})
            ))
            .is_err()
        );
        assert!(
            CreateUser::check(&input(json!({"profile": p, "nextLogin": "changePassword"})))
                .is_err()
        );
        assert!(CreateUser::check(&input(json!({"profile": p, "password": "Aa1xxxxx"}))).is_ok());
    }
}
