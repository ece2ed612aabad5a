use chrono_tz::Tz;
use hezuo_core::Money;
use std::net::SocketAddr;
use std::time::Duration;

/// Settings, read once by the CLI (flags over environment over defaults).
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    /// The deployment's time zone: periods are calendar months here (docs/domain.md "Who and what").
    pub timezone: Tz,
    /// A village's yearly collective income target when it has none of its own.
    pub income_target: Money,
    /// How long a token from `POST /auth/login` lives.
    pub login_token_ttl: Duration,
    /// Largest JSON request body accepted.
    pub json_body_limit: usize,
    /// Rows stored, and external ids matched, per transaction of a statement import: each such
    /// transaction is one turn of SQLite's writer.
    pub statement_chunk: usize,
    /// Connections served at once; more wait in the listen backlog. Keep it below the
    /// process's file descriptor limit (the database and files need some too).
    pub max_connections: usize,
    /// The longest a request may take, reading its body included.
    pub request_timeout: Duration,
    /// The address people reach the service at (e.g. `https://hezuo.example.cn`); console
    /// cookies are `Secure` when it is https.
    pub public_url: Option<String>,
    /// The key that seals feed secrets at rest (`HEZUO_SECRET_KEY`, or the key file beside a
    /// SQLite database). Without one, feeds cannot be saved.
    pub secret_key: Option<crate::secrets::SecretKey>,
    /// PostgreSQL connections kept open from the start (`hezuo_db::connect_warm`): enough for
    /// a report's concurrent reads under load, so none is opened in a request's path.
    pub postgres_warm_connections: u32,
    /// How long one feed run may take (PLATFORMS.md §1: 10 minutes); throttling waits and
    /// windows both count. A run that reaches it keeps its cursor and the next run follows.
    pub feed_run_budget: Duration,
    /// Networks outgoing feed requests may reach although they are not public
    /// (`HEZUO_FEED_ALLOW_NETS`; tests: 127.0.0.1/32).
    pub feed_allow_nets: hezuo_platforms::AllowList,
    /// Networks webhook deliveries may reach although they are not public
    /// (`HEZUO_WEBHOOK_ALLOW_NETS`; tests: 127.0.0.1/32).
    pub webhook_allow_nets: hezuo_platforms::AllowList,
    /// The waits between a failed delivery's attempts (`HEZUO_WEBHOOK_RETRY_SCHEDULE`, seconds,
    /// comma-separated; PLATFORMS.md §5 by default).
    pub webhook_retry_schedule: hezuo_platforms::webhook::RetrySchedule,
    /// An endpoint whose every delivery has failed for this long is disabled (5 days).
    pub webhook_disable_after: Duration,
    /// How long a shutdown waits for requests under way before the process exits anyway
    /// (`HEZUO_SHUTDOWN_GRACE`, seconds).
    pub shutdown_grace: Duration,
    /// A PostgreSQL streaming replica for reports, lists and exports
    /// (`HEZUO_READ_DATABASE_URL`; docs/operations.md "A read replica").
    pub read_database_url: Option<String>,
    /// Reads fall back to the primary while the replica is behind by more than this
    /// (`HEZUO_REPLICA_MAX_LAG`, seconds).
    pub replica_max_lag: Duration,
    /// Requests a minute one token (or console session) may make, in bursts of as many
    /// (`HEZUO_RATE_LIMIT_TOKEN`); 0: no limit.
    pub rate_limit_token: u32,
    /// Requests a minute one client address may make (`HEZUO_RATE_LIMIT_ADDRESS`); 0: no limit.
    pub rate_limit_address: u32,
    /// Proxies whose `X-Forwarded-For` names the client (`HEZUO_TRUSTED_PROXIES`).
    pub trusted_proxies: hezuo_platforms::AllowList,
}

impl Config {
    pub const DEFAULT_LISTEN: &'static str = "127.0.0.1:8080";
    pub const DEFAULT_DATABASE_FILE: &'static str = "hezuo.db";
    pub const DEFAULT_TIMEZONE: Tz = chrono_tz::Asia::Shanghai;
    /// 100,000 元, a common provincial line for 薄弱村.
    pub const DEFAULT_INCOME_TARGET: Money = Money::from_cents(10_000_000);
    /// 6,000 a minute (100 a second, or a burst of 6,000): a station's staff, or an alliance's
    /// program pushing every order of its shops one by one, stays far below.
    pub const DEFAULT_RATE_LIMIT_TOKEN: u32 = 6_000;
    /// 12,000 a minute from one address: a station's office behind one NAT with many users.
    pub const DEFAULT_RATE_LIMIT_ADDRESS: u32 = 12_000;

    /// Defaults for everything but the database.
    pub fn with_database(database_url: impl Into<String>) -> Config {
        Config {
            database_url: database_url.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            timezone: Self::DEFAULT_TIMEZONE,
            income_target: Self::DEFAULT_INCOME_TARGET,
            login_token_ttl: Duration::from_secs(12 * 3600),
            json_body_limit: 1024 * 1024,
            statement_chunk: 20_000,
            max_connections: 512,
            request_timeout: Duration::from_secs(30),
            public_url: None,
            secret_key: None,
            postgres_warm_connections: 12,
            feed_run_budget: hezuo_platforms::RUN_BUDGET,
            feed_allow_nets: hezuo_platforms::AllowList::default(),
            webhook_allow_nets: hezuo_platforms::AllowList::default(),
            webhook_retry_schedule: hezuo_platforms::webhook::RetrySchedule::default(),
            webhook_disable_after: hezuo_platforms::webhook::DISABLE_AFTER_FAILING,
            shutdown_grace: Duration::from_secs(30),
            read_database_url: None,
            replica_max_lag: Duration::from_secs(5),
            rate_limit_token: Self::DEFAULT_RATE_LIMIT_TOKEN,
            rate_limit_address: Self::DEFAULT_RATE_LIMIT_ADDRESS,
            trusted_proxies: hezuo_platforms::AllowList::default(),
        }
    }
}
