//! Integration tests of lantern-directory, one module per feature.

mod fixture;
mod io;
mod projection;
mod search;
