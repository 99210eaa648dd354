//! Data for the insights benchmark (BENCHMARKS.md, "Insights dashboard").
//!
//! ```text
//! insights_data load DB SCALE SEED OUT_DIR   # cells into DB's hotline `bench`, records to OUT_DIR/*.csv
//!                                            # (the store's key file named by LANTERN_KEY_FILE)
//! insights_data verify SCALE SEED            # the same cells, checked against the store's own writes
//! ```
//!
//! At a million cases the records cannot go through the store's encrypted, audited import in a benchmark's
//! time (about 30 minutes), and the dashboard never reads them: it reads the rollup cells. So `load`
//! computes each synthetic record's cells with the store's own rules (`lantern_store::rollups`), writes
//! their sums into the rollup tables of an existing Lantern database, and writes the same records' coded
//! facts as CSV for DuckDB to turn into Parquet. `verify` proves the shortcut honest at a small scale:
//! it imports the same records through the store's real write path and compares every cell.
//!
//! `load` also gives the hotline the demo directory (a national one, through the store's own
//! `change_directory`), so the gap analysis has a supply side, and writes what it offers as the server
//! counts it today (`offers.csv`: one row per vetted service, place, service type and population, as
//! `lantern_directory::supply::supply_counts` counts them) with the codes' rank order (`codes.csv`,
//! the order the gap analysis breaks ties in).

use lantern_directory::demo::synthetic_case_details;
use lantern_directory::supply::vetted_offers;
use lantern_domain::codes::PartyRole;
use lantern_domain::model;
use lantern_domain::screening;
use lantern_domain::synth::{Generator, SynthItem};
use lantern_store::rollups::{
    CaseFacts, Cells, ContactFacts, METRIC_CASE_NEEDS, VictimFacts, case_bundle_cells,
    contact_cells, is_substantive, merge, month_of,
};
use lantern_store::{
    AuditCtx, DirectoryChange, DirectoryRecord, Keyring, NewCase, NewContact, NewDetermination,
    NewHotline, NewParty, OpenOptions, RollupFilter,
};
use std::io::Write;
use std::time::Instant;

fn us(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1000) as i64
}

/// One synthetic record, as the store would hold its coded columns.
enum Record {
    Case {
        facts: Box<CaseFacts>,
        first: ContactFacts,
        later: Vec<ContactFacts>,
        /// Its coded details as stored (typologies, places, risk factors, needs).
        details_json: String,
        victims: Vec<VictimFacts>,
    },
    Contact(ContactFacts),
}

fn contact_facts(c: &model::Contact, outcome: Option<String>) -> ContactFacts {
    ContactFacts {
        occurred_at_us: us(c.occurred_at),
        state: c.location.state.map(|s| s.code().to_owned()),
        channel: c.channel.code().to_owned(),
        signaler_type: c.signaler_type.map(|v| v.code().to_owned()),
        category: c.category.map(|v| v.code().to_owned()),
        outcome,
    }
}

fn records(seed: u64, scale: f64) -> impl Iterator<Item = Record> {
    let now = us(time::OffsetDateTime::now_utc());
    Generator::new(seed, scale).filter_map(move |item| match item {
        SynthItem::Case(sc) => {
            let (first, later) = sc.contacts.split_first()?;
            let outcome = screening::assess(&sc.answers).outcome.code().to_owned();
            let first = contact_facts(first, Some(outcome));
            let victims: Vec<VictimFacts> = sc
                .parties
                .iter()
                .filter(|p| p.role == PartyRole::PotentialVictim)
                .map(|p| VictimFacts {
                    gender: Some(p.gender.code().to_owned()),
                    age: p.age.map(i64::from),
                    age_band: p.age_band.map(|b| b.code().to_owned()),
                    nationality: p.nationality.as_ref().map(|n| n.as_str().to_owned()),
                })
                .collect();
            // Places as the demo records them: a case known to a city is in a real county of its state.
            let details_json = serde_json::to_string(&synthetic_case_details(&sc.case))
                .expect("case details serialise");
            let state = sc
                .case
                .locations
                .iter()
                .find_map(|l| l.state)
                .map(|s| s.code().to_owned());
            // As the store opens a case with its first contact.
            let facts = CaseFacts::of_stored(
                first.occurred_at_us.min(now),
                sc.case.status.code().to_owned(),
                sc.case.form.code().to_owned(),
                state,
                &details_json,
                &victims,
            );
            Some(Record::Case {
                facts: Box::new(facts),
                first,
                later: later.iter().map(|c| contact_facts(c, None)).collect(),
                details_json,
                victims,
            })
        }
        SynthItem::Contact(c) => Some(Record::Contact(contact_facts(&c, None))),
    })
}

fn cells_of(r: &Record, cells: &mut Cells) {
    match r {
        Record::Case {
            facts,
            first,
            later,
            ..
        } => {
            merge(cells, case_bundle_cells(facts, &[]));
            merge(cells, contact_cells(first));
            for c in later {
                merge(cells, contact_cells(c));
            }
        }
        Record::Contact(c) => merge(cells, contact_cells(c)),
    }
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

struct Csv {
    contacts: std::io::BufWriter<std::fs::File>,
    cases: std::io::BufWriter<std::fs::File>,
    typologies: std::io::BufWriter<std::fs::File>,
    needs: std::io::BufWriter<std::fs::File>,
    victims: std::io::BufWriter<std::fs::File>,
    risks: std::io::BufWriter<std::fs::File>,
    next_case: u64,
}

impl Csv {
    fn create(dir: &std::path::Path) -> std::io::Result<Csv> {
        std::fs::create_dir_all(dir)?;
        let file = |name: &str, header: &str| -> std::io::Result<_> {
            let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join(name))?);
            writeln!(w, "{header}")?;
            Ok(w)
        };
        Ok(Csv {
            contacts: file(
                "contacts.csv",
                "occurred_at_us,month,state,channel,signaler_type,category,outcome,substantive",
            )?,
            cases: file(
                "cases.csv",
                "case_id,opened_at_us,month,state,form,case_status,typology,victims,county",
            )?,
            typologies: file(
                "case_typologies.csv",
                "case_id,month,state,form,case_status,typology",
            )?,
            needs: file("case_needs.csv", "case_id,service")?,
            victims: file("victims.csv", "case_id,gender,age,age_band,nationality")?,
            risks: file("case_risks.csv", "case_id,risk_factor")?,
            next_case: 0,
        })
    }

    fn contact(&mut self, c: &ContactFacts) -> std::io::Result<()> {
        writeln!(
            self.contacts,
            "{},{},{},{},{},{},{},{}",
            c.occurred_at_us,
            month_of(c.occurred_at_us),
            opt(&c.state),
            c.channel,
            opt(&c.signaler_type),
            opt(&c.category),
            opt(&c.outcome),
            is_substantive(c.category.as_deref())
        )
    }

    fn record(&mut self, r: &Record) -> std::io::Result<()> {
        match r {
            Record::Contact(c) => self.contact(c),
            Record::Case {
                facts,
                first,
                later,
                details_json,
                victims,
            } => {
                let id = self.next_case;
                self.next_case += 1;
                let month = month_of(facts.opened_at_us);
                let state = opt(&facts.state);
                let primary = facts.typologies.first().map(String::as_str).unwrap_or("");
                // The county as the store reads it from the places; quoted, since names may hold commas.
                writeln!(
                    self.cases,
                    "{id},{},{month},{state},{},{},{primary},{},\"{}\"",
                    facts.opened_at_us,
                    facts.form,
                    facts.status,
                    victims.len(),
                    opt(&facts.county)
                )?;
                for n in &facts.needs {
                    writeln!(self.needs, "{id},{n}")?;
                }
                for v in victims {
                    writeln!(
                        self.victims,
                        "{id},{},{},{},{}",
                        opt(&v.gender),
                        v.age.map(|a| a.to_string()).unwrap_or_default(),
                        opt(&v.age_band),
                        opt(&v.nationality)
                    )?;
                }
                let details: serde_json::Value = serde_json::from_str(details_json)?;
                for r in details["risk_factors"].as_array().into_iter().flatten() {
                    writeln!(self.risks, "{id},{}", r.as_str().unwrap_or_default())?;
                }
                for t in &facts.typologies {
                    writeln!(
                        self.typologies,
                        "{id},{month},{state},{},{},{t}",
                        facts.form, facts.status
                    )?;
                }
                self.contact(first)?;
                for c in later {
                    self.contact(c)?;
                }
                Ok(())
            }
        }
    }

    fn finish(mut self) -> std::io::Result<()> {
        self.contacts.flush()?;
        self.cases.flush()?;
        self.typologies.flush()?;
        self.needs.flush()?;
        self.victims.flush()?;
        self.risks.flush()
    }
}

async fn load(db: &str, scale: f64, seed: u64, out: &std::path::Path) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut csv = Csv::create(out)?;
    let mut cells = Cells::new();
    let (mut cases, mut contacts) = (0u64, 0u64);
    for r in records(seed, scale) {
        match &r {
            Record::Case { later, .. } => {
                cases += 1;
                contacts += 1 + later.len() as u64;
            }
            Record::Contact(_) => contacts += 1,
        }
        cells_of(&r, &mut cells);
        csv.record(&r)?;
    }
    csv.finish()?;
    eprintln!(
        "generated {cases} cases and {contacts} contacts: {} cells in {:.1} s",
        cells.len(),
        start.elapsed().as_secs_f64()
    );

    use sqlx::Connection as _;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{db}")).await?;
    let hotline: String = sqlx::query_scalar("SELECT id FROM hotlines WHERE slug = 'bench'")
        .fetch_one(&mut conn)
        .await?;
    let mut tx = conn.begin().await?;
    sqlx::query("DELETE FROM rollup_cells WHERE hotline_id = ?")
        .bind(&hotline)
        .execute(&mut *tx)
        .await?;
    for (k, n) in &cells {
        sqlx::query(
            "INSERT INTO rollup_cells (hotline_id, metric, month, state, form, typology, channel, \
             signaler_type, outcome, referral_status, case_status, county, service, population, n) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&hotline)
        .bind(&k.metric)
        .bind(&k.month)
        .bind(&k.state)
        .bind(&k.form)
        .bind(&k.typology)
        .bind(&k.channel)
        .bind(&k.signaler_type)
        .bind(&k.outcome)
        .bind(&k.referral_status)
        .bind(&k.case_status)
        .bind(&k.county)
        .bind(&k.service)
        .bind(&k.population)
        .bind(n)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO rollup_versions (hotline_id, version) VALUES (?, 1) \
         ON CONFLICT (hotline_id) DO UPDATE SET version = rollup_versions.version + 1",
    )
    .bind(&hotline)
    .execute(&mut *tx)
    .await?;
    // The cells were replaced, as by a rebuild: figures held in memory from before are read again.
    sqlx::query("UPDATE rollup_versions SET rebuilt = version WHERE hotline_id = ?")
        .bind(&hotline)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    eprintln!(
        "loaded {} cells into {db} in {:.1} s",
        cells.len(),
        start.elapsed().as_secs_f64()
    );
    drop(conn);
    let needs = cells
        .keys()
        .filter(|k| k.metric == METRIC_CASE_NEEDS)
        .count();
    let offers = install_directory(db, &hotline, out).await?;
    eprintln!(
        "installed the demo directory: {offers} offers in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    println!(
        "{{\"cases\":{cases},\"contacts\":{contacts},\"cells\":{},\"case_needs_cells\":{needs},\"offer_rows\":{offers}}}",
        cells.len()
    );
    Ok(())
}

/// How many services the bench hotline's directory is generated with (about a national hotline's).
const DIRECTORY_SIZE: usize = 4000;

/// Gives the hotline the demo directory through the store's API (replacing any it had), then writes
/// the supply it offers today (UTC, as the server counts it) as read back from the store to
/// `offers.csv`, and the rank order of the codes to `codes.csv`. Returns how many offer rows.
async fn install_directory(
    db: &str,
    hotline_id: &str,
    out: &std::path::Path,
) -> anyhow::Result<usize> {
    use anyhow::Context as _;
    use lantern_domain::codes::{Code, Population, ServiceType, UsState};
    let key_file = std::env::var_os("LANTERN_KEY_FILE")
        .context("LANTERN_KEY_FILE must name the store's key file")?;
    let keys = Keyring::load(std::path::Path::new(&key_file))?;
    let store = lantern_store::open(db, keys, &OpenOptions::default()).await?;
    let mut dir = lantern_directory::demo::generate(1, DIRECTORY_SIZE);
    lantern_directory::taxonomy::install(&mut dir);
    let upserts: Vec<DirectoryRecord> = dir
        .tables()
        .into_iter()
        .flat_map(|(table, rows)| {
            rows.into_iter().map(move |row| DirectoryRecord {
                table: table.clone(),
                id: row
                    .get("id")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                json: serde_json::Value::Object(row).to_string(),
            })
        })
        .collect();
    store
        .change_directory(
            &AuditCtx::system(None),
            hotline_id,
            &DirectoryChange {
                action: "directory.import".into(),
                upserts,
                deletes: Vec::new(),
                replace_all: true,
            },
        )
        .await?;
    // What the server will hold: the directory read back from the store.
    let stored = lantern_store::directory_of(&store.directory_records(hotline_id).await?)?;
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut w = std::io::BufWriter::new(std::fs::File::create(out.join("offers.csv"))?);
    writeln!(w, "service_id,state,county,service,population")?;
    let mut rows = 0;
    // The places, types and populations exactly as `supply_counts` counts them.
    for offer in vetted_offers(&stored, today) {
        let states: std::collections::BTreeSet<UsState> =
            offer.places.iter().map(|p| p.0).collect();
        let counties = offer.places.iter().filter(|p| p.1.is_some()).cloned();
        for (state, county) in states.into_iter().map(|s| (s, None)).chain(counties) {
            for service in &offer.types {
                for population in &offer.populations {
                    writeln!(
                        w,
                        "{},{},{},{},{}",
                        quoted(&offer.service_id),
                        state.code(),
                        quoted(county.as_deref().unwrap_or("")),
                        service.code(),
                        population.code()
                    )?;
                    rows += 1;
                }
            }
        }
    }
    w.flush()?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(out.join("codes.csv"))?);
    writeln!(w, "kind,code,ord")?;
    fn order<T: Code>(w: &mut impl Write, kind: &str) -> std::io::Result<()> {
        for (i, c) in T::all().iter().enumerate() {
            writeln!(w, "{kind},{},{i}", c.code())?;
        }
        Ok(())
    }
    order::<UsState>(&mut w, "state")?;
    order::<ServiceType>(&mut w, "service")?;
    order::<Population>(&mut w, "population")?;
    w.flush()?;
    Ok(rows)
}

fn new_contact(hotline_id: &str, c: &ContactFacts) -> NewContact {
    NewContact {
        hotline_id: hotline_id.to_owned(),
        channel: c.channel.clone(),
        signaler_type: c.signaler_type.clone(),
        category: c.category.clone(),
        state: c.state.clone(),
        location_precision: if c.state.is_some() {
            "state"
        } else {
            "unknown"
        }
        .into(),
        occurred_at_us: c.occurred_at_us,
        determination: c.outcome.as_ref().map(|o| NewDetermination {
            answers_json: "{}".into(),
            outcome: o.clone(),
            rules_version: "bench".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn verify(scale: f64, seed: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = dir.path().join("verify.db").display().to_string();
    let store = lantern_store::open(&url, Keyring::generate(), &OpenOptions::default()).await?;
    let ctx = AuditCtx::system(None);
    let h = store
        .create_hotline(
            &ctx,
            &NewHotline {
                slug: "bench".into(),
                name: "Bench".into(),
            },
        )
        .await?;
    let mut expected = Cells::new();
    let (mut cases, mut contacts) = (0, 0);
    for r in records(seed, scale) {
        cells_of(&r, &mut expected);
        match r {
            Record::Contact(c) => {
                store.create_contact(&ctx, &new_contact(&h.id, &c)).await?;
                contacts += 1;
            }
            Record::Case {
                facts,
                first,
                later,
                details_json,
                victims,
            } => {
                let mut c = new_contact(&h.id, &first);
                c.open_case = Some(NewCase {
                    hotline_id: h.id.clone(),
                    status: facts.status.clone(),
                    form: facts.form.clone(),
                    state: facts.state.clone(),
                    details_json,
                    safety_plan: None,
                    assignee_id: None,
                    // Opened with its first contact, as a live intake would be.
                    opened_at_us: None,
                });
                c.parties = victims
                    .into_iter()
                    .map(|v| NewParty {
                        role: "potential_victim".into(),
                        gender: v.gender,
                        age: v.age,
                        age_band: v.age_band,
                        nationality: v.nationality,
                        ..Default::default()
                    })
                    .collect();
                let made = store.create_contact(&ctx, &c).await?;
                for l in &later {
                    let mut k = new_contact(&h.id, l);
                    k.case_id.clone_from(&made.case_id);
                    store.create_contact(&ctx, &k).await?;
                }
                cases += 1;
                contacts += 1 + later.len();
            }
        }
    }
    let stored = store.rollups(&h.id, &RollupFilter::default()).await?;
    let stored: Cells = stored.into_iter().map(|c| (c.key, c.count)).collect();
    anyhow::ensure!(
        stored == expected,
        "the loader's cells differ from the store's: {} stored, {} computed",
        stored.len(),
        expected.len()
    );
    println!(
        "verified: {cases} cases and {contacts} contacts written through the store give the loader's {} cells",
        expected.len()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, what: &str| -> anyhow::Result<f64> {
        args.get(i)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("argument {}: expected {what}", i + 1))
    };
    match args.first().map(String::as_str) {
        Some("load") if args.len() == 5 => {
            load(
                &args[1],
                num(2, "a scale")?,
                num(3, "a seed")? as u64,
                std::path::Path::new(&args[4]),
            )
            .await
        }
        Some("verify") if args.len() == 3 => {
            verify(num(1, "a scale")?, num(2, "a seed")? as u64).await
        }
        _ => anyhow::bail!(
            "usage: insights_data load DB SCALE SEED OUT_DIR | insights_data verify SCALE SEED"
        ),
    }
}
