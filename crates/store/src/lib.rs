//! lantern-store
