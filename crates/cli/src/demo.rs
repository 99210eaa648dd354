//! `lantern demo`: a demo hotline with one user per role, served on 127.0.0.1.

use crate::common::{self, Global};
use anyhow::Context;
use lantern_domain::account::Role;
use lantern_server::accounts::{self, NewUserInput};
use lantern_store::{AuditCtx, NewHotline, Store};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `lantern demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where the demo database and key file live (created if missing, reused otherwise).
    #[arg(long, default_value = "lantern-demo")]
    dir: PathBuf,
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: std::net::SocketAddr,
    /// How much synthetic hotline data to load into a new demo (1 = three years of a national hotline,
    /// about 35,000 cases and 150,000 contacts; 0 loads none).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// The seed of the synthetic data.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

/// The demo's accounts: (username, role, full name, password).
const ACCOUNTS: &[(&str, Role, &str, &str)] = &[
    (
        "advocate",
        Role::Advocate,
        "Alex Rivera",
        "advocate-demo-pass",
    ),
    (
        "supervisor",
        Role::Supervisor,
        "Sam Okafor",
        "supervisor-demo-pass",
    ),
    (
        "analyst",
        Role::Analyst,
        "Dana Whitfield",
        "analyst-demo-pass",
    ),
    (
        "directory",
        Role::DirectoryManager,
        "Jordan Lee",
        "directory-demo-pass",
    ),
    ("admin", Role::Admin, "Morgan Price", "admin-demo-pass"),
    (
        "partner",
        Role::Partner,
        "Casey Nguyen",
        "partner-demo-pass",
    ),
];

const PARTNER_ORG: &str = "Casa Segura Shelter";

/// Creates what is missing of the demo hotline and its users; returns the hotline id.
pub async fn ensure_demo(store: &dyn Store) -> anyhow::Result<String> {
    let ctx = AuditCtx::system(None);
    let hotline = match store.hotline_by_slug("demo").await? {
        Some(h) => h,
        None => {
            store
                .create_hotline(
                    &ctx,
                    &NewHotline {
                        slug: "demo".into(),
                        name: "Lantern Demo Hotline".into(),
                    },
                )
                .await?
        }
    };
    let ctx = ctx.in_hotline(&hotline.id);
    let orgs = store.list_partner_orgs(&hotline.id).await?;
    let org = match orgs.into_iter().find(|o| o.name == PARTNER_ORG) {
        Some(o) => o,
        None => {
            store
                .create_partner_org(&ctx, &hotline.id, PARTNER_ORG)
                .await?
        }
    };
    for (username, role, full_name, password) in ACCOUNTS {
        if store.user_for_login(username).await?.is_some() {
            continue;
        }
        let input = NewUserInput {
            username: (*username).into(),
            full_name: (*full_name).into(),
            role: role.code().into(),
            partner_org_id: (*role == Role::Partner).then(|| org.id.clone()),
            phone: None,
            password: (*password).into(),
        };
        accounts::create_user(store, &ctx, &hotline.id, input)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.problem().detail))?;
    }
    Ok(hotline.id)
}

/// `lantern demo`.
pub async fn run(g: &Global, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let mut s = common::settings(g)?;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    if g.database.is_none() {
        s.database = args.dir.join("lantern.db").display().to_string();
    }
    s.key_file = args.dir.join("lantern.keys");
    s.bind = args.bind;
    s.public_url = format!("http://{}", args.bind);
    if std::env::var_os("LANTERN_LOG_FORMAT").is_none() {
        s.log.format = "pretty".into();
    }
    common::init_logging(&s);
    let store = common::open_store(&s, true).await?;
    let hotline_id = ensure_demo(&*store).await?;
    let any = lantern_store::CaseFilter {
        limit: 1,
        ..Default::default()
    };
    let (_, existing) = store
        .list_cases(
            &AuditCtx::system(Some(hotline_id.clone())),
            &hotline_id,
            &any,
        )
        .await?;
    if existing == 0 && args.scale > 0.0 {
        if !(0.0..=100.0).contains(&args.scale) {
            anyhow::bail!("--scale: give a number from 0 to 100");
        }
        crate::demo_data::load(&*store, &hotline_id, args.seed, args.scale).await?;
    }

    println!(
        "Lantern demo — data in {} (delete the folder to start over)",
        args.dir.display()
    );
    println!("Open http://{} and sign in as one of:", args.bind);
    println!("  {:<12} {:<18} password", "username", "role");
    for (username, role, _, password) in ACCOUNTS {
        println!("  {username:<12} {:<18} {password}", role.code());
    }
    println!("Press Ctrl-C to stop.");
    common::run_server(s, store).await
}
