//! The HSDS 3.1 objects, one struct per table with HSDS's own field names, plus [`Directory`], the whole
//! normalised set of tables. Unknown fields are kept in `extra`; Lantern's own data lives apart in
//! [`crate::ext::LanternExt`] under the key `x_lantern`.

use crate::ext::LanternExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Behaviour shared by every HSDS record.
pub trait Record: Serialize + serde::de::DeserializeOwned + Clone {
    /// The HSDS table name (`service_at_location`).
    const TABLE: &'static str;
    /// The record's identifier.
    fn id(&self) -> &str;
    /// Lantern's extension, if any.
    fn lantern(&self) -> Option<&LanternExt>;
}

macro_rules! record {
    ($(#[$m:meta])* $name:ident, $table:literal { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        pub struct $name {
            /// The identifier (a UUID string).
            pub id: String,
            $(
                #[doc = concat!("HSDS field `", stringify!($field), "`.")]
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            /// Lantern's extension (vetting, visibility, time zone), apart from HSDS's fields.
            #[serde(default, rename = "x_lantern", skip_serializing_if = "Option::is_none")]
            pub lantern: Option<LanternExt>,
            /// Fields this version does not know, kept as they came for export.
            #[serde(flatten)]
            pub extra: Map<String, Value>,
        }

        impl Record for $name {
            const TABLE: &'static str = $table;
            fn id(&self) -> &str { &self.id }
            fn lantern(&self) -> Option<&LanternExt> { self.lantern.as_ref() }
        }
    };
}

record!(
    /// An organisation that provides services.
    Organization, "organization" {
    name: String, alternate_name: String, description: String, email: String, website: String,
    tax_status: String, tax_id: String, year_incorporated: f64, legal_status: String, logo: String,
    uri: String, parent_organization_id: String,
});
record!(
    /// A service an organisation provides.
    Service, "service" {
    organization_id: String, program_id: String, name: String, alternate_name: String, description: String,
    url: String, email: String, status: String, interpretation_services: String, application_process: String,
    fees_description: String, wait_time: String, fees: String, accreditations: String,
    eligibility_description: String, minimum_age: f64, maximum_age: f64, assured_date: String,
    assurer_email: String, licenses: String, alert: String, last_modified: String,
});
record!(
    /// A place where services are delivered (physical, postal or virtual).
    Location, "location" {
    location_type: String, url: String, organization_id: String, name: String, alternate_name: String,
    description: String, transportation: String, latitude: f64, longitude: f64,
    external_identifier: String, external_identifier_type: String,
});
record!(
    /// A service delivered at a location.
    ServiceAtLocation, "service_at_location" {
    service_id: String, location_id: String, description: String,
});
record!(
    /// A postal or physical address of a location.
    Address, "address" {
    location_id: String, attention: String, address_1: String, address_2: String, city: String,
    region: String, state_province: String, postal_code: String, country: String, address_type: String,
});
record!(
    /// A telephone number.
    Phone, "phone" {
    location_id: String, service_id: String, organization_id: String, contact_id: String,
    service_at_location_id: String, number: String, extension: f64, r#type: String, description: String,
});
record!(
    /// When a service or location is open (RFC 5545-like fields).
    Schedule, "schedule" {
    service_id: String, location_id: String, service_at_location_id: String, valid_from: String,
    valid_to: String, dtstart: String, timezone: f64, until: String, count: f64, wkst: String,
    freq: String, interval: f64, byday: String, byweekno: String, bymonthday: String, byyearday: String,
    description: String, opens_at: String, closes_at: String, schedule_link: String,
    attending_type: String, notes: String,
});
record!(
    /// A language spoken at a service, location or phone.
    Language, "language" {
    service_id: String, location_id: String, phone_id: String, name: String, code: String, note: String,
});
record!(
    /// The area a service covers.
    ServiceArea, "service_area" {
    service_id: String, service_at_location_id: String, name: String, description: String,
    extent: String, extent_type: String, uri: String,
});
record!(
    /// A taxonomy (a vocabulary of terms).
    Taxonomy, "taxonomy" {
    name: String, description: String, uri: String, version: String,
});
record!(
    /// A term of a taxonomy.
    TaxonomyTerm, "taxonomy_term" {
    code: String, name: String, description: String, parent_id: String, taxonomy: String,
    language: String, taxonomy_id: String, term_uri: String,
});
record!(
    /// A link between any record and a taxonomy term.
    Attribute, "attribute" {
    link_id: String, taxonomy_term_id: String, link_type: String, link_entity: String, value: String,
    label: String,
});
record!(
    /// A named contact person.
    Contact, "contact" {
    organization_id: String, service_id: String, service_at_location_id: String, location_id: String,
    name: String, title: String, department: String, email: String,
});
record!(
    /// What a service costs.
    CostOption, "cost_option" {
    service_id: String, valid_from: String, valid_to: String, option: String, currency: String,
    amount: f64, amount_description: String,
});
record!(
    /// A document a service requires.
    RequiredDocument, "required_document" {
    service_id: String, document: String, uri: String,
});
record!(
    /// Accessibility of a location.
    Accessibility, "accessibility" {
    location_id: String, description: String, details: String, url: String,
});
record!(
    /// A source of funding.
    Funding, "funding" {
    organization_id: String, service_id: String, source: String,
});
record!(
    /// An additional URL of an organisation or service.
    Url, "url" {
    label: String, url: String, organization_id: String, service_id: String,
});
record!(
    /// A change record (who changed what when).
    Metadata, "metadata" {
    resource_id: String, resource_type: String, last_action_date: String, last_action_type: String,
    field_name: String, previous_value: String, replacement_value: String, updated_by: String,
});

macro_rules! directory {
    ($($field:ident : $ty:ty),* $(,)?) => {
        /// The whole directory: every HSDS table, keyed by identifier, plus tables Lantern does not model
        /// (programs, organisation identifiers, capacities, units…) kept as they came.
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        pub struct Directory {
            $(
                #[doc = concat!("The `", stringify!($field), "` table.")]
                #[serde(default)]
                pub $field: BTreeMap<String, $ty>,
            )*
            /// Tables not modelled here, by HSDS table name, kept for export.
            #[serde(default)]
            pub other: BTreeMap<String, BTreeMap<String, Map<String, Value>>>,
        }

        impl Directory {
            /// Inserts (or replaces) one flat record of the named HSDS table, given as JSON.
            pub fn insert_value(&mut self, table: &str, row: Map<String, Value>) -> Result<(), serde_json::Error> {
                $(
                    if table == <$ty as Record>::TABLE {
                        let rec: $ty = serde_json::from_value(Value::Object(row))?;
                        self.$field.insert(rec.id.clone(), rec);
                        return Ok(());
                    }
                )*
                let id = row.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
                self.other.entry(table.to_owned()).or_default().insert(id, row);
                Ok(())
            }

            /// Removes one record of the named table; says whether it was there.
            pub fn remove_record(&mut self, table: &str, id: &str) -> bool {
                $(
                    if table == <$ty as Record>::TABLE {
                        return self.$field.remove(id).is_some();
                    }
                )*
                self.other.get_mut(table).is_some_and(|t| t.remove(id).is_some())
            }

            /// Every record of every table as flat JSON, by table name (tables in a stable order).
            pub fn tables(&self) -> BTreeMap<String, Vec<Map<String, Value>>> {
                let mut out: BTreeMap<String, Vec<Map<String, Value>>> = BTreeMap::new();
                $(
                    let rows: Vec<Map<String, Value>> = self.$field.values().map(to_map).collect();
                    if !rows.is_empty() {
                        out.insert(<$ty as Record>::TABLE.to_owned(), rows);
                    }
                )*
                for (t, rows) in &self.other {
                    if !rows.is_empty() {
                        out.insert(t.clone(), rows.values().cloned().collect());
                    }
                }
                out
            }

            /// Keeps only the records `keep` accepts and rewrites each with `map` (used by projections).
            pub(crate) fn filter_map_records(
                &self,
                keep: &dyn Fn(&str, &Map<String, Value>) -> Option<Map<String, Value>>,
            ) -> Directory {
                let mut out = Directory::default();
                for (table, rows) in self.tables() {
                    for row in rows {
                        if let Some(r) = keep(&table, &row) {
                            out.insert_value(&table, r).expect("a record read from a directory reads back");
                        }
                    }
                }
                out
            }
        }
    };
}

directory!(
    organization: Organization, service: Service, location: Location,
    service_at_location: ServiceAtLocation, address: Address, phone: Phone, schedule: Schedule,
    language: Language, service_area: ServiceArea, taxonomy: Taxonomy, taxonomy_term: TaxonomyTerm,
    attribute: Attribute, contact: Contact, cost_option: CostOption, required_document: RequiredDocument,
    accessibility: Accessibility, funding: Funding, url: Url, metadata: Metadata,
);

/// A record as a flat JSON object.
pub fn to_map<T: Serialize>(rec: &T) -> Map<String, Value> {
    match serde_json::to_value(rec) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}
