//! Lantern's domain: the vocabulary and rules of DOMAIN.md as types.
//!
//! Pure: no I/O, no async, no SQL, no HTTP. Every code of DOMAIN.md is an enum whose serde
//! name is exactly the code.

pub mod account;
pub mod case;
pub mod codes;
pub mod identity;
pub mod model;
pub mod population;
pub mod referral;
pub mod screening;
pub mod synth;
pub mod values;
