//! Record linkage for Lantern: finds the same people, phones, businesses and addresses across
//! records. Fellegi-Sunter matching with u-probabilities by random sampling and m-probabilities by
//! expectation-maximisation, term-frequency adjustments, blocking rules unioned without duplicate
//! pairs, clustering by connected components, per-pair explanations, a CSV front end and an
//! incremental index for intake. No storage and no HTTP.

pub mod block;
pub mod compare;
pub mod config;
pub mod csvio;
pub mod data;
pub mod explain;
pub mod index;
pub mod model;
pub mod pairs;
pub mod run;

pub use config::{BlockingRule, ConfigError, FieldConfig, Kind, LinkConfig};
pub use data::Dataset;
pub use index::{LinkIndex, Match};
pub use model::{Contribution, Linker, Model, Progress, Quiet, ScoredPair, cluster, probability};
