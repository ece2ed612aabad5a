use hezuo_db::sea_orm::{DbErr, SqlErr};

/// What can go wrong in a use case, in the terms the API reports (API.md "Errors").
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No credentials, or credentials that do not identify anyone now.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The caller's role may not do this at all.
    #[error("your role may not do this")]
    Forbidden,
    /// No such object in the caller's scope (another tenant's objects are not found either).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state (duplicates, order of operations).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Well-formed input that breaks a rule.
    #[error("{}{message}", field.as_ref().map(|f| format!("{f}: ")).unwrap_or_default())]
    Invalid { code: &'static str, field: Option<String>, message: String },
    /// A bulk import with bad rows: nothing was imported; every bad row is listed.
    #[error("{message}")]
    Rejected { code: &'static str, message: String, rows: Vec<hezuo_catalog::import::RowError> },
    /// Too many failed logins for one username: wait `retry_after` seconds.
    #[error("too many failed logins for this username; try again in {retry_after} s")]
    TooManyAttempts { retry_after: u64 },
    /// Anything else: logged in full, reported without details.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// The stable code of the API's error envelope.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict { code, .. } | AppError::Invalid { code, .. } | AppError::Rejected { code, .. } => code,
            AppError::TooManyAttempts { .. } => "too_many_attempts",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid { code: "invalid_field", field: Some(field.to_owned()), message: message.into() }
    }

    pub fn unknown_reference(field: &str, what: &str) -> AppError {
        AppError::Invalid {
            code: "unknown_reference",
            field: Some(field.to_owned()),
            message: format!("no such {what} in your scope"),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Conflict { code, message: message.into() }
    }
}

/// Unique keys whose violation is the client's doing, by the names each database reports.
const UNIQUE_KEYS: &[(&str, &str, &str)] = &[
    ("villages_code_key", "villages.code", "a village with this code already exists"),
    ("users_username_key", "users.username", "this username is taken"),
    ("channels_code_key", "channels.alliance_id, channels.code", "the alliance already has a channel with this code"),
    (
        "cooperative_members_household_key",
        "cooperative_members.cooperative_id, cooperative_members.household_id",
        "the household is already a member",
    ),
    (
        "cooperative_members_village_key",
        "cooperative_members.cooperative_id, cooperative_members.village_id",
        "the village collective is already a member",
    ),
    (
        "rule_versions_effective_key",
        "rule_versions.cooperative_id, rule_versions.effective_from",
        "a rule version with this effective_from already exists",
    ),
    ("products_station_sku_key", "products.station_id, products.sku", "another product of the station has this sku"),
    ("period_closes_period_key", "period_closes.cooperative_id, period_closes.period", "the period is closed"),
];

impl From<DbErr> for AppError {
    fn from(e: DbErr) -> AppError {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(msg)) => {
                let known = UNIQUE_KEYS.iter().find(|(pg, lite, _)| msg.contains(pg) || msg.contains(lite));
                let message = known.map_or("already exists", |k| k.2);
                AppError::conflict("already_exists", message)
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => AppError::Invalid {
                code: "unknown_reference",
                field: None,
                message: "a referenced object does not exist".into(),
            },
            _ => AppError::Internal(e.to_string()),
        }
    }
}

impl From<hezuo_core::Overflow> for AppError {
    fn from(_: hezuo_core::Overflow) -> AppError {
        AppError::Invalid { code: "out_of_range", field: None, message: "amount out of range".into() }
    }
}

impl From<hezuo_catalog::FieldError> for AppError {
    fn from(e: hezuo_catalog::FieldError) -> AppError {
        AppError::invalid(e.field, e.message)
    }
}
