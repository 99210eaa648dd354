//! The HSDS 3.1 tables and their fields (name, kind, required, allowed values), as the specification's
//! `datapackage.json` lists them, with `required` as the JSON schema files say (the tabular package also
//! requires foreign keys that nested JSON leaves out); a test checks this table against the schema files.

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any string.
    Str,
    /// A UUID string.
    Uuid,
    /// A number.
    Number,
    /// An ISO 8601 date (`YYYY-MM-DD`).
    Date,
    /// An ISO 8601 date-time.
    DateTime,
    /// A time of day (`HH:MM` or `HH:MM:SS`, optionally with an offset).
    Time,
    /// One of the listed values.
    Enum(&'static [&'static str]),
}

/// One field of a table.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The HSDS field name.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// Whether it must be present.
    pub required: bool,
}

/// One HSDS table.
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    /// The table's name (`service_at_location`).
    pub name: &'static str,
    /// Its CSV file name in a Tabular Data Package.
    pub path: &'static str,
    /// Its fields, in the specification's order.
    pub fields: &'static [FieldSpec],
}

/// Every table of HSDS 3.1's Tabular Data Package.
pub const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "organization",
        path: "organizations.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "name",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "alternate_name",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "description",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "email",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "website",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "tax_status",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "tax_id",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "year_incorporated",
                kind: Kind::Number,
                required: false,
            },
            FieldSpec {
                name: "legal_status",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "logo",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "uri",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "parent_organization_id",
                kind: Kind::Uuid,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "program",
        path: "programs.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "organization_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "name",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "alternate_name",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "description",
                kind: Kind::Str,
                required: true,
            },
        ],
    },
    TableSpec {
        name: "service",
        path: "services.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "organization_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "program_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "name",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "alternate_name",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "description",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "url",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "email",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "status",
                kind: Kind::Enum(&["active", "inactive", "defunct", "temporarily closed"]),
                required: true,
            },
            FieldSpec {
                name: "interpretation_services",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "application_process",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "fees_description",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "wait_time",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "fees",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "accreditations",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "eligibility_description",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "minimum_age",
                kind: Kind::Number,
                required: false,
            },
            FieldSpec {
                name: "maximum_age",
                kind: Kind::Number,
                required: false,
            },
            FieldSpec {
                name: "assured_date",
                kind: Kind::Date,
                required: false,
            },
            FieldSpec {
                name: "assurer_email",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "licenses",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "alert",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "last_modified",
                kind: Kind::DateTime,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "attribute",
        path: "attributes.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "link_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "taxonomy_term_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "link_type",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "link_entity",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "value",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "label",
                kind: Kind::Str,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "service_at_location",
        path: "service_at_location.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "service_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "location_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "description",
                kind: Kind::Str,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "location",
        path: "locations.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "location_type",
                kind: Kind::Enum(&["physical", "postal", "virtual"]),
                required: true,
            },
            FieldSpec {
                name: "url",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "organization_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "name",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "alternate_name",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "description",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "transportation",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "latitude",
                kind: Kind::Number,
                required: false,
            },
            FieldSpec {
                name: "longitude",
                kind: Kind::Number,
                required: false,
            },
            FieldSpec {
                name: "external_identifier",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "external_identifier_type",
                kind: Kind::Str,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "phone",
        path: "phones.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "location_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "service_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "organization_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "contact_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "service_at_location_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "number",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "extension",
                kind: Kind::Number,
                required: false,
            },
            FieldSpec {
                name: "type",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "description",
                kind: Kind::Str,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "contact",
        path: "contacts.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "organization_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "service_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "service_at_location_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "location_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "name",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "title",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "department",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "email",
                kind: Kind::Str,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "address",
        path: "addresses.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "location_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "attention",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "address_1",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "address_2",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "city",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "region",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "state_province",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "postal_code",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "country",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "address_type",
                kind: Kind::Enum(&["physical", "postal", "virtual"]),
                required: true,
            },
        ],
    },
    TableSpec {
        name: "schedule",
        path: "schedules.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "service_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "location_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "service_at_location_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "valid_from",
                kind: Kind::Date,
                required: false,
            },
            FieldSpec {
                name: "valid_to",
                kind: Kind::Date,
                required: false,
            },
            FieldSpec {
                name: "dtstart",
                kind: Kind::Date,
                required: false,
            },
            FieldSpec {
                name: "timezone",
                kind: Kind::Number,
                required: false,
            },
            FieldSpec {
                name: "until",
                kind: Kind::Date,
                required: false,
            },
            FieldSpec {
                name: "count",
                kind: Kind::Number,
                required: false,
            },
            FieldSpec {
                name: "wkst",
                kind: Kind::Enum(&["MO", "TU", "WE", "TH", "FR", "SA", "SU"]),
                required: false,
            },
            FieldSpec {
                name: "freq",
                kind: Kind::Enum(&["WEEKLY", "MONTHLY"]),
                required: false,
            },
            FieldSpec {
                name: "interval",
                kind: Kind::Number,
                required: false,
            },
            FieldSpec {
                name: "byday",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "byweekno",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "bymonthday",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "byyearday",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "description",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "opens_at",
                kind: Kind::Time,
                required: false,
            },
            FieldSpec {
                name: "closes_at",
                kind: Kind::Time,
                required: false,
            },
            FieldSpec {
                name: "schedule_link",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "attending_type",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "notes",
                kind: Kind::Str,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "funding",
        path: "funding.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "organization_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "service_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "source",
                kind: Kind::Str,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "service_area",
        path: "service_areas.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "service_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "service_at_location_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "name",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "description",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "extent",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "extent_type",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "uri",
                kind: Kind::Str,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "required_document",
        path: "required_documents.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "service_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "document",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "uri",
                kind: Kind::Str,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "language",
        path: "languages.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "service_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "location_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "phone_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "name",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "code",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "note",
                kind: Kind::Str,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "accessibility",
        path: "accessibility.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "location_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "description",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "details",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "url",
                kind: Kind::Str,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "taxonomy_term",
        path: "taxonomy_terms.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "code",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "name",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "description",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "parent_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "taxonomy",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "language",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "taxonomy_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "term_uri",
                kind: Kind::Str,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "metadata",
        path: "metadata.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "resource_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "resource_type",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "last_action_date",
                kind: Kind::Date,
                required: true,
            },
            FieldSpec {
                name: "last_action_type",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "field_name",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "previous_value",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "replacement_value",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "updated_by",
                kind: Kind::Str,
                required: true,
            },
        ],
    },
    TableSpec {
        name: "meta_table_description",
        path: "meta_table_descriptions.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "name",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "language",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "character_set",
                kind: Kind::Str,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "cost_option",
        path: "cost_options.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "service_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "valid_from",
                kind: Kind::Date,
                required: false,
            },
            FieldSpec {
                name: "valid_to",
                kind: Kind::Date,
                required: false,
            },
            FieldSpec {
                name: "option",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "currency",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "amount",
                kind: Kind::Number,
                required: false,
            },
            FieldSpec {
                name: "amount_description",
                kind: Kind::Str,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "organization_identifier",
        path: "organization_identifiers.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "organization_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "identifier_scheme",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "identifier_type",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "identifier",
                kind: Kind::Str,
                required: true,
            },
        ],
    },
    TableSpec {
        name: "taxonomy",
        path: "taxonomies.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "name",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "description",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "uri",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "version",
                kind: Kind::Str,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "service_capacity",
        path: "service_capacity.csv",
        fields: &[
            FieldSpec {
                name: "service_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "unit_id",
                kind: Kind::Uuid,
                required: false,
            },
        ],
    },
    TableSpec {
        name: "unit",
        path: "units.csv",
        fields: &[],
    },
    TableSpec {
        name: "url",
        path: "url.csv",
        fields: &[
            FieldSpec {
                name: "id",
                kind: Kind::Uuid,
                required: true,
            },
            FieldSpec {
                name: "label",
                kind: Kind::Str,
                required: false,
            },
            FieldSpec {
                name: "url",
                kind: Kind::Str,
                required: true,
            },
            FieldSpec {
                name: "organization_id",
                kind: Kind::Uuid,
                required: false,
            },
            FieldSpec {
                name: "service_id",
                kind: Kind::Uuid,
                required: false,
            },
        ],
    },
];

/// The specification of a table, by name.
pub fn table(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|t| t.name == name)
}
