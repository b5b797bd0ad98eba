//! `/api/v1/groups`.

use reqwest::Method;

use crate::api::{SubList, path};
use crate::client::{Client, Query};
use crate::error::Error;
use crate::models::{Application, Group, User};
use crate::page::Pages;

/// The groups family: `client.groups()`.
#[derive(Clone, Copy)]
pub struct Groups<'c> {
    client: &'c Client,
}

impl<'c> Groups<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Groups { client }
    }

    /// List or search groups: set `q`, `filter` or `search`, then [`ListGroups::stream`].
    pub fn list(&self) -> ListGroups<'c> {
        ListGroups {
            client: self.client,
            q: None,
            filter: None,
            search: None,
            limit: None,
            expand: None,
        }
    }

    /// One group by id.
    pub async fn get(&self, group_id: &str) -> Result<Group, Error> {
        self.client
            .get(&path("groups", group_id, ""), &Query::new())
            .await
    }

    /// The group's members (Okta's default page size is 1000).
    pub fn members(&self, group_id: &str) -> SubList<'c, User> {
        SubList::new(self.client, path("groups", group_id, "/users"))
    }

    /// `PUT /api/v1/groups/{groupId}/users/{userId}`: adds a member (OKTA_GROUP groups only; Okta
    /// answers 204 also when the user already is one).
    pub async fn add_member(&self, group_id: &str, user_id: &str) -> Result<(), Error> {
        let path = path("groups", group_id, &member_suffix(user_id));
        self.client
            .send(Method::PUT, &path, &Query::new(), None)
            .await
            .map(drop)
    }

    /// `DELETE /api/v1/groups/{groupId}/users/{userId}`: removes a member.
    pub async fn remove_member(&self, group_id: &str, user_id: &str) -> Result<(), Error> {
        let path = path("groups", group_id, &member_suffix(user_id));
        self.client
            .send(Method::DELETE, &path, &Query::new(), None)
            .await
            .map(drop)
    }

    /// The apps assigned to the group.
    pub fn apps(&self, group_id: &str) -> Pages<Application> {
        self.client
            .paginate(&path("groups", group_id, "/apps"), Query::new())
    }
}

/// `GET /api/v1/groups`. The setters are the query string.
#[derive(Clone)]
pub struct ListGroups<'c> {
    client: &'c Client,
    q: Option<String>,
    filter: Option<String>,
    search: Option<String>,
    limit: Option<u32>,
    expand: Option<String>,
}

impl ListGroups<'_> {
    /// Prefix match on the group name.
    pub fn q(mut self, q: impl Into<String>) -> Self {
        self.q = Some(q.into());
        self
    }
    /// The limited filter syntax (`type eq "OKTA_GROUP"`).
    pub fn filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }
    /// The full search expression (`profile.name sw "Eng"`).
    pub fn search(mut self, search: impl Into<String>) -> Self {
        self.search = Some(search.into());
        self
    }
    /// Page size.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
    /// Embed more in `_embedded` (`stats`, `app`).
    pub fn expand(mut self, expand: impl Into<String>) -> Self {
        self.expand = Some(expand.into());
        self
    }

    /// The query string this list sends.
    pub fn query(&self) -> Query {
        Query::new()
            .opt("q", self.q.as_ref())
            .opt("filter", self.filter.as_ref())
            .opt("search", self.search.as_ref())
            .opt("limit", self.limit)
            .opt("expand", self.expand.as_ref())
    }

    /// Every matching group, one page at a time.
    pub fn stream(self) -> Pages<Group> {
        self.client.paginate("/api/v1/groups", self.query())
    }
}

/// `/users/{userId}` with the id as one encoded segment.
fn member_suffix(user_id: &str) -> String {
    path("x", user_id, "")
        .strip_prefix("/api/v1/x")
        .map(|s| format!("/users{s}"))
        .unwrap_or_default()
}
