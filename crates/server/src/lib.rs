//! lantern-server
