//! Typed models of the Okta resources the client reads.
//!
//! Each model types the fields a program uses and keeps everything else in `extra` (a
//! `#[serde(flatten)]` map), so custom attributes and fields Okta adds later survive a
//! deserialize/serialize round trip. Optional fields are [`Nullable`] so `null` and absent stay
//! distinct, timestamps are [`Timestamp`]s holding Okta's exact text, and status-like enums have an
//! `Other(String)` variant so a new value never fails a response.

mod app;
mod common;
mod group;
mod log_event;
mod schema;
mod user;
mod user_type;

pub use app::{AppStatus, AppUser, AppUserCredentials, AppUserStatus, Application, SignOnMode};
pub use common::{CatchAll, Links, Nullable, Timestamp};
pub use group::{Group, GroupProfile, GroupType};
pub use log_event::{
    AuthenticationContext, DebugContext, GeographicalContext, Geolocation, IpAddress, LogActor,
    LogClient, LogEvent, LogOutcome, LogRequest, LogTransaction, OutcomeResult, SecurityContext,
    Severity, UserAgent,
};
pub use schema::{
    SchemaAttribute, SchemaDefinitions, SchemaPermission, SchemaSection, Unique, UserSchema,
};
pub use user::{
    AuthProvider, RecoveryQuestion, TypeRef, User, UserCredentials, UserProfile, UserStatus,
};
pub use user_type::UserType;

/// Okta's error body lives with the error type; re-exported here with the other models.
pub use crate::error::{ErrorBody, ErrorCause};

// The error body is defined with the error type, outside this module, so its impl lives here.
common::catch_all!(ErrorBody, error_causes = "errorCauses");
common::catch_all!(ErrorCause);
