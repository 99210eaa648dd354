//! lantern-linkage
