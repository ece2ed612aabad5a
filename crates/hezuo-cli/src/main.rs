//! The `hezuo` command: serve the API, migrate, issue tokens, add users, verify the books.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use hezuo_app::auth::ScopeIds;
use hezuo_app::setup::CreateUser;
use hezuo_app::{App, Config, Role};
use hezuo_core::Money;
use std::net::SocketAddr;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hezuo",
    version,
    about = "Rural e-commerce service stations: sales credited to farmer households and village collectives"
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

/// Settings: flags over environment over defaults.
#[derive(Args)]
struct Settings {
    /// Database URL: sqlite://FILE?mode=rwc or postgres://… [default: SQLite file hezuo.db here]
    #[arg(long = "database", env = "HEZUO_DATABASE_URL", global = true)]
    database: Option<String>,
    /// Time zone of periods and booking dates.
    #[arg(long, env = "HEZUO_TIMEZONE", default_value = "Asia/Shanghai", global = true)]
    timezone: chrono_tz::Tz,
    /// Default yearly income target of a village collective, in 元.
    #[arg(long, env = "HEZUO_INCOME_TARGET", default_value = "100000.00", global = true)]
    income_target: String,
    /// Networks that platform feeds may reach although they are not public, comma-separated
    /// (e.g. 127.0.0.1/32 for a platform simulator); empty: public addresses only.
    #[arg(long, env = "HEZUO_FEED_ALLOW_NETS", default_value = "", global = true)]
    feed_allow_nets: String,
    /// Networks that webhook deliveries may reach although they are not public,
    /// comma-separated (e.g. 127.0.0.1/32 for a receiver on this machine); empty: public
    /// addresses only.
    #[arg(long, env = "HEZUO_WEBHOOK_ALLOW_NETS", default_value = "", global = true)]
    webhook_allow_nets: String,
    /// Seconds to wait between a failed webhook delivery's attempts, comma-separated; when
    /// they run out the delivery is dead.
    #[arg(
        long,
        env = "HEZUO_WEBHOOK_RETRY_SCHEDULE",
        default_value = "5,300,1800,7200,18000,36000,36000",
        global = true
    )]
    webhook_retry_schedule: String,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve the HTTP API.
    Serve(Box<ServeArgs>),
    /// Apply pending migrations and exit.
    Migrate,
    /// Bearer tokens for machines and the first admin.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Users who log in with a password.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Check the invariants of the books on this database; exits 1 when any fails.
    Verify,
    /// Copy a SQLite database consistently while the service runs (VACUUM INTO, then synced).
    /// On PostgreSQL: explains pg_dump and exits 2.
    Backup {
        /// The new file to write (an existing file is refused).
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Put a backup in place as the SQLite database (stop the service first), then verify it.
    /// On PostgreSQL: explains pg_restore and exits 2.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: std::path::PathBuf,
        /// Restore over a database that holds data.
        #[arg(long)]
        force: bool,
    },
    /// Write the whole ledger as a beancount or hledger journal.
    ExportLedger {
        /// `beancount` or `hledger`.
        #[arg(long, default_value = "beancount")]
        format: String,
        /// File to write [default: standard output].
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
}

/// `hezuo serve`.
#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "HEZUO_LISTEN", default_value = Config::DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Seed demo data into an empty database and print an admin token.
    #[arg(long)]
    demo: bool,
    /// Connections served at once (more wait in the listen backlog); keep it below the
    /// process's open-file limit.
    #[arg(long, env = "HEZUO_MAX_CONNECTIONS", default_value_t = 512)]
    max_connections: usize,
    /// The address people reach the service at, e.g. https://hezuo.example.cn: printed on
    /// produce labels as the base of their trace URL (default: http:// and the listen
    /// address); the console's cookies are Secure when it is https.
    #[arg(long, env = "HEZUO_PUBLIC_URL")]
    public_url: Option<String>,
    /// Seconds a shutdown (SIGTERM, Ctrl-C) waits for requests under way before exiting.
    #[arg(long, env = "HEZUO_SHUTDOWN_GRACE", default_value_t = 30)]
    shutdown_grace: u64,
    /// A PostgreSQL streaming replica for reports, lists and exports (docs/operations.md "A
    /// read replica"); every write, and a caller's reads right after its own writes, stay on
    /// the primary.
    #[arg(long, env = "HEZUO_READ_DATABASE_URL")]
    read_database_url: Option<String>,
    /// Seconds the replica may lag before reads fall back to the primary.
    #[arg(long, env = "HEZUO_REPLICA_MAX_LAG", default_value_t = 5)]
    replica_max_lag: u64,
    /// Requests a minute one token or console session may make (in bursts of as many); 0: no
    /// limit. Beyond: 429 `rate_limited` with Retry-After.
    #[arg(long, env = "HEZUO_RATE_LIMIT_TOKEN", default_value_t = Config::DEFAULT_RATE_LIMIT_TOKEN)]
    rate_limit_token: u32,
    /// Requests a minute one client address may make; 0: no limit.
    #[arg(long, env = "HEZUO_RATE_LIMIT_ADDRESS", default_value_t = Config::DEFAULT_RATE_LIMIT_ADDRESS)]
    rate_limit_address: u32,
    /// Proxies in front of the service (comma-separated networks): from these peers the client's
    /// address is read from X-Forwarded-For; from any other, the peer is the client.
    #[arg(long, env = "HEZUO_TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: String,
    /// Log lines as text for people, or as JSON objects for a log collector.
    #[arg(long, env = "HEZUO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// How log lines are written.
#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Args)]
struct ScopeArgs {
    /// Alliance id (role alliance).
    #[arg(long)]
    alliance: Option<i64>,
    /// Station id (role staff).
    #[arg(long)]
    station: Option<i64>,
    /// Village id (role village).
    #[arg(long)]
    village: Option<i64>,
}

impl ScopeArgs {
    fn ids(&self) -> ScopeIds {
        ScopeIds { alliance_id: self.alliance, station_id: self.station, village_id: self.village }
    }
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new token (shown once; only its hash is stored).
    Create {
        /// What the holder may do; staff, alliance and village users need their scope.
        #[arg(long)]
        role: RoleArg,
        #[command(flatten)]
        scope: ScopeArgs,
        /// A note on what the token is for.
        #[arg(long, default_value = "cli")]
        label: String,
        /// Days until it expires [default: never].
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from HEZUO_PASSWORD or standard input.
    Add {
        #[arg(long)]
        username: String,
        /// What the holder may do; staff, alliance and village users need their scope.
        #[arg(long)]
        role: RoleArg,
        #[command(flatten)]
        scope: ScopeArgs,
    },
}

/// What a user or token may do (docs/api.md, "Roles and scopes").
#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    /// Everything; no scope.
    Admin,
    /// One alliance (--alliance).
    Alliance,
    /// One station (--station).
    Staff,
    /// One village (--village), read-only.
    Village,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Alliance => Role::Alliance,
            RoleArg::Staff => Role::Staff,
            RoleArg::Village => Role::Village,
        }
    }
}

/// The app names the scope by its body fields; on the command line they are flags.
fn scope_error(e: hezuo_app::AppError) -> anyhow::Error {
    const FLAGS: [(&str, &str); 3] =
        [("alliance_id", "--alliance"), ("station_id", "--station"), ("village_id", "--village")];
    let mut text = e.to_string();
    for (field, flag) in FLAGS {
        text = text.replace(field, flag);
    }
    anyhow::anyhow!(text)
}

/// The database URL: given, or the SQLite file `hezuo.db` here.
fn database_url(settings: &Settings) -> String {
    match &settings.database {
        Some(u) => u.clone(),
        None => hezuo_db::sqlite_url(std::path::Path::new(Config::DEFAULT_DATABASE_FILE)),
    }
}

fn config(settings: &Settings) -> Result<Config> {
    let mut config = Config::with_database(database_url(settings));
    config.timezone = settings.timezone;
    config.income_target = Money::parse(&settings.income_target)
        .ok()
        .filter(|m| !m.is_negative())
        .with_context(|| format!("HEZUO_INCOME_TARGET {:?} is not an amount like 100000.00", settings.income_target))?;
    config.feed_allow_nets = hezuo_platforms::AllowList::parse(&settings.feed_allow_nets)
        .map_err(|e| anyhow::anyhow!("HEZUO_FEED_ALLOW_NETS: {e}"))?;
    config.webhook_allow_nets = hezuo_platforms::AllowList::parse(&settings.webhook_allow_nets)
        .map_err(|e| anyhow::anyhow!("HEZUO_WEBHOOK_ALLOW_NETS: {e}"))?;
    config.webhook_retry_schedule =
        settings.webhook_retry_schedule.parse().map_err(|e| anyhow::anyhow!("HEZUO_WEBHOOK_RETRY_SCHEDULE: {e}"))?;
    config.secret_key = secret_key(&config.database_url)?;
    Ok(config)
}

/// The key that seals feed secrets: `HEZUO_SECRET_KEY`, else (SQLite) the key file beside the
/// database, created with mode 0600 on first start; none on PostgreSQL without the variable.
fn secret_key(database_url: &str) -> Result<Option<hezuo_app::secrets::SecretKey>> {
    use hezuo_app::secrets::SecretKey;
    if let Ok(text) = std::env::var("HEZUO_SECRET_KEY") {
        return SecretKey::parse(&text).map(Some).map_err(|e| anyhow::anyhow!(e));
    }
    match hezuo_db::sqlite_file(database_url) {
        Some(file) => {
            let mut name = file.as_os_str().to_owned();
            name.push(".key");
            let path = std::path::PathBuf::from(name);
            SecretKey::load_or_create(&path)
                .map(Some)
                .with_context(|| format!("reading or creating {}", path.display()))
        }
        None => Ok(None),
    }
}

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("HEZUO_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let fmt = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr);
    match format {
        // One JSON object a line: time, level, message, fields, and the request's span (its id,
        // method, route) for a log collector.
        LogFormat::Json => fmt.json().with_current_span(true).with_span_list(false).init(),
        // Colours only for a person at a terminal; a file gets plain text.
        LogFormat::Text => fmt.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// A backup or restore refused as asked (exit 2) or failed (exit 1).
fn refused(e: hezuo_app::backup::BackupError) -> Result<ExitCode> {
    match e {
        hezuo_app::backup::BackupError::Refused(why) => {
            eprintln!("hezuo: {why}");
            Ok(ExitCode::from(2))
        }
        hezuo_app::backup::BackupError::Failed(why) => bail!(why),
    }
}

/// PostgreSQL is backed up and restored with its own tools (docs/operations.md).
fn postgres_explained(what: &str) -> ExitCode {
    eprintln!(
        "hezuo {what} copies SQLite databases. On PostgreSQL use its own tools (docs/operations.md):\n  \
         pg_dump --format=custom --file=hezuo.dump \"$HEZUO_DATABASE_URL\"\n  \
         pg_restore --clean --if-exists --no-owner --dbname=\"$HEZUO_DATABASE_URL\" hezuo.dump && hezuo verify\n\
         (or pg_basebackup with WAL archiving for point-in-time recovery)."
    );
    ExitCode::from(2)
}

async fn open(settings: &Settings) -> Result<App> {
    let config = config(settings)?;
    App::open(config).await.context("opening the database")
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => {
            let ServeArgs {
                listen,
                demo,
                max_connections,
                public_url,
                shutdown_grace,
                read_database_url,
                replica_max_lag,
                rate_limit_token,
                rate_limit_address,
                trusted_proxies,
                log_format,
            } = *args;
            init_tracing(log_format);
            let mut config = config(&cli.settings)?;
            config.listen = listen;
            config.max_connections = max_connections;
            config.public_url = public_url;
            config.shutdown_grace = std::time::Duration::from_secs(shutdown_grace);
            config.read_database_url = read_database_url;
            config.replica_max_lag = std::time::Duration::from_secs(replica_max_lag);
            config.rate_limit_token = rate_limit_token;
            config.rate_limit_address = rate_limit_address;
            config.trusted_proxies = hezuo_platforms::AllowList::parse(&trusted_proxies)
                .map_err(|e| anyhow::anyhow!("HEZUO_TRUSTED_PROXIES: {e}"))?;
            let app = App::open(config).await.context("opening the database")?;
            if demo {
                let seed = hezuo_app::demo::seed(&app).await.context("seeding demo data")?;
                if seed.seeded {
                    println!("Demo data seeded. Users (password {}):", hezuo_app::demo::DEMO_PASSWORD);
                    for (name, role) in &seed.users {
                        println!("  {name:<18} {}", role.as_str());
                    }
                } else {
                    println!("The database already has data; demo seeding skipped.");
                }
                let t = app.create_token(Role::Admin, ScopeIds::default(), "demo", None).await?;
                println!("Admin token: {}", t.token);
            }
            let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
            let addr = listener.local_addr()?;
            tracing::info!("hezuo listening on http://{addr}/ — API docs at http://{addr}/docs/");
            if app.config.secret_key.is_none() {
                tracing::warn!("HEZUO_SECRET_KEY is not set: platform feeds cannot be saved or run");
            }
            let feeds = tokio::spawn(hezuo_app::feeds::run_scheduler(app.clone(), std::future::pending()));
            let webhooks = tokio::spawn(hezuo_app::webhooks::run_worker(app.clone(), std::future::pending()));
            let served = hezuo_server::serve(listener, app, shutdown_signal()).await;
            feeds.abort();
            webhooks.abort();
            served?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            open(&cli.settings).await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { command: TokenCommand::Create { role, scope, label, expires_in_days } } => {
            let app = open(&cli.settings).await?;
            let expires = expires_in_days.map(|d| chrono::Utc::now() + chrono::Duration::days(i64::from(d)));
            let t = app.create_token(role.into(), scope.ids(), &label, expires).await.map_err(scope_error)?;
            println!("{}", t.token);
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command: UserCommand::Add { username, role, scope } } => {
            let app = open(&cli.settings).await?;
            let password = match std::env::var("HEZUO_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let ids = scope.ids();
            let req = CreateUser {
                username,
                password,
                role: role.into(),
                alliance_id: ids.alliance_id,
                station_id: ids.station_id,
                village_id: ids.village_id,
            };
            let u = hezuo_app::setup::add_user_as_operator(&app, req).await.map_err(scope_error)?;
            println!("user {} ({}) added with id {}", u.username, u.role.as_str(), u.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::ExportLedger { format, output } => {
            use std::io::Write as _;
            let app = open(&cli.settings).await?;
            let format = hezuo_app::export::Format::parse(&format).map_err(|e| anyhow::anyhow!("{e}"))?;
            let closed = std::rc::Rc::new(std::cell::Cell::new(false));
            let mut out: Box<dyn std::io::Write> = match &output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(PipeWatch {
                    out: std::io::stdout().lock(),
                    closed: closed.clone(),
                })),
            };
            let written = app.export_ledger(&hezuo_app::Principal::Admin, format, &mut out).await;
            let flushed = out.flush();
            // A reader that has seen enough (`| head`) closes the pipe: that ends the export, not in error.
            if closed.get() {
                return Ok(ExitCode::SUCCESS);
            }
            written.map_err(|e| anyhow::anyhow!("{e}"))?;
            flushed?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { to } => {
            let url = database_url(&cli.settings);
            let Some(file) = hezuo_db::sqlite_file(&url) else { return Ok(postgres_explained("backup")) };
            match hezuo_app::backup::backup_sqlite(&file, &to) {
                Ok(bytes) => {
                    println!("backed up {} to {} ({bytes} bytes, synced)", file.display(), to.display());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        Command::Restore { from, force } => {
            let url = database_url(&cli.settings);
            let Some(file) = hezuo_db::sqlite_file(&url) else { return Ok(postgres_explained("restore")) };
            if let Err(e) = hezuo_app::backup::restore_sqlite(&from, &file, force) {
                return refused(e);
            }
            println!("restored {} from {}", file.display(), from.display());
            verify(&open(&cli.settings).await?, "verification of the restored database failed").await
        }
        Command::Verify => verify(&open(&cli.settings).await?, "verification failed").await,
    }
}

/// Runs `hezuo verify` on `app`, printing the report; an error saying `failed` when a check fails.
async fn verify(app: &App, failed: &str) -> Result<ExitCode> {
    let report = hezuo_app::verify::run(app).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    print!("{report}");
    if report.ok() {
        println!("all checks passed");
        Ok(ExitCode::SUCCESS)
    } else {
        bail!("{failed}")
    }
}

/// Standard output that notes when its reader has gone away.
struct PipeWatch<W> {
    out: W,
    closed: std::rc::Rc<std::cell::Cell<bool>>,
}

impl<W: std::io::Write> PipeWatch<W> {
    fn watch<T>(&self, r: std::io::Result<T>) -> std::io::Result<T> {
        if matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe) {
            self.closed.set(true);
        }
        r
    }
}

impl<W: std::io::Write> std::io::Write for PipeWatch<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.out.write(buf);
        self.watch(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.out.flush();
        self.watch(r)
    }
}

/// mimalloc instead of the system allocator: a request allocates and frees many small
/// buffers (JSON, SQL text, bound values), and glibc's malloc took ~14 % of the service's CPU
/// under load (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
