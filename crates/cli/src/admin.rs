//! The operator's commands: hotlines, partners, users, tokens, keys, audit, backup, migrate.

use crate::common::{Global, keys, open_store, settings};
use anyhow::{Context, anyhow, bail};
use clap::Subcommand;
use lantern_server::accounts::{self, NewUserInput};
use lantern_store::{AuditCtx, NewHotline, Store, UserChange, Verification};
use std::io::BufRead as _;
use std::path::Path;
use std::process::ExitCode;

/// `lantern hotlines …`
#[derive(Debug, Subcommand)]
pub enum HotlinesCmd {
    /// Create a hotline.
    Add {
        /// Short URL-safe name.
        #[arg(long)]
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
    },
    /// List hotlines.
    List,
}

/// `lantern partners …`
#[derive(Debug, Subcommand)]
pub enum PartnersCmd {
    /// Add a partner organisation to a hotline.
    Add {
        /// The hotline's slug.
        #[arg(long)]
        hotline: String,
        /// The organisation's name.
        #[arg(long)]
        name: String,
    },
}

/// `lantern users …`
#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    /// Add a user; the password is read from the first line of standard input.
    Add {
        /// The hotline's slug.
        #[arg(long)]
        hotline: String,
        /// Login name.
        #[arg(long)]
        username: String,
        /// advocate, supervisor, analyst, directory_manager, admin or partner.
        #[arg(long)]
        role: String,
        /// Full name.
        #[arg(long)]
        full_name: String,
        /// For partners: the partner organisation's name.
        #[arg(long)]
        partner_org: Option<String>,
        /// Phone for on-call alerts.
        #[arg(long)]
        phone: Option<String>,
    },
    /// List a hotline's users.
    List {
        /// The hotline's slug.
        #[arg(long)]
        hotline: String,
    },
    /// Disable a user: no login, no tokens, sessions ended.
    Disable {
        /// Login name.
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled user.
    Enable {
        /// Login name.
        #[arg(long)]
        username: String,
    },
    /// Clear a lockout after failed logins.
    Unlock {
        /// Login name.
        #[arg(long)]
        username: String,
    },
}

/// `lantern tokens …`
#[derive(Debug, Subcommand)]
pub enum TokensCmd {
    /// Create an API token acting as a user; printed once.
    Create {
        /// The user it acts as.
        #[arg(long)]
        username: String,
        /// A label for the token.
        #[arg(long)]
        name: String,
    },
    /// Revoke a token by id.
    Revoke {
        /// The user it belongs to.
        #[arg(long)]
        username: String,
        /// The token's id.
        #[arg(long)]
        id: String,
    },
    /// List a user's tokens.
    List {
        /// The user.
        #[arg(long)]
        username: String,
    },
}

/// `lantern keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Create a new key file (refuses to overwrite one).
    Init,
    /// Add a new data key, make it current, and re-encrypt every encrypted value with it. Restart
    /// running servers afterwards so they load the new key.
    Rotate,
}

/// `lantern audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Walk the whole chain; exit 0 when intact, 1 naming the first altered or missing event.
    Verify,
}

pub(crate) async fn store(g: &Global) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    open_store(&settings(g)?, false).await
}

pub(crate) async fn hotline_id(store: &dyn Store, slug: &str) -> anyhow::Result<String> {
    Ok(store
        .hotline_by_slug(slug)
        .await?
        .ok_or_else(|| {
            crate::common::bad_input(format!(
                "--hotline: no hotline with slug `{slug}` (see `lantern hotlines list`)"
            ))
        })?
        .id)
}

async fn user_by_name(store: &dyn Store, username: &str) -> anyhow::Result<lantern_store::User> {
    Ok(store
        .user_for_login(&username.to_lowercase())
        .await?
        .ok_or_else(|| crate::common::bad_input(format!("no user `{username}`")))?
        .0)
}

fn problem(e: lantern_server::error::AppError) -> anyhow::Error {
    let p = e.problem();
    let message = if p.errors.is_empty() {
        p.detail
    } else {
        p.errors
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("\n")
    };
    // A refusal of what the operator typed (4xx) is bad input: exit 2, nothing changed.
    if p.status.is_client_error() {
        crate::common::bad_input(message)
    } else {
        anyhow!("{message}")
    }
}

/// `lantern migrate`.
pub async fn migrate(g: &Global) -> anyhow::Result<ExitCode> {
    let s = settings(g)?;
    open_store(&s, true).await?;
    println!("database {} is up to date", s.database);
    Ok(ExitCode::SUCCESS)
}

/// `lantern hotlines …`.
pub async fn hotlines(g: &Global, c: HotlinesCmd) -> anyhow::Result<ExitCode> {
    let s = settings(g)?;
    let store = open_store(&s, true).await?;
    match c {
        HotlinesCmd::Add { slug, name } => {
            if slug.is_empty()
                || !slug
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                bail!("--slug: use lowercase letters, digits and '-'");
            }
            let h = store
                .create_hotline(&AuditCtx::cli(None), &NewHotline { slug, name })
                .await?;
            println!("{}\t{}\t{}", h.id, h.slug, h.name);
        }
        HotlinesCmd::List => {
            for h in store.list_hotlines().await? {
                println!("{}\t{}\t{}", h.id, h.slug, h.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `lantern partners …`.
pub async fn partners(g: &Global, c: PartnersCmd) -> anyhow::Result<ExitCode> {
    let store = store(g).await?;
    let PartnersCmd::Add { hotline, name } = c;
    let h = hotline_id(&*store, &hotline).await?;
    let org = store
        .create_partner_org(&AuditCtx::cli(Some(h.clone())), &h, name.trim())
        .await?;
    println!("{}\t{}", org.id, org.name);
    Ok(ExitCode::SUCCESS)
}

/// `lantern users …`.
pub async fn users(g: &Global, c: UsersCmd) -> anyhow::Result<ExitCode> {
    let store = store(g).await?;
    match c {
        UsersCmd::Add {
            hotline,
            username,
            role,
            full_name,
            partner_org,
            phone,
        } => {
            let h = hotline_id(&*store, &hotline).await?;
            let partner_org_id = match partner_org {
                None => None,
                Some(name) => Some(
                    store
                        .list_partner_orgs(&h)
                        .await?
                        .into_iter()
                        .find(|o| o.name == name)
                        .ok_or_else(|| {
                            anyhow!(
                                "--partner-org: no organisation `{name}` in hotline `{hotline}`"
                            )
                        })?
                        .id,
                ),
            };
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let input = NewUserInput {
                username,
                full_name,
                role,
                partner_org_id,
                phone,
                password,
            };
            let u = accounts::create_user(&*store, &AuditCtx::cli(Some(h.clone())), &h, input)
                .await
                .map_err(problem)?;
            println!("added {} ({})", u.username, u.role);
        }
        UsersCmd::List { hotline } => {
            let h = hotline_id(&*store, &hotline).await?;
            for u in store
                .list_users(&AuditCtx::cli(Some(h.clone())), &h)
                .await?
            {
                let status = if u.disabled {
                    "disabled"
                } else if u.can_authenticate(accounts::now_us()) {
                    "active"
                } else {
                    "locked"
                };
                println!("{}\t{}\t{}\t{}", u.username, u.role, status, u.full_name);
            }
        }
        UsersCmd::Disable { username }
        | UsersCmd::Enable { username }
        | UsersCmd::Unlock { username }
            if username.is_empty() =>
        {
            bail!("--username is empty")
        }
        cmd @ (UsersCmd::Disable { .. } | UsersCmd::Enable { .. } | UsersCmd::Unlock { .. }) => {
            let (username, change, verb) = match cmd {
                UsersCmd::Disable { username } => (
                    username,
                    UserChange {
                        disabled: Some(true),
                        ..Default::default()
                    },
                    "disabled",
                ),
                UsersCmd::Enable { username } => (
                    username,
                    UserChange {
                        disabled: Some(false),
                        ..Default::default()
                    },
                    "enabled",
                ),
                UsersCmd::Unlock { username } => (
                    username,
                    UserChange {
                        unlock: true,
                        ..Default::default()
                    },
                    "unlocked",
                ),
                _ => unreachable!("matched above"),
            };
            let u = user_by_name(&*store, &username).await?;
            store
                .update_user(
                    &AuditCtx::cli(Some(u.hotline_id.clone())),
                    &u.hotline_id,
                    &u.id,
                    &change,
                )
                .await?;
            println!("{verb} {}", u.username);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `lantern tokens …`.
pub async fn tokens(g: &Global, c: TokensCmd) -> anyhow::Result<ExitCode> {
    let store = store(g).await?;
    match c {
        TokensCmd::Create { username, name } => {
            let u = user_by_name(&*store, &username).await?;
            let (secret, t) = accounts::create_token(
                &*store,
                &AuditCtx::cli(Some(u.hotline_id.clone())),
                &u.hotline_id,
                &u.id,
                &name,
            )
            .await
            .map_err(problem)?;
            eprintln!(
                "token {} for {} — shown once; Lantern keeps only its hash:",
                t.id, u.username
            );
            println!("{secret}");
        }
        TokensCmd::Revoke { username, id } => {
            let u = user_by_name(&*store, &username).await?;
            store
                .revoke_token(
                    &AuditCtx::cli(Some(u.hotline_id.clone())),
                    &u.hotline_id,
                    &id,
                )
                .await?;
            println!("revoked {id}");
        }
        TokensCmd::List { username } => {
            let u = user_by_name(&*store, &username).await?;
            for t in store.list_tokens(&u.hotline_id, &u.id).await? {
                let status = if t.revoked_at_us.is_some() {
                    "revoked"
                } else {
                    "live"
                };
                println!("{}\t{}\t{}…\t{}", t.id, t.name, t.prefix, status);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `lantern keys …`.
pub async fn keys_cmd(g: &Global, c: KeysCmd) -> anyhow::Result<ExitCode> {
    let s = settings(g)?;
    match c {
        KeysCmd::Init => {
            if s.key_file.exists() {
                bail!(
                    "{} already exists; it is never overwritten",
                    s.key_file.display()
                );
            }
            lantern_store::Keyring::generate().save(&s.key_file)?;
            println!("created {}", s.key_file.display());
        }
        KeysCmd::Rotate => {
            if std::env::var_os("LANTERN_KEYS").is_some() {
                bail!("keys come from LANTERN_KEYS: rotate needs a key file it can rewrite");
            }
            let old = keys(&s, false)?;
            let mut new = old.clone();
            let id = new.rotate();
            // Save first: if re-encryption stops half-way, the file still holds every key needed.
            new.save(&s.key_file)?;
            let store = lantern_store::open(
                &s.database,
                new.clone(),
                &lantern_store::OpenOptions::default(),
            )
            .await?;
            let n = store.reencrypt_all(&AuditCtx::cli(None), &new).await?;
            println!(
                "data key {id} is now current; re-encrypted {n} values. Restart running servers."
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `lantern audit verify`.
pub async fn audit(g: &Global, c: AuditCmd) -> anyhow::Result<ExitCode> {
    let AuditCmd::Verify = c;
    let store = store(g).await?;
    let v = store.verify_audit().await?;
    println!("{v}");
    Ok(match v {
        Verification::Intact { .. } => ExitCode::SUCCESS,
        Verification::Broken { .. } => ExitCode::from(1),
    })
}

/// `lantern backup PATH`.
pub async fn backup(g: &Global, path: &Path) -> anyhow::Result<ExitCode> {
    let store = store(g).await?;
    store.backup(&AuditCtx::cli(None), path).await?;
    println!("wrote {}; keep the key file separately", path.display());
    Ok(ExitCode::SUCCESS)
}
