//! What every handler shares.

use crate::config::Settings;
use crate::metrics::Metrics;
use lantern_store::Store;
use std::sync::Arc;

/// The application's shared state: cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The repository.
    pub store: Arc<dyn Store>,
    /// Settings, fixed at start.
    pub settings: Arc<Settings>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// State over a store with settings.
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        AppState {
            store,
            settings: Arc::new(settings),
            metrics: Arc::new(Metrics::new()),
        }
    }
}
