//! `/api/v1/meta/types/user`.

use crate::api::path;
use crate::client::{Client, Query};
use crate::error::Error;
use crate::models::UserType;
use crate::page::Pages;

/// User types: `client.user_types()`.
#[derive(Clone, Copy)]
pub struct UserTypes<'c> {
    client: &'c Client,
}

impl<'c> UserTypes<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        UserTypes { client }
    }

    /// Every user type (Okta answers with one page; streamed like every list).
    pub fn list(&self) -> Pages<UserType> {
        self.client
            .paginate("/api/v1/meta/types/user", Query::new())
    }

    /// One user type by id.
    pub async fn get(&self, type_id: &str) -> Result<UserType, Error> {
        self.client
            .get(&path("meta/types/user", type_id, ""), &Query::new())
            .await
    }
}
