//! `/api/v1/users`.

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
