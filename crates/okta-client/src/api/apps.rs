//! `/api/v1/apps`.

use reqwest::Method;
use serde_json::Value;

use crate::api::{SubList, path};
use crate::client::{Client, Query};
use crate::error::Error;
use crate::models::{AppUser, Application};
use crate::page::Pages;

/// The apps family: `client.apps()`.
#[derive(Clone, Copy)]
pub struct Apps<'c> {
    client: &'c Client,
}

impl<'c> Apps<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Apps { client }
    }

    /// List apps: set `q` or `filter`, then [`ListApps::stream`].
    pub fn list(&self) -> ListApps<'c> {
        ListApps {
            client: self.client,
            q: None,
            filter: None,
            limit: None,
        }
    }

    /// One app by id.
    pub async fn get(&self, app_id: &str) -> Result<Application, Error> {
        self.client
            .get(&path("apps", app_id, ""), &Query::new())
            .await
    }

    /// The users assigned to an app, with their app profiles (Okta's default page size is 50, the
    /// most 500).
    pub fn users(&self, app_id: &str) -> SubList<'c, AppUser> {
        SubList::new(self.client, path("apps", app_id, "/users"))
    }

    /// One user's assignment to the app (404 `E0000007` when the user is not assigned).
    pub async fn user(&self, app_id: &str, user_id: &str) -> Result<AppUser, Error> {
        self.client
            .get(&app_user_path(app_id, user_id), &Query::new())
            .await
    }

    /// `POST /api/v1/apps/{appId}/users` (assignUserToApplication): `body` is Okta's AppUser
    /// request, `{"id": "00u…", "scope": "USER", "credentials": {...}, "profile": {...}}`.
    /// Assigning again updates the assignment.
    pub async fn assign_user(&self, app_id: &str, body: &Value) -> Result<AppUser, Error> {
        self.client
            .json(
                Method::POST,
                &path("apps", app_id, "/users"),
                &Query::new(),
                Some(body),
            )
            .await
    }

    /// `DELETE /api/v1/apps/{appId}/users/{userId}`: removes a direct assignment.
    pub async fn unassign_user(
        &self,
        app_id: &str,
        user_id: &str,
        send_email: bool,
    ) -> Result<(), Error> {
        let query = Query::new().push("sendEmail", send_email);
        self.client
            .send(
                Method::DELETE,
                &app_user_path(app_id, user_id),
                &query,
                None,
            )
            .await
            .map(drop)
    }
}

/// `GET /api/v1/apps`. The setters are the query string.
#[derive(Clone)]
pub struct ListApps<'c> {
    client: &'c Client,
    q: Option<String>,
    filter: Option<String>,
    limit: Option<u32>,
}

impl ListApps<'_> {
    /// Prefix match on the app's name or label.
    pub fn q(mut self, q: impl Into<String>) -> Self {
        self.q = Some(q.into());
        self
    }
    /// The limited filter syntax (`status eq "ACTIVE"`, `name eq "bookmark"`).
    pub fn filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }
    /// Page size.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The query string this list sends.
    pub fn query(&self) -> Query {
        Query::new()
            .opt("q", self.q.as_ref())
            .opt("filter", self.filter.as_ref())
            .opt("limit", self.limit)
    }

    /// Every matching app, one page at a time.
    pub fn stream(self) -> Pages<Application> {
        self.client.paginate("/api/v1/apps", self.query())
    }
}

/// `/api/v1/apps/{appId}/users/{userId}`, each id one encoded segment.
fn app_user_path(app_id: &str, user_id: &str) -> String {
    let user = path("x", user_id, "");
    let user = user.strip_prefix("/api/v1/x").unwrap_or_default();
    path("apps", app_id, &format!("/users{user}"))
}
