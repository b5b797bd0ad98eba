//! One module per resource family, in the style of octocrab: `client.users().list().q("ann").stream()`.
//!
//! An accessor on [`Client`] gives a family handle; a list operation returns a builder whose setters
//! are the query string and whose `stream()` returns [`Pages`], fetched one page at a time.

mod apps;
mod custom;
mod groups;
mod logs;
mod schemas;
mod user_types;
mod users;

pub use apps::{Apps, ListApps};
pub use custom::{CustomCall, validate_api_path};
pub use groups::{Groups, ListGroups};
pub use logs::{Logs, SearchLogs};
pub use schemas::Schemas;
pub use user_types::UserTypes;
pub use users::{ActivationToken, CreateUser, ListUsers, ResetPasswordToken, TempPassword, Users};

use std::marker::PhantomData;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::Error;
use crate::page::Pages;

/// A list under one object (a group's members, an app's users) whose only parameter is the page size.
pub struct SubList<'c, T> {
    client: &'c Client,
    path: String,
    limit: Option<u32>,
    item: PhantomData<fn() -> T>,
}

impl<'c, T: DeserializeOwned + Send + 'static> SubList<'c, T> {
    pub(crate) fn new(client: &'c Client, path: String) -> Self {
        SubList {
            client,
            path,
            limit: None,
            item: PhantomData,
        }
    }

    /// Page size (Okta's default when absent).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Every item, one page at a time.
    pub fn stream(self) -> Pages<T> {
        let query = crate::client::Query::new().opt("limit", self.limit);
        self.client.paginate(&self.path, query)
    }
}

impl Client {
    /// Users: list and search, get by id or login, a user's groups.
    pub fn users(&self) -> Users<'_> {
        Users::new(self)
    }
    /// Groups: list and search, get, members.
    pub fn groups(&self) -> Groups<'_> {
        Groups::new(self)
    }
    /// Apps: list, get, assigned users.
    pub fn apps(&self) -> Apps<'_> {
        Apps::new(self)
    }
    /// User schemas (the default one or a user type's).
    pub fn schemas(&self) -> Schemas<'_> {
        Schemas::new(self)
    }
    /// User types.
    pub fn user_types(&self) -> UserTypes<'_> {
        UserTypes::new(self)
    }
    /// The System Log, searched between two instants.
    pub fn logs(&self) -> Logs<'_> {
        Logs::new(self)
    }
    /// Any other call under `/api/v1` (see [`CustomCall`]).
    pub fn custom(&self, method: Method, path: &str) -> CustomCall<'_> {
        CustomCall::new(self, method, path)
    }
}

/// Sort direction of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    Ascending,
    Descending,
}

impl SortOrder {
    /// `asc` / `desc`, as the users and groups searches spell it.
    pub fn short(self) -> &'static str {
        match self {
            SortOrder::Ascending => "asc",
            SortOrder::Descending => "desc",
        }
    }
    /// `ASCENDING` / `DESCENDING`, as the System Log spells it.
    pub fn long(self) -> &'static str {
        match self {
            SortOrder::Ascending => "ASCENDING",
            SortOrder::Descending => "DESCENDING",
        }
    }
}

/// Everything but RFC 3986's unreserved characters. Logins carry `@`, `+` and sometimes `/`; an
/// id or login must stay one path segment, and `+` must not turn into a space on the way.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `/api/v1/{prefix}/{id}{suffix}` with the id percent-encoded as one segment.
pub(crate) fn path(prefix: &str, id: &str, suffix: &str) -> String {
    // `.` and `..` are unreserved, but as a whole segment they would move the path.
    let id = match id {
        "." => "%2E".to_string(),
        ".." => "%2E%2E".to_string(),
        _ => utf8_percent_encode(id, SEGMENT).to_string(),
    };
    format!("/api/v1/{prefix}/{id}{suffix}")
}

/// A stream that yields one error: how a builder reports a request it refused to send.
pub(crate) fn failed<T: Send + 'static>(error: Error) -> Pages<T> {
    Pages::from_stream(futures_util::stream::once(async move { Err(error) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_logins_stay_one_segment() {
        assert_eq!(path("users", "00u1", ""), "/api/v1/users/00u1");
        assert_eq!(
            path("users", "ann+test@example.com", "/groups"),
            "/api/v1/users/ann%2Btest%40example.com/groups"
        );
        assert_eq!(path("users", "a/b c", ""), "/api/v1/users/a%2Fb%20c");
        assert_eq!(path("users", "..", ""), "/api/v1/users/%2E%2E");
    }
}
