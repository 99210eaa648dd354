//! lantern-directory
