//! Integration tests of lantern-directory, one module per feature.

mod fixture;
mod projection;
mod search;
