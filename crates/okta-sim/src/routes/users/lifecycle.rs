//! The lifecycle operations (Okta's status machine), the credential operations that prove the
//! current password, and clearing sessions.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::Sim;
use crate::http::{ApiError, ApiPath, ApiResult, Params, json_body, ok};
use crate::state::{User, UserStatus};
use crate::syslog::{NewEvent, RequestCtx};

use super::json::{CredentialsJson, render};
use super::{apply_credentials, check_password, find_user, resolve};

// ------------------------------------------------------------------------------------------
// Lifecycle
// ------------------------------------------------------------------------------------------

/// The lifecycle operations under `/api/v1/users/{id}/lifecycle/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleOp {
    Activate,
    Deactivate,
    Reactivate,
    Suspend,
    Unsuspend,
    Unlock,
    ResetPassword,
    ExpirePassword,
    ExpirePasswordWithTempPassword,
    ResetFactors,
}

impl LifecycleOp {
    pub const ALL: [LifecycleOp; 10] = [
        LifecycleOp::Activate,
        LifecycleOp::Deactivate,
        LifecycleOp::Reactivate,
        LifecycleOp::Suspend,
        LifecycleOp::Unsuspend,
        LifecycleOp::Unlock,
        LifecycleOp::ResetPassword,
        LifecycleOp::ExpirePassword,
        LifecycleOp::ExpirePasswordWithTempPassword,
        LifecycleOp::ResetFactors,
    ];

    pub fn path(self) -> &'static str {
        match self {
            LifecycleOp::Activate => "activate",
            LifecycleOp::Deactivate => "deactivate",
            LifecycleOp::Reactivate => "reactivate",
            LifecycleOp::Suspend => "suspend",
            LifecycleOp::Unsuspend => "unsuspend",
            LifecycleOp::Unlock => "unlock",
            LifecycleOp::ResetPassword => "reset_password",
            LifecycleOp::ExpirePassword => "expire_password",
            LifecycleOp::ExpirePasswordWithTempPassword => "expire_password_with_temp_password",
            LifecycleOp::ResetFactors => "reset_factors",
        }
    }

    fn from_path(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.path() == s)
    }

    /// Okta's status machine: the status an operation leaves a user in, or Okta's refusal.
    /// `has_password` decides where activation lands (ACTIVE with a password or an external
    /// provider, PROVISIONED otherwise, until the user completes the activation flow).
    pub fn next_status(self, from: UserStatus, has_password: bool) -> Result<UserStatus, ApiError> {
        use UserStatus::*;
        // Okta treats these as forms of an active account: they can sign in or recover.
        let active_like = matches!(from, Active | PasswordExpired | LockedOut | Recovery);
        let next = match self {
            LifecycleOp::Activate => match from {
                Staged | Deprovisioned if has_password => Some(Active),
                Staged | Deprovisioned => Some(Provisioned),
                Active => return Err(already_active()),
                _ => None,
            },
            LifecycleOp::Deactivate => (from != Deprovisioned).then_some(Deprovisioned),
            LifecycleOp::Reactivate => {
                matches!(from, Provisioned | Recovery).then_some(Provisioned)
            }
            // The recordings show a `suspend` link on PASSWORD_EXPIRED users as on ACTIVE ones.
            LifecycleOp::Suspend => matches!(from, Active | PasswordExpired).then_some(Suspended),
            LifecycleOp::Unsuspend => (from == Suspended).then_some(Active),
            LifecycleOp::Unlock => match from {
                LockedOut => Some(Active),
                _ => {
                    return Err(ApiError::new(
                        403,
                        "E0000032",
                        "Unlock is not allowed for this user.",
                    )
                    .cause("The user is not locked out."));
                }
            },
            LifecycleOp::ResetPassword => (active_like || from == Provisioned).then_some(Recovery),
            LifecycleOp::ExpirePassword | LifecycleOp::ExpirePasswordWithTempPassword => {
                active_like.then_some(PasswordExpired)
            }
            LifecycleOp::ResetFactors => (from != Deprovisioned).then_some(from),
        };
        next.ok_or_else(ApiError::bad_status)
    }

    fn event(self) -> (&'static str, &'static str) {
        match self {
            LifecycleOp::Activate => ("user.lifecycle.activate", "Activate Okta user"),
            LifecycleOp::Deactivate => ("user.lifecycle.deactivate", "Deactivate Okta user"),
            LifecycleOp::Reactivate => ("user.lifecycle.reactivate", "Reactivate Okta user"),
            LifecycleOp::Suspend => ("user.lifecycle.suspend", "Suspend Okta user"),
            LifecycleOp::Unsuspend => ("user.lifecycle.unsuspend", "Unsuspend Okta user"),
            LifecycleOp::Unlock => (
                "user.account.unlock_by_admin",
                "User account unlock by admin",
            ),
            LifecycleOp::ResetPassword => (
                "user.account.reset_password",
                "Fired when the user's Okta password is reset",
            ),
            LifecycleOp::ExpirePassword | LifecycleOp::ExpirePasswordWithTempPassword => (
                "user.account.expire_password",
                "Fired when the user's Okta password is expired",
            ),
            LifecycleOp::ResetFactors => {
                ("user.mfa.factor.reset_all", "Reset all factors for user")
            }
        }
    }
}

fn already_active() -> ApiError {
    ApiError::new(
        403,
        "E0000016",
        "Activation failed because the user is already active",
    )
}

pub(super) fn set_status(user: &mut User, status: UserStatus, now: i64) {
    if user.status != status {
        user.status = status;
        user.status_changed = Some(now);
    }
    user.transitioning_to = None;
    user.last_updated = now;
}

pub(super) async fn run_lifecycle(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath((id, op)): ApiPath<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let op = LifecycleOp::from_path(&op).ok_or_else(ApiError::path_not_found)?;
    let params = Params::parse(q.as_deref());
    let now = sim.clock.now_ms();
    let base = sim.base_url().to_string();
    let (body, event) = {
        let mut guard = sim.org.write();
        // Split borrows: the user changes while tokens are drawn from the id generator.
        let org = &mut *guard;
        let uid = resolve(org, &id)?;
        let user = org.users.get_mut(&uid).ok_or_else(ApiError::internal)?;
        let has_password =
            user.credentials.password.is_some() || user.credentials.provider_type != "OKTA";
        let next = op.next_status(user.status, has_password)?;
        set_status(user, next, now);
        // Tokens are drawn only by calls that hand one out, so failed or email-sending calls
        // leave the ids of later objects as they were.
        let rng = org.ids.rng();
        let body = match op {
            LifecycleOp::Activate => {
                user.activated = (next == UserStatus::Active)
                    .then_some(now)
                    .or(user.activated);
                activation_token(&base, rng, params.flag("sendEmail", true))
            }
            LifecycleOp::Reactivate => {
                activation_token(&base, rng, params.flag("sendEmail", false))
            }
            LifecycleOp::ResetPassword => {
                if params.flag("sendEmail", true) {
                    json!({})
                } else {
                    let token = rng.alphanumeric(20);
                    json!({"resetPasswordUrl": format!("{base}/reset_password/drpw{token}")})
                }
            }
            LifecycleOp::ExpirePassword => render(&base, &org.realm_id, user),
            LifecycleOp::ExpirePasswordWithTempPassword => {
                let temp_password = temporary_password(rng);
                user.credentials.password = Some(temp_password.clone());
                user.password_changed = Some(now);
                json!({"tempPassword": temp_password})
            }
            LifecycleOp::Deactivate
            | LifecycleOp::Suspend
            | LifecycleOp::Unsuspend
            | LifecycleOp::Unlock
            | LifecycleOp::ResetFactors => json!({}),
        };
        let (kind, message) = op.event();
        (body, NewEvent::success(kind, message, vec![user.entity()]))
    };
    sim.log(&ctx, event);
    ok(body)
}

/// `{activationUrl, activationToken}` when the caller sends the email itself, `{}` otherwise.
fn activation_token(base: &str, rng: &mut crate::rng::Rng, send_email: bool) -> Value {
    if send_email {
        return json!({});
    }
    let token = rng.alphanumeric(20);
    json!({
        "activationUrl": format!("{base}/tokens/{token}/verify"),
        "activationToken": token,
    })
}

/// Twelve characters with a lower-case letter, an upper-case letter and a digit, like the recorded
/// `C8Fg5dUq4zE8`, so the temporary password satisfies the default policy.
fn temporary_password(rng: &mut crate::rng::Rng) -> String {
    loop {
        let p = rng.alphanumeric(12);
        if p.chars().any(|c| c.is_ascii_lowercase())
            && p.chars().any(|c| c.is_ascii_uppercase())
            && p.chars().any(|c| c.is_ascii_digit())
        {
            return p;
        }
    }
}

pub(super) async fn forgot_password(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let base = sim.base_url().to_string();
    let (body, event) = {
        let mut org = sim.org.write();
        let user = find_user(&org, &id)?;
        // Only ACTIVE users; the operation leaves the status as it is.
        if user.status != UserStatus::Active {
            return Err(ApiError::bad_status());
        }
        let target = user.entity();
        let body = if params.flag("sendEmail", true) {
            json!({})
        } else {
            let token = org.ids.rng().alphanumeric(20);
            json!({"resetPasswordUrl": format!("{base}/signin/reset-password/dfp{token}")})
        };
        let event = NewEvent::success(
            "user.account.reset_password",
            "Fired when the user's Okta password is reset",
            vec![target],
        );
        (body, event)
    };
    sim.log(&ctx, event);
    ok(body)
}

// ------------------------------------------------------------------------------------------
// Credential changes that prove the current password
// ------------------------------------------------------------------------------------------

/// `oldPassword` (or `password`) does not match the user's: 403 E0000014 with the cause Okta's
/// docs show for a wrong old password.
fn wrong_password(field: &str) -> ApiError {
    ApiError::new(403, "E0000014", "Update of credentials failed")
        .cause(format!("{field}: The credentials provided were incorrect."))
}

/// The `value` of a `{value}` password object in the body, if given.
fn password_value<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key)?.get("value")?.as_str()
}

/// Checks `given` against the stored password. A user without an Okta password (none set yet,
/// or mastered elsewhere) has nothing a request could prove.
fn verify_password(user: &User, given: Option<&str>, field: &str) -> ApiResult<()> {
    match (user.credentials.password.as_deref(), given) {
        (Some(stored), Some(given))
            if user.credentials.provider_type == "OKTA"
                && !stored.is_empty()
                && stored == given =>
        {
            Ok(())
        }
        _ => Err(wrong_password(field)),
    }
}

/// `POST /users/{id}/credentials/change_password`: `{oldPassword, newPassword, revokeSessions}`.
/// Allowed in STAGED, ACTIVE, PASSWORD_EXPIRED and RECOVERY (spec); a RECOVERY user becomes
/// ACTIVE (spec), and so does a PASSWORD_EXPIRED one, whose expired password is now replaced.
pub(super) async fn change_password(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> ApiResult {
    use UserStatus::*;
    let body = json_body(&body)?;
    let now = sim.clock.now_ms();
    let (out, events) = {
        let mut org = sim.org.write();
        let uid = resolve(&org, &id)?;
        let user = org.users.get_mut(&uid).ok_or_else(ApiError::internal)?;
        if !matches!(user.status, Staged | Active | PasswordExpired | Recovery) {
            return Err(ApiError::bad_status());
        }
        let Some(new) = password_value(&body, "newPassword") else {
            return Err(ApiError::validation(
                "newPassword",
                "newPassword: The field cannot be left blank",
            ));
        };
        verify_password(user, password_value(&body, "oldPassword"), "oldPassword")?;
        // The default policy remembers past passwords; the simulator knows only the current one.
        if user.credentials.password.as_deref() == Some(new) {
            return Err(ApiError::validation(
                "password",
                "password: Password has been used too recently",
            ));
        }
        let mut credentials = user.credentials.clone();
        credentials.password = Some(new.to_string());
        check_password(&credentials, user.profile.get_str("login"))?;
        user.credentials = credentials;
        user.password_changed = Some(now);
        user.last_updated = now;
        if matches!(user.status, Recovery | PasswordExpired) {
            set_status(user, Active, now);
        }
        let target = user.entity();
        let mut events = vec![NewEvent::success(
            "user.account.update_password",
            "User update password for Okta",
            vec![target.clone()],
        )];
        if body.get("revokeSessions").and_then(Value::as_bool) == Some(true) {
            events.push(NewEvent::success(
                "user.session.clear",
                "Clear user session",
                vec![target],
            ));
        }
        (credentials_response(user), events)
    };
    for e in events {
        sim.log(&ctx, e);
    }
    ok(out)
}

/// `POST /users/{id}/credentials/change_recovery_question`: `{password, recovery_question}`.
/// Allowed in STAGED, ACTIVE and RECOVERY (spec). Okta's event catalogue has no event type for a
/// recovery question change, so none is logged.
pub(super) async fn change_recovery_question(
    State(sim): State<Arc<Sim>>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> ApiResult {
    use UserStatus::*;
    let body = json_body(&body)?;
    let now = sim.clock.now_ms();
    let mut org = sim.org.write();
    let uid = resolve(&org, &id)?;
    let user = org.users.get_mut(&uid).ok_or_else(ApiError::internal)?;
    if !matches!(user.status, Staged | Active | Recovery) {
        return Err(ApiError::bad_status());
    }
    let Some(question) = body.get("recovery_question").filter(|q| !q.is_null()) else {
        return Err(ApiError::validation(
            "recovery_question",
            "recovery_question: The field cannot be left blank",
        ));
    };
    verify_password(user, password_value(&body, "password"), "password")?;
    let mut credentials = user.credentials.clone();
    apply_credentials(
        &mut credentials,
        &json!({"recovery_question": question.clone()}),
    )?;
    user.credentials = credentials;
    user.last_updated = now;
    ok(credentials_response(user))
}

/// The credentials object the credential operations answer with: as in the user, without
/// `emails` (recorded: `{"password":{},"provider":{...}}` after change_password).
fn credentials_response(u: &User) -> Value {
    let mut c = serde_json::to_value(CredentialsJson(u)).unwrap_or(Value::Null);
    if let Some(m) = c.as_object_mut() {
        m.shift_remove("emails");
    }
    c
}

pub(super) async fn clear_sessions(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let target = find_user(&sim.org.read(), &id)?.entity();
    sim.log(
        &ctx,
        NewEvent::success("user.session.clear", "Clear user session", vec![target]),
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_lands_on_active_only_with_a_password() {
        let op = LifecycleOp::Activate;
        assert_eq!(
            op.next_status(UserStatus::Staged, true).ok(),
            Some(UserStatus::Active)
        );
        assert_eq!(
            op.next_status(UserStatus::Staged, false).ok(),
            Some(UserStatus::Provisioned)
        );
        let err = op
            .next_status(UserStatus::Active, true)
            .err()
            .map(|e| e.code);
        assert_eq!(err, Some("E0000016"));
    }
}
