//! The org's objects and their indexes. One `Org` behind one lock: every mutation is a short critical
//! section, so a single lock keeps invariants (memberships, login index) trivially consistent.
//! JSON rendering lives with each resource's routes; this module only holds data.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use serde_json::{Map, Value};

use std::sync::Arc;

pub use crate::profile::{AttrValue, Profile};
use crate::rng::{Rng, sortable};
use crate::syslog::Entity;

/// Okta's user statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserStatus {
    Staged,
    Provisioned,
    Active,
    Recovery,
    PasswordExpired,
    LockedOut,
    Suspended,
    Deprovisioned,
}

impl UserStatus {
    pub const ALL: [UserStatus; 8] = [
        UserStatus::Staged,
        UserStatus::Provisioned,
        UserStatus::Active,
        UserStatus::Recovery,
        UserStatus::PasswordExpired,
        UserStatus::LockedOut,
        UserStatus::Suspended,
        UserStatus::Deprovisioned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Staged => "STAGED",
            UserStatus::Provisioned => "PROVISIONED",
            UserStatus::Active => "ACTIVE",
            UserStatus::Recovery => "RECOVERY",
            UserStatus::PasswordExpired => "PASSWORD_EXPIRED",
            UserStatus::LockedOut => "LOCKED_OUT",
            UserStatus::Suspended => "SUSPENDED",
            UserStatus::Deprovisioned => "DEPROVISIONED",
        }
    }
}

/// What the simulator remembers of a user's credentials. The password is kept in plain text (an
/// empty string when imported as a hash or hook, whose text is unknown): `change_password`,
/// `change_recovery_question` and `strict` updates compare against it. Only the recovery question's
/// text is kept, never its answer. Neither secret is ever rendered back (`password: {}`).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub password: Option<String>,
    pub recovery_question: Option<String>,
    /// `{type, name}`, e.g. `OKTA`/`OKTA`, `FEDERATION`/`FEDERATION`, `ACTIVE_DIRECTORY`/`ad.example.com`.
    pub provider_type: String,
    pub provider_name: String,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub status: UserStatus,
    pub transitioning_to: Option<UserStatus>,
    pub created: i64,
    pub activated: Option<i64>,
    pub status_changed: Option<i64>,
    pub last_login: Option<i64>,
    pub last_updated: i64,
    pub password_changed: Option<i64>,
    pub type_id: String,
    pub profile: Profile,
    pub credentials: Credentials,
}

impl User {
    pub fn login(&self) -> &str {
        self.profile.get_str("login").unwrap_or("")
    }

    /// The user as a System Log actor or target.
    pub fn entity(&self) -> Arc<Entity> {
        Arc::new(Entity {
            id: self.id.clone(),
            kind: "User",
            alternate_id: self.login().to_string(),
            display_name: self.display_name(),
        })
    }

    pub fn display_name(&self) -> String {
        let first = self.profile.get_str("firstName");
        let last = self.profile.get_str("lastName");
        match (first, last) {
            (Some(f), Some(l)) => format!("{f} {l}"),
            _ => self.login().to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupType {
    OktaGroup,
    BuiltIn,
    AppGroup,
}

impl GroupType {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::OktaGroup => "OKTA_GROUP",
            GroupType::BuiltIn => "BUILT_IN",
            GroupType::AppGroup => "APP_GROUP",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub kind: GroupType,
    pub created: i64,
    pub last_updated: i64,
    pub last_membership_updated: i64,
    /// `{name, description}` plus any custom group attributes.
    pub profile: Map<String, Value>,
    /// For APP_GROUP: the app the group is imported from.
    pub source_app: Option<String>,
}

impl Group {
    /// The group as a System Log target. Okta writes `alternateId: "unknown"` for groups.
    pub fn entity(&self) -> Arc<Entity> {
        Arc::new(Entity {
            id: self.id.clone(),
            kind: "UserGroup",
            alternate_id: "unknown".into(),
            display_name: self.name().to_string(),
        })
    }

    pub fn name(&self) -> &str {
        self.profile
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// An application instance. Apps vary a lot by sign-on mode, so the rendered body is kept whole and
/// the simulator only tracks the fields it acts on.
#[derive(Debug, Clone)]
pub struct App {
    pub id: String,
    pub status: String,
    pub created: i64,
    pub last_updated: i64,
    /// The full application object except `id`, `status`, `created`, `lastUpdated`, `_links`.
    pub body: Map<String, Value>,
}

impl App {
    /// The app as a System Log target.
    pub fn entity(&self) -> Arc<Entity> {
        Arc::new(Entity {
            id: self.id.clone(),
            kind: "AppInstance",
            alternate_id: self.label().to_string(),
            display_name: self.label().to_string(),
        })
    }

    pub fn label(&self) -> &str {
        self.body.get("label").and_then(Value::as_str).unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.body.get("name").and_then(Value::as_str).unwrap_or("")
    }
}

/// A user's assignment to an app (`AppUser`).
#[derive(Debug, Clone)]
pub struct AppUser {
    pub user_id: String,
    pub scope: &'static str,
    pub status: &'static str,
    pub created: i64,
    pub last_updated: i64,
    pub status_changed: i64,
    pub user_name: String,
    pub profile: Map<String, Value>,
}

/// A group's assignment to an app (`ApplicationGroupAssignment`).
#[derive(Debug, Clone)]
pub struct AppGroup {
    pub group_id: String,
    pub priority: i64,
    pub last_updated: i64,
    pub profile: Map<String, Value>,
}

/// Makes Okta-shaped ids: a three-character type prefix and 17 more characters, 20 in all. The
/// first seven after the prefix count up, so ids sort in creation order (the order lists use).
#[derive(Debug, Clone)]
pub struct IdGen {
    counter: u64,
    rng: Rng,
}

impl IdGen {
    pub fn new(seed: u64) -> Self {
        IdGen {
            counter: 0,
            rng: Rng::new(seed ^ 0x1D5),
        }
    }

    /// `prefix` is Okta's: `00u` users, `00g` groups, `0oa` apps, `oty` user types, ...
    pub fn next(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!(
            "{prefix}{}{}",
            sortable(self.counter, 7),
            self.rng.alphanumeric(20 - prefix.len() - 7)
        )
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }
}

/// Everything the org holds except the System Log (which has its own store and lock).
#[derive(Debug)]
pub struct Org {
    pub ids: IdGen,
    pub users: BTreeMap<String, User>,
    /// Lower-cased login → user id (logins are unique, case-insensitively). Kept with
    /// `insert_user`, `set_login` and `remove_user`, which also keep the short-name index.
    pub logins: HashMap<String, String>,
    /// Lower-cased login, sorted: the logins sharing a short name (`jane@` …) are neighbours, so
    /// resolving a short name is a range lookup, not a scan of every login.
    sorted_logins: BTreeSet<String>,
    pub groups: BTreeMap<String, Group>,
    /// Group id → member user ids.
    pub members: HashMap<String, BTreeSet<String>>,
    /// User id → group ids, sorted. A Vec, not a BTreeSet: a user is in a few groups, and a
    /// B-tree's first node alone holds room for eleven.
    pub user_groups: HashMap<String, Vec<String>>,
    pub everyone_group_id: String,
    pub apps: BTreeMap<String, App>,
    /// App id → user id → assignment.
    pub app_users: HashMap<String, BTreeMap<String, AppUser>>,
    /// App id → group id → assignment.
    pub app_groups: HashMap<String, BTreeMap<String, AppGroup>>,
    /// `/api/v1/meta/schemas/user/default`, whole.
    pub user_schema: Value,
    /// `/api/v1/meta/schemas/group/default`, whole.
    pub group_schema: Value,
    /// User types by id; the default type is `default_type_id`.
    pub user_types: BTreeMap<String, Value>,
    pub default_type_id: String,
    /// The admin whose API token the simulator hands out; the actor of API calls in the System Log.
    pub admin_id: String,
    /// The realm every user resides in (`realmId`, `guo…`, one per org as recorded).
    pub realm_id: String,
}

impl Org {
    pub fn empty(seed: u64) -> Self {
        Org {
            ids: IdGen::new(seed),
            users: BTreeMap::new(),
            logins: HashMap::new(),
            sorted_logins: BTreeSet::new(),
            groups: BTreeMap::new(),
            members: HashMap::new(),
            user_groups: HashMap::new(),
            everyone_group_id: String::new(),
            apps: BTreeMap::new(),
            app_users: HashMap::new(),
            app_groups: HashMap::new(),
            user_schema: Value::Null,
            group_schema: Value::Null,
            user_types: BTreeMap::new(),
            default_type_id: String::new(),
            admin_id: String::new(),
            // Its own random source, so the ids of everything else stay as they were.
            realm_id: format!("guo{}", Rng::new(seed ^ 0x4EA1).alphanumeric(17)),
        }
    }

    /// A user by id, login, or the login's short name (the part before `@`), as `GET /users/{id}` allows.
    pub fn find_user_id(&self, id_or_login: &str) -> Option<String> {
        if self.users.contains_key(id_or_login) {
            return Some(id_or_login.to_string());
        }
        let lower = id_or_login.to_lowercase();
        if let Some(id) = self.logins.get(&lower) {
            return Some(id.clone());
        }
        if !lower.contains('@') {
            return self.find_by_short_name(&lower);
        }
        None
    }

    /// The user whose login is `{short}@…`, only when exactly one login has that short name:
    /// Okta resolves a short name "as long as the shortname is unambiguous" (spec, getUser), and
    /// answers an ambiguous one like an unknown id.
    fn find_by_short_name(&self, short: &str) -> Option<String> {
        let prefix = format!("{short}@");
        let mut matching = self
            .sorted_logins
            .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .take_while(|login| login.starts_with(&prefix));
        let only = matching.next()?;
        if matching.next().is_some() {
            return None;
        }
        self.logins.get(only).cloned()
    }

    pub fn insert_user(&mut self, user: User) {
        let login = user.login().to_lowercase();
        self.sorted_logins.insert(login.clone());
        self.logins.insert(login, user.id.clone());
        self.users.insert(user.id.clone(), user);
    }

    /// `insert_user` for many users at once. The id map is built from sorted entries, so its nodes
    /// come out packed full, not left half empty as inserting ascending ids one at a time leaves them.
    pub fn insert_users(&mut self, users: Vec<User>) {
        for user in &users {
            let login = user.login().to_lowercase();
            self.sorted_logins.insert(login.clone());
            self.logins.insert(login, user.id.clone());
        }
        let users = users.into_iter().map(|u| (u.id.clone(), u));
        self.users = std::mem::take(&mut self.users)
            .into_iter()
            .chain(users)
            .collect();
    }

    /// Moves a user's entry in the login indexes after a login change (both lower-cased).
    pub fn set_login(&mut self, user_id: &str, old_login: &str, new_login: &str) {
        if old_login == new_login {
            return;
        }
        self.logins.remove(old_login);
        self.sorted_logins.remove(old_login);
        self.sorted_logins.insert(new_login.to_string());
        self.logins
            .insert(new_login.to_string(), user_id.to_string());
    }

    pub fn add_member(&mut self, group_id: &str, user_id: &str) -> bool {
        let added = self
            .members
            .entry(group_id.to_string())
            .or_default()
            .insert(user_id.to_string());
        let groups = self.user_groups.entry(user_id.to_string()).or_default();
        if let Err(i) = groups.binary_search_by(|g| g.as_str().cmp(group_id)) {
            groups.insert(i, group_id.to_string());
        }
        added
    }

    pub fn remove_member(&mut self, group_id: &str, user_id: &str) -> bool {
        let removed = self
            .members
            .get_mut(group_id)
            .is_some_and(|m| m.remove(user_id));
        if let Some(groups) = self.user_groups.get_mut(user_id) {
            groups.retain(|g| g != group_id);
        }
        removed
    }

    /// Rebuilds the indexes after bulk loading, for the same reason as `insert_users`. Same contents.
    pub fn pack(&mut self) {
        fn repack<T: IntoIterator + FromIterator<T::Item> + Default>(t: &mut T) {
            *t = std::mem::take(t).into_iter().collect();
        }
        repack(&mut self.sorted_logins);
        self.members.values_mut().for_each(repack);
        self.user_groups
            .values_mut()
            .for_each(|g| g.shrink_to_fit());
    }

    /// Removes a user and every trace of it (login, memberships, app assignments).
    pub fn remove_user(&mut self, user_id: &str) -> Option<User> {
        let user = self.users.remove(user_id)?;
        let login = user.login().to_lowercase();
        self.logins.remove(&login);
        self.sorted_logins.remove(&login);
        for g in self.user_groups.remove(user_id).unwrap_or_default() {
            if let Some(m) = self.members.get_mut(&g) {
                m.remove(user_id);
            }
        }
        for assignments in self.app_users.values_mut() {
            assignments.remove(user_id);
        }
        Some(user)
    }
}
