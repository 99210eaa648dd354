//! Each hotline's dashboard figures ([`lantern_insights::cube`]), read from the store's rollups and kept
//! current without ever making a question wait on the database for more than a moment.
//!
//! Every write keeps the store's rollup cells current, moves the hotline's rollup version and stamps the
//! cells it changed with it, in its own transaction. A question costs one primary-key read of the
//! version: when the figures held are at it, they answer. When a write moved it, whichever server made
//! the write, a refresh in the background reads only the cells moved since the figures' version
//! ([`lantern_store::RollupStore::rollup_changes`], usually a handful) and applies them; the question
//! waits for it at most [`DashboardCache::FRESH_WAIT`], then is answered from the figures held, which say
//! the version they are at. Only a rebuild, a bulk load, or more than [`CHANGES_LIMIT`] changed cells
//! make the refresh read every cell again, still in the background. The server reads every hotline's
//! figures as it starts (`crate::serve`); a question asked before that read is done waits for it, since
//! there is nothing to serve before it.
//!
//! Only counts are held here, never a record.

use anyhow::Context as _;
use lantern_insights::cube::{Cube, DIMS, Dim, Figures, Metric};
use lantern_store::rollups::{
    METRIC_CASE_NEEDS, METRIC_CASE_TYPOLOGIES, METRIC_CASES, METRIC_CONTACTS,
    METRIC_POTENTIAL_VICTIMS, METRIC_REFERRALS, METRIC_SUBSTANTIVE,
};
use lantern_store::{CellKey, RollupChanges, RollupFilter, Store};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// The store's rollup metrics (`lantern_store::rollups`) and the dimensions each is keyed by. The gap
/// analysis's needs are held with them (not counted per month, so no dashboard question reads them).
pub const SCHEMA: &[Metric] = {
    use Dim::*;
    const CASE: &[Dim] = &[Month, State, Form, Typology, CaseStatus];
    &[
        Metric {
            name: METRIC_CONTACTS,
            dims: &[Month, State, Channel, SignalerType, Outcome],
        },
        Metric {
            name: METRIC_SUBSTANTIVE,
            dims: &[Month, State, Channel, SignalerType, Outcome],
        },
        Metric {
            name: METRIC_CASES,
            dims: CASE,
        },
        Metric {
            name: METRIC_CASE_TYPOLOGIES,
            dims: CASE,
        },
        Metric {
            name: METRIC_POTENTIAL_VICTIMS,
            dims: CASE,
        },
        Metric {
            name: METRIC_REFERRALS,
            dims: &[Month, State, Form, ReferralStatus],
        },
        Metric {
            name: METRIC_CASE_NEEDS,
            dims: &[State, County, Service, Population, Form],
        },
    ]
};

/// The schema's metric of a name.
pub fn metric(name: &str) -> Option<&'static Metric> {
    SCHEMA.iter().find(|m| m.name == name)
}

/// More changed cells than this are read whole instead (a bulk import, say).
pub const CHANGES_LIMIT: usize = 20_000;

/// Changes past this many cells are folded into a new base cube (in memory, off the request path), so
/// that answering them stays a small part of a question.
const COMPACT_AT: usize = 8_192;

/// A cell's values in the cube's dimension order.
fn values(k: &CellKey) -> [&str; DIMS] {
    [
        &k.month,
        &k.state,
        &k.form,
        &k.typology,
        &k.channel,
        &k.signaler_type,
        &k.outcome,
        &k.referral_status,
        &k.case_status,
        &k.county,
        &k.service,
        &k.population,
    ]
}

/// Figures answered with, and the hotline's rollup version when the question was asked: the figures
/// are behind it when a refresh has not caught up yet.
#[derive(Debug, Clone)]
pub struct Served {
    /// The figures.
    pub figures: Arc<Figures>,
    /// The hotline's rollup version read for this question.
    pub latest: i64,
}

impl Served {
    /// Whether the figures are behind the latest version.
    pub fn stale(&self) -> bool {
        self.figures.version() < self.latest
    }
}

/// Each hotline's figures, kept current as above.
#[derive(Debug)]
pub struct DashboardCache {
    hotlines: Mutex<HashMap<String, Arc<Slot>>>,
    fresh_wait: Duration,
}

impl Default for DashboardCache {
    fn default() -> Self {
        DashboardCache::new(DashboardCache::FRESH_WAIT)
    }
}

/// One hotline's figures and its refresh.
#[derive(Debug)]
struct Slot {
    published: watch::Sender<Option<Arc<Figures>>>,
    /// Whether a background refresh is running (or about to).
    refreshing: AtomicBool,
    /// One read from the store at a time.
    reading: tokio::sync::Mutex<()>,
}

impl DashboardCache {
    /// How long a question after a write waits for the figures to catch up before it is answered from
    /// the ones held: a refresh of a few changed cells takes about a millisecond.
    pub const FRESH_WAIT: Duration = Duration::from_millis(5);

    /// A cache whose questions wait at most `fresh_wait` for a refresh.
    pub fn new(fresh_wait: Duration) -> DashboardCache {
        DashboardCache {
            hotlines: Mutex::default(),
            fresh_wait,
        }
    }

    fn slot(&self, hotline_id: &str) -> Arc<Slot> {
        let mut map = self.hotlines.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(hotline_id.to_owned())
            .or_insert_with(|| {
                Arc::new(Slot {
                    published: watch::Sender::new(None),
                    refreshing: AtomicBool::new(false),
                    reading: tokio::sync::Mutex::new(()),
                })
            })
            .clone()
    }

    /// The version of the figures held for a hotline, without asking the store (`None`: none held yet).
    pub fn held_version(&self, hotline_id: &str) -> Option<i64> {
        let map = self.hotlines.lock().unwrap_or_else(|e| e.into_inner());
        let slot = map.get(hotline_id)?;
        let held = slot.published.borrow();
        held.as_ref().map(|f| f.version())
    }

    /// The hotline's figures for a question: current ones when they are held or a refresh brings them
    /// within the wait, else the ones held (see [`Served::stale`]).
    pub async fn figures(
        &self,
        store: &Arc<dyn Store>,
        hotline_id: &str,
    ) -> anyhow::Result<Served> {
        let slot = self.slot(hotline_id);
        let latest = store
            .rollup_version(hotline_id)
            .await
            .context("reading the rollup version")?;
        let held = slot.published.borrow().clone();
        let Some(held) = held else {
            // Nothing to serve yet: the first question waits for the figures to be read.
            let figures = slot.refresh(&**store, hotline_id).await?;
            return Ok(Served { figures, latest });
        };
        if held.version() >= latest {
            return Ok(Served {
                figures: held,
                latest,
            });
        }
        slot.kick(store.clone(), hotline_id.to_owned());
        let mut rx = slot.published.subscribe();
        let caught_up = rx.wait_for(|f| f.as_ref().is_some_and(|f| f.version() >= latest));
        // Waited long enough or not, the newest figures held answer.
        let _ = tokio::time::timeout(self.fresh_wait, caught_up).await;
        let figures = slot.published.borrow().clone().unwrap_or(held);
        Ok(Served { figures, latest })
    }
}

impl Slot {
    /// Starts a background refresh unless one is running; it goes on while the version moves.
    fn kick(self: &Arc<Self>, store: Arc<dyn Store>, hotline_id: String) {
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let slot = self.clone();
        tokio::spawn(async move {
            loop {
                let done = slot.refresh(&*store, &hotline_id).await;
                slot.refreshing.store(false, Ordering::Release);
                let held = match done {
                    Ok(f) => f.version(),
                    Err(e) => {
                        tracing::warn!(hotline.id = %hotline_id, error = format!("{e:#}"), "dashboard figures not refreshed");
                        return;
                    }
                };
                // A question that saw a newer version while this ran left the refresh to this task.
                match store.rollup_version(&hotline_id).await {
                    Ok(v) if v > held && !slot.refreshing.swap(true, Ordering::AcqRel) => {}
                    _ => return,
                }
            }
        });
    }

    /// Brings the figures to the store's latest version (reading only the changed cells when it can)
    /// and publishes them.
    async fn refresh(&self, store: &dyn Store, hotline_id: &str) -> anyhow::Result<Arc<Figures>> {
        let _one_at_a_time = self.reading.lock().await;
        let held = self.published.borrow().clone();
        let next = match held {
            None => read_all(store, hotline_id).await?,
            Some(f) => match store
                .rollup_changes(hotline_id, f.version(), CHANGES_LIMIT)
                .await
                .context("reading the changed rollup cells")?
            {
                RollupChanges::Cells { version, .. } if version == f.version() => return Ok(f),
                RollupChanges::Cells { version, cells } => {
                    let updated = f
                        .updated(
                            version,
                            cells
                                .iter()
                                .map(|c| (c.key.metric.as_str(), values(&c.key), c.count)),
                        )
                        .context("applying the changed rollup cells")?;
                    if updated.pending() > COMPACT_AT {
                        blocking(move || updated.compacted()).await?
                    } else {
                        updated
                    }
                }
                RollupChanges::ReadAll => read_all(store, hotline_id).await?,
            },
        };
        let next = Arc::new(next);
        self.published.send_replace(Some(next.clone()));
        Ok(next)
    }
}

/// Runs CPU-bound work on the blocking pool, off the threads that answer requests.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .context("building the dashboard figures")
}

/// Reads every cell of the hotline, one metric at a time. The version is read before the cells: cells
/// newer than it are read again by the next refresh, which changes nothing (counts are absolute).
async fn read_all(store: &dyn Store, hotline_id: &str) -> anyhow::Result<Figures> {
    let version = store
        .rollup_version(hotline_id)
        .await
        .context("reading the rollup version")?;
    let mut cube = Cube::new(SCHEMA);
    for m in SCHEMA {
        let filter = RollupFilter {
            metric: Some(m.name.to_owned()),
            ..RollupFilter::default()
        };
        let cells = store
            .rollups(hotline_id, &filter)
            .await
            .context("reading the rollup cells")?;
        cube = blocking(move || {
            cube.add_metric(m.name, cells.iter().map(|c| (values(&c.key), c.count)))
                .map(|()| cube)
        })
        .await??;
    }
    Ok(Figures::new(cube, version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lantern_insights::cube::Question;
    use lantern_store::audit::AuditCtx;
    use lantern_store::crypto::Keyring;
    use lantern_store::{NewContact, NewHotline, OpenOptions};

    async fn store() -> (tempfile::TempDir, Arc<dyn Store>, String) {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("t.db").display().to_string();
        let store = lantern_store::open(&url, Keyring::generate(), &OpenOptions::default())
            .await
            .unwrap();
        let h = store
            .create_hotline(
                &AuditCtx::system(None),
                &NewHotline {
                    slug: "test".into(),
                    name: "Test".into(),
                },
            )
            .await
            .unwrap();
        (dir, store, h.id)
    }

    async fn contact(store: &Arc<dyn Store>, hotline_id: &str) {
        store
            .create_contact(
                &AuditCtx::system(None),
                &NewContact {
                    hotline_id: hotline_id.to_owned(),
                    channel: "sms".into(),
                    location_precision: "state".into(),
                    state: Some("TX".into()),
                    occurred_at_us: 1_740_787_200_000_000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }

    fn contacts(s: &Served) -> i64 {
        s.figures
            .answer(&Question::default())
            .total(METRIC_CONTACTS)
    }

    #[tokio::test]
    async fn a_question_while_the_figures_are_read_is_answered_from_the_previous_ones_and_they_catch_up()
     {
        let (_dir, store, h) = store().await;
        contact(&store, &h).await;
        let cache = DashboardCache::default();
        let first = cache.figures(&store, &h).await.unwrap();
        assert_eq!((contacts(&first), first.stale()), (1, false));

        // A read of the store stands still (as a whole read of a million cells would): a question after a
        // write does not wait for it.
        let slot = cache.slot(&h);
        let reading = slot.reading.lock().await;
        contact(&store, &h).await;
        let during = tokio::time::timeout(Duration::from_secs(1), cache.figures(&store, &h))
            .await
            .expect("answered without waiting for the read")
            .unwrap();
        assert!(during.stale());
        assert_eq!(contacts(&during), 1);
        assert_eq!(during.figures.version(), first.figures.version());
        drop(reading);

        // Once the read can go on, the figures catch up by themselves.
        let mut rx = slot.published.subscribe();
        tokio::time::timeout(
            Duration::from_secs(10),
            rx.wait_for(|f| f.as_ref().is_some_and(|f| f.version() >= during.latest)),
        )
        .await
        .expect("caught up")
        .unwrap();
        let after = cache.figures(&store, &h).await.unwrap();
        assert_eq!((contacts(&after), after.stale()), (2, false));
    }

    #[tokio::test]
    async fn figures_followed_write_by_write_equal_figures_read_whole() {
        let (_dir, store, h) = store().await;
        let cache = DashboardCache::new(Duration::from_secs(10));
        for n in 1..=5 {
            contact(&store, &h).await;
            let followed = cache.figures(&store, &h).await.unwrap();
            assert!(!followed.stale());
            let whole = read_all(&*store, &h).await.unwrap();
            for group_by in [None, Some(Dim::State), Some(Dim::Month), Some(Dim::Channel)] {
                let q = Question {
                    group_by,
                    ..Question::default()
                };
                assert_eq!(followed.figures.answer(&q), whole.answer(&q));
            }
            assert_eq!(contacts(&followed), n);
            assert!(
                n == 1 || followed.figures.pending() > 0,
                "followed, not read whole"
            );
        }
    }
}
