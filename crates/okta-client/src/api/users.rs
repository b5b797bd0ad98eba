//! `/api/v1/users`.

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::Value;

use crate::api::{SortOrder, path};
use crate::client::{Client, Query};
use crate::error::Error;
use crate::models::{Group, User};
use crate::page::Pages;

/// The users family: `client.users()`.
#[derive(Clone, Copy)]
pub struct Users<'c> {
    client: &'c Client,
}

impl<'c> Users<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Users { client }
    }

    /// List or search users: set `q`, `filter` or `search`, then [`ListUsers::stream`].
    pub fn list(&self) -> ListUsers<'c> {
        ListUsers {
            client: self.client,
            q: None,
            filter: None,
            search: None,
            sort_by: None,
            sort_order: None,
            limit: None,
        }
    }

    /// One user by id or by login (Okta accepts both in the path).
    pub async fn get(&self, id_or_login: &str) -> Result<User, Error> {
        self.client
            .get(&path("users", id_or_login, ""), &Query::new())
            .await
    }

    /// The groups a user belongs to.
    pub fn groups(&self, id_or_login: &str) -> Pages<Group> {
        self.client
            .paginate(&path("users", id_or_login, "/groups"), Query::new())
    }

    /// `POST /api/v1/users` (createUser): `body` is Okta's `{profile, credentials, groupIds, type}`.
    pub async fn create(&self, body: &Value, options: &CreateUser) -> Result<User, Error> {
        let query = Query::new()
            .opt("activate", options.activate)
            .opt("provider", options.provider)
            .opt("nextLogin", options.next_login.as_ref());
        self.client
            .json(Method::POST, "/api/v1/users", &query, Some(body))
            .await
    }

    /// `POST /api/v1/users/{id}` (updateUser): a partial update; profile properties left out stay,
    /// a `null` clears one.
    pub async fn update(
        &self,
        id: &str,
        body: &Value,
        strict: Option<bool>,
    ) -> Result<User, Error> {
        let query = Query::new().opt("strict", strict);
        self.client
            .json(Method::POST, &path("users", id, ""), &query, Some(body))
            .await
    }

    /// `PUT /api/v1/users/{id}` (replaceUser): profile properties left out are removed.
    pub async fn replace(
        &self,
        id: &str,
        body: &Value,
        strict: Option<bool>,
    ) -> Result<User, Error> {
        let query = Query::new().opt("strict", strict);
        self.client
            .json(Method::PUT, &path("users", id, ""), &query, Some(body))
            .await
    }

    /// `…/lifecycle/activate` (STAGED or DEPROVISIONED users). With `send_email = false` Okta
    /// answers the activation URL and token for the caller to hand on; with `true` (Okta's
    /// default) it emails the user and the token is empty.
    pub async fn activate(&self, id: &str, send_email: bool) -> Result<ActivationToken, Error> {
        let query = Query::new().push("sendEmail", send_email);
        self.lifecycle_json(id, "activate", query).await
    }

    /// `…/lifecycle/reactivate` (PROVISIONED or RECOVERY users): a new activation token.
    pub async fn reactivate(&self, id: &str, send_email: bool) -> Result<ActivationToken, Error> {
        let query = Query::new().push("sendEmail", send_email);
        self.lifecycle_json(id, "reactivate", query).await
    }

    /// `…/lifecycle/deactivate` (any status but DEPROVISIONED). `asynchronous` sends
    /// `Prefer: respond-async`, which Okta supports for large users (many app assignments).
    pub async fn deactivate(
        &self,
        id: &str,
        send_email: bool,
        asynchronous: bool,
    ) -> Result<(), Error> {
        let query = Query::new().push("sendEmail", send_email);
        self.client
            .send_with_headers(
                Method::POST,
                &path("users", id, "/lifecycle/deactivate"),
                &query,
                None,
                prefer_async(asynchronous),
            )
            .await
            .map(drop)
    }

    /// `DELETE /api/v1/users/{id}` (deleteUser). Okta's two steps: on a user that is not
    /// DEPROVISIONED this call deactivates; on a DEPROVISIONED one it deletes for good.
    /// `asynchronous` sends `Prefer: respond-async`.
    pub async fn delete(
        &self,
        id: &str,
        send_email: bool,
        asynchronous: bool,
    ) -> Result<(), Error> {
        let query = Query::new().push("sendEmail", send_email);
        self.client
            .send_with_headers(
                Method::DELETE,
                &path("users", id, ""),
                &query,
                None,
                prefer_async(asynchronous),
            )
            .await
            .map(drop)
    }

    /// `…/lifecycle/suspend` (ACTIVE users).
    pub async fn suspend(&self, id: &str) -> Result<(), Error> {
        self.lifecycle(id, "suspend", Query::new()).await
    }

    /// `…/lifecycle/unsuspend` (SUSPENDED users become ACTIVE).
    pub async fn unsuspend(&self, id: &str) -> Result<(), Error> {
        self.lifecycle(id, "unsuspend", Query::new()).await
    }

    /// `…/lifecycle/unlock` (LOCKED_OUT users become ACTIVE).
    pub async fn unlock(&self, id: &str) -> Result<(), Error> {
        self.lifecycle(id, "unlock", Query::new()).await
    }

    /// `…/lifecycle/reset_factors`: every enrolled factor is removed.
    pub async fn reset_factors(&self, id: &str) -> Result<(), Error> {
        self.lifecycle(id, "reset_factors", Query::new()).await
    }

    /// `…/lifecycle/expire_password`: the user must change the password at the next sign-in.
    pub async fn expire_password(&self, id: &str) -> Result<User, Error> {
        self.client
            .json::<User, Value>(
                Method::POST,
                &path("users", id, "/lifecycle/expire_password"),
                &Query::new(),
                None,
            )
            .await
    }

    /// `…/lifecycle/expire_password_with_temp_password`: expires the password and sets a
    /// temporary one, returned to the caller.
    pub async fn expire_password_with_temp_password(
        &self,
        id: &str,
        revoke_sessions: bool,
    ) -> Result<TempPassword, Error> {
        let query = Query::new().push("revokeSessions", revoke_sessions);
        self.lifecycle_json(id, "expire_password_with_temp_password", query)
            .await
    }

    /// `…/lifecycle/reset_password`: the user goes to RECOVERY; without email Okta answers the
    /// reset URL.
    pub async fn reset_password(
        &self,
        id: &str,
        send_email: bool,
        revoke_sessions: bool,
    ) -> Result<ResetPasswordToken, Error> {
        let query = Query::new()
            .push("sendEmail", send_email)
            .push("revokeSessions", revoke_sessions);
        self.lifecycle_json(id, "reset_password", query).await
    }

    /// `…/credentials/forgot_password`: the forgotten-password flow for an ACTIVE user (status
    /// unchanged); without email Okta answers the reset URL.
    pub async fn forgot_password(
        &self,
        id: &str,
        send_email: bool,
    ) -> Result<ResetPasswordToken, Error> {
        let query = Query::new().push("sendEmail", send_email);
        let response = self
            .client
            .send(
                Method::POST,
                &path("users", id, "/credentials/forgot_password"),
                &query,
                None,
            )
            .await?;
        parse_or_default(&response.body)
    }

    /// `DELETE /api/v1/users/{id}/sessions`: ends every session; `oauth_tokens` also revokes the
    /// OAuth tokens issued to the user.
    pub async fn clear_sessions(&self, id: &str, oauth_tokens: bool) -> Result<(), Error> {
        let query = Query::new().push("oauthTokens", oauth_tokens);
        self.client
            .send(
                Method::DELETE,
                &path("users", id, "/sessions"),
                &query,
                None,
            )
            .await
            .map(drop)
    }

    async fn lifecycle(&self, id: &str, op: &str, query: Query) -> Result<(), Error> {
        self.client
            .send(
                Method::POST,
                &path("users", id, &format!("/lifecycle/{op}")),
                &query,
                None,
            )
            .await
            .map(drop)
    }

    async fn lifecycle_json<T: serde::de::DeserializeOwned + Default>(
        &self,
        id: &str,
        op: &str,
        query: Query,
    ) -> Result<T, Error> {
        let response = self
            .client
            .send(
                Method::POST,
                &path("users", id, &format!("/lifecycle/{op}")),
                &query,
                None,
            )
            .await?;
        parse_or_default(&response.body)
    }
}

/// The query parameters of [`Users::create`]; `None` leaves Okta's default.
#[derive(Clone, Debug, Default)]
pub struct CreateUser {
    /// Activate now (Okta's default) or create STAGED.
    pub activate: Option<bool>,
    /// The user signs in through an external provider: no password needed.
    pub provider: Option<bool>,
    /// `changePassword`: the password is expired at once.
    pub next_login: Option<String>,
}

/// `UserActivationToken`: empty when Okta sent the email itself.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivationToken {
    pub activation_url: Option<String>,
    pub activation_token: Option<String>,
}

/// `ResetPasswordToken`: empty when Okta sent the email itself.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetPasswordToken {
    pub reset_password_url: Option<String>,
}

/// `TempPassword`: the temporary password Okta set.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TempPassword {
    pub temp_password: String,
}

// By hand: each holds a credential (a token, a URL carrying one, a password).
impl std::fmt::Debug for ActivationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivationToken")
            .field("present", &self.activation_token.is_some())
            .finish_non_exhaustive()
    }
}
impl std::fmt::Debug for ResetPasswordToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetPasswordToken")
            .field("present", &self.reset_password_url.is_some())
            .finish_non_exhaustive()
    }
}
impl std::fmt::Debug for TempPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TempPassword(<redacted>)")
    }
}

fn prefer_async(asynchronous: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if asynchronous {
        headers.insert("prefer", HeaderValue::from_static("respond-async"));
    }
    headers
}

/// Okta answers these with a JSON object, `{}`, or (older orgs, async calls) no body at all.
fn parse_or_default<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        Error::new(
            crate::error::ErrorKind::Decode,
            format!("the answer is not the expected JSON: {e}"),
        )
    })
}

/// `GET /api/v1/users`. The setters are the query string.
#[derive(Clone)]
pub struct ListUsers<'c> {
    client: &'c Client,
    q: Option<String>,
    filter: Option<String>,
    search: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<SortOrder>,
    limit: Option<u32>,
}

impl ListUsers<'_> {
    /// Prefix match on first name, last name or email (`q=ann`).
    pub fn q(mut self, q: impl Into<String>) -> Self {
        self.q = Some(q.into());
        self
    }
    /// The limited filter syntax (`status eq "ACTIVE"`, `lastUpdated gt "..."`).
    pub fn filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }
    /// The full search expression (`profile.department eq "Sales" and status eq "ACTIVE"`); the only
    /// mode that sorts.
    pub fn search(mut self, search: impl Into<String>) -> Self {
        self.search = Some(search.into());
        self
    }
    /// Sort by an attribute (`profile.lastName`); needs `search`.
    pub fn sort_by(mut self, attribute: impl Into<String>) -> Self {
        self.sort_by = Some(attribute.into());
        self
    }
    /// Sort direction (with `sort_by`).
    pub fn sort_order(mut self, order: SortOrder) -> Self {
        self.sort_order = Some(order);
        self
    }
    /// Page size (Okta's default is 200).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The query string this list sends.
    pub fn query(&self) -> Query {
        Query::new()
            .opt("q", self.q.as_ref())
            .opt("filter", self.filter.as_ref())
            .opt("search", self.search.as_ref())
            .opt("sortBy", self.sort_by.as_ref())
            .opt("sortOrder", self.sort_order.map(SortOrder::short))
            .opt("limit", self.limit)
    }

    /// Every matching user, one page at a time.
    pub fn stream(self) -> Pages<User> {
        self.client.paginate("/api/v1/users", self.query())
    }
}
