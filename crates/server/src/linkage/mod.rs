//! Cross-case linkage inside Lantern: the job that links every party of a hotline
//! ([`job`]), the records it builds ([`records`]), the intake index of possible matches ([`index`])
//! and the network graph drawn as SVG ([`graph`]).

pub mod graph;
pub mod index;
pub mod job;
pub mod records;

pub use index::{IntakeIndexes, PossibleMatch};
