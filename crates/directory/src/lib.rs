//! lantern-directory: the referral directory's pure part. HSDS 3.1 objects with Lantern's extensions
//! ([`model`], [`ext`]), the taxonomy of DOMAIN.md §5 ([`taxonomy`]), a ZIP gazetteer ([`gazetteer`]),
//! opening hours in each location's own time zone ([`schedule`]), an in-memory search index ([`index`]),
//! HSDS JSON and Tabular Data Package import/export ([`io`]) and a demo generator ([`demo`]).
//! No SQL and no HTTP: the store persists a [`model::Directory`], the server calls [`index::SearchIndex`].

pub mod demo;
pub mod ext;
pub mod gazetteer;
pub mod index;
pub mod io;
pub mod model;
pub mod schedule;
pub mod spec;
pub mod supply;
pub mod taxonomy;
