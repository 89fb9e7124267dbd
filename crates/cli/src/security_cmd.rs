//! `memstream user`, `memstream acl` and `memstream token`: the security stores in a stopped
//! server's data directory (its lock is taken, so a running server is never edited behind
//! its back), or, for users and ACLs with `--server ADDR`, a running server's, through its
//! native listener (USER_PUT, ACL_CREATE, ...). The directory and the limits come from the
//! same configuration `serve` reads (`--config`, the environment, `--data-dir`).

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use memstream_auth::acl::{
    Acl, AclFilter, Operation, PatternFilter, PatternType, Permission, ResourcePattern,
    ResourceType, CLUSTER_NAME,
};
use memstream_auth::scram::Mechanism;
use memstream_broker::config::{self, ConfigSources, Override};
use memstream_broker::data_dir::DataDirLock;
use memstream_engine::access::Access;
use memstream_protocol::message::PutMode;

/// Where the stores are.
#[derive(Args, Clone, Debug)]
pub struct StoreArgs {
    /// The server's data directory (default: `server.data_dir` of the configuration).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The server's configuration file (for `server.data_dir` and the `[auth]` limits).
    #[arg(long, value_name = "FILE", env = "MEMSTREAM_CONFIG")]
    config: Option<PathBuf>,
}

/// `memstream user ...`.
#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user (the password from --password-file, a prompt, or stdin; never argv).
    Add {
        /// The user name.
        name: String,
        /// File holding the password (its first line).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// PBKDF2 iterations of the credentials made with --server (default 4096; offline:
        /// `auth.scram_iterations`).
        #[arg(long, value_name = "N",
              value_parser = clap::value_parser!(u32).range(4096..=1_000_000))]
        iterations: Option<u32>,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        online: UserOnline,
    },
    /// Change a user's password.
    Passwd {
        /// The user name.
        name: String,
        /// File holding the new password (its first line).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// PBKDF2 iterations of the credentials made with --server (default 4096; offline:
        /// `auth.scram_iterations`).
        #[arg(long, value_name = "N",
              value_parser = clap::value_parser!(u32).range(4096..=1_000_000))]
        iterations: Option<u32>,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        online: UserOnline,
    },
    /// Remove a user.
    Remove {
        /// The user name.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        online: UserOnline,
    },
    /// List the users (names, mechanisms, dates; no key material).
    List {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        online: UserOnline,
    },
}

/// PBKDF2 iterations of credentials made for `--server` without `--iterations` (RFC 7677's
/// minimum, and `auth.scram_iterations`' default).
const ONLINE_ITERATIONS: u32 = memstream_auth::scram::ITERATIONS_MIN;

/// TLS to the running server (`--server`), as every client command takes it.
#[derive(Args, Clone, Debug)]
pub struct TlsFlags {
    /// Connect with TLS; the server's certificate must name the --server host.
    #[arg(long, env = "MEMSTREAM_TLS")]
    tls: bool,
    /// CA certificates (PEM) to trust for --tls (default: the system's).
    #[arg(long, value_name = "FILE", env = "MEMSTREAM_CA_FILE")]
    ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS, with its key; implies --tls.
    #[arg(long, value_name = "FILE")]
    cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
}

/// `memstream user ... --server ADDR`: change a running server's users instead of a stopped
/// one's data directory. Its `--password-file` is the user's new password, so the login's is
/// `--login-password-file` (or MEMSTREAM_PASSWORD).
#[derive(Args, Clone, Debug)]
pub struct UserOnline {
    /// A running server (its native listener) to change instead of --data-dir; logging in
    /// as a superuser, or a user with ALTER (and DESCRIBE, to list) on the cluster.
    #[arg(long, value_name = "ADDR", conflicts_with = "data_dir")]
    server: Option<String>,
    /// User to log in as, when the server requires authentication.
    #[arg(long, env = "MEMSTREAM_USER", value_name = "NAME")]
    user: Option<String>,
    /// File holding the login password (its first line; else MEMSTREAM_PASSWORD).
    #[arg(long, value_name = "FILE")]
    login_password_file: Option<PathBuf>,
    #[command(flatten)]
    tls: TlsFlags,
}

/// `memstream acl ... --server ADDR`: change a running server's ACLs.
#[derive(Args, Clone, Debug)]
pub struct AclOnline {
    /// A running server (its native listener) to change instead of --data-dir; logging in
    /// as a superuser, or a user with ALTER (and DESCRIBE, to list) on the cluster.
    #[arg(long, value_name = "ADDR", conflicts_with = "data_dir")]
    server: Option<String>,
    /// User to log in as, when the server requires authentication.
    #[arg(long, env = "MEMSTREAM_USER", value_name = "NAME")]
    user: Option<String>,
    /// File holding the login password (its first line; else MEMSTREAM_PASSWORD).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    #[command(flatten)]
    tls: TlsFlags,
}

/// The client flags of an online command, as every client command has them.
fn server_arg(
    server: &str,
    user: Option<&String>,
    password_file: Option<&PathBuf>,
    tls: &TlsFlags,
) -> crate::remote::ServerArg {
    crate::remote::ServerArg {
        connect: crate::remote::Connect {
            server: server.to_owned(),
            user: user.cloned(),
            password_file: password_file.cloned(),
            tls: tls.tls,
            ca_file: tls.ca_file.clone(),
            cert: tls.cert.clone(),
        },
        key: tls.key.clone(),
    }
}

impl UserOnline {
    fn server(&self) -> Option<crate::remote::ServerArg> {
        let server = self.server.as_deref()?;
        Some(server_arg(
            server,
            self.user.as_ref(),
            self.login_password_file.as_ref(),
            &self.tls,
        ))
    }
}

impl AclOnline {
    fn server(&self) -> Option<crate::remote::ServerArg> {
        let server = self.server.as_deref()?;
        Some(server_arg(
            server,
            self.user.as_ref(),
            self.password_file.as_ref(),
            &self.tls,
        ))
    }
}

/// What an ACL is about and who it is for.
#[derive(Args, Clone, Debug)]
pub struct AclArgs {
    /// `User:<name>` or `User:*`.
    #[arg(long)]
    principal: Option<String>,
    /// The operation: read, write, create, delete, alter, describe, describe_configs,
    /// alter_configs, idempotent_write, cluster_action, all.
    #[arg(long)]
    operation: Option<String>,
    /// A stream, by name (or `*` for every stream).
    #[arg(long, group = "resource")]
    stream: Option<String>,
    /// Every stream whose name starts with this prefix.
    #[arg(long, value_name = "PREFIX", group = "resource")]
    stream_prefix: Option<String>,
    /// A consumer group, by name (or `*` for every group).
    #[arg(long, group = "resource")]
    group: Option<String>,
    /// Every consumer group whose name starts with this prefix.
    #[arg(long, value_name = "PREFIX", group = "resource")]
    group_prefix: Option<String>,
    /// The cluster (creating streams, cluster state, security).
    #[arg(long, group = "resource")]
    cluster: bool,
    /// The client address it applies to.
    #[arg(long)]
    host: Option<String>,
    /// Deny instead of allow (deny wins).
    #[arg(long)]
    deny: bool,
}

/// `memstream acl ...`.
#[derive(Subcommand, Debug)]
pub enum AclCommand {
    /// Add an ACL: `--principal User:NAME (--stream NAME | --stream-prefix P | --group NAME |
    /// --group-prefix P | --cluster) --operation OP [--deny]`.
    Add {
        #[command(flatten)]
        acl: AclArgs,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        online: AclOnline,
    },
    /// List ACLs (every one, or those matching the flags given).
    List {
        #[command(flatten)]
        acl: AclArgs,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        online: AclOnline,
    },
    /// Remove the ACLs matching the flags given exactly.
    Remove {
        #[command(flatten)]
        acl: AclArgs,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        online: AclOnline,
    },
}

/// `memstream token ...`.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create an admin API token; it is printed once and stored hashed.
    Create {
        /// The token's name (to list and revoke it). Without --user the token is its own
        /// principal, `User:<NAME>` (a service identity for ACLs and superusers).
        #[arg(long)]
        name: String,
        /// A user of the store it acts as instead.
        #[arg(long)]
        user: Option<String>,
        /// Days until it stops working (default: never).
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u64>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List tokens (names, users, dates; no secrets).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token.
    Revoke {
        /// The token's name.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// The stores, opened under the data directory's lock.
struct Stores {
    access: Access,
    _lock: DataDirLock,
}

fn open(store: &StoreArgs) -> anyhow::Result<Stores> {
    let overrides = store
        .data_dir
        .iter()
        .map(|d| Override {
            key: "server.data_dir".into(),
            value: d.display().to_string(),
            flag: "--data-dir".into(),
        })
        .collect();
    let loaded = config::load(&ConfigSources {
        file: store.config.clone(),
        env: std::env::vars().collect(),
        overrides,
    })?;
    let cfg = loaded.config;
    let dir = &cfg.server.data_dir;
    anyhow::ensure!(
        dir.is_dir(),
        "no data directory at {} (start the server once, or pass --data-dir)",
        dir.display()
    );
    let lock = DataDirLock::acquire(dir).map_err(|e| {
        anyhow::anyhow!("{e}; stop the server first (these commands edit its files offline)")
    })?;
    let access = Access::open(Some(dir), &cfg.auth)?;
    Ok(Stores {
        access,
        _lock: lock,
    })
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The password: from the file, a prompt (twice) on a terminal, or stdin's first line.
fn password(file: Option<&PathBuf>) -> anyhow::Result<Vec<u8>> {
    if let Some(file) = file {
        return crate::remote::read_password_file(file);
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ")?;
        let again = rpassword::prompt_password("again: ")?;
        anyhow::ensure!(first == again, "the passwords differ");
        anyhow::ensure!(!first.is_empty(), "the password is empty");
        return Ok(first.into_bytes());
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let line = line.trim_end_matches(['\n', '\r']);
    anyhow::ensure!(!line.is_empty(), "no password on stdin");
    Ok(line.as_bytes().to_vec())
}

pub fn user(command: UserCommand) -> anyhow::Result<ExitCode> {
    if let UserCommand::Add {
        iterations: Some(_),
        online,
        ..
    }
    | UserCommand::Passwd {
        iterations: Some(_),
        online,
        ..
    } = &command
    {
        anyhow::ensure!(
            online.server.is_some(),
            "--iterations is for --server (offline, auth.scram_iterations applies)"
        );
    }
    match command {
        UserCommand::Add {
            name,
            password_file,
            iterations,
            store,
            online,
        } => {
            let pw = password(password_file.as_ref())?;
            match online.server() {
                Some(server) => put_online(
                    &server,
                    &name,
                    &pw,
                    PutMode::Create,
                    iterations.unwrap_or(ONLINE_ITERATIONS),
                )?,
                None => open(&store)?.access.users.add(&name, &pw, now_ms())?,
            }
            println!("user {name} added (SCRAM-SHA-256, SCRAM-SHA-512)");
        }
        UserCommand::Passwd {
            name,
            password_file,
            iterations,
            store,
            online,
        } => {
            match online.server() {
                Some(server) => {
                    let pw = password(password_file.as_ref())?;
                    put_online(
                        &server,
                        &name,
                        &pw,
                        PutMode::Update,
                        iterations.unwrap_or(ONLINE_ITERATIONS),
                    )?;
                }
                None => {
                    let stores = open(&store)?;
                    anyhow::ensure!(
                        stores.access.users.contains(&name),
                        "user {name:?} does not exist"
                    );
                    let pw = password(password_file.as_ref())?;
                    stores.access.users.set_password(&name, &pw, now_ms())?;
                }
            }
            println!("password of {name} changed");
        }
        UserCommand::Remove {
            name,
            store,
            online,
        } => {
            match online.server() {
                Some(server) => crate::remote::block_on(async {
                    server.connect().await?.admin().delete_user(&name).await?;
                    Ok(())
                })?,
                None => open(&store)?.access.users.remove(&name)?,
            }
            println!("user {name} removed");
        }
        UserCommand::List { store, online } => {
            let users: Vec<(String, Vec<&'static str>, u64)> = match online.server() {
                Some(server) => crate::remote::block_on(async {
                    let users = server.connect().await?.admin().list_users().await?;
                    Ok(users
                        .into_iter()
                        .map(|u| {
                            let mechanisms = u
                                .mechanisms
                                .iter()
                                .map(|(m, _)| Mechanism::from(*m).name())
                                .collect();
                            (u.name, mechanisms, u.created_ms)
                        })
                        .collect())
                })?,
                None => open(&store)?
                    .access
                    .users
                    .list()
                    .into_iter()
                    .map(|u| (u.name, u.mechanisms, u.created_ms))
                    .collect(),
            };
            println!("{:<24} {:<30} {:>14}", "USER", "MECHANISMS", "CREATED_MS");
            for (name, mechanisms, created_ms) in users {
                println!("{name:<24} {:<30} {created_ms:>14}", mechanisms.join(","));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Sets a user's credentials through a running server.
fn put_online(
    server: &crate::remote::ServerArg,
    name: &str,
    password: &[u8],
    mode: PutMode,
    iterations: u32,
) -> anyhow::Result<()> {
    crate::remote::block_on(async {
        let client = server.connect().await?;
        client
            .admin()
            .put_user(name, password, mode, iterations)
            .await?;
        Ok(())
    })
}

impl AclArgs {
    /// The resource named, and whether its name is a prefix.
    fn resource(&self) -> Option<(ResourceType, String, bool)> {
        if self.cluster {
            return Some((ResourceType::Cluster, CLUSTER_NAME.to_string(), false));
        }
        let named = [
            (ResourceType::Stream, &self.stream, false),
            (ResourceType::Stream, &self.stream_prefix, true),
            (ResourceType::Group, &self.group, false),
            (ResourceType::Group, &self.group_prefix, true),
        ];
        named
            .into_iter()
            .find_map(|(t, name, prefixed)| name.clone().map(|n| (t, n, prefixed)))
    }

    fn operation(&self) -> anyhow::Result<Option<Operation>> {
        self.operation
            .as_deref()
            .map(|o| {
                Operation::from_name(o)
                    .ok_or_else(|| anyhow::anyhow!("--operation {o:?} is not an operation"))
            })
            .transpose()
    }

    fn acl(&self) -> anyhow::Result<Acl> {
        let (resource_type, name, prefixed) = self.resource().ok_or_else(|| {
            anyhow::anyhow!(
                "an ACL needs --stream, --stream-prefix, --group, --group-prefix or --cluster"
            )
        })?;
        let acl = Acl {
            principal: self
                .principal
                .clone()
                .ok_or_else(|| anyhow::anyhow!("an ACL needs --principal"))?,
            host: self.host.clone().unwrap_or_else(|| "*".into()),
            resource: ResourcePattern {
                resource_type,
                name,
                pattern_type: match prefixed {
                    true => PatternType::Prefixed,
                    false => PatternType::Literal,
                },
            },
            operation: self
                .operation()?
                .ok_or_else(|| anyhow::anyhow!("an ACL needs --operation"))?,
            permission: match self.deny {
                true => Permission::Deny,
                false => Permission::Allow,
            },
        };
        Ok(acl.validate()?)
    }

    fn filter(&self, exact: bool) -> anyhow::Result<AclFilter> {
        let resource = self.resource();
        let prefixed = resource.as_ref().is_some_and(|(_, _, p)| *p);
        Ok(AclFilter {
            principal: self.principal.clone(),
            host: self.host.clone(),
            resource_type: resource.as_ref().map(|(t, _, _)| *t),
            name: resource.map(|(_, n, _)| n),
            pattern: match (exact, prefixed) {
                (_, true) => PatternFilter::Exact(PatternType::Prefixed),
                (true, false) => PatternFilter::Exact(PatternType::Literal),
                (false, false) => PatternFilter::Any,
            },
            operation: self.operation()?,
            permission: match (exact, self.deny) {
                (_, true) => Some(Permission::Deny),
                (true, false) => Some(Permission::Allow),
                (false, false) => None,
            },
        })
    }
}

pub fn acl(command: AclCommand) -> anyhow::Result<ExitCode> {
    match command {
        AclCommand::Add { acl, store, online } => {
            let acl = acl.acl()?;
            match online.server() {
                Some(server) => crate::remote::block_on(async {
                    let client = server.connect().await?;
                    client
                        .admin()
                        .create_acls(std::slice::from_ref(&acl))
                        .await?;
                    Ok(())
                })?,
                None => drop(open(&store)?.access.authorizer.add(vec![acl.clone()])?),
            }
            println!("added: {acl}");
        }
        AclCommand::List { acl, store, online } => {
            let filter = acl.filter(false)?;
            let acls = match online.server() {
                Some(server) => crate::remote::block_on(async {
                    Ok(server.connect().await?.admin().list_acls(&filter).await?)
                })?,
                None => open(&store)?.access.authorizer.list(&filter),
            };
            for acl in acls {
                println!("{acl}");
            }
        }
        AclCommand::Remove { acl, store, online } => {
            let filter = acl.filter(true)?;
            let removed = match online.server() {
                Some(server) => crate::remote::block_on(async {
                    Ok(server.connect().await?.admin().delete_acls(&filter).await?)
                })?,
                None => open(&store)?.access.authorizer.remove(&filter)?,
            };
            anyhow::ensure!(!removed.is_empty(), "no ACL matches");
            for acl in removed {
                println!("removed: {acl}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn token(command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create {
            name,
            user,
            expires_in_days,
            store,
        } => {
            let stores = open(&store)?;
            if let Some(user) = &user {
                anyhow::ensure!(
                    stores.access.users.contains(user),
                    "user {user:?} does not exist (memstream user add {user})"
                );
            }
            let user = user.unwrap_or_else(|| name.clone());
            let now = now_ms();
            let expires = expires_in_days.map(|d| now.saturating_add(d.saturating_mul(86_400_000)));
            let secret = stores.access.tokens.create(&name, &user, now, expires)?;
            eprintln!("token {name} for {user} created; it is shown once, store it now:");
            println!("{secret}");
        }
        TokenCommand::List { store } => {
            println!(
                "{:<24} {:<24} {:>14} {:>14}",
                "TOKEN", "USER", "CREATED_MS", "EXPIRES_MS"
            );
            for (name, t) in open(&store)?.access.tokens.list() {
                let expires = t.expires_ms.map_or("never".to_string(), |e| e.to_string());
                println!(
                    "{name:<24} {:<24} {:>14} {expires:>14}",
                    t.user, t.created_ms
                );
            }
        }
        TokenCommand::Revoke { name, store } => {
            open(&store)?.access.tokens.revoke(&name)?;
            println!("token {name} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}
