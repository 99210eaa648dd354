//! What every handler shares.

use crate::config::Settings;
use crate::directory::Directories;
use crate::metrics::Metrics;
use crate::sms::SmsLine;
use lantern_store::{Hotline, Store, StoreError, User};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// The application's shared state: cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The repository.
    pub store: Arc<dyn Store>,
    /// Settings, fixed at start.
    pub settings: Arc<Settings>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Recently verified API tokens.
    pub tokens: Arc<TokenCache>,
    /// Each hotline's referral directory in memory.
    pub directories: Arc<Directories>,
    /// The SMS provider replies go through.
    pub sms: SmsLine,
    /// Each hotline's intake index of possible matches.
    pub linkage: Arc<crate::linkage::IntakeIndexes>,
    /// Each hotline's dashboard figures in memory.
    pub dashboard: Arc<crate::dashboard::DashboardCache>,
    /// Each hotline's gaps, ranked from those figures and its directory's supply.
    pub gaps: Arc<crate::pages::gaps::GapCache>,
    /// The web chat of this process.
    pub chat: Arc<crate::chat::ChatService>,
    /// Hotlines found by slug.
    pub hotlines: Arc<HotlineCache>,
}

impl AppState {
    /// State over a store with settings.
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        let sms = SmsLine::from_settings(&settings.sms);
        let chat = Arc::new(crate::chat::ChatService::new(store.clone(), &settings.chat));
        AppState {
            chat,
            store,
            settings: Arc::new(settings),
            metrics: Arc::new(Metrics::new()),
            tokens: Arc::new(TokenCache::default()),
            directories: Arc::new(Directories::default()),
            sms,
            linkage: Arc::new(crate::linkage::IntakeIndexes::default()),
            dashboard: Arc::new(crate::dashboard::DashboardCache::default()),
            gaps: Arc::new(crate::pages::gaps::GapCache::default()),
            hotlines: Arc::new(HotlineCache::default()),
        }
    }

    /// The hotline with this slug, read from the database once (the webhooks ask on every request).
    pub async fn hotline_by_slug(&self, slug: &str) -> Result<Option<Hotline>, StoreError> {
        if let Some(h) = self.hotlines.get(slug) {
            return Ok(Some(h));
        }
        let found = self.store.hotline_by_slug(slug).await?;
        if let Some(h) = &found {
            self.hotlines.put(h.clone());
        }
        Ok(found)
    }
}

/// Hotlines by slug. A hotline is never renamed or removed, so one found stays true for the life of the
/// process; a slug not found is asked again the next time (the hotline may be created meanwhile).
#[derive(Debug, Default)]
pub struct HotlineCache {
    entries: RwLock<HashMap<String, Hotline>>,
}

impl HotlineCache {
    /// The hotline with this slug, if found before.
    pub fn get(&self, slug: &str) -> Option<Hotline> {
        let map = self.entries.read().unwrap_or_else(|e| e.into_inner());
        map.get(slug).cloned()
    }

    /// Remembers a hotline.
    pub fn put(&self, hotline: Hotline) {
        let mut map = self.entries.write().unwrap_or_else(|e| e.into_inner());
        map.insert(hotline.slug.clone(), hotline);
    }
}

/// API tokens verified in the last [`TokenCache::TTL`], so that an integration posting many requests a
/// second does not cost two database reads each. This server forgets every entry whenever a token is
/// revoked or a user is changed through it; a change made elsewhere (the CLI, another server) takes effect
/// here within the TTL.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<Vec<u8>, (User, Instant)>>,
}

impl TokenCache {
    /// How long a verified token is trusted without asking the database again.
    pub const TTL: Duration = Duration::from_secs(2);
    const MAX: usize = 10_000;

    /// The user of a token verified less than [`Self::TTL`] ago.
    pub fn get(&self, hash: &[u8]) -> Option<User> {
        let map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        map.get(hash)
            .filter(|(_, at)| at.elapsed() < Self::TTL)
            .map(|(u, _)| u.clone())
    }

    /// Remembers a verified token.
    pub fn put(&self, hash: Vec<u8>, user: User) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= Self::MAX {
            map.retain(|_, (_, at)| at.elapsed() < Self::TTL);
        }
        map.insert(hash, (user, Instant::now()));
    }

    /// Forgets every token (after a revocation or a change to a user).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
