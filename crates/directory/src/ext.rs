//! Lantern's extensions to HSDS, kept in one object (`x_lantern`) apart from HSDS's fields: vetting,
//! per-field visibility, the `redacted` location type and an IANA time zone per location; and the
//! projections that show each viewer only what it may see.

use crate::model::{Directory, Record};
use jiff::civil::Date;
use lantern_domain::codes::Vetting;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Who may see a record or a field. Ordered from the widest audience to the narrowest.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Anyone, including public exports.
    #[default]
    Public,
    /// Partner organisations' users and the hotline's staff.
    Partner,
    /// The hotline's staff only.
    Internal,
}

/// Who is looking: a projection keeps what this viewer may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Viewer {
    /// The public and public exports.
    Public,
    /// A partner organisation's user.
    Partner,
    /// The hotline's own staff.
    Internal,
}

impl Viewer {
    /// Whether this viewer may see something of the given visibility.
    pub fn may_see(self, v: Visibility) -> bool {
        match self {
            Viewer::Public => v == Visibility::Public,
            Viewer::Partner => v != Visibility::Internal,
            Viewer::Internal => true,
        }
    }
}

/// Where a directory entry's vetting stands, with the date, who vetted it and when it is due again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VettingInfo {
    /// `vetted`, `pending` or `lapsed`.
    pub status: Vetting,
    /// When it was last vetted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vetted_on: Option<Date>,
    /// Who vetted it (a user name or id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vetted_by: Option<String>,
    /// When it must be verified again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverify_due: Option<Date>,
}

impl VettingInfo {
    /// Whether the entry counts as vetted on `today` (vetted, and not past its re-verification date).
    pub fn is_vetted_on(&self, today: Date) -> bool {
        self.status == Vetting::Vetted && self.reverify_due.is_none_or(|due| today <= due)
    }
}

/// Lantern's location types beyond HSDS's `physical`/`postal`/`virtual`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LanternLocationType {
    /// A confidential address (a shelter): its addresses and exact coordinates are shown only internally.
    Redacted,
}

/// Lantern's extension object on any HSDS record.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LanternExt {
    /// Vetting of the entry (on services and organisations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vetting: Option<VettingInfo>,
    /// Visibility of the whole record (default public).
    #[serde(default, skip_serializing_if = "is_public")]
    pub visibility: Visibility,
    /// Visibility of single fields, by HSDS field name; fields not listed follow the record.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub field_visibility: BTreeMap<String, Visibility>,
    /// `redacted` for a confidential location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_type: Option<LanternLocationType>,
    /// The location's IANA time zone (`America/Chicago`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

fn is_public(v: &Visibility) -> bool {
    *v == Visibility::Public
}

impl LanternExt {
    /// Whether this is a redacted (confidential) location.
    pub fn is_redacted(&self) -> bool {
        self.location_type == Some(LanternLocationType::Redacted)
    }
}

/// Whether a location record is redacted.
pub fn location_is_redacted<R: Record>(rec: &R) -> bool {
    rec.lantern().is_some_and(LanternExt::is_redacted)
}

fn ext_of(row: &Map<String, Value>) -> Option<LanternExt> {
    row.get("x_lantern")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// The directory as `viewer` may see it: records and fields above the viewer's clearance are dropped;
/// for partners and the public, a redacted location loses its addresses, exact coordinates and anything
/// else linked to it by `location_id` that locates it (addresses, accessibility notes), and Lantern's
/// internal extension fields are removed except vetting.
pub fn project(dir: &Directory, viewer: Viewer) -> Directory {
    let redacted: BTreeSet<String> = dir
        .location
        .values()
        .filter(|l| location_is_redacted(*l))
        .map(|l| l.id.clone())
        .collect();
    let keep = |table: &str, row: &Map<String, Value>| -> Option<Map<String, Value>> {
        let ext = ext_of(row).unwrap_or_default();
        if !viewer.may_see(ext.visibility) {
            return None;
        }
        if viewer != Viewer::Internal {
            let loc = row.get("location_id").and_then(Value::as_str);
            if matches!(table, "address" | "accessibility")
                && loc.is_some_and(|l| redacted.contains(l))
            {
                return None;
            }
        }
        let mut out = row.clone();
        for (field, vis) in &ext.field_visibility {
            if !viewer.may_see(*vis) {
                out.remove(field);
            }
        }
        if viewer != Viewer::Internal {
            if table == "location" && ext.is_redacted() {
                for f in [
                    "latitude",
                    "longitude",
                    "transportation",
                    "external_identifier",
                    "external_identifier_type",
                ] {
                    out.remove(f);
                }
            }
            // Partners and the public see vetting and the time zone, never the visibility rules.
            let shown = LanternExt {
                vetting: ext.vetting.clone(),
                time_zone: ext.time_zone.clone(),
                location_type: ext.location_type,
                ..LanternExt::default()
            };
            if shown == LanternExt::default() {
                out.remove("x_lantern");
            } else {
                out.insert(
                    "x_lantern".into(),
                    serde_json::to_value(shown).unwrap_or(Value::Null),
                );
            }
        }
        Some(out)
    };
    dir.filter_map_records(&keep)
}
