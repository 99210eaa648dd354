//! `lantern demo`: a demo hotline with one user per role, served on 127.0.0.1.

use crate::common::{self, Global};
use anyhow::Context;
use lantern_directory::ext::location_is_redacted;
use lantern_directory::model::Directory;
use lantern_directory::taxonomy;
use lantern_domain::account::Role;
use lantern_domain::codes::{ServiceType, Vetting};
use lantern_server::accounts::{self, NewUserInput};
use lantern_server::directory::{from_records, to_records};
use lantern_store::{AuditCtx, DirectoryChange, NewHotline, PartnerOrg, Store};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

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

/// How many service-at-locations the demo directory has, and the seed it is generated from.
const DIRECTORY_SIZE: usize = 3000;
const DIRECTORY_SEED: u64 = 1;

/// The directory organisation the demo's partner organisation is: the first (by service id) with a
/// legal or immigration-legal service in Texas or California offered in Spanish, preferring a vetted
/// organisation at a public address. Returns (organisation id, organisation name).
pub fn partner_organization(dir: &Directory) -> Option<(String, String)> {
    let classes = taxonomy::classify(dir);
    let mut best: Option<(bool, &str)> = None;
    for s in dir.service.values() {
        let legal = classes.get(&s.id).is_some_and(|(types, _)| {
            types.iter().any(|t| {
                matches!(
                    t,
                    ServiceType::LegalServices | ServiceType::ImmigrationLegal
                )
            })
        });
        let spanish = dir
            .language
            .values()
            .any(|l| l.service_id.as_ref() == Some(&s.id) && l.code.as_deref() == Some("es"));
        let Some(org) = s.organization_id.as_deref() else {
            continue;
        };
        if !legal || !spanish || !dir.organization.contains_key(org) {
            continue;
        }
        let locations: Vec<&str> = dir
            .service_at_location
            .values()
            .filter(|x| x.service_id.as_ref() == Some(&s.id))
            .filter_map(|x| x.location_id.as_deref())
            .collect();
        let in_state = |l: &str| {
            dir.address.values().any(|a| {
                a.location_id.as_deref() == Some(l)
                    && matches!(a.state_province.as_deref(), Some("TX" | "CA"))
            })
        };
        let Some(&loc) = locations.iter().find(|l| in_state(l)) else {
            continue;
        };
        let vetted = dir.organization[org]
            .lantern
            .as_ref()
            .and_then(|x| x.vetting.as_ref())
            .is_some_and(|v| v.status == Vetting::Vetted);
        let public = dir
            .location
            .get(loc)
            .is_some_and(|l| !location_is_redacted(l));
        if vetted && public {
            best = Some((true, org));
            break;
        }
        if best.is_none() {
            best = Some((false, org));
        }
    }
    let (_, org) = best?;
    let name = dir.organization[org]
        .name
        .clone()
        .unwrap_or_else(|| org.to_owned());
    Some((org.to_owned(), name))
}

/// Fills an empty demo directory with the generated national network; returns the directory (as
/// stored, or as generated).
async fn ensure_directory(
    store: &dyn Store,
    ctx: &AuditCtx,
    hotline_id: &str,
    size: usize,
) -> anyhow::Result<Directory> {
    let start = Instant::now();
    let records = store.directory_records(hotline_id).await?;
    if !records.is_empty() {
        let dir = from_records(&records)?;
        tracing::debug!(
            elapsed_ms = start.elapsed().as_millis() as u64,
            "read the demo directory"
        );
        return Ok(dir);
    }
    let dir = tokio::task::spawn_blocking(move || {
        let mut dir = lantern_directory::demo::generate(DIRECTORY_SEED, size);
        taxonomy::install(&mut dir);
        dir
    })
    .await
    .context("generating the demo directory")?;
    let upserts = to_records(&dir);
    let n = upserts.len();
    store
        .change_directory(
            ctx,
            hotline_id,
            &DirectoryChange {
                action: "directory.import".into(),
                upserts,
                deletes: Vec::new(),
                replace_all: false,
            },
        )
        .await?;
    eprintln!(
        "loaded the demo directory: {} services at {} places ({n} HSDS records) in {:.1} s",
        dir.service.len(),
        dir.service_at_location.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(dir)
}

/// The demo's partner organisation, linked to a directory organisation so referrals to its services
/// reach the `partner` user's inbox.
async fn ensure_partner_org(
    store: &dyn Store,
    ctx: &AuditCtx,
    hotline_id: &str,
    dir: &Directory,
) -> anyhow::Result<PartnerOrg> {
    let orgs = store.list_partner_orgs(hotline_id).await?;
    if let Some(o) = orgs.iter().find(|o| o.directory_organization_id.is_some()) {
        return Ok(o.clone());
    }
    let (dir_org, name) = partner_organization(dir).context(
        "the demo directory has no Spanish-speaking legal service in Texas or California to partner with",
    )?;
    let mut org = match orgs.into_iter().find(|o| o.name == name) {
        Some(o) => o,
        None => store.create_partner_org(ctx, hotline_id, &name).await?,
    };
    store
        .link_partner_org(ctx, hotline_id, &org.id, Some(&dir_org))
        .await?;
    org.directory_organization_id = Some(dir_org);
    Ok(org)
}

/// The demo hotline and the partner organisation its `partner` user belongs to.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The hotline's id.
    pub hotline_id: String,
    /// The partner organisation, linked to a directory organisation.
    pub partner_org: PartnerOrg,
    /// Whether the `partner` user belongs to it (not so in a demo made before the directory existed).
    pub partner_linked: bool,
}

/// Creates what is missing of the demo hotline, its directory, its partner organisation and its users.
pub async fn ensure_demo(store: &dyn Store) -> anyhow::Result<Demo> {
    ensure_demo_sized(store, DIRECTORY_SIZE).await
}

/// [`ensure_demo`] with a directory of about `directory_size` service-at-locations.
pub(crate) async fn ensure_demo_sized(
    store: &dyn Store,
    directory_size: usize,
) -> anyhow::Result<Demo> {
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
    let dir = ensure_directory(store, &ctx, &hotline.id, directory_size).await?;
    let org = ensure_partner_org(store, &ctx, &hotline.id, &dir).await?;
    let mut partner_linked = true;
    for (username, role, full_name, password) in ACCOUNTS {
        if let Some((u, _)) = store.user_for_login(username).await? {
            // A demo made by an older version has its partner user in an unlinked organisation.
            if *role == Role::Partner && u.partner_org_id.as_deref() != Some(org.id.as_str()) {
                partner_linked = false;
            }
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
    Ok(Demo {
        hotline_id: hotline.id,
        partner_org: org,
        partner_linked,
    })
}

/// `lantern demo`.
pub async fn run(g: &Global, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let mut s = common::settings(g)?;
    if s.statistics.hotline.is_empty() {
        // The demo publishes its statistics at /statistics.
        s.statistics.hotline = "demo".into();
    }
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
    let demo = ensure_demo(&*store).await?;
    let hotline_id = demo.hotline_id.clone();
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
        let opened = crate::demo_data::load(&*store, &hotline_id, args.seed, args.scale).await?;
        let n =
            crate::demo_data::refer(&*store, &hotline_id, &demo.partner_org, &opened, args.seed)
                .await?;
        tracing::info!(referrals = n, "referred the demo's cases");
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
    if demo.partner_linked {
        println!(
            "The partner user works for {}, a directory organisation: referrals to its services reach their inbox.",
            demo.partner_org.name
        );
    } else {
        println!(
            "The partner user predates the demo directory: delete the folder to start over with one linked to {}.",
            demo.partner_org.name
        );
    }
    println!("Press Ctrl-C to stop.");
    common::run_server(s, store).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use lantern_store::OpenOptions;

    #[test]
    fn the_partner_is_a_spanish_speaking_legal_service_in_texas_or_california_and_always_the_same()
    {
        let dir = lantern_directory::demo::generate(DIRECTORY_SEED, DIRECTORY_SIZE);

        let (org, name) = partner_organization(&dir).expect("one qualifies");

        assert_eq!(
            partner_organization(&dir),
            Some((org.clone(), name.clone()))
        );
        assert_eq!(dir.organization[&org].name.as_deref(), Some(name.as_str()));
        let classes = taxonomy::classify(&dir);
        let qualifying = dir
            .service
            .values()
            .filter(|s| s.organization_id.as_ref() == Some(&org))
            .any(|s| {
                let legal = classes[&s.id].0.iter().any(|t| {
                    matches!(
                        t,
                        ServiceType::LegalServices | ServiceType::ImmigrationLegal
                    )
                });
                let spanish = dir.language.values().any(|l| {
                    l.service_id.as_ref() == Some(&s.id) && l.code.as_deref() == Some("es")
                });
                legal && spanish
            });
        assert!(qualifying, "{name}");
        let states: Vec<&str> = dir
            .address
            .values()
            .filter(|a| {
                a.location_id
                    .as_ref()
                    .and_then(|l| dir.location.get(l))
                    .is_some_and(|l| l.organization_id.as_ref() == Some(&org))
            })
            .filter_map(|a| a.state_province.as_deref())
            .collect();
        assert!(
            states.iter().any(|s| matches!(*s, "TX" | "CA")),
            "{states:?}"
        );
    }

    /// A store in a new temporary folder (kept while the folder guard lives).
    async fn empty_store() -> (tempfile::TempDir, std::sync::Arc<dyn Store>) {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("demo.db").display().to_string();
        let store = lantern_store::open(
            &db,
            lantern_store::Keyring::generate(),
            &OpenOptions::default(),
        )
        .await
        .unwrap();
        (tmp, store)
    }

    #[tokio::test]
    async fn the_demo_directory_is_loaded_once_and_the_partner_user_belongs_to_the_linked_organisation()
     {
        let (_tmp, store) = empty_store().await;

        let demo = ensure_demo_sized(&*store, 300).await.unwrap();
        let version = store.directory_version(&demo.hotline_id).await.unwrap();
        let again = ensure_demo_sized(&*store, 300).await.unwrap();

        assert_eq!(version, 1, "one transaction");
        assert_eq!(
            store.directory_version(&demo.hotline_id).await.unwrap(),
            version,
            "not loaded twice"
        );
        assert_eq!(again.partner_org.id, demo.partner_org.id);
        assert!(demo.partner_linked && again.partner_linked);
        assert_eq!(
            store
                .list_partner_orgs(&demo.hotline_id)
                .await
                .unwrap()
                .len(),
            1
        );
        let dir = from_records(&store.directory_records(&demo.hotline_id).await.unwrap()).unwrap();
        let linked = demo.partner_org.directory_organization_id.clone().unwrap();
        assert_eq!(
            partner_organization(&dir).map(|p| p.0),
            Some(linked.clone())
        );
        assert_eq!(
            dir.organization[&linked].name.as_deref(),
            Some(demo.partner_org.name.as_str())
        );
        let (partner, _) = store.user_for_login("partner").await.unwrap().unwrap();
        assert_eq!(partner.partner_org_id, Some(demo.partner_org.id.clone()));
        assert!(
            dir.taxonomy
                .contains_key(taxonomy::SERVICE_TYPE_TAXONOMY_ID)
        );
    }

    #[tokio::test]
    async fn the_demo_shows_varied_gaps_and_few_shelters_for_men_in_labor_trafficking() {
        use lantern_domain::codes::{CaseForm, Population, ServiceType};
        let (_tmp, store) = empty_store().await;
        let demo = ensure_demo(&*store).await.unwrap();
        let opened = crate::demo_data::load(&*store, &demo.hotline_id, 2026, 0.1)
            .await
            .unwrap();
        let referred =
            crate::demo_data::refer(&*store, &demo.hotline_id, &demo.partner_org, &opened, 2026)
                .await
                .unwrap();
        assert!(referred > 30, "{referred} referrals");
        let filter = lantern_store::ReferralFilter::default();
        let referrals = store
            .list_referrals(&AuditCtx::system(None), &demo.hotline_id, &filter)
            .await
            .unwrap();
        let status = |s: &str| referrals.iter().filter(|r| r.status == s).count();
        assert!(
            status("accepted") > 0 && status("completed") > 0 && status("declined") > 0,
            "outcomes vary"
        );
        assert!(
            referrals.iter().any(|r| r.partner_org_id.as_deref()
                == Some(demo.partner_org.id.as_str())
                && r.status == "sent"),
            "the partner has referrals to answer"
        );

        let labor = lantern_server::pages::gaps::GapFilters {
            form: Some(CaseForm::Labor),
            ..Default::default()
        };
        let day = jiff::civil::date(2026, 12, 1);
        let all =
            lantern_server::pages::gaps::analyse_in_store(&*store, &demo.hotline_id, &labor, day)
                .await
                .unwrap();
        let states = |service, population| {
            all.iter()
                .filter(|g| {
                    g.county.is_none() && g.service == service && g.population == population
                })
                .collect::<Vec<_>>()
        };
        let shelter_men = states(ServiceType::EmergencyShelter, Population::Men);
        let shelter_women = states(ServiceType::EmergencyShelter, Population::Women);
        let bare = shelter_men.iter().filter(|g| g.resources == 0).count();
        let stretched = shelter_men
            .iter()
            .filter(|g| g.cases_per_resource.is_some_and(|r| r > 1.0))
            .count();
        assert!(shelter_men.len() >= 15, "{shelter_men:?}");
        assert!(
            bare >= 5 && stretched >= 3,
            "{bare} bare, {stretched} stretched"
        );
        let resources =
            |gs: &[&lantern_insights::gap::Gap]| gs.iter().map(|g| g.resources).sum::<u64>();
        assert!(
            resources(&shelter_men) * 3 < resources(&shelter_women),
            "men {} women {}",
            resources(&shelter_men),
            resources(&shelter_women)
        );
        // Varied: many services and populations, and counties on both sides.
        let services: std::collections::BTreeSet<_> = all.iter().map(|g| g.service).collect();
        let populations: std::collections::BTreeSet<_> = all.iter().map(|g| g.population).collect();
        assert!(
            services.len() >= 8 && populations.len() >= 6,
            "{services:?} {populations:?}"
        );
        assert!(all.iter().any(|g| g.county.is_some() && g.resources > 0));
    }
}
