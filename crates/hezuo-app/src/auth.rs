//! Who is calling: passwords (argon2), bearer tokens (random, stored only as SHA-256), and the
//! caller's role and scope (SPEC §1).

use crate::{App, AppError, now};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use chrono::{DateTime, Utc};
use hezuo_db::entities::{login_failure, station, token, user};
use hezuo_db::sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder, QuerySelect, Set,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Failed logins for one username that `LOGIN_WINDOW` admits before refusing every login.
pub const MAX_LOGIN_FAILURES: usize = 10;
/// How long a failed login counts.
pub const LOGIN_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Failed logins are kept by a digest of the username as typed (lower-cased), never the text:
/// people type passwords into the username field.
fn username_hash(username: &str) -> String {
    hex::encode(Sha256::digest(username.trim().to_lowercase().as_bytes()))
}

/// The four roles of docs/domain.md "Who and what".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Alliance,
    Staff,
    Village,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Alliance => "alliance",
            Role::Staff => "staff",
            Role::Village => "village",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "alliance" => Some(Role::Alliance),
            "staff" => Some(Role::Staff),
            "village" => Some(Role::Village),
            _ => None,
        }
    }
}

/// The scope ids a role is bound to, as stored with users and tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScopeIds {
    pub alliance_id: Option<i64>,
    pub station_id: Option<i64>,
    pub village_id: Option<i64>,
}

/// An authenticated caller: the role and everything its scope is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    Admin,
    Alliance {
        alliance_id: i64,
    },
    /// Staff of one station; the station's alliance, cooperative and village come with it.
    Staff {
        station_id: i64,
        alliance_id: i64,
        cooperative_id: i64,
        village_id: i64,
    },
    Village {
        village_id: i64,
    },
}

impl Principal {
    pub fn role(&self) -> Role {
        match self {
            Principal::Admin => Role::Admin,
            Principal::Alliance { .. } => Role::Alliance,
            Principal::Staff { .. } => Role::Staff,
            Principal::Village { .. } => Role::Village,
        }
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        match self {
            Principal::Admin => Ok(()),
            _ => Err(AppError::Forbidden),
        }
    }
}

/// Who acted, for the journal: the token used and, for logged-in users, the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub token_id: Option<i64>,
}

/// Token text as handed to clients: a prefix that makes leaked tokens easy to spot, then 256
/// random bits.
const TOKEN_PREFIX: &str = "hz_";

fn new_token_text() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

fn token_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Hashes a password with argon2id (OWASP-recommended defaults), off the async threads.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Checks a password's length: long enough to resist guessing, short enough to hash cheaply.
pub fn check_password(password: &str) -> Result<(), AppError> {
    let n = password.chars().count();
    if !(8..=128).contains(&n) {
        return Err(AppError::invalid("password", "must be 8 to 128 characters"));
    }
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(value_type = crate::openapi::Username)]
    pub username: String,
    #[schema(value_type = crate::openapi::Password)]
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

/// A new token as the CLI prints it.
#[derive(Debug, Serialize)]
pub struct IssuedToken {
    pub token: String,
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Verifies the scope ids a role needs exist and that no others are given.
pub(crate) async fn check_scope_ids(app: &App, role: Role, ids: ScopeIds) -> Result<(), AppError> {
    use hezuo_db::entities::{alliance, village};
    let (need, field): (Option<i64>, &str) = match role {
        Role::Admin => (None, ""),
        Role::Alliance => (ids.alliance_id, "alliance_id"),
        Role::Staff => (ids.station_id, "station_id"),
        Role::Village => (ids.village_id, "village_id"),
    };
    let given = [("alliance_id", ids.alliance_id), ("station_id", ids.station_id), ("village_id", ids.village_id)];
    for (f, v) in given {
        if v.is_some() && f != field {
            return Err(AppError::invalid(f, format!("a {} has no {f}", role.as_str())));
        }
    }
    if role == Role::Admin {
        return Ok(());
    }
    let id = need.ok_or_else(|| AppError::invalid(field, format!("required for role {}", role.as_str())))?;
    let exists = match role {
        Role::Alliance => alliance::Entity::find_by_id(id).one(&app.db).await?.is_some(),
        Role::Staff => station::Entity::find_by_id(id).one(&app.db).await?.is_some(),
        Role::Village => village::Entity::find_by_id(id).one(&app.db).await?.is_some(),
        Role::Admin => true,
    };
    if exists { Ok(()) } else { Err(AppError::unknown_reference(field, &field.replace("_id", ""))) }
}

impl App {
    /// Issues a machine token (the CLI's `token create`). No expiry unless one is given.
    pub async fn create_token(
        &self,
        role: Role,
        ids: ScopeIds,
        label: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<IssuedToken, AppError> {
        check_scope_ids(self, role, ids).await?;
        self.insert_token(role, ids, None, label, expires_at).await
    }

    async fn insert_token(
        &self,
        role: Role,
        ids: ScopeIds,
        user_id: Option<i64>,
        label: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<IssuedToken, AppError> {
        let text = new_token_text();
        token::ActiveModel {
            token_hash: Set(token_hash(&text)),
            user_id: Set(user_id),
            role: Set(role.as_str().to_owned()),
            alliance_id: Set(ids.alliance_id),
            station_id: Set(ids.station_id),
            village_id: Set(ids.village_id),
            label: Set(label.to_owned()),
            created_at: Set(now()),
            expires_at: Set(expires_at),
            ..Default::default()
        }
        .insert(&*self.writer().await)
        .await?;
        Ok(IssuedToken { token: text, role, expires_at })
    }

    /// `POST /auth/login`: a token for a user whose password matches. After
    /// `MAX_LOGIN_FAILURES` failed logins for one username within `LOGIN_WINDOW`, every login
    /// for that username (the right password too) is refused until the oldest of them leaves
    /// the window. The failures are rows in the database, so restarts and replicas share them.
    pub async fn login(&self, req: LoginRequest) -> Result<LoginResponse, AppError> {
        self.login_labelled(req, "login").await
    }

    /// A log-in of the web console: the same checks and expiry as `login`; the token is the
    /// session (its cookie), labelled `console`.
    pub async fn console_login(&self, req: LoginRequest) -> Result<LoginResponse, AppError> {
        self.login_labelled(req, "console").await
    }

    /// Ends a session: its token is deleted, so the next request with it is 401.
    pub async fn revoke_token(&self, bearer: &str) -> Result<(), AppError> {
        token::Entity::delete_many()
            .filter(token::Column::TokenHash.eq(token_hash(bearer)))
            .exec(&*self.writer().await)
            .await?;
        Ok(())
    }

    async fn login_labelled(&self, req: LoginRequest, label: &str) -> Result<LoginResponse, AppError> {
        const BAD: AppError = AppError::Unauthorized("wrong username or password");
        let who = username_hash(&req.username);
        // The attempt takes its place first, then counts the places taken: attempts racing
        // each other see each other, so no burst gets past the limit.
        let attempt =
            login_failure::ActiveModel { username_hash: Set(who.clone()), failed_at: Set(now()), ..Default::default() }
                .insert(&*self.writer().await)
                .await?;
        let window = chrono::Duration::from_std(LOGIN_WINDOW).map_err(|e| AppError::Internal(e.to_string()))?;
        let recent: Vec<DateTime<Utc>> = login_failure::Entity::find()
            .select_only()
            .column(login_failure::Column::FailedAt)
            .filter(login_failure::Column::UsernameHash.eq(who.as_str()))
            .filter(login_failure::Column::FailedAt.gt(attempt.failed_at - window))
            .filter(login_failure::Column::Id.ne(attempt.id))
            .order_by_desc(login_failure::Column::FailedAt)
            .limit(MAX_LOGIN_FAILURES as u64)
            .into_tuple()
            .all(&self.db)
            .await?;
        if recent.len() >= MAX_LOGIN_FAILURES {
            // A refused attempt is not a failure: the window passes 15 minutes after the
            // failures, however often someone keeps trying.
            login_failure::Entity::delete_by_id(attempt.id).exec(&*self.writer().await).await?;
            let frees_at = recent[MAX_LOGIN_FAILURES - 1] + window;
            let retry_after = u64::try_from((frees_at - now()).num_seconds()).unwrap_or(0) + 1;
            return Err(AppError::TooManyAttempts { retry_after });
        }
        let found = user::Entity::find().filter(user::Column::Username.eq(req.username.as_str())).one(&self.db).await?;
        let Some(u) = found else {
            // Spend the same time as a real check, so usernames cannot be probed by timing.
            let _ = verify_password(req.password, dummy_hash().await?).await;
            return Err(BAD);
        };
        if !verify_password(req.password, u.password_hash.clone()).await || u.disabled {
            return Err(BAD);
        }
        let role =
            Role::parse(&u.role).ok_or_else(|| AppError::Internal(format!("user {} has an unknown role", u.id)))?;
        let ttl =
            chrono::Duration::from_std(self.config.login_token_ttl).map_err(|e| AppError::Internal(e.to_string()))?;
        let expires_at = now() + ttl;
        let ids = ScopeIds { alliance_id: u.alliance_id, station_id: u.station_id, village_id: u.village_id };
        let issued = self.insert_token(role, ids, Some(u.id), label, Some(expires_at)).await?;
        // A successful login forgets the failures before it.
        login_failure::Entity::delete_many()
            .filter(login_failure::Column::UsernameHash.eq(who.as_str()))
            .exec(&*self.writer().await)
            .await?;
        Ok(LoginResponse { token: issued.token, role, expires_at })
    }

    /// Resolves a bearer token to its principal and actor, or `Unauthorized`. One query reads
    /// the token with its user (disabled?) and, for staff, its station, so that a revoked
    /// token, a disabled user or a deleted station is seen by the very next request.
    pub async fn authenticate(&self, bearer: &str) -> Result<(Principal, Actor), AppError> {
        const BAD: AppError = AppError::Unauthorized("invalid or expired token");
        let t = token::Entity::find()
            .select_only()
            .columns([
                token::Column::Id,
                token::Column::UserId,
                token::Column::Role,
                token::Column::AllianceId,
                token::Column::StationId,
                token::Column::VillageId,
                token::Column::ExpiresAt,
            ])
            .column_as(user::Column::Disabled, "user_disabled")
            .column_as(station::Column::Id, "station_found")
            .column_as(station::Column::AllianceId, "station_alliance_id")
            .column_as(station::Column::CooperativeId, "station_cooperative_id")
            .column_as(station::Column::VillageId, "station_village_id")
            .join(
                JoinType::LeftJoin,
                token::Entity::belongs_to(user::Entity).from(token::Column::UserId).to(user::Column::Id).into(),
            )
            .join(
                JoinType::LeftJoin,
                token::Entity::belongs_to(station::Entity)
                    .from(token::Column::StationId)
                    .to(station::Column::Id)
                    .into(),
            )
            .filter(token::Column::TokenHash.eq(token_hash(bearer)))
            .into_model::<TokenRow>()
            .one(&self.db)
            .await?
            .ok_or(BAD)?;
        if t.expires_at.is_some_and(|e| e <= now()) {
            return Err(BAD);
        }
        // A user who is gone or disabled has no valid tokens.
        if t.user_id.is_some() && t.user_disabled != Some(false) {
            return Err(BAD);
        }
        let broken = || AppError::Internal(format!("token {} has an inconsistent scope", t.id));
        let actor = Actor { user_id: t.user_id, token_id: Some(t.id) };
        let principal = match Role::parse(&t.role).ok_or_else(broken)? {
            Role::Admin => Principal::Admin,
            Role::Alliance => Principal::Alliance { alliance_id: t.alliance_id.ok_or_else(broken)? },
            Role::Village => Principal::Village { village_id: t.village_id.ok_or_else(broken)? },
            Role::Staff => {
                let station_id = t.station_id.ok_or_else(broken)?;
                match (t.station_found, t.station_alliance_id, t.station_cooperative_id, t.station_village_id) {
                    (Some(_), Some(alliance_id), Some(cooperative_id), Some(village_id)) => {
                        Principal::Staff { station_id, alliance_id, cooperative_id, village_id }
                    }
                    _ => return Err(BAD),
                }
            }
        };
        Ok((principal, actor))
    }
}

/// A token as `authenticate` reads it, joined with its user and station (absent when the token
/// has none, or when they are gone).
#[derive(Debug, FromQueryResult)]
struct TokenRow {
    id: i64,
    user_id: Option<i64>,
    role: String,
    alliance_id: Option<i64>,
    station_id: Option<i64>,
    village_id: Option<i64>,
    expires_at: Option<DateTime<Utc>>,
    user_disabled: Option<bool>,
    station_found: Option<i64>,
    station_alliance_id: Option<i64>,
    station_cooperative_id: Option<i64>,
    station_village_id: Option<i64>,
}

/// A real argon2id hash of a random password, so that logins of unknown users cost as much as
/// those of known ones.
async fn dummy_hash() -> Result<String, AppError> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY.get_or_try_init(|| hash_password(new_token_text())).await.cloned()
}
