//! `/api/v1/meta/schemas/user`.

use crate::api::path;
use crate::client::{Client, Query};
use crate::error::Error;
use crate::models::UserSchema;

/// User schemas: `client.schemas()`.
#[derive(Clone, Copy)]
pub struct Schemas<'c> {
    client: &'c Client,
}

impl<'c> Schemas<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Schemas { client }
    }

    /// The default user type's schema, custom attributes included.
    pub async fn default_user(&self) -> Result<UserSchema, Error> {
        self.user("default").await
    }

    /// A user schema by id: `default`, or a user type's schema id ([`crate::models::UserType::schema_id`]).
    pub async fn user(&self, schema_id: &str) -> Result<UserSchema, Error> {
        let path = path("meta/schemas/user", schema_id, "");
        self.client.get(&path, &Query::new()).await
    }
}
