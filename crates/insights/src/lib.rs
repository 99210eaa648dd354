//! Lantern's insights: the release gate (suppression and calibrated noise), statistics cubes, chart
//! and map rendering to SVG, and gap analysis. Pure: no SQL, no HTTP, no I/O.

pub mod cube;
pub mod gap;
pub mod gate;
pub mod geo;
pub mod svg;
